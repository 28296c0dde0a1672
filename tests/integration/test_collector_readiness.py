"""``collector_ready{check}``: a collector that answers Prometheus but is not ready says so,
and which check fails, with a real Redis that goes away and real worker processes."""

from __future__ import annotations

import httpx
import psutil
import pytest

from tests.support.ext_proc_rig import collector_settings, wait_until

pytestmark = pytest.mark.integration


def readyz(ext) -> int:
    return httpx.get(f"http://127.0.0.1:{ext.http_port}/readyz", timeout=10).status_code


def test_a_collector_whose_redis_is_gone_scrapes_as_not_ready_on_redis(
    redis_factory, ext_proc_factory
):
    redis = redis_factory()
    ext = ext_proc_factory(collector_settings(redis.url, redis_timeout_s=0.5))
    # Set at the scrape itself: no /readyz call needed first.
    assert ext.metric("collector_ready", check="redis") == 1
    assert ext.metric("collector_ready", check="checks") == 1

    redis.process.kill()
    wait_until(lambda: ext.metric("collector_ready", check="redis") == 0, what="redis not ready")
    assert readyz(ext) == 503
    assert ext.metric("collector_ready", check="checks") == 1  # the checks ran; Redis failed

    redis_factory(port=redis.port)
    wait_until(lambda: ext.metric("collector_ready", check="redis") == 1, what="redis ready")
    assert readyz(ext) == 200
    assert ext.process.stop(timeout_s=20) == 0


def test_a_worker_restarting_scrapes_as_not_ready_on_workers(redis_server, ext_proc_factory):
    ext = ext_proc_factory(collector_settings(redis_server.url), workers=2)
    wait_until(lambda: ext.metric("collector_ready", check="workers") == 1, what="workers ready")
    assert ext.metric("collector_ready", check="redis") == 1
    # The parent is worker 0; worker 1 is the spawned child that serves gRPC.
    (worker,) = [
        p for p in psutil.Process(ext.process.pid).children()
        if "resource_tracker" not in " ".join(p.cmdline())
    ]  # fmt: skip
    worker.kill()
    # Restarted after a second; until it listens again the pod is not ready, and says why.
    wait_until(
        lambda: ext.metric("collector_ready", check="workers") == 0, what="workers not ready"
    )
    assert ext.metric("collector_ready", check="redis") == 1
    wait_until(
        lambda: ext.metric("collector_ready", check="workers") == 1,
        timeout_s=30,
        what="the restarted worker listens",
    )
    # One series per check, from the process serving the probes: not one per worker.
    assert "collector_ready{pid=" not in ext.metrics()
    assert ext.process.stop(timeout_s=30) == 0
