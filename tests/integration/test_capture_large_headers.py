"""Large header blocks (big cookies, long tokens: Envoy takes up to 60 KiB of request
headers by default) while Redis is down, through a real Envoy 1.40 and ``mockado
ext-proc``: what the collector holds stays within ``collector.buffer_bytes``, headers
included; the rest is dropped and counted; what was held is written once Redis returns.
Before, each held exchange counted its bodies plus a fixed 3 KiB, so a buffer of 1 MiB
held 40 KiB exchanges by the hundred (and the default 128 MiB, gigabytes)."""

from __future__ import annotations

import pytest

from ext_proc_server.core.config import KIB, MIB
from tests.support.ext_proc_rig import collector_settings, counters, wait_until
from tests.support.raw_capture import capture_behind_envoy, raw_request
from tests.support.raw_upstream import RawAnswer, raw_upstream

pytestmark = pytest.mark.integration

REQUESTS = 60
COOKIE_BYTES = 40 * KIB
ANSWER = RawAnswer(200, (("Content-Type", "application/json"),), b'{"ok":true}')


def test_large_headers_count_against_the_buffer_while_redis_is_down(
    redis_factory, envoy_factory, ext_proc_factory
) -> None:
    redis = redis_factory()
    collector = collector_settings(
        redis.url, buffer_bytes=MIB, buffer_size=100_000, redis_timeout_s=0.5
    )
    with raw_upstream({"/profile": ANSWER}) as port:
        ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, port)
        redis.process.kill()
        for n in range(REQUESTS):
            cookie = f"session={n:04d}" + "c" * (COOKIE_BYTES - 12)
            reply = raw_request(envoy.port, "GET", f"/profile?n={n}", headers=(("Cookie", cookie),))
            assert (reply.status, reply.body) == (200, ANSWER.body)  # proxied unchanged
        wait_until(
            lambda: ext.metric("collector_requests_total", method="GET", status="2xx") == REQUESTS,
            what="every stream seen",
            explain=lambda: counters(ext),
        )
        held = ext.metric("collector_queue_size")
        dropped = ext.metric("collector_dropped_total", reason="buffer_full")
        # Within 1 MiB, counting the 40 KiB of headers each exchange holds; the rest counted.
        assert 0 < held <= MIB // COOKIE_BYTES, counters(ext)
        assert held + dropped == REQUESTS, counters(ext)

        # Redis is back on the same port: everything held is written, once.
        redis_factory(port=redis.port)
        wait_until(
            lambda: len(ext.captured()) == held,
            timeout_s=30,
            what="the held exchanges written",
            explain=lambda: counters(ext),
        )
        assert ext.metric("collector_queue_size") == 0
        queries = {repr(m["request"]["queryParameters"]["n"]) for m in ext.captured()}
        assert len(queries) == held
    envoy.process.stop()
    assert ext.process.stop(timeout_s=20) == 0
