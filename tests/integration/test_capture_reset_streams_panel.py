"""The dashboard's count of capture streams a sidecar reset unanswered (deploy/grafana/
mockado.json, as rendered), computed by promtool from a real Envoy's collector-cluster
counters, the sidecars' 1.37 and the bundled 1.40: the streams Envoy opened less those that
ended, plus the 503s Envoy answers itself for a stream it never opened. Those refusals (no
healthy collector, a failed connection, the circuit breaker at
control_plane.collector.max_requests) are each in upstream_rq_completed and never in
upstream_rq_total, so without adding them back the figure goes negative exactly when captures
are refused. Envoy 1.37 has no upstream_rq_active_overflow: its circuit breaker's refusals
are all in upstream_rq_pending_overflow. 1.40's counters, shaped as 1.37 counts them, read
the same too.

Each scenario waits for the counters to settle (no stream open, three equal reads).
"""

from __future__ import annotations

import json
import re
import time
import uuid

import httpx
import pytest
import yaml

from control_plane.render import LOCAL_COLLECTOR_CLUSTER, render_all
from control_plane.render.dashboard import COLLECTOR_CLUSTER_VARIABLE, DASHBOARD_PATH
from tests.support.capture_accounting import collector_counts, moved
from tests.support.dashboard_series import collector_cluster_default
from tests.support.ext_proc_rig import collector_settings, envoy_for, make_config
from tests.support.metrics_text import scrape
from tests.support.processes import promised_port
from tests.support.prometheus_rules import run_tool
from tests.support.sidecar_stats import (
    counts_active_overflow,
    each_sidecar_envoy,
    running_version,
    start_envoy,
)

pytestmark = pytest.mark.integration

PANEL_TITLE = "Sidecars: capture streams reset unanswered"
REQUESTS = 20
# Envoy's own answers for streams it never opened (as the panel adds them back).
REFUSALS = (
    "upstream_cx_none_healthy",
    "upstream_rq_pending_failure_eject",
    "upstream_rq_pending_overflow",
    "upstream_rq_active_overflow",
)
# promtool's series: each counter grows by what it moved every minute, read at 10 minutes,
# so the panel's 5-minute rates are each move per 60 s.
EVAL_MINUTES = 10


def _panel_query(config) -> tuple[str, str]:
    """The reset panel's count query, its collector_cluster variable at the rendered
    default, and that cluster's name."""
    (board,) = [json.loads(f.text) for f in render_all(config) if f.path == DASHBOARD_PATH]
    cluster = collector_cluster_default(board)
    (panel,) = [p for p in board["panels"] if p["title"].startswith(PANEL_TITLE)]
    count, share = (target["expr"] for target in panel["targets"])
    # The share is the same count over the capture attempts.
    assert share.startswith(f"({count}) / "), share
    return count.replace(f"${COLLECTOR_CLUSTER_VARIABLE}", cluster), cluster


def _as_envoy_1_37(moves: dict[str, int]) -> dict[str, int]:
    """``moves`` as Envoy 1.37 counts them: no upstream_rq_active_overflow, its refusals in
    upstream_rq_pending_overflow."""
    out = dict(moves)
    out["upstream_rq_pending_overflow"] += out.pop("upstream_rq_active_overflow")
    return out


def _series(cluster: str, moves: dict[str, int]) -> list[dict[str, str]]:
    out = []
    for stat, by in sorted(moves.items()):
        labels = f'cluster_name="{cluster}",namespace="shop",pod="web-1"'
        step = f"+{by}" if by >= 0 else f"-{-by}"
        out.append({"series": f"envoy_cluster_{stat}{{{labels}}}",
                    "values": f"0{step}x{EVAL_MINUTES}"})  # fmt: skip
    return out


