"""The Grafana dashboard's queries of the sidecars' Envoy series (deploy/grafana/mockado.json,
or the dashboard `mockado render` gives for a config): each series with its label matchers, as
a panel's query selects it."""

from __future__ import annotations

import json
import re
from typing import Any

from control_plane.render.dashboard import COLLECTOR_CLUSTER_VARIABLE, DASHBOARD_PATH
from control_plane.render.monitoring import SIDECAR_SERIES
from tests.support.paths import REPO

DASHBOARD = REPO / DASHBOARD_PATH
_SIDECAR_SELECTOR = re.compile(
    "|".join(rf"{re.escape(name)}(?:\{{[^}}]*\}})?" for name in SIDECAR_SERIES.values())
)


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text(encoding="utf-8"))


def collector_cluster_default(board: dict[str, Any]) -> str:
    """The value the dashboard's collector_cluster variable opens with."""
    (variable,) = [v for v in board["templating"]["list"]
                   if v["name"] == COLLECTOR_CLUSTER_VARIABLE]  # fmt: skip
    assert variable["query"] == variable["current"]["value"]
    return variable["current"]["value"]


def dashboard_sidecar_selectors(
    collector_cluster: str, board: dict[str, Any] | None = None
) -> dict[str, list[str]]:
    """Panel title -> each sidecar series its queries read, with its matchers, the
    dashboard's collector_cluster variable set to ``collector_cluster``. Only the panels
    that read one. ``board``: a rendered dashboard (default: deploy/grafana/mockado.json)."""
    out: dict[str, list[str]] = {}
    for panel in (board or dashboard())["panels"]:
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
