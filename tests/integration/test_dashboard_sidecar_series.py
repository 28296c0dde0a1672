"""The dashboard's sidecar panels (deploy/grafana/mockado.json, as `mockado render` renders it
for the config) on a real Envoy's series: the rendered sidecar bootstrap, its stats named as an
Istio sidecar names them, read through the rendered monitors' metric relabelling. With a hung
collector past control_plane.collector.max_requests, each series a panel reads exists and each
panel's series move, in cluster.local and in another cluster domain with another collector
host and port, the dashboard's collector_cluster variable left at its rendered default. Run
by the sidecars' Envoy 1.37 and by the bundled 1.40: 1.37 has no upstream_rq_active_overflow
series (the refusals panel's own line of it stays empty), and counts each refusal in
upstream_rq_pending_overflow."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
import yaml

from control_plane.render import render_all
from control_plane.render.dashboard import DASHBOARD_PATH
from control_plane.render.istio import capture_targets
from control_plane.render.monitoring import SCRAPE_CONFIG_PATH, SIDECAR_SERIES, podmonitor_path
from ext_proc_server.core.config import MockadoConfig
from tests.support.dashboard_series import collector_cluster_default, dashboard_sidecar_selectors
from tests.support.ext_proc_rig import make_config
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


@each_sidecar_envoy
@pytest.mark.parametrize("collector", sorted(COLLECTORS))
def test_each_sidecar_panel_reads_series_a_real_envoy_moves(
    collector, binary, envoy_factory, upstream
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
