"""The Grafana dashboard only queries metrics the code really exports, or the sidecars'
Envoy series the alerts read, selected as the alerts select them
(tests/integration/test_dashboard_sidecar_series.py finds them in a real Envoy). `mockado
render` renders it for the configured collector, as a file to import and as a ConfigMap for
Grafana's dashboard sidecar; deploy/grafana/mockado.json is its render of the defaults."""

from __future__ import annotations

import ast
import json
import re

import pytest
import yaml
from prometheus_client import REGISTRY

import ext_proc_server.core.metrics  # noqa: F401 - registers every metric
from control_plane.render import render_all
from control_plane.render.clusters import istio_cluster_name
from control_plane.render.dashboard import DASHBOARD_CONFIGMAP_PATH, DASHBOARD_PATH
from control_plane.render.monitoring import RULES_PATH, SIDECAR_SERIES, sidecar_selectors
from control_plane.validate import kubernetes_problems
from ext_proc_server.core.config import MockadoConfig
from ext_proc_server.core.exchange import BODY_DROP_REASONS
from ext_proc_server.core.metrics import MOMENTS_AS_RECORDED_REASONS, STUB_SKIP_REASONS
from tests.support.dashboard_series import (
    COLLECTOR_CLUSTER_VARIABLE,
    collector_cluster_default,
    dashboard,
    dashboard_sidecar_queries,
    dashboard_sidecar_selectors,
)
from tests.support.ext_proc_rig import make_config
from tests.support.paths import REPO

# PromQL functions and keywords that look like identifiers.
_NOT_METRICS = {
    "sum", "by", "rate", "histogram_quantile", "max", "min", "clamp_min", "le", "avg", "without",
    "increase", "irate", "count", "on", "ignoring", "group_left", "group_right", "or",
}  # fmt: skip


def exported_names() -> set[str]:
    names = set()
    for metric in REGISTRY.collect():
        for sample in metric.samples:
            names.add(sample.name)
        names.add(metric.name)
        if metric.type == "counter":
            names.add(metric.name + "_total")
        if metric.type == "histogram":
            names.update({metric.name + s for s in ("_bucket", "_sum", "_count")})
    return names


def exported_metric_families() -> set[str]:
    """The metrics core/metrics.py registers (not prometheus_client's own collectors)."""
    return {m.name for m in REGISTRY.collect()
            if not m.name.startswith(("python_", "process_"))}  # fmt: skip


def dashboard_metric_names() -> set[str]:
    dash = json.loads((REPO / "deploy/grafana/mockado.json").read_text())
    names = set()
    for panel in dash["panels"]:
        for target in panel["targets"]:
            expr = re.sub(r"\{[^}]*\}", "", target["expr"])  # label matchers
            expr = re.sub(r"\[[^\]]*\]", "", expr)  # range selectors
            expr = re.sub(r"by \([^)]*\)", "", expr)  # grouping labels
            expr = re.sub(r"\b\d+(\.\d+)?(e-?\d+)?\b", "", expr)  # number literals
            for word in re.findall(r"[a-zA-Z_][a-zA-Z0-9_]*", expr):
                if word not in _NOT_METRICS:
                    names.add(word)
    return names


def test_every_dashboard_query_uses_an_exported_metric():
    used = dashboard_metric_names()
    assert used, "the dashboard has no queries"
    missing = used - exported_names() - set(SIDECAR_SERIES.values())
    assert not missing, f"dashboard queries metrics the code does not export: {sorted(missing)}"


def test_the_seed_metrics_are_on_the_dashboard():
    used = dashboard_metric_names()
    for name in (
        "collector_requests_total",
        "collector_requests_duration_seconds_bucket",
        "collector_sanitization_operations_total",
        "collector_deduplication_operations_total",
        "collector_queue_size",
        "collector_dropped_total",
        "wiremock_loader_mappings_processed_total",
        "wiremock_loader_mappings_errors_total",
        "wiremock_loader_wiremock_requests_duration_seconds_bucket",
        "wiremock_loader_queue_lag_seconds",
        "wiremock_loader_dead_letter_size",
        "wiremock_loader_stub_count",
    ):
        assert name in used, name