def _assert_panel_reads(config, envoy, before, after, expected: int, tmp_path) -> None:
    """promtool evaluates the panel's count on the collector cluster's counters as they
    moved from ``before`` to ``after`` (a sidecar's series, in namespace shop), and, on an
    Envoy that has upstream_rq_active_overflow, as Envoy 1.37 would have counted the same:
    ``expected`` streams reset, in each."""
    query, cluster = _panel_query(config)
    # Only the cluster's own counters (not its circuit_breakers.* and other dotted stats).
    moves = {k: v for k, v in moved(before, after).items() if re.fullmatch(r"[a-z0-9_]+", k)}
    active = counts_active_overflow(running_version(envoy.admin_url))
    assert ("upstream_rq_active_overflow" in moves) == active, sorted(moves)
    shapes = (moves, _as_envoy_1_37(moves)) if active else (moves,)
    expr = f"round(60 * ({query}))"
    check = {"expr": expr, "eval_time": f"{EVAL_MINUTES}m",
             "exp_samples": [{"labels": '{namespace="shop"}', "value": expected}]}  # fmt: skip
    tests = [
        {"interval": "1m", "input_series": _series(cluster, shape), "promql_expr_test": [check]}
        for shape in shapes
    ]
    (tmp_path / "none.yaml").write_text("groups: []\n", encoding="utf-8")
    suite = {"rule_files": ["none.yaml"], "evaluation_interval": "1m", "tests": tests}
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    proc = run_tool("promtool", "test", "rules", "tests.yaml", cwd=tmp_path)
    assert proc.returncode == 0, (moves, proc.stdout + proc.stderr)


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


def _envoy(envoy_factory, binary, upstream, port: int, **collector):
    settings = collector_settings("redis://127.0.0.1:1")
    config = make_config(settings, control_plane={"collector": collector})
    envoy = envoy_for(
        lambda render: start_envoy(envoy_factory, render, binary), config,
        upstream_port=upstream.port, ext_proc_port=port, capture_mode="observability",
    )  # fmt: skip
    return config, envoy


def _send(url: str, count: int = REQUESTS) -> None:
    tag = uuid.uuid4().hex[:8]
    with httpx.Client(timeout=30) as client:
        for n in range(count):
            assert client.get(f"{url}/echo/reset-{tag}-{n}").status_code == 200


@each_sidecar_envoy
def test_refusals_at_the_circuit_breaker_are_no_streams_reset(
    binary, redis_server, upstream, envoy_factory, ext_proc_factory, tmp_path
):
    ext = ext_proc_factory(collector_settings(redis_server.url))
    config, envoy = _envoy(envoy_factory, binary, upstream, ext.grpc_port, max_requests=2)
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
    _assert_panel_reads(
        config, envoy, before, after, facts["upstream_rq_total"] - answered, tmp_path
    )


@each_sidecar_envoy
def test_an_unreachable_collector_resets_no_stream(binary, upstream, envoy_factory, tmp_path):
    config, envoy = _envoy(envoy_factory, binary, upstream, promised_port())
    before = _settled(envoy.admin_url)
    _send(envoy.url)
    after = _settled(envoy.admin_url)
    facts = moved(before, after)
    assert facts.get("upstream_rq_total", 0) == 0, facts
    assert sum(facts.get(name, 0) for name in REFUSALS) == REQUESTS, facts
    _assert_panel_reads(config, envoy, before, after, 0, tmp_path)


@each_sidecar_envoy
def test_a_collector_stalled_past_the_deferred_close_shows_its_resets(
    binary, redis_server, upstream, envoy_factory, ext_proc_factory, tmp_path
):
    settings = collector_settings(redis_server.url)
    ext = ext_proc_factory(settings)
    config, envoy = _envoy(
        envoy_factory, binary, upstream, ext.grpc_port, deferred_close_timeout_s=0.5
    )
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
    refused = sum(facts.get(name, 0) for name in REFUSALS)
    # upstream_rq_5xx holds each refusal's 503 too: less those, the opened streams broken.
    broken = facts.get("upstream_rq_5xx", 0) - refused
    answered = facts.get("upstream_rq_2xx", 0)
    reset = facts["upstream_rq_total"] - answered - broken
    assert reset > 0, (facts, collector)
    _assert_panel_reads(config, envoy, before, after, reset, tmp_path)
