"""The Grafana dashboard: deploy/grafana/mockado.json to import, and the same dashboard as a
ConfigMap Grafana's dashboard sidecar loads (deploy/grafana-sidecar/: a directory of its
own, applied with or without the Prometheus Operator). Its sidecar panels read the
collector's cluster from the collector_cluster variable, whose default is the configured
collector's cluster as the alert rules select it, so the dashboard is right as rendered."""

from __future__ import annotations

import json
from typing import Any

from control_plane.assets import TEMPLATES_DIR
from control_plane.render.clusters import istio_cluster_name
from control_plane.render.environment import render_template
from control_plane.render.monitoring import prometheus_namespace
from control_plane.render.naming import MANAGED_MARKER
from ext_proc_server.core.config import ControlPlaneConfig
from ext_proc_server.core.errors import RenderError

DASHBOARD_SOURCE = TEMPLATES_DIR / "grafana" / "mockado.json"
DASHBOARD_PATH = "deploy/grafana/mockado.json"
# Not deploy/grafana/: `kubectl apply -f` on a directory reads its .json files too.
GRAFANA_SIDECAR_DIR = "deploy/grafana-sidecar"
DASHBOARD_CONFIGMAP_PATH = f"{GRAFANA_SIDECAR_DIR}/grafana-dashboard.yaml"
# The variable the sidecar panels name the collector's cluster by.
COLLECTOR_CLUSTER_VARIABLE = "collector_cluster"


def dashboard(cp: ControlPlaneConfig) -> dict[str, Any]:
    """The dashboard, its collector_cluster variable defaulting to the collector's cluster."""
    board = json.loads(DASHBOARD_SOURCE.read_text(encoding="utf-8"))
    variables = [v for v in board["templating"]["list"] if v["name"] == COLLECTOR_CLUSTER_VARIABLE]
    if len(variables) != 1:
        raise RenderError(f"{DASHBOARD_SOURCE.name}: no {COLLECTOR_CLUSTER_VARIABLE} variable")
    cluster = istio_cluster_name(cp.collector)
    variables[0]["query"] = cluster
    variables[0]["current"] = {"text": cluster, "value": cluster}
    return board


def render_dashboard(cp: ControlPlaneConfig) -> str:
    """deploy/grafana/mockado.json: the dashboard to import into Grafana."""
    return json.dumps(dashboard(cp), indent=2, ensure_ascii=False) + "\n"


def render_dashboard_configmap(cp: ControlPlaneConfig) -> str:
    """deploy/grafana-sidecar/grafana-dashboard.yaml: the dashboard as a ConfigMap, labelled
    (control_plane.grafana_dashboard) for Grafana's dashboard sidecar, in its namespace, by
    default the one Prometheus reads (where kube-prometheus-stack runs Grafana too)."""
    sidecar = cp.grafana_dashboard
    return render_template(
        "k8s/grafana-dashboard.yaml.j2",
        managed_marker=MANAGED_MARKER,
        namespace=sidecar.namespace or prometheus_namespace(cp),
        scope=cp.mockado_namespace,
        sidecar_label=(sidecar.label, sidecar.label_value),
        folder_annotation=(sidecar.folder_annotation, sidecar.folder) if sidecar.folder else None,
        file_name=DASHBOARD_PATH.rsplit("/", 1)[1],
        dashboard=render_dashboard(cp),
    )
