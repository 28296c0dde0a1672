"""Capture scopes in the mesh: EnvoyFilters, the collector's NetworkPolicy and its
DestinationRule, read back as data."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from control_plane.render import capture_targets
from ext_proc_server.capture import stream_meta
from ext_proc_server.core.config import (
    COLLECTOR_STREAMS_PER_CONNECTION,
    CollectorConfig,
    MockadoConfig,
    load_config,
)
from ext_proc_server.core.errors import ConfigError
from ext_proc_server.core.names import (
    META_BODY_LIMIT,
    META_BODY_LIMITS,
    META_NAMESPACE,
    META_WORKLOAD,
)
from tests.unit.control_plane.render.support import ext_proc, files_of


def make_config(namespaces: dict[str, Any] | None = None, **control_plane: Any) -> MockadoConfig:
    cp = {"namespaces": namespaces or {}, **control_plane}
    return MockadoConfig.model_validate({"control_plane": cp})


def capture_filter(text: str) -> list[dict[str, Any]]:
    doc = yaml.safe_load(text)
    return [p for p in doc["spec"]["configPatches"] if p["applyTo"] == "HTTP_FILTER"]


def test_envoyfilter_per_namespace_with_collector_metadata() -> None:
    config = make_config({"shop": {"body_limit_bytes": 4096, "workload_selector": {"app": "cart"}}})
    text = files_of(config)["istio/shop/envoyfilter-capture.yaml"]
    doc = yaml.safe_load(text)
    assert doc["apiVersion"] == "networking.istio.io/v1alpha3"
    assert doc["metadata"]["namespace"] == "shop"
    assert doc["metadata"]["labels"]["app.kubernetes.io/managed-by"] == "mockado"
    assert doc["spec"]["workloadSelector"] == {"labels": {"app": "cart"}}
    (patch,) = capture_filter(text)
    assert patch["match"]["context"] == "SIDECAR_INBOUND"
    listener = patch["match"]["listener"]["filterChain"]["filter"]
    assert listener == {
        "name": "envoy.filters.network.http_connection_manager",
        "subFilter": {"name": "envoy.filters.http.router"},
    }
    assert patch["patch"]["operation"] == "INSERT_BEFORE"
    proc = ext_proc(patch["patch"]["value"])
    grpc = proc["grpc_service"]
    assert grpc["envoy_grpc"] == {
        "cluster_name": "outbound|50051||mockado-collector.mockado.svc.cluster.local",
        "authority": "mockado-collector.mockado.svc.cluster.local",
    }
    metadata = {m["key"]: m["value"] for m in grpc["initial_metadata"]}
    assert metadata[META_NAMESPACE] == "shop"
    assert metadata[META_WORKLOAD] == "cart"
    assert metadata[META_BODY_LIMIT] == "4096"
    assert proc["observability_mode"] is True


def test_direction_both_renders_two_patches_and_says_calls_are_captured_twice() -> None:
    files = files_of(make_config({"shop": {"direction": "both"}}))
    text = files["istio/shop/envoyfilter-capture.yaml"]
    assert [p["match"]["context"] for p in capture_filter(text)] == [
        "SIDECAR_INBOUND",
        "SIDECAR_OUTBOUND",
    ]
    assert "captured TWICE" in text


def test_the_tap_filter_renders_only_where_a_namespace_opts_in_and_outside_istio() -> None:
    files = files_of(make_config({"shop": {"direction": "both", "debug_tap": True}, "cart": {}}))
    assert not any("tap" in path for path in files if not path.startswith("istio-debug/"))
    assert [p for p in files if p.startswith("istio-debug/")] == [
        "istio-debug/shop/envoyfilter-tap.yaml"
    ]
    text = files["istio-debug/shop/envoyfilter-tap.yaml"]
    tap = yaml.safe_load(text)
    assert tap["metadata"]["namespace"] == "shop"
    assert len(tap["spec"]["configPatches"]) == 2
    assert "RAW, UNSANITIZED" in text
    default = files_of(make_config({"shop": {"direction": "both"}}))
    assert not any("tap" in path or path.startswith("istio-debug/") for path in default)


def test_a_tap_on_a_disabled_namespace_is_an_error_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"control_plane\.namespaces\.shop\.debug_tap"):
        overrides = {"control_plane.namespaces": {"shop": {"enabled": False, "debug_tap": True}}}
        load_config(None, env={}, overrides=overrides)


def test_outbound_only_patches_outbound() -> None:
    text = files_of(make_config({"shop": {"direction": "outbound"}}))[
        "istio/shop/envoyfilter-capture.yaml"
    ]
    assert [p["match"]["context"] for p in capture_filter(text)] == ["SIDECAR_OUTBOUND"]


def test_namespace_filters_become_skip_rules_in_order() -> None:
    config = make_config(
        {
            "shop": {
                "sample_percent": 25,
                "exclude_paths": ["/healthz"],
                "exclude_hosts": ["admin.shop"],
                "include_paths": ["/api/", "/v2/"],
                "include_hosts": ["*.shop"],
            }
        }
    )
    (patch,) = capture_filter(files_of(config)["istio/shop/envoyfilter-capture.yaml"])
    matchers = patch["patch"]["value"]["typed_config"]["xds_matcher"]["matcher_list"]["matchers"]
    upgrade, exclude_path, exclude_host, include_paths, include_hosts, sample = matchers
    assert upgrade["predicate"]["single_predicate"]["input"]["name"] == "upgrade"
    assert exclude_path["predicate"]["single_predicate"]["value_match"] == {"prefix": "/healthz"}
    assert exclude_host["predicate"]["single_predicate"]["input"]["name"] == ":authority"
    ors = include_paths["predicate"]["not_matcher"]["or_matcher"]["predicate"]
    assert [p["single_predicate"]["value_match"] for p in ors] == [
        {"prefix": "/api/"},
        {"prefix": "/v2/"},
    ]
    assert "single_predicate" in include_hosts["predicate"]["not_matcher"]
    fraction = sample["predicate"]["not_matcher"]["single_predicate"]["custom_match"]
    assert fraction["typed_config"]["runtime_fraction"]["runtime_key"] == (
        "mockado.capture.shop.sample_percent"
    )


def test_disabled_namespace_renders_nothing() -> None:
    files = files_of(make_config({"shop": {}, "legacy": {"enabled": False}}))
    assert any(p.startswith("istio/shop/") for p in files)
    assert not any(p.startswith("istio/legacy/") for p in files)
    # The pods' config does not change when a namespace is enabled or disabled (they would
    # restart); it lists the namespaces only as known names for the canonical hosts.
    enabled = files_of(make_config({"shop": {}, "legacy": {"enabled": True}}))
    assert enabled["deploy/configmap.yaml"] == files["deploy/configmap.yaml"]


def test_capture_targets_are_the_enabled_namespaces_sorted() -> None:
    config = make_config({"zoo": {}, "shop": {}, "legacy": {"enabled": False}})
    targets = capture_targets(config.control_plane)
    assert [(t.key, t.namespace, t.is_global) for t in targets] == [
        ("shop", "shop", False),
        ("zoo", "zoo", False),
    ]
    assert targets[0].runtime_key == "mockado.capture.shop.sample_percent"


def test_global_mode_renders_one_filter_in_the_root_namespace() -> None:
    config = make_config(
        {"shop": {"enabled": False}}, **{"global": {"enabled": True, "sample_percent": 5}}
    )
    files = files_of(config)
    doc = yaml.safe_load(files["istio/istio-system/envoyfilter-capture.yaml"])
    assert doc["metadata"]["namespace"] == "istio-system"
    (patch,) = capture_filter(files["istio/istio-system/envoyfilter-capture.yaml"])
    grpc = ext_proc(patch["patch"]["value"])["grpc_service"]
    keys = [m["key"] for m in grpc["initial_metadata"]]
    assert META_NAMESPACE not in keys  # spans namespaces: attributes name it
    policy = yaml.safe_load(files["istio/istio-system/networkpolicy-collector.yaml"])
    assert policy["spec"]["ingress"][0]["from"][0]["namespaceSelector"] == {}


def test_global_and_enabled_namespace_together_is_refused_at_load() -> None:
    overrides = {"control_plane": {"global": {"enabled": True}, "namespaces": {"shop": {}}}}
    with pytest.raises(ConfigError, match=r"^control_plane\.global\.enabled: .*captured twice"):
        load_config(None, env={}, overrides=overrides)


@pytest.mark.parametrize("name", ["../etc", "Shop", "a" * 64, "x/y"])
def test_namespace_names_must_be_dns_labels(name: str) -> None:
    # Namespace names become directory names: "../etc" must never reach the renderer.
    with pytest.raises(ConfigError, match="not a valid Kubernetes name"):
        load_config(None, env={}, overrides={"control_plane.namespaces": {name: {}}})


@pytest.mark.parametrize(
    "host", ["collector", "collector.mockado:50051", "http://collector.mockado", "*.mockado"]
)
def test_collector_host_must_be_a_full_service_name(host: str) -> None:
    overrides = {"control_plane": {"collector": {"host": host}}}
    with pytest.raises(ConfigError, match=r"^control_plane\.collector\.host: .*full name"):
        load_config(None, env={}, overrides=overrides)


def test_collector_host_is_read_as_istio_names_its_cluster() -> None:
    config = make_config({"shop": {}}, collector={"host": " Collector.Mockado.svc.cluster.local. "})
    assert config.control_plane.collector.host == "collector.mockado.svc.cluster.local"
    (patch,) = capture_filter(files_of(config)["istio/shop/envoyfilter-capture.yaml"])
    grpc = ext_proc(patch["patch"]["value"])["grpc_service"]["envoy_grpc"]
    assert grpc["cluster_name"] == "outbound|50051||collector.mockado.svc.cluster.local"


def test_destination_rule_carries_the_circuit_breaker() -> None:
    config = make_config({"shop": {}}, collector={"max_requests": 64})
    doc = yaml.safe_load(files_of(config)["istio/mockado/destinationrule-collector.yaml"])
    pool = doc["spec"]["trafficPolicy"]["connectionPool"]
    assert pool["http"]["http2MaxRequests"] == 64
    assert pool["http"]["maxConcurrentStreams"] == COLLECTOR_STREAMS_PER_CONNECTION
    assert doc["spec"]["host"] == "mockado-collector.mockado.svc.cluster.local"
    assert "tls" not in doc["spec"]["trafficPolicy"]


def test_collector_tls_becomes_destination_rule_tls() -> None:
    config = make_config(
        {"shop": {}}, collector={"tls": {"enabled": True, "ca_file": "/etc/ca/ca.pem"}}
    )
    doc = yaml.safe_load(files_of(config)["istio/mockado/destinationrule-collector.yaml"])
    assert doc["spec"]["trafficPolicy"]["tls"] == {
        "mode": "SIMPLE",
        "sni": "mockado-collector.mockado.svc.cluster.local",
        "caCertificates": "/etc/ca/ca.pem",
        "insecureSkipVerify": False,
    }


def test_namespace_body_limits_reach_the_collector_and_envoy_streams_every_byte() -> None:
    limits = [
        {"host": "export.shop.svc.cluster.local", "path": "/v1/export", "bytes": 65536},
        {"host": "*.cdn.example", "path": "re:/img/.*\\.png", "bytes": 1 << 20},
    ]
    config = make_config({"shop": {"body_limits": limits}})
    (patch,) = capture_filter(files_of(config)["istio/shop/envoyfilter-capture.yaml"])
    proc = ext_proc(patch["patch"]["value"])
    metadata = {m["key"]: m["value"] for m in proc["grpc_service"]["initial_metadata"]}
    sent = stream_meta(tuple(metadata.items()), config=CollectorConfig())
    assert sent.limit_for("export.shop.svc.cluster.local:8080", "/v1/export/all") == 65536
    assert sent.limit_for("a.cdn.example", "/img/x.png") == 1 << 20
    assert sent.limit_for("export.shop.svc.cluster.local", "/v1/other") == 8192
    # Bodies stream through Envoy without being buffered, so no Envoy limit caps a rule.
    mode = proc["processing_mode"]
    assert mode["request_body_mode"] == mode["response_body_mode"] == "STREAMED"
    # Without rules nothing more is sent.
    (plain,) = capture_filter(
        files_of(make_config({"shop": {}}))["istio/shop/envoyfilter-capture.yaml"]
    )
    keys = {m["key"] for m in ext_proc(plain["patch"]["value"])["grpc_service"]["initial_metadata"]}
    assert META_BODY_LIMITS not in keys
