"""What Prometheus scrapes: the collector's, the loader's and the WireMock keepers' metrics,
and the sidecars' ext_proc and collector-cluster stats. Prometheus Operator monitors
(deploy/monitoring/), in the namespace Prometheus reads, or scrape jobs for a plain
Prometheus (prometheus/)."""

from __future__ import annotations

import re

from control_plane.render.environment import render_template
from control_plane.render.istio import CaptureTarget, capture_targets
from control_plane.render.naming import MANAGED_MARKER, bounded_name
from ext_proc_server.core.config import ControlPlaneConfig

MONITORING_DIR = "deploy/monitoring"
SCRAPE_CONFIG_PATH = "prometheus/scrape.yaml"


def prometheus_namespace(cp: ControlPlaneConfig) -> str:
    return cp.prometheus_namespace or cp.mockado_namespace


def _keep_regex(cp: ControlPlaneConfig) -> str:
    # Joined "__name__;cluster_name": every ext_proc series, and the collector cluster's
    # (outbound|PORT||HOST) upstream and circuit-breaker series.
    cluster = re.escape(f"outbound|{cp.collector.port}||{cp.collector.host}")
    return f"envoy_http_.*ext_proc.*;.*|envoy_cluster_.*;{cluster}"


def podmonitor_path(target: CaptureTarget) -> str:
    # The mesh-wide scope's is named after the root namespace, as its istio/ directory.
    return f"{MONITORING_DIR}/podmonitor-{target.namespace}.yaml"


def render_monitors(cp: ControlPlaneConfig) -> dict[str, str]:
    """deploy/monitoring/<file>.yaml -> text: the ServiceMonitor, the keepers' PodMonitor,
    and one PodMonitor per capture scope (labelled with its namespace: disabling it prunes
    its monitor too)."""
    common = {
        "managed_marker": MANAGED_MARKER,
        "namespace": prometheus_namespace(cp),
        "mockado_namespace": cp.mockado_namespace,
    }
    out = {
        f"{MONITORING_DIR}/servicemonitor.yaml": render_template(
            "k8s/servicemonitor.yaml.j2", **common, scope=cp.mockado_namespace
        ),
        f"{MONITORING_DIR}/wiremock-keepers.yaml": render_template(
            "k8s/podmonitor-keepers.yaml.j2", **common, scope=cp.mockado_namespace
        ),
    }
    for target in capture_targets(cp):
        out[podmonitor_path(target)] = render_template(
            "k8s/podmonitor-sidecars.yaml.j2",
            **common,
            scope=target.namespace,
            # Also its app.kubernetes.io/name label: at most 63 characters.
            name=bounded_name("mockado-sidecars", target.key),
            capture_namespace=None if target.is_global else target.namespace,
            keep_regex=_keep_regex(cp),
            collector_service=cp.collector.host.partition(".")[0],
        )
    return out


def render_scrape_config(cp: ControlPlaneConfig) -> str:
    """prometheus/scrape.yaml: the monitors' targets as plain scrape jobs."""
    return render_template(
        "prometheus/scrape.yaml.j2",
        managed_marker=MANAGED_MARKER,
        mockado_namespace=cp.mockado_namespace,
        keep_regex=_keep_regex(cp),
    )
