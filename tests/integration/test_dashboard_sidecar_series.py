"""The dashboard's sidecar panels (deploy/grafana/mockado.json, as `mockado render` renders it
for the config) on a real Envoy's series: the rendered sidecar bootstrap, its stats named as an
Istio sidecar names them, read through the rendered monitors' metric relabelling. With a hung
collector past control_plane.collector.max_requests, each series a panel reads exists and each
panel's series move, in cluster.local and in another cluster domain with another collector
host and port, the dashboard's collector_cluster variable left at its rendered default. Run
by the sidecars' Envoy 1.37 and by the bundled 1.40: 1.37 has no upstream_rq_active_overflow
series, and counts each refusal in upstream_rq_pending_overflow. The refusals panel's line of
them, evaluated by promtool on the series as they moved, counts every refusal on both."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import httpx
import pytest
import yaml

from control_plane.render import render_all
from control_plane.render.dashboard import COLLECTOR_CLUSTER_VARIABLE, DASHBOARD_PATH
from control_plane.render.istio import capture_targets
from control_plane.render.monitoring import SCRAPE_CONFIG_PATH, SIDECAR_SERIES, podmonitor_path
from ext_proc_server.core.config import MockadoConfig
from tests.support.dashboard_series import collector_cluster_default, dashboard_sidecar_selectors
from tests.support.ext_proc_rig import make_config
from tests.support.prometheus_rules import run_tool
from tests.support.sidecar_stats import (
    OUTBOUND_PREFIX,
    Sample,
    counts_active_overflow,
    each_sidecar_envoy,
    hung_collector,
    istio_sidecar_bootstrap,
    relabel,
    running_version,
    scrape,
    selected,
    start_envoy,
    total,
)

pytestmark = pytest.mark.integration

REQUESTS = 20
ACTIVE_OVERFLOW = SIDECAR_SERIES["refused_active"]
REFUSALS = (SIDECAR_SERIES["refused_pending"], ACTIVE_OVERFLOW)
REFUSALS_PANEL = "Sidecars: capture streams refused by the circuit breaker per namespace"
# promtool's series: each counter grows by what it moved every minute, read at 10 minutes,
# so the panel's 5-minute rates are each move per 60 s.
EVAL_MINUTES = 10
# The collector the operator runs: the default one, in cluster.local or in another cluster
# domain (Istio's stats tag cuts its cluster's name short there), or another host and port.
COLLECTORS = {
    "default": ("cluster.local", {}),
    "other-domain": ("corp.internal", {}),
    "other-host-port": (
        "corp.internal",
        {"host": "capture.mockado.svc.corp.internal", "port": 7443},
    ),
}


def monitored(config: MockadoConfig, admin_url: str) -> list[Sample]:
    """The Envoy's series as prometheus/scrape.yaml's sidecar job keeps them, checked to be
    what the capture scope's PodMonitor keeps."""
    files = {f.path: f.text for f in render_all(config)}
    (job,) = [j for j in yaml.safe_load(files[SCRAPE_CONFIG_PATH])["scrape_configs"]
              if j["job_name"] == "mockado-sidecars"]  # fmt: skip
    (target,) = capture_targets(config.control_plane)
    (monitor,) = [d for d in yaml.safe_load_all(files[podmonitor_path(target)]) if d]
    raw = scrape(admin_url)
    kept = relabel(raw, job["metric_relabel_configs"])
    assert kept == relabel(raw, monitor["spec"]["podMetricsEndpoints"][0]["metricRelabelings"])
    return kept


