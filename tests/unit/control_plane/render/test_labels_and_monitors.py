"""Every rendered object carries the labels it is pruned by, deploy/ applies namespace
first, EnvoyFilters have a priority, the monitors land where Prometheus reads them, and
`mockado render` lists the objects of the files it removes."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from control_plane.cli import main
from control_plane.render import render_all, write_files
from ext_proc_server.core.config import MockadoConfig, load_config
from tests.support.sidecar_stats import Sample, relabel
from tests.unit.control_plane.render.support import docs, files_of, rendered_objects

GOLDEN_CONFIG = Path(__file__).parent / "golden" / "config.yaml"


def config_of(**control_plane: Any) -> MockadoConfig:
    return MockadoConfig.model_validate({"control_plane": control_plane})


def objects(files: dict[str, str]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (path, doc)
        for path, text in files.items()
        if not path.startswith("envoy_configs/")
        for doc in docs(text)
    ]


def expected_scope(path: str, mockado_namespace: str) -> str:
    """The namespace whose config produced the file: istio[-debug]/<ns>/, podmonitor-<ns>,
    else mockado's own namespace."""
    parts = path.split("/")
    if parts[0] in ("istio", "istio-debug"):
        return parts[1]
    match = re.fullmatch(r"deploy/monitoring/podmonitor-(.+)\.yaml", path)
    if match:
        return match[1]
    return mockado_namespace


@pytest.mark.parametrize(
    "config",
    [
        load_config(GOLDEN_CONFIG, env={}),
        config_of(mockado_namespace="mocks", **{"global": {"enabled": True}}),
    ],
    ids=["golden", "global"],
)
def test_every_rendered_object_carries_the_three_pruning_labels(config: MockadoConfig) -> None:
    found = objects(files_of(config))
    kinds = {doc["kind"] for _, doc in found}
    assert {"Namespace", "Deployment", "EnvoyFilter", "NetworkPolicy", "ServiceMonitor",
            "PodMonitor", "PodDisruptionBudget", "DestinationRule"} <= kinds  # fmt: skip
    for path, doc in found:
        labels = doc["metadata"].get("labels", {})
        where = f"{path}: {doc['kind']} {doc['metadata']['name']}"
        assert labels.get("app.kubernetes.io/part-of") == "mockado", where
        assert labels.get("app.kubernetes.io/managed-by") == "mockado", where
        scope = expected_scope(path, config.control_plane.mockado_namespace)
        assert labels.get("mockado.io/namespace") == scope, where


def test_namespace_applies_first_and_alone() -> None:
    files = files_of(config_of(namespaces={"shop": {}}))
    deploy = sorted(p for p in files if p.startswith("deploy/") and p.count("/") == 1)
    # `kubectl apply -f deploy/` goes in file-name order.
    assert deploy[0] == "deploy/00-namespace.yaml"
    assert [d["kind"] for d in docs(files[deploy[0]])] == ["Namespace"]
    for path in deploy[1:]:
        assert "Namespace" not in {d["kind"] for d in docs(files[path])}, path


def test_envoyfilters_apply_after_default_priority_filters() -> None:
    files = files_of(config_of(namespaces={"shop": {"debug_tap": True}}))
    capture = docs(files["istio/shop/envoyfilter-capture.yaml"])[0]
    tap = docs(files["istio-debug/shop/envoyfilter-tap.yaml"])[0]
    # Higher applies later: each lands just before the router after the others, capture first.
    assert 0 < capture["spec"]["priority"] < tap["spec"]["priority"]


def monitors(files: dict[str, str]) -> dict[str, dict[str, Any]]:
    """The Operator's objects and the dashboard's ConfigMap, each in its own directory."""
    return {
        **rendered_objects(files, under="deploy/monitoring/"),
        **rendered_objects(files, under="deploy/grafana-sidecar/"),
    }


def test_monitors_live_where_prometheus_reads_them() -> None:
    default = monitors(files_of(config_of(namespaces={"shop": {}, "payments": {}})))
    assert set(default) == {"mockado", "mockado-wiremock-keepers", "mockado-sidecars-shop",
                            "mockado-sidecars-payments", "mockado-alerts",
                            "mockado-grafana-dashboard"}  # fmt: skip
    assert {m["metadata"]["namespace"] for m in default.values()} == {"mockado"}
    chosen = monitors(
        files_of(
            config_of(
                mockado_namespace="mocks",
                prometheus_namespace="monitoring",
                namespaces={"shop": {}, "legacy": {"enabled": False}},
            )
        )
    )
    assert set(chosen) == {"mockado", "mockado-wiremock-keepers", "mockado-sidecars-shop",
                           "mockado-alerts", "mockado-grafana-dashboard"}  # fmt: skip
    assert chosen["mockado-alerts"]["kind"] == "PrometheusRule"
    assert chosen["mockado-alerts"]["metadata"]["namespace"] == "monitoring"
    service = chosen["mockado"]
    assert service["kind"] == "ServiceMonitor"
    assert service["metadata"]["namespace"] == "monitoring"
    assert service["spec"]["namespaceSelector"] == {"matchNames": ["mocks"]}
    assert service["spec"]["endpoints"][0]["port"] == "http-metrics"
    selected = service["spec"]["selector"]["matchExpressions"][0]["values"]
    assert selected == ["mockado-collector", "mockado-loader"]
    keepers = chosen["mockado-wiremock-keepers"]
    assert keepers["kind"] == "PodMonitor"
    assert keepers["metadata"]["namespace"] == "monitoring"
    assert keepers["spec"]["namespaceSelector"] == {"matchNames": ["mocks"]}
    assert keepers["spec"]["podMetricsEndpoints"][0]["port"] == "http-metrics"
    pods = chosen["mockado-sidecars-shop"]
    assert pods["kind"] == "PodMonitor"
    assert pods["metadata"]["namespace"] == "monitoring"
    assert pods["spec"]["namespaceSelector"] == {"matchNames": ["shop"]}
    assert pods["spec"]["podMetricsEndpoints"][0]["port"] == "http-envoy-prom"


