"""A Redis that hangs (SIGSTOP: connections accepted, nothing answered) while traffic
flows through a real Envoy 1.40 and ``mockado ext-proc``.

Unlike a dead Redis, a hung one times a write out after it was sent: when Redis wakes
up it runs the timed-out script too, and the retry of the same batch must not queue
its exchanges a second time. The client gets every answer untouched meanwhile, the
collector holds what it accepted (``/readyz`` 503), and once Redis answers again every
exchange is in the queue exactly once, each with one counted fate.
"""

from __future__ import annotations

from collections import Counter

import httpx
import pytest

from tests.support.ext_proc_rig import collector_settings, counters, wait_until
from tests.support.metrics_text import scrape, total
from tests.support.raw_capture import capture_behind_envoy, raw_request
from tests.support.raw_upstream import RawAnswer, raw_upstream

pytestmark = pytest.mark.integration

BEFORE, DURING = 10, 120
ANSWER = RawAnswer(200, (("Content-Type", "application/json"),), b'{"items":[1,2,3]}')


def fates(ext) -> float:
    return ext.metric("collector_enqueued_total") + ext.metric(
        "collector_deduplication_operations_total", result="duplicate"
    )


def test_a_hung_redis_holds_captures_and_queues_each_once_when_it_answers(
    redis_factory, envoy_factory, ext_proc_factory
) -> None:
    redis = redis_factory()
    collector = collector_settings(redis.url, redis_timeout_s=0.5, batch_size=20)
    ready_url = f"http://127.0.0.1:{collector['http_port']}/readyz"
    with raw_upstream({"/items": ANSWER}) as port:
        ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, port)

        def send(tag: str, count: int) -> None:
            for n in range(count):
                reply = raw_request(envoy.port, "GET", f"/items?{tag}={n}")
                assert (reply.status, reply.body) == (200, ANSWER.body)  # untouched

        send("before", BEFORE)
        wait_until(lambda: len(ext.captured()) == BEFORE, what="captures before the hang")
        redis.process.pause()
        try:
            send("during", DURING)
            wait_until(
                lambda: (
                    ext.metric("collector_requests_total", method="GET", status="2xx")
                    == BEFORE + DURING
                ),
                what="every stream seen",
                explain=lambda: counters(ext),
            )
            wait_until(
                lambda: ext.metric("collector_redis_errors_total", error="unavailable") > 0,
                what="the writes timing out",
                explain=lambda: counters(ext),
            )
            # Held, not dropped: the buffer has room for all of them.
            assert ext.metric("collector_queue_size") == DURING, counters(ext)
            assert ext.metric("collector_dropped_total", reason="buffer_full") == 0
            assert httpx.get(ready_url, timeout=10).status_code == 503
        finally:
            redis.process.resume()
        wait_until(
            lambda: ext.metric("collector_queue_size") == 0 and fates(ext) == BEFORE + DURING,
            timeout_s=30,
            what="the held exchanges written",
            explain=lambda: counters(ext),
        )
    entries = Counter(repr(m["request"]["queryParameters"]) for m in ext.captured())
    assert len(entries) == BEFORE + DURING  # every exchange queued
    assert set(entries.values()) == {1}  # none twice
    metrics = scrape(f"http://127.0.0.1:{ext.http_port}/metrics")
    assert total(metrics, "collector_dropped_total") == 0, counters(ext)
    assert httpx.get(ready_url, timeout=10).status_code == 200
    envoy.process.stop()
    assert ext.process.stop(timeout_s=20) == 0
