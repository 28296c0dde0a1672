"""The Grafana dashboard's queries of the sidecars' Envoy series (deploy/grafana/mockado.json):
each series with its label matchers, as a panel's query selects it."""

from __future__ import annotations

import json
import re
from typing import Any

from control_plane.render.monitoring import SIDECAR_SERIES
from tests.support.paths import REPO

DASHBOARD = REPO / "deploy/grafana/mockado.json"
# The variable a panel names the collector's cluster by.
COLLECTOR_CLUSTER_VARIABLE = "collector_cluster"
_SIDECAR_SELECTOR = re.compile(
    "|".join(rf"{re.escape(name)}(?:\{{[^}}]*\}})?" for name in SIDECAR_SERIES.values())
)


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def dashboard_sidecar_selectors(collector_cluster: str) -> dict[str, list[str]]:
    """Panel title -> each sidecar series its queries read, with its matchers, the
    dashboard's collector_cluster variable set to ``collector_cluster``. Only the panels
    that read one."""
    out: dict[str, list[str]] = {}
    for panel in dashboard()["panels"]:
        for target in panel["targets"]:
            expr = target["expr"].replace(f"${COLLECTOR_CLUSTER_VARIABLE}", collector_cluster)
            found = [m[0] for m in _SIDECAR_SELECTOR.finditer(expr)]
            if found:
                out.setdefault(panel["title"], []).extend(found)
    return out


def dashboard_sidecar_queries(collector_cluster: str) -> list[str]:
    """Every query of the panels that read a sidecar series, the collector_cluster variable
    set to ``collector_cluster``."""
    titles = dashboard_sidecar_selectors(collector_cluster)
    return [
        target["expr"].replace(f"${COLLECTOR_CLUSTER_VARIABLE}", collector_cluster)
        for panel in dashboard()["panels"]
        if panel["title"] in titles
        for target in panel["targets"]
    ]