def test_mesh_wide_capture_monitors_every_namespace() -> None:
    found = monitors(files_of(config_of(**{"global": {"enabled": True}})))
    assert found["mockado-sidecars-global"]["spec"]["namespaceSelector"] == {"any": True}


def test_the_sidecar_monitor_keeps_ext_proc_errors_and_the_collector_cluster_only() -> None:
    found = monitors(files_of(config_of(namespaces={"shop": {}})))
    keep, *_ = found["mockado-sidecars-shop"]["spec"]["podMetricsEndpoints"][0]["metricRelabelings"]
    assert keep["action"] == "keep" and keep["sourceLabels"] == ["__name__", "cluster_name"]
    regex = re.compile(keep["regex"])  # Prometheus anchors the regex: fullmatch
    collector = "outbound|50051||mockado-collector.mockado.svc.cluster.local"
    kept = [
        "envoy_http_ext_proc_mockado_streams_failed;",
        "envoy_http_ext_proc_mockado_failure_mode_allowed;",
        f"envoy_cluster_upstream_cx_connect_fail;{collector}",
        f"envoy_cluster_upstream_rq_pending_overflow;{collector}",
    ]
    dropped = [
        "envoy_cluster_upstream_cx_connect_fail;outbound|80||shop-api.shop.svc.cluster.local",
        "envoy_http_downstream_rq_total;",
        "istio_requests_total;",
    ]
    assert all(regex.fullmatch(series) for series in kept)
    assert not any(regex.fullmatch(series) for series in dropped)


def test_the_sidecar_monitors_give_each_ext_proc_counter_one_name() -> None:
    files = files_of(config_of(namespaces={"shop": {}}))
    pod_monitor = monitors(files)["mockado-sidecars-shop"]["spec"]["podMetricsEndpoints"][0]
    (job,) = [j for j in yaml.safe_load(files["prometheus/scrape.yaml"])["scrape_configs"]
              if j["job_name"] == "mockado-sidecars"]  # fmt: skip
    scraped = [
        Sample("envoy_http_inbound_0_0_0_0_8080_ext_proc_mockado_streams_failed", {}, 3),
        Sample("envoy_http_ext_proc_mockado_streams_failed",
               {"http_conn_manager_prefix": "10.96.0.1_8080"}, 4),
        Sample("envoy_http_inbound_0_0_0_0_8080_ext_proc_other_streams_failed", {}, 5),
        Sample("envoy_http_inbound_0_0_0_0_8080_downstream_rq_total", {}, 6),
    ]  # fmt: skip
    expected = [
        Sample("envoy_http_ext_proc_mockado_streams_failed",
               {"http_conn_manager_prefix": "inbound_0_0_0_0_8080"}, 3),
        scraped[1],
        # Another ext_proc filter's series are kept as they are; the rest dropped.
        scraped[2],
    ]  # fmt: skip
    assert relabel(scraped, pod_monitor["metricRelabelings"]) == expected
    assert relabel(scraped, job["metric_relabel_configs"]) == expected


