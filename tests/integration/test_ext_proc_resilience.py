"""Capture never hurts traffic: a dead, stopped or slow collector, or a dead Redis."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.support import slow_collector
from tests.support.ext_proc_rig import collector_settings, envoy_for, make_config, wait_until

pytestmark = pytest.mark.integration

# The `mockado ext-proc` subprocess fixture, shared with test_ext_proc.py.


@pytest.fixture(scope="module")
def capture_off(redis_server, upstream, envoy_factory) -> Iterator[str]:
    """The same Envoy bootstrap with capture disabled on every route: the baseline."""
    config = make_config(collector_settings(redis_server.url))
    envoy = envoy_for(
        envoy_factory,
        config,
        upstream_port=upstream.port,
        ext_proc_port=config.collector.grpc_port,
        exclude_paths=("/",),
    )
    yield envoy.url
    envoy.process.stop()


def latencies_side_by_side(
    on_url: str, off_url: str, *, n: int = 30
) -> tuple[list[float], list[float]]:
    on: list[float] = []
    off: list[float] = []
    body = {"payload": "p" * 2000}
    with httpx.Client(timeout=5) as client:
        for i in range(n):
            for url, sink in ((on_url, on), (off_url, off)):
                start = time.perf_counter()
                r = client.post(f"{url}/echo/lat{i}", json=body)
                sink.append(time.perf_counter() - start)
                assert r.status_code == 200 and r.json() == body
    return on, off


@pytest.mark.parametrize("failure", ["killed", "stopped", "slow"])
def test_traffic_is_unaffected_by_a_failing_collector(
    failure,
    redis_server,
    upstream,
    envoy_factory,
    ext_proc_factory,
    capture_off,
    tmp_path,
    logs_dir,
    clean_env,
    process_registry,
):
    collector = collector_settings(redis_server.url)
    if failure == "slow":
        # The real server, each message read 0.2 s late (tests/support/slow_collector.py).
        ext = slow_collector.start(
            collector,
            work=tmp_path,
            log_path=logs_dir / f"ext-proc-slow-{collector['grpc_port']}.log",
            env=clean_env,
            started=process_registry.add,
        )
    else:
        ext = ext_proc_factory(collector)
    # Envoy holds a finished exchange's stream 1 s for the collector (5 s by default), so
    # that the slow one's streams outlast it.
    config = make_config(collector, control_plane={"collector": {"deferred_close_timeout_s": 1.0}})
    envoy = envoy_for(
        envoy_factory, config, upstream_port=upstream.port, ext_proc_port=ext.grpc_port
    )
    if failure == "killed":
        ext.process.kill()
    elif failure == "stopped":
        ext.process.pause()
    try:
        on, off = latencies_side_by_side(envoy.url, capture_off)
    finally:
        ext.process.resume()
    # Loose on purpose (no timed assertions): the real figures are in the bench.
    assert statistics.median(on) < statistics.median(off) + 0.05
    if failure == "slow":
        # 0.2 s per message outlasts Envoy's deferred_close_timeout (1 s): Envoy closes
        # those streams early and the collector counts them, never hangs on them.
        wait_until(
            lambda: ext.metric("collector_dropped_total", reason="incomplete") > 0,
            timeout_s=20,
            what="incomplete streams counted",
        )
    envoy.process.stop()
    ext.process.stop()


def test_redis_outage_drops_are_counted_and_capture_resumes(
    redis_factory, upstream, envoy_factory, ext_proc_factory
):
    redis = redis_factory()
    collector = collector_settings(redis.url, buffer_size=20, batch_size=5, redis_timeout_s=0.5)
    ext = ext_proc_factory(collector)
    config = make_config(collector)
    envoy = envoy_for(
        envoy_factory, config, upstream_port=upstream.port, ext_proc_port=ext.grpc_port
    )
    ready_url = f"http://127.0.0.1:{ext.http_port}/readyz"

    def send(prefix: str, count: int) -> None:
        with httpx.Client(timeout=5) as client:
            for n in range(count):
                r = client.post(f"{envoy.url}/echo/{prefix}{n}", json={"n": n})
                assert r.status_code == 200 and r.json() == {"n": n}

    send("before", 5)
    wait_until(lambda: len(ext.captured()) == 5, what="captures before the outage")

    redis.process.kill()
    send("during", 40)
    # The buffer holds 20; the rest are dropped and counted, traffic untouched.
    wait_until(
        lambda: ext.metric("collector_requests_total", method="POST", status="2xx") == 45,
        what="45 streams",
    )
    assert ext.metric("collector_dropped_total", reason="buffer_full") == 20
    assert ext.metric("collector_queue_size") == 20
    assert httpx.get(ready_url, timeout=10).status_code == 503

    # Redis is back on the same port (empty: it keeps no data): the held 20 flush by
    # themselves, and new captures flow again.
    redis_factory(port=redis.port)
    wait_until(lambda: len(ext.captured()) == 20, timeout_s=20, what="held captures flushed")
    send("after", 5)
    wait_until(lambda: len(ext.captured()) == 25, what="captures after the outage")
    paths = {m["request"]["urlPath"] for m in ext.captured()}
    assert {f"/echo/after{n}" for n in range(5)} <= paths
    assert len({p for p in paths if p.startswith("/echo/during")}) == 20
    assert httpx.get(ready_url, timeout=10).status_code == 200
    envoy.process.stop()
    assert ext.process.stop(timeout_s=20) == 0
