"""The dashboard's count of capture streams a sidecar reset unanswered (deploy/grafana/
mockado.json, as rendered), computed from a real Envoy 1.40's collector-cluster counters: the
streams Envoy opened less those that ended, plus the 503s Envoy answers itself for a stream
it never opened. Those refusals (no healthy collector, a failed connection, the circuit
breaker at control_plane.collector.max_requests) are each in upstream_rq_completed and never
in upstream_rq_total, so without adding them back the figure goes negative exactly when
captures are refused.

Each scenario waits for the counters to settle (no stream open, three equal reads).
"""

from __future__ import annotations

import json
import re
import time
import uuid

import httpx
import pytest

from control_plane.render import LOCAL_COLLECTOR_CLUSTER, render_all
from control_plane.render.dashboard import DASHBOARD_PATH
from tests.support.capture_accounting import collector_counts, moved
from tests.support.ext_proc_rig import collector_settings, envoy_for, make_config
from tests.support.metrics_text import scrape
from tests.support.processes import promised_port

pytestmark = pytest.mark.integration

PANEL_TITLE = "Sidecars: capture streams reset unanswered"
_TERM = re.compile(
    r"([+-]?)\s*sum by \(namespace\) \(rate\((envoy_cluster_(\w+))\{[^}]*\}\[5m\]\)\)"
)
REQUESTS = 20
# Envoy's own answers for streams it never opened (as the panel adds them back).
REFUSALS = (
    "upstream_cx_none_healthy",
    "upstream_rq_pending_failure_eject",
    "upstream_rq_pending_overflow",
    "upstream_rq_active_overflow",
)


def _panel_terms(config) -> list[tuple[int, str]]:
    """The reset panel's first query as (sign, Envoy cluster stat) terms."""
    (board,) = [f.text for f in render_all(config) if f.path == DASHBOARD_PATH]
    (panel,) = [p for p in json.loads(board)["panels"] if p["title"].startswith(PANEL_TITLE)]
    expr = panel["targets"][0]["expr"]
    terms = [(-1 if sign == "-" else 1, stat) for sign, _, stat in _TERM.findall(expr)]
    # Every part of the query is a term read here: nothing left unevaluated.
    assert _TERM.sub("", expr).strip() == "", expr
    return terms


def _cluster_stats(admin_url: str) -> dict[str, int]:
    prefix = f"cluster.{LOCAL_COLLECTOR_CLUSTER}."
    text = httpx.get(
        f"{admin_url}/stats", params={"filter": f"^{re.escape(prefix)}"}, timeout=5
    ).text
    out = {}
    for line in text.splitlines():
        name, _, value = line.partition(": ")
        if value.strip().isdigit():
            out[name.removeprefix(prefix)] = int(value)
    return out


def _settled(admin_url: str, *, timeout_s: float = 60.0) -> dict[str, int]:
    last, same = None, 0
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        now = _cluster_stats(admin_url)
        same = same + 1 if now == last and now.get("upstream_rq_active", 0) == 0 else 0
        if same >= 3:
            return now
        last = now
        time.sleep(0.5)
    raise AssertionError(f"collector cluster counters never settled: {last}")


def _panel_value(terms, before: dict[str, int], after: dict[str, int]) -> int:
    return sum(sign * (after.get(stat, 0) - before.get(stat, 0)) for sign, stat in terms)


def _envoy(envoy_factory, upstream, port: int, **collector):
    settings = collector_settings("redis://127.0.0.1:1")
    config = make_config(settings, control_plane={"collector": collector})
    envoy = envoy_for(
        envoy_factory, config, upstream_port=upstream.port, ext_proc_port=port,
        capture_mode="observability",
    )  # fmt: skip
    return config, envoy


def _send(url: str, count: int = REQUESTS) -> None:
    tag = uuid.uuid4().hex[:8]
    with httpx.Client(timeout=30) as client:
        for n in range(count):
            assert client.get(f"{url}/echo/reset-{tag}-{n}").status_code == 200


def test_refusals_at_the_circuit_breaker_are_no_streams_reset(
    redis_server, upstream, envoy_factory, ext_proc_factory
):
    ext = ext_proc_factory(collector_settings(redis_server.url))
    config, envoy = _envoy(envoy_factory, upstream, ext.grpc_port, max_requests=2)
    terms = _panel_terms(config)
    _send(envoy.url, 2)  # the connection to the collector is up
    before = _settled(envoy.admin_url)
    ext.process.pause()
    try:
        _send(envoy.url)  # two streams held by the stopped collector, the rest refused
    finally:
        ext.process.resume()
    after = _settled(envoy.admin_url)
    facts = moved(before, after)
    refused = sum(facts.get(name, 0) for name in REFUSALS)
    assert refused > 0 and facts["upstream_rq_total"] + refused == REQUESTS, facts
    # Each refusal is an answer Envoy gave itself: in upstream_rq_completed, not opened.
    assert facts["upstream_rq_completed"] == REQUESTS, facts
    # The streams it did open: answered by the collector once it ran again, or (on a box
    # so slow that the deferred close passed first) reset; the panel counts exactly those.
    answered = facts.get("upstream_rq_2xx", 0)
    assert _panel_value(terms, before, after) == facts["upstream_rq_total"] - answered, facts


def test_an_unreachable_collector_resets_no_stream(upstream, envoy_factory):
    config, envoy = _envoy(envoy_factory, upstream, promised_port())
    terms = _panel_terms(config)
    before = _settled(envoy.admin_url)
    _send(envoy.url)
    after = _settled(envoy.admin_url)
    facts = moved(before, after)
    assert facts.get("upstream_rq_total", 0) == 0, facts
    assert sum(facts.get(name, 0) for name in REFUSALS) == REQUESTS, facts
    assert _panel_value(terms, before, after) == 0, facts


def test_a_collector_stalled_past_the_deferred_close_shows_its_resets(
    redis_server, upstream, envoy_factory, ext_proc_factory
):
    settings = collector_settings(redis_server.url)
    ext = ext_proc_factory(settings)
    config, envoy = _envoy(envoy_factory, upstream, ext.grpc_port, deferred_close_timeout_s=0.5)
    terms = _panel_terms(config)
    metrics_url = f"http://127.0.0.1:{ext.http_port}/metrics"
    _send(envoy.url, 2)
    before = _settled(envoy.admin_url)
    collector_before = collector_counts(scrape(metrics_url))
    ext.process.pause()
    try:
        _send(envoy.url)
        # Held past the deferred close: the stall, not a wait for a condition.
        time.sleep(1.5)
    finally:
        ext.process.resume()
    after = _settled(envoy.admin_url)
    facts = moved(before, after)
    collector = moved(collector_before, collector_counts(scrape(metrics_url)))
    # Every stream opened while the collector was stopped and reset by Envoy is in the
    # panel, as the opened streams the collector never answered nor saw break.
    reset = _panel_value(terms, before, after)
    refused = sum(facts.get(name, 0) for name in REFUSALS)
    broken = facts.get("upstream_rq_5xx", 0) - refused
    answered = facts.get("upstream_rq_2xx", 0)
    assert reset > 0, (facts, collector)
    assert reset == facts["upstream_rq_total"] - answered - broken, (facts, collector)