def test_outside_cluster_local_the_monitors_give_the_collector_cluster_its_istio_name() -> None:
    # Istio's stats tag takes a cluster's name up to ".svc.cluster.local" only: in another
    # DNS domain it stops at the host's first dot, the rest left in the series' name (dots
    # and dashes as underscores), as tests/integration/test_sidecar_alert_series.py finds in
    # a real Envoy.
    config = MockadoConfig.model_validate({
        "collector": {"cluster_domain": "corp.internal"},
        "control_plane": {"mockado_namespace": "mock-ns", "namespaces": {"shop": {}}},
    })  # fmt: skip
    files = files_of(config)
    pod_monitor = monitors(files)["mockado-sidecars-shop"]["spec"]["podMetricsEndpoints"][0]
    (job,) = [j for j in yaml.safe_load(files["prometheus/scrape.yaml"])["scrape_configs"]
              if j["job_name"] == "mockado-sidecars"]  # fmt: skip
    collector = "outbound|50051||mockado-collector.mock-ns.svc.corp.internal"
    assert config.control_plane.collector.host == collector.rpartition("|")[2]
    scraped = [
        Sample("envoy_cluster_mock_ns_svc_corp_internal_upstream_rq_active_overflow",
               {"cluster_name": "outbound|50051||mockado-collector"}, 3),
        Sample("envoy_cluster_mock_ns_svc_corp_internal_upstream_cx_connect_fail",
               {"cluster_name": "outbound|50051||mockado-collector"}, 4),
        # Another Service of mockado's namespace, another port, another namespace.
        Sample("envoy_cluster_mock_ns_svc_corp_internal_upstream_rq_active_overflow",
               {"cluster_name": "outbound|8080||mockado-wiremock"}, 5),
        Sample("envoy_cluster_mock_ns_svc_corp_internal_upstream_rq_active_overflow",
               {"cluster_name": "outbound|9090||mockado-collector"}, 6),
        Sample("envoy_cluster_shop_svc_corp_internal_upstream_rq_active_overflow",
               {"cluster_name": "outbound|50051||mockado-collector"}, 7),
    ]  # fmt: skip
    expected = [
        Sample("envoy_cluster_upstream_rq_active_overflow", {"cluster_name": collector}, 3),
        Sample("envoy_cluster_upstream_cx_connect_fail", {"cluster_name": collector}, 4),
    ]
    assert relabel(scraped, pod_monitor["metricRelabelings"]) == expected
    assert relabel(scraped, job["metric_relabel_configs"]) == expected


def test_in_cluster_local_the_monitors_rename_nothing() -> None:
    files = files_of(config_of(namespaces={"shop": {}}))
    endpoint = monitors(files)["mockado-sidecars-shop"]["spec"]["podMetricsEndpoints"][0]
    assert not [r for r in endpoint["metricRelabelings"] if r.get("targetLabel") == "cluster_name"]


def test_render_lists_the_objects_of_the_files_it_removes(tmp_path, capsys, keep_logging):
    config = tmp_path / "mockado.yaml"
    config.write_text("control_plane:\n  namespaces:\n    shop: {}\n    payments: {}\n")
    assert main(["render", "--config", str(config), "--out", str(tmp_path)]) == 0
    config.write_text("control_plane:\n  namespaces:\n    shop: {}\n")
    capsys.readouterr()
    assert main(["render", "--config", str(config), "--out", str(tmp_path), "--check"]) == 1
    checked = capsys.readouterr().out
    assert main(["render", "--config", str(config), "--out", str(tmp_path)]) == 0
    written = capsys.readouterr().out
    commands = [
        "kubectl delete -n payments envoyfilter/mockado-capture --ignore-not-found",
        "kubectl delete -n mockado networkpolicy/mockado-collector-from-payments"
        " --ignore-not-found",
        "kubectl delete -n mockado podmonitor/mockado-sidecars-payments --ignore-not-found",
    ]
    for out in (checked, written):
        assert "3 objects of the files" in out, out
        for command in commands:
            assert f"  {command}\n" in out, out
    assert "removed istio/payments/envoyfilter-capture.yaml" in written
    # Nothing left to list once removed.
    summary = write_files(render_all(load_config(config, env={})), tmp_path)
    assert summary.removed == [] and summary.removed_objects == {}


def scrape_jobs(config: MockadoConfig) -> dict[str, dict[str, Any]]:
    text = files_of(config)["prometheus/scrape.yaml"]
    return {job["job_name"]: job for job in yaml.safe_load(text)["scrape_configs"]}


def test_the_plain_prometheus_scrape_config_follows_the_mockado_namespace() -> None:
    config = config_of(mockado_namespace="mocks", namespaces={"shop": {}})
    jobs = scrape_jobs(config)
    assert set(jobs) == {"mockado-collector", "mockado-loader", "mockado-wiremock-keepers",
                         "mockado-sidecars"}  # fmt: skip
    for name in ("mockado-collector", "mockado-loader", "mockado-wiremock-keepers"):
        assert jobs[name]["kubernetes_sd_configs"] == [
            {"role": "pod", "namespaces": {"names": ["mocks"]}}
        ]
    sidecars = jobs["mockado-sidecars"]
    assert sidecars["metrics_path"] == "/stats/prometheus"
    assert sidecars["relabel_configs"][0]["source_labels"] == [
        "__meta_kubernetes_pod_labelpresent_security_istio_io_tlsMode"
    ]
    # The same series as the PodMonitors keep.
    endpoint = monitors(files_of(config))["mockado-sidecars-shop"]["spec"]["podMetricsEndpoints"]
    keep = sidecars["metric_relabel_configs"][0]
    assert keep["regex"] == endpoint[0]["metricRelabelings"][0]["regex"]
    # Enabling a namespace leaves the file as it is.
    more = config_of(mockado_namespace="mocks", namespaces={"shop": {}, "orders": {}})
    assert scrape_jobs(more) == jobs
