"""Every exchange a real Envoy 1.40 offers for capture is captured or counted as lost, when
the collector is starved: paused mid-traffic (as a CPU-starved pod is), or at its own stream
limit (``collector.max_concurrent_streams``). Envoy never waits for capture (observability
mode), so it gives up on streams the collector does not read in time; each such stream must
be in one of the counters the runbook names (``tests/support/capture_accounting.py``), and
each stream the collector ends itself must have one fate in its metrics.

No timing is asserted: the counters are read once they stop moving.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.support.capture_accounting import counts_reader, moved, settled
from tests.support.ext_proc_rig import capture_lands, collector_settings, envoy_for, make_config

pytestmark = pytest.mark.integration

REQUESTS = 600
CLIENTS = 8
PAUSE_S = 4.0
# Shorter than the pause, so that the pause does lose captures, each counted (the default
# keeps streams for longer than this pause: test_capture_collector_stall.py).
DEFERRED_CLOSE_TIMEOUT_S = 1.0
# The counters have settled once unchanged over this many reads, a second apart.


def _send(url: str, count: int, started: threading.Event) -> int:
    """``count`` requests, ``CLIENTS`` at a time -> how many were answered 200 (capture
    never touches traffic)."""
    tag = uuid.uuid4().hex[:8]

    def one(client: httpx.Client, n: int) -> int:
        started.set()
        return client.get(f"{url}/echo/acct-{tag}-{n}", timeout=30).status_code

    with httpx.Client() as client, ThreadPoolExecutor(CLIENTS) as pool:
        return sum(code == 200 for code in pool.map(lambda n: one(client, n), range(count)))


def _run(redis_server, upstream, envoy_factory, ext_proc_factory, *, during, **collector):
    settings = collector_settings(redis_server.url, **collector)
    ext = ext_proc_factory(settings)
    hold = {"deferred_close_timeout_s": DEFERRED_CLOSE_TIMEOUT_S}
    envoy = envoy_for(
        envoy_factory, make_config(settings, control_plane={"collector": hold}),
        upstream_port=upstream.port,
        ext_proc_port=settings["grpc_port"], capture_mode="observability",
    )  # fmt: skip
    capture_lands(envoy.url, lambda: {e["request"].get("urlPath", "") for e in ext.captured()})
    read = counts_reader(envoy.admin_url, f"http://127.0.0.1:{ext.http_port}/metrics")

    before = settled(read)
    started = threading.Event()
    results: list[int] = []
    clients = threading.Thread(
        target=lambda: results.append(_send(envoy.url, REQUESTS, started)), daemon=True
    )
    clients.start()
    started.wait(30)
    during(ext)
    clients.join(300)
    after = settled(read)
    return (
        results,
        moved(before["envoy"], after["envoy"]),
        moved(before["collector"], after["collector"]),
    )


def _assert_accounted(results, envoy, collector) -> None:
    facts = {"envoy": envoy, "collector": collector}
    assert results == [REQUESTS], facts
    # Envoy: every request opened a capture stream, or none could be opened (counted).
    assert envoy["opened"] + envoy["not_opened"] == REQUESTS, facts
    # Each stream it never opened is a 503 it answered itself; the other 503s are opened
    # streams whose connection broke, lost after opening.
    assert 0 <= envoy["broken_after_open"] <= envoy["lost_after_open"], facts
    # The collector: each stream it ended itself has one fate (enqueued, a duplicate, or
    # dropped with a reason). It may have more: an exchange it finished as Envoy gave up on
    # its stream is captured, and counted lost by Envoy too (never fewer).
    fates = collector["enqueued"] + collector["duplicates"] + collector["dropped"]
    assert envoy["answered"] <= fates <= envoy["answered"] + envoy["lost_after_open"], facts
    # Sent <= captured + counted drops, across Envoy's counters and the collector's: no
    # capture lost without a counter.
    assert fates + envoy["not_opened"] + envoy["lost_after_open"] >= REQUESTS, facts


def test_a_paused_collector_loses_no_capture_uncounted(
    redis_server, upstream, envoy_factory, ext_proc_factory
):
    def pause(ext) -> None:
        ext.process.pause()
        try:
            time.sleep(PAUSE_S)
        finally:
            ext.process.resume()

    results, envoy, collector = _run(
        redis_server, upstream, envoy_factory, ext_proc_factory, during=pause
    )
    _assert_accounted(results, envoy, collector)
    # The pause did cost captures, so each way of losing one was exercised.
    assert envoy["lost_after_open"] + envoy["not_opened"] > 0, (envoy, collector)


def test_streams_past_the_collectors_limit_are_counted(
    redis_server, upstream, envoy_factory, ext_proc_factory
):
    results, envoy, collector = _run(
        redis_server, upstream, envoy_factory, ext_proc_factory,
        during=lambda ext: None, max_concurrent_streams=1,
    )  # fmt: skip
    _assert_accounted(results, envoy, collector)
    assert collector.get("dropped_stream_limit", 0) > 0, (envoy, collector)