def test_the_keepers_and_the_held_claims_are_on_the_dashboard():
    used = dashboard_metric_names()
    for name in (
        "mockado_keeper_ready",
        "mockado_keeper_stubs_taken_total",
        "wiremock_loader_moves_waiting",
        "wiremock_loader_claims_released_total",
    ):
        assert name in used, name


_SUFFIX = {"Counter": "_total", "Gauge": "", "Histogram": "_bucket", "TalliedHistogram": "_bucket"}


def defined_metrics() -> dict[str, tuple[str, ...]]:
    """Every metric ext_proc_server/core/metrics.py defines, read from its source: the name
    a query uses for it (a counter's ends in _total, a histogram is read by its buckets)
    -> its labels."""
    tree = ast.parse((REPO / "ext_proc_server/core/metrics.py").read_text())
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in _SUFFIX:
            name = ast.literal_eval(node.args[0])
            labels = ast.literal_eval(node.args[2]) if len(node.args) > 2 else ()
            found[name + _SUFFIX[node.func.id]] = tuple(labels)
    return found


def test_every_metric_the_code_defines_is_on_the_dashboard():
    defined = defined_metrics()
    # The list is really read (every kind of metric, with and without labels).
    assert {"collector_moments_as_recorded_total", "collector_queue_size",
            "collector_requests_duration_seconds_bucket"} <= set(defined)  # fmt: skip
    assert len(defined) == len(exported_metric_families())
    missing = sorted(set(defined) - dashboard_metric_names())
    assert not missing, f"metrics of core/metrics.py no dashboard panel shows: {missing}"


def test_every_reason_and_cause_shows_as_its_own_series():
    # A reason added to an enum of core/metrics.py (a skip or a drop reason) shows only
    # when its metric is summed by that label.
    exprs = [t["expr"] for p in json.loads((REPO / "deploy/grafana/mockado.json").read_text())[
        "panels"] for t in p["targets"]]  # fmt: skip
    for name, labels in defined_metrics().items():
        for label in {"reason", "error", "error_type"} & set(labels):
            grouped = [e for e in exprs if re.search(rf"\b{name}\b", e)
                       and re.search(rf"by \([^)]*\b{label}\b", e)]  # fmt: skip
            assert grouped, f"{name} is not shown by {label}"


def test_the_skip_panel_describes_every_kind_of_skip_reason():
    panels = json.loads((REPO / "deploy/grafana/mockado.json").read_text())["panels"]
    (skips,) = [p for p in panels
                if any("collector_stubs_skipped_total" in t["expr"] for t in p["targets"])]  # fmt: skip
    described = skips["description"]
    templated = {f"{part}_{cause}" for part in ("request", "response")
                 for cause in ("truncated", *BODY_DROP_REASONS)}  # fmt: skip
    for reason in STUB_SKIP_REASONS:
        if reason not in templated:
            assert f"`{reason}`" in described, reason
    for cause in ("truncated", *BODY_DROP_REASONS):
        assert f"`{cause}`" in described, cause
    moments = [p for p in panels
               if any("collector_moments_as_recorded_total" in t["expr"] for t in p["targets"])]  # fmt: skip
    for reason in MOMENTS_AS_RECORDED_REASONS:
        assert any(f"`{reason}`" in p.get("description", "") for p in moments), reason


def test_the_sidecar_panels_read_the_series_the_alerts_read_as_they_select_them():
    config = MockadoConfig()
    variables = {v["name"]: v for v in dashboard()["templating"]["list"]}
    variable = variables[COLLECTOR_CLUSTER_VARIABLE]
    # Its default is the default collector's cluster, as Istio names it.
    cluster = istio_cluster_name(config.control_plane.collector)
    assert variable["query"] == variable["current"]["value"] == cluster
    read = dashboard_sidecar_selectors(cluster)
    # A panel for the failed streams, one for the circuit breaker's refusals, one for the
    # streams reset unanswered.
    assert len(read) == 3
    alerts = sidecar_selectors(config.control_plane)
    assert {s for selectors in read.values() for s in selectors} == set(alerts.values())


