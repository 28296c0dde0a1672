"""``mockado up`` stopped (Ctrl-C) while Redis is slow: what the collector accepted is
still written.

The collector flushes what it holds for up to ``DRAIN_TIMEOUT_S`` when it is stopped.
The local stack used to give every part 10 s before it killed it, so a Redis that hung
through those 10 s lost every capture the collector held. It now waits as long as the
collector's own stop takes (``STOP_TIMEOUT_S``).
"""

from __future__ import annotations

import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx
import psutil
import pytest
import redis as redis_sync

from ext_proc_server.capture.server import STOP_TIMEOUT_S
from ext_proc_server.core.queue_entries import decode_entry
from tests.support.ext_proc_rig import wait_until
from tests.support.metrics_text import scrape, total

pytestmark = pytest.mark.integration

HELD = 20
# Redis stays hung this long after Ctrl-C: past the 10 s the stack once gave the collector
# (after Envoy's and the loader's stops, themselves at most 10 s with Redis hung), within
# the collector's own stop.
HUNG_AFTER_STOP_S = 22.0


def queued_paths(redis_url: str, queue: str) -> list[str]:
    client = redis_sync.Redis.from_url(redis_url)
    try:
        entries = client.xrange(queue)
    finally:
        client.close()
    return [decode_entry(fields)[0]["request"].get("urlPath", "") for _id, fields in entries]


@contextmanager
def collector_holding(redis, stack) -> Iterator[Callable[[], float]]:
    """The stack's collector holding ``HELD`` exchanges it cannot write: Redis paused
    until the block ends. Yields a reading of what the collector holds."""
    collector_metrics = stack.summary_url("metrics")[0]

    def gauge(name: str) -> float:
        return total(scrape(collector_metrics), name)

    # Envoy's first connection to the collector may miss its 0.25 s connect timeout.
    sent = iter(range(1000))
    wait_until(
        lambda: (
            httpx.get(f"{stack.proxy_url}/echo/warm-{next(sent)}", timeout=10).is_success
            and gauge("collector_enqueued_total") > 0
        ),
        timeout_s=30,
        what="a first capture written",
    )
    wait_until(lambda: gauge("collector_queue_size") == 0, what="every warm-up capture written")
    redis.process.pause()
    try:
        for n in range(HELD):
            reply = httpx.get(f"{stack.proxy_url}/echo/held-{n}", timeout=10)
            assert reply.status_code == 200
        wait_until(
            lambda: gauge("collector_queue_size") == HELD,
            what="every exchange held by the collector",
            explain=lambda: httpx.get(collector_metrics, timeout=5).text,
        )
        yield lambda: gauge("collector_queue_size")
    finally:
        redis.process.resume()


def test_ctrl_c_waits_for_the_collector_to_write_what_it_accepted(
    redis_factory, stack_factory
) -> None:
    redis = redis_factory()
    stack = stack_factory(env={"REDIS_URL": redis.url})
    queue = stack.effective_config["collector"]["redis_queue"]
    with collector_holding(redis, stack):
        stack.process.send_signal(signal.SIGINT)
        time.sleep(HUNG_AFTER_STOP_S)
    assert stack.process.wait(timeout=STOP_TIMEOUT_S + 30) == 0
    held = sorted(p for p in queued_paths(redis.url, queue) if p.startswith("/echo/held-"))
    assert held == sorted(f"/echo/held-{n}" for n in range(HELD))


def test_a_second_ctrl_c_stops_every_part_at_once(redis_factory, stack_factory) -> None:
    """The first Ctrl-C waits for the collector, hung on Redis, and says a second one
    forces; the second kills every part at once and says what is lost."""
    redis = redis_factory()
    stack = stack_factory(env={"REDIS_URL": redis.url})
    with collector_holding(redis, stack) as held_by_collector:
        collector = next(p for p in stack.children if "ext-proc" in " ".join(p.cmdline()))
        stack.process.send_signal(signal.SIGINT)
        # Still stopping well after the first: the collector waits for Redis to drain.
        time.sleep(3)
        assert stack.process.poll() is None and collector.is_running()
        # What the forced stop will say is lost: the collector still holds every exchange
        # (Redis never confirmed one). Whether Redis later runs a write that reached its
        # socket before the kill is up to TCP, so the queue afterwards proves nothing.
        assert held_by_collector() == HELD
        stack.process.send_signal(signal.SIGINT)
        # At once: the collector's own stop would go on while Redis hangs (STOP_TIMEOUT_S).
        assert stack.process.wait(timeout=15) == 130
        output = stack.process.stdout.read()
        _, alive = psutil.wait_procs(stack.children, timeout=5)
        assert alive == [], f"left behind: {[p.pid for p in alive]}"
    assert "Press Ctrl-C again to stop at once" in output, output
    assert "captures the collector had not yet written to Redis are lost" in output, output
