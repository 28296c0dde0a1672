"""A collector stopped (SIGTERM, as Kubernetes stops a pod) while Redis hangs, through a
real Envoy 1.40 and ``mockado ext-proc``.

What the collector accepted is only in its memory until Redis takes it. Stopping, it
keeps flushing for ``DRAIN_TIMEOUT_S``; the rendered pod's grace period (and its
sidecar's drain) is longer than that, so a Redis that answers again within that time
gets every accepted exchange. Past it, what is left is dropped and counted as
``shutdown`` (never as a Redis error it was not).
"""

from __future__ import annotations

import signal
import time

import pytest

from ext_proc_server.capture.server import DRAIN_TIMEOUT_S, SHUTDOWN_GRACE_S
from tests.support.ext_proc_rig import collector_settings, counters, wait_until
from tests.support.raw_capture import capture_behind_envoy, raw_request
from tests.support.raw_upstream import RawAnswer, raw_upstream

pytestmark = pytest.mark.integration

HELD = 40
ANSWER = RawAnswer(200, (("Content-Type", "application/json"),), b'{"items":[1,2,3]}')
# Redis stays hung this long after the stop signal: past the bound this collector once
# had (5 s), within the one it has now.
HUNG_AFTER_STOP_S = 10.0


def test_what_was_accepted_reaches_a_redis_that_answers_again_while_stopping(
    redis_factory, envoy_factory, ext_proc_factory
) -> None:
    redis = redis_factory()
    collector = collector_settings(redis.url, redis_timeout_s=0.5, batch_size=10)
    with raw_upstream({"/items": ANSWER}) as port:
        ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, port)
        redis.process.pause()
        try:
            for n in range(HELD):
                reply = raw_request(envoy.port, "GET", f"/items?n={n}")
                assert (reply.status, reply.body) == (200, ANSWER.body)
            wait_until(
                lambda: ext.metric("collector_queue_size") == HELD,
                what="every exchange held",
                explain=lambda: counters(ext),
            )
            ext.process.signal(signal.SIGTERM)
            time.sleep(HUNG_AFTER_STOP_S)
        finally:
            redis.process.resume()
        assert ext.process.proc is not None
        code = ext.process.proc.wait(timeout=SHUTDOWN_GRACE_S + DRAIN_TIMEOUT_S + 10)
    assert code == 0
    captured = ext.captured()
    # Every exchange accepted, each once.
    assert len(captured) == len({repr(m["request"]["queryParameters"]) for m in captured}) == HELD
    envoy.process.stop()