def test_a_sum_with_the_circuit_breakers_newer_counter_falls_back_for_envoy_1_37():
    # Envoy 1.37 has no upstream_rq_active_overflow and a sum with a missing series is
    # empty: a query adding it to other series reads the older counter alone there, as
    # the alerts do. No query reads it alone (a line always empty on 1.37).
    cluster = istio_cluster_name(MockadoConfig().control_plane.collector)
    selectors = sidecar_selectors(MockadoConfig().control_plane)
    pending = f"sum by (namespace) (rate({selectors['refused_pending']}[5m]))"
    active = f"sum by (namespace) (rate({selectors['refused_active']}[5m]))"
    summed = [e for e in dashboard_sidecar_queries(cluster) if selectors["refused_active"] in e]
    assert active not in [e.strip() for e in summed]
    # The circuit breaker's refusals and their share, the reset streams and their share.
    assert len(summed) == 4
    for expr in summed:
        assert expr.count(selectors["refused_active"]) == expr.count(
            f"{pending} + {active} or {pending}"
        ), expr


# A collector other than the default: its host, port and cluster domain, and the cluster
# Istio's sidecars name it by.
CUSTOM_COLLECTORS = [
    (
        "corp.internal",
        {"host": "capture.mockado.svc.corp.internal", "port": 7443},
        "outbound|7443||capture.mockado.svc.corp.internal",
    ),
    ("corp.internal", {}, "outbound|50051||mockado-collector.mockado.svc.corp.internal"),
    (
        "cluster.local",
        {"host": "mockado-capture.mockado.svc.cluster.local", "port": 9443},
        "outbound|9443||mockado-capture.mockado.svc.cluster.local",
    ),
]


def rendered_files(config: MockadoConfig) -> dict[str, str]:
    return {f.path: f.text for f in render_all(config)}


def test_the_shipped_dashboard_is_the_render_of_the_default_config():
    shipped = (REPO / DASHBOARD_PATH).read_text(encoding="utf-8")
    assert rendered_files(MockadoConfig())[DASHBOARD_PATH] == shipped


@pytest.mark.parametrize(("cluster_domain", "collector", "cluster"), CUSTOM_COLLECTORS)
def test_the_rendered_dashboard_opens_on_the_configured_collectors_cluster(
    cluster_domain, collector, cluster
):
    config = make_config(
        {"cluster_domain": cluster_domain},
        control_plane={"namespaces": {"shop": {}}, "collector": collector},
    )
    files = rendered_files(config)
    board = json.loads(files[DASHBOARD_PATH])
    assert collector_cluster_default(board) == cluster
    # The cluster the alert rules select, so the panels show what the alerts fire on.
    rules = files[RULES_PATH]
    assert f'cluster_name="{cluster}"' in rules
    read = dashboard_sidecar_selectors(cluster, board)
    assert {s for selectors in read.values() for s in selectors} == set(
        sidecar_selectors(config.control_plane).values()
    )
    # Only the variable's default differs from the shipped dashboard's.
    assert board["panels"] == dashboard()["panels"]


def test_the_dashboard_configmap_is_labelled_for_grafanas_sidecar_and_valid():
    (domain, collector, cluster) = CUSTOM_COLLECTORS[0]
    config = make_config(
        {"cluster_domain": domain},
        control_plane={
            "namespaces": {"shop": {}},
            "collector": collector,
            "prometheus_namespace": "monitoring",
        },
    )
    files = rendered_files(config)
    (configmap,) = [d for d in yaml.safe_load_all(files[DASHBOARD_CONFIGMAP_PATH]) if d]
    assert kubernetes_problems(configmap, source=DASHBOARD_CONFIGMAP_PATH) == []
    assert configmap["kind"] == "ConfigMap"
    assert configmap["metadata"]["namespace"] == "monitoring"
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
    # The same dashboard as the file to import, byte for byte.
    assert configmap["data"] == {"mockado.json": files[DASHBOARD_PATH]}
    assert collector_cluster_default(json.loads(files[DASHBOARD_PATH])) == cluster
