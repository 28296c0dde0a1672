"""The Grafana dashboard only queries metrics the code really exports."""

from __future__ import annotations

import json
import re

from prometheus_client import REGISTRY

import ext_proc_server.core.metrics  # noqa: F401 - registers every metric
from tests.support.paths import REPO

# PromQL functions and keywords that look like identifiers.
_NOT_METRICS = {
    "sum", "by", "rate", "histogram_quantile", "max", "min", "clamp_min", "le", "avg", "without",
    "increase", "irate", "count", "on", "ignoring", "group_left", "group_right",
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
    missing = used - exported_names()
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