def assert_refusals_line_reads(
    board: dict, before: list[Sample], after: list[Sample], refused: int, tmp_path: Path
) -> None:
    """promtool evaluates the refusals panel's line of refusals (its first query, the
    collector_cluster variable at its rendered default) on the refusal counters as they
    moved from ``before`` to ``after``, the sidecar in namespace shop: ``refused`` a minute."""
    (panel,) = [p for p in board["panels"] if p["title"] == REFUSALS_PANEL]
    query = panel["targets"][0]["expr"].replace(
        f"${COLLECTOR_CLUSTER_VARIABLE}", collector_cluster_default(board)
    )
    series = []
    for sample in (s for s in after if s.name in REFUSALS):
        (was,) = [s.value for s in before if (s.name, s.labels) == (sample.name, sample.labels)]
        labels = ",".join(f'{k}="{v}"' for k, v in sorted({**sample.labels, "namespace": "shop"}
                                                          .items()))  # fmt: skip
        series.append({"series": f"{sample.name}{{{labels}}}",
                       "values": f"{was:g}+{sample.value - was:g}x{EVAL_MINUTES}"})  # fmt: skip
    check = {"expr": f"round(60 * ({query}))", "eval_time": f"{EVAL_MINUTES}m",
             "exp_samples": [{"labels": '{namespace="shop"}', "value": refused}]}  # fmt: skip
    test = {"interval": "1m", "input_series": series, "promql_expr_test": [check]}
    (tmp_path / "none.yaml").write_text("groups: []\n", encoding="utf-8")
    suite = {"rule_files": ["none.yaml"], "evaluation_interval": "1m", "tests": [test]}
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    proc = run_tool("promtool", "test", "rules", "tests.yaml", cwd=tmp_path)
    assert proc.returncode == 0, (series, proc.stdout + proc.stderr)


@each_sidecar_envoy
@pytest.mark.parametrize("collector", sorted(COLLECTORS))
def test_each_sidecar_panel_reads_series_a_real_envoy_moves(
    collector, binary, envoy_factory, upstream, tmp_path
):
    cluster_domain, where = COLLECTORS[collector]
    config = make_config(
        {"cluster_domain": cluster_domain},
        control_plane={"namespaces": {"shop": {}}, "collector": {"max_requests": 2, **where}},
    )
    (board,) = [json.loads(f.text) for f in render_all(config) if f.path == DASHBOARD_PATH]
    panels = dashboard_sidecar_selectors(collector_cluster_default(board), board)
    assert panels
    with hung_collector() as port:
        envoy = start_envoy(envoy_factory, istio_sidecar_bootstrap(
            config, stat_prefix=OUTBOUND_PREFIX, app_port=upstream.port, collector_port=port,
        ), binary)  # fmt: skip
        active = counts_active_overflow(running_version(envoy.admin_url))
        before = monitored(config, envoy.admin_url)
        # Capture fails open: every request is answered. Each stream to the hung collector
        # stays open for the deferred close: past the first two, the breaker refuses.
        with httpx.Client(timeout=10) as client:
            for _ in range(REQUESTS):
                headers = {"x-request-id": str(uuid.uuid4())}
                assert client.get(f"{envoy.url}/healthz", headers=headers).status_code == 200
        after = monitored(config, envoy.admin_url)
        envoy.process.stop(timeout_s=15)
    for title, selectors in panels.items():
        for selector in selectors:
            # One series per counter and sidecar (a counter at 0 before anything happened),
            # but none of the counter Envoy 1.37 does not have.
            present = 0 if not active and selector.split("{")[0] == ACTIVE_OVERFLOW else 1
            assert len(selected(selector, before)) == present, (title, selector)
            assert len(selected(selector, after)) == present, (title, selector)
        moved = sum(total(s, after) - total(s, before) for s in set(selectors))
        assert moved >= REQUESTS / 2, title
    # The panel's line of refusals counts each one, on 1.37 (in upstream_rq_pending_overflow
    # only) as on 1.40.
    counted = {sel for sel in panels[REFUSALS_PANEL] if sel.split("{")[0] in REFUSALS}
    refused = sum(total(sel, after) - total(sel, before) for sel in counted)
    assert refused >= REQUESTS / 2
    assert_refusals_line_reads(board, before, after, int(refused), tmp_path)
