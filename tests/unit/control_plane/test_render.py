"""Control-plane rendering: what ends up in the YAML, read back as data (no processes)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from control_plane.assets import WIREMOCK_LAUNCHER
from control_plane.render import legacy as render
from control_plane.render.legacy import (
    host_matcher,
    path_matcher,
    render_all,
    render_local_envoy,
    render_template,
    sample_fraction,
    write_files,
)
from ext_proc_server.core.config import COLLECTOR_STREAMS_PER_CONNECTION, MockadoConfig
from ext_proc_server.core.errors import RenderError
from ext_proc_server.core.names import META_BODY_LIMIT, META_NAMESPACE, META_WORKLOAD

LOCAL = {
    "listen_port": 10000,
    "admin_port": 9901,
    "upstream_host": "127.0.0.1",
    "upstream_port": 8000,
    "ext_proc_port": 50051,
}


def make_config(namespaces: dict[str, Any] | None = None, **control_plane: Any) -> MockadoConfig:
    cp = {"namespaces": namespaces or {}, **control_plane}
    return MockadoConfig.model_validate({"control_plane": cp})


def local(config: MockadoConfig | None = None, **kwargs: Any) -> dict[str, Any]:
    return yaml.safe_load(render_local_envoy(config or MockadoConfig(), **{**LOCAL, **kwargs}))


def hcm(bootstrap: dict[str, Any]) -> dict[str, Any]:
    listener = bootstrap["static_resources"]["listeners"][0]
    return listener["filter_chains"][0]["filters"][0]["typed_config"]


def cluster(bootstrap: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in bootstrap["static_resources"]["clusters"] if c["name"] == name)


def ext_proc(filter_entry: dict[str, Any]) -> dict[str, Any]:
    typed = filter_entry["typed_config"]
    if typed["@type"].endswith("ExtensionWithMatcher"):
        return typed["extension_config"]["typed_config"]
    return typed


def files_of(config: MockadoConfig) -> dict[str, str]:
    return {f.path: f.text for f in render_all(config)}


def capture_filter(text: str) -> list[dict[str, Any]]:
    doc = yaml.safe_load(text)
    return [p for p in doc["spec"]["configPatches"] if p["applyTo"] == "HTTP_FILTER"]


# --------------------------------------------------------------------------- local envoy


def test_local_envoy_puts_ext_proc_before_router_with_config_values() -> None:
    config = MockadoConfig.model_validate(
        {"control_plane": {"collector": {"max_requests": 77, "deferred_close_timeout_s": 2.5}}}
    )
    boot = local(config)
    filters = hcm(boot)["http_filters"]
    assert [f["name"] for f in filters] == [
        "envoy.filters.http.ext_proc",
        "envoy.filters.http.router",
    ]
    proc = ext_proc(filters[0])
    assert proc["observability_mode"] is True
    assert proc["failure_mode_allow"] is True
    assert proc["deferred_close_timeout"] == "2.5s"
    mode = proc["processing_mode"]
    assert (mode["request_body_mode"], mode["response_body_mode"]) == ("STREAMED", "STREAMED")
    assert (mode["request_trailer_mode"], mode["response_trailer_mode"]) == ("SKIP", "SKIP")
    assert "xds.node.metadata.WORKLOAD_NAME" in proc["request_attributes"]
    collector = cluster(boot, proc["grpc_service"]["envoy_grpc"]["cluster_name"])
    assert collector["connect_timeout"] == "0.25s"
    assert collector["circuit_breakers"]["thresholds"][0]["max_requests"] == 77
    options = collector["typed_extension_protocol_options"]
    http2 = next(iter(options.values()))["explicit_http_config"]["http2_protocol_options"]
    # Envoy keeps to the collector's stream limit before its SETTINGS arrive.
    assert http2["max_concurrent_streams"] == COLLECTOR_STREAMS_PER_CONNECTION
    assert hcm(boot)["codec_type"] == "AUTO"


def test_local_envoy_blocking_mode_waits_briefly_and_fails_open() -> None:
    proc = ext_proc(hcm(local(capture_mode="blocking"))["http_filters"][0])
    assert proc["observability_mode"] is False
    assert proc["message_timeout"] == "0.2s"
    assert proc["failure_mode_allow"] is True


def test_local_envoy_failure_mode_follows_config() -> None:
    config = MockadoConfig.model_validate(
        {"control_plane": {"collector": {"failure_mode_allow": False}}}
    )
    assert ext_proc(hcm(local(config))["http_filters"][0])["failure_mode_allow"] is False


def test_local_envoy_sampling_wraps_filter_in_a_runtime_fraction_matcher() -> None:
    assert "xds_matcher" not in hcm(local())["http_filters"][0]["typed_config"]
    typed = hcm(local(sample_percent=10))["http_filters"][0]["typed_config"]
    matcher = typed["xds_matcher"]["matcher_list"]["matchers"][-1]
    custom = matcher["predicate"]["not_matcher"]["single_predicate"]
    assert custom["input"]["typed_config"]["header_name"] == "x-request-id"
    fraction = custom["custom_match"]["typed_config"]["runtime_fraction"]
    assert fraction["default_value"] == {"numerator": 10, "denominator": "HUNDRED"}
    assert fraction["runtime_key"] == render.LOCAL_SAMPLE_RUNTIME_KEY
    assert matcher["on_match"]["action"]["typed_config"]["@type"].endswith("SkipFilter")


def test_local_envoy_excluded_paths_get_routes_with_ext_proc_disabled() -> None:
    boot = local(exclude_paths=["/healthz", "re:/users/[0-9]+"])
    routes = hcm(boot)["route_config"]["virtual_hosts"][0]["routes"]
    assert [r["match"] for r in routes] == [
        {"prefix": "/healthz"},
        {"safe_regex": {"regex": "/users/[0-9]+"}},
        {"prefix": "/"},
    ]
    for route in routes[:2]:
        per_filter = route["typed_per_filter_config"]["envoy.filters.http.ext_proc"]
        assert per_filter["disabled"] is True
    assert "typed_per_filter_config" not in routes[2]


def test_local_envoy_upstream_discovery_and_tls(tmp_path: Path) -> None:
    assert cluster(local(), "upstream")["type"] == "STATIC"
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    boot = local(upstream_host="api.example.com", upstream_port=443, upstream_tls=True,
                 upstream_ca_file=str(ca))  # fmt: skip
    upstream = cluster(boot, "upstream")
    assert upstream["type"] == "LOGICAL_DNS"
    tls = upstream["transport_socket"]["typed_config"]
    assert tls["sni"] == "api.example.com"
    validation = tls["common_tls_context"]["validation_context"]
    assert validation["trusted_ca"] == {"filename": str(ca)}
    assert validation["match_typed_subject_alt_names"][0]["matcher"] == {"exact": "api.example.com"}
    by_ip = local(upstream_host="10.0.0.1", upstream_tls=True, upstream_ca_file=str(ca))
    tls = cluster(by_ip, "upstream")["transport_socket"]["typed_config"]
    assert "sni" not in tls
    san = tls["common_tls_context"]["validation_context"]["match_typed_subject_alt_names"][0]
    assert san == {"san_type": "IP_ADDRESS", "matcher": {"exact": "10.0.0.1"}}


def test_local_envoy_rejects_bad_values() -> None:
    with pytest.raises(RenderError):
        local(capture_mode="sometimes")
    with pytest.raises(RenderError):
        local(sample_percent=150)
    with pytest.raises(RenderError):
        local(exclude_paths=["no-slash"])
    with pytest.raises(RenderError):
        local(upstream_port=70000)


# --------------------------------------------------------------------------- matchers


def test_sample_fraction_is_exact_for_whole_and_fractional_percents() -> None:
    assert sample_fraction(10)["numerator"] == 10
    assert sample_fraction(10)["denominator"] == "HUNDRED"
    assert (sample_fraction(12.5)["numerator"], sample_fraction(12.5)["denominator"]) == (
        125_000,
        "MILLION",
    )
    with pytest.raises(RenderError):
        sample_fraction(-1)


@pytest.mark.parametrize(
    ("pattern", "host", "matches"),
    [
        ("*.example.com", "api.example.com", True),
        ("*.example.com", "API.Example.com:8443", True),
        ("*.example.com", "example.com", False),
        ("*.example.com", "evil-example.com", False),
        ("api.example.com", "apiXexample.com", False),
        ("re:pay(ments)?", "payments:80", True),
    ],
)
def test_host_matcher_is_a_full_match_on_authority(pattern: str, host: str, matches: bool) -> None:
    regex = host_matcher(pattern)["value"]
    assert bool(re.fullmatch(regex, host)) is matches


def test_path_matcher_prefix_and_regex_allow_a_query() -> None:
    assert path_matcher("/healthz") == {"kind": "prefix", "value": "/healthz"}
    regex = path_matcher("re:/users/[0-9]+")["value"]
    assert re.fullmatch(regex, "/users/42?x=1")
    assert not re.fullmatch(regex, "/users/abc")
    with pytest.raises(RenderError, match="invalid regex"):
        path_matcher("re:(")


# --------------------------------------------------------------------------- istio


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
    text = files_of(make_config({"shop": {"direction": "both"}}))[
        "istio/shop/envoyfilter-capture.yaml"
    ]
    assert [p["match"]["context"] for p in capture_filter(text)] == [
        "SIDECAR_INBOUND",
        "SIDECAR_OUTBOUND",
    ]
    assert "captured TWICE" in text
    tap = yaml.safe_load(
        files_of(make_config({"shop": {"direction": "both"}}))["istio/shop/envoyfilter-tap.yaml"]
    )
    assert len(tap["spec"]["configPatches"]) == 2


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
    exclude_path, exclude_host, include_paths, include_hosts, sample = matchers
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
    assert "legacy" not in files["deploy/configmap.yaml"]


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


def test_global_and_enabled_namespace_together_is_an_error() -> None:
    config = make_config({"shop": {}}, **{"global": {"enabled": True}})
    with pytest.raises(RenderError, match="captured twice"):
        render_all(config)


@pytest.mark.parametrize("name", ["../etc", "Shop", "a" * 64, "x/y"])
def test_namespace_names_must_be_dns_labels(name: str) -> None:
    with pytest.raises(RenderError, match="namespace name"):
        render_all(make_config({name: {}}))


def test_collector_host_must_be_a_full_service_name() -> None:
    config = make_config({"shop": {}}, collector={"host": "collector"})
    with pytest.raises(RenderError, match="full name"):
        render_all(config)


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
    tls = yaml.safe_load(files_of(config)["istio/mockado/destinationrule-collector.yaml"])["spec"][
        "trafficPolicy"
    ]["tls"]
    assert tls == {
        "mode": "SIMPLE",
        "sni": "mockado-collector.mockado.svc.cluster.local",
        "caCertificates": "/etc/ca/ca.pem",
        "insecureSkipVerify": False,
    }


def test_hostile_values_cannot_break_the_yaml() -> None:
    nasty = '/a": b\n- injected: {x'
    config = make_config({"shop": {"exclude_paths": [nasty]}})
    (patch,) = capture_filter(files_of(config)["istio/shop/envoyfilter-capture.yaml"])
    first = patch["patch"]["value"]["typed_config"]["xds_matcher"]["matcher_list"]["matchers"][0]
    assert first["predicate"]["single_predicate"]["value_match"] == {"prefix": nasty}


def test_templates_are_strict_about_undefined_values() -> None:
    with pytest.raises(RenderError, match="Undefined"):
        render_template("istio/envoyfilter-tap.yaml.j2", namespace="x")


# --------------------------------------------------------------------------- kubernetes


def _docs(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def test_every_pod_is_hardened() -> None:
    files = files_of(make_config({"shop": {}}))
    pods = [
        d["spec"]["template"]["spec"]
        for path, text in files.items()
        if path.startswith("deploy/")
        for d in _docs(text)
        if d["kind"] == "Deployment"
    ]
    assert len(pods) == 4
    for pod in pods:
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == 1000
        for container in pod["containers"]:
            sc = container["securityContext"]
            assert sc["readOnlyRootFilesystem"] is True
            assert sc["allowPrivilegeEscalation"] is False
            assert sc["capabilities"] == {"drop": ["ALL"]}
            assert container["resources"]["limits"]
            mounts = {m["name"] for m in container["volumeMounts"]}
            empty_dirs = {v["name"] for v in pod["volumes"] if "emptyDir" in v}
            assert empty_dirs <= mounts


def test_collector_deployment_service_and_hpa() -> None:
    docs = {d["kind"]: d for d in _docs(files_of(MockadoConfig())["deploy/collector.yaml"])}
    deployment = docs["Deployment"]
    assert deployment["spec"]["replicas"] == 3
    resources = deployment["spec"]["template"]["spec"]["containers"][0]["resources"]
    assert resources == {
        "requests": {"cpu": "100m", "memory": "128Mi"},
        "limits": {"cpu": "500m", "memory": "512Mi"},
    }
    ports = {p["name"]: p["port"] for p in docs["Service"]["spec"]["ports"]}
    assert ports == {"grpc": 50051, "http-metrics": 9090}
    hpa = docs["HorizontalPodAutoscaler"]
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 10)
    targets = {
        m["resource"]["name"]: m["resource"]["target"]["averageUtilization"]
        for m in hpa["spec"]["metrics"]
    }
    assert targets == {"cpu": 70, "memory": 80}


def test_wiremock_and_redis_flags() -> None:
    config = MockadoConfig.model_validate(
        {"serving": {"heap_mb": 300, "max_request_journal_entries": 50}}
    )
    files = files_of(config)
    deployment = next(d for d in _docs(files["deploy/wiremock.yaml"]) if d["kind"] == "Deployment")
    command = deployment["spec"]["template"]["spec"]["containers"][0]["command"]
    assert command[:2] == ["java", "-Xmx300m"]
    assert command[command.index("--max-request-journal-entries") + 1] == "50"
    assert "--disable-request-logging" in command
    assert command[command.index("--root-dir") + 1] == "/home/wiremock"
    redis = _docs(files["deploy/redis.yaml"])[0]["spec"]["template"]["spec"]["containers"][0]
    args = redis["command"]
    assert args[args.index("--maxmemory") + 1] == "1gb"
    assert args[args.index("--maxmemory-policy") + 1] == "noeviction"
    assert "allkeys-lru would silently evict" in files["deploy/redis.yaml"]


def test_wiremock_pods_run_the_indexed_launcher_or_stock_wiremock() -> None:
    files = files_of(MockadoConfig())
    launcher, deployment, _service = _docs(files["deploy/wiremock.yaml"])[:3]
    # The ConfigMap carries the very launcher `mockado up` and the tests run.
    assert launcher["kind"] == "ConfigMap"
    assert launcher["data"]["MockadoWireMock.java"] == WIREMOCK_LAUNCHER.read_text()
    pod = deployment["spec"]["template"]["spec"]
    [copy_jar] = pod["initContainers"]
    assert copy_jar["image"] == "wiremock/wiremock:3.13.2"
    assert copy_jar["command"] == [
        "cp", "/var/wiremock/lib/wiremock-standalone.jar", "/opt/wiremock/wiremock-standalone.jar"
    ]  # fmt: skip
    [wiremock] = pod["containers"]
    assert wiremock["image"] == "eclipse-temurin:17-jdk"
    command = wiremock["command"]
    assert command[command.index("-cp") + 1] == "/opt/wiremock/wiremock-standalone.jar"
    assert command[command.index("-cp") + 2] == "/etc/mockado/MockadoWireMock.java"
    assert "-jar" not in command
    mounts = {m["name"]: m for m in wiremock["volumeMounts"]}
    assert mounts["launcher"]["readOnly"] and mounts["wiremock-lib"]["readOnly"]
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["launcher"]["configMap"]["name"] == launcher["metadata"]["name"]
    for container in (copy_jar, wiremock):
        assert container["securityContext"]["readOnlyRootFilesystem"] is True

    stock = files_of(MockadoConfig.model_validate({"serving": {"indexed_stubs": False}}))
    docs = _docs(stock["deploy/wiremock.yaml"])
    assert [d["kind"] for d in docs] == ["Deployment", "Service"]
    pod = docs[0]["spec"]["template"]["spec"]
    assert "initContainers" not in pod
    [wiremock] = pod["containers"]
    assert wiremock["image"] == "wiremock/wiremock:3.13.2"
    assert wiremock["command"][4:6] == ["-jar", "/var/wiremock/lib/wiremock-standalone.jar"]


def test_network_policies() -> None:
    config = make_config(
        {
            "shop": {},
            "canary-ns": {
                "enabled": False,
                "canary": {"workload_labels": {"track": "canary"}, "hosts": ["pay.example.com"]},
            },
        }
    )
    files = files_of(config)
    policies = {d["metadata"]["name"]: d for d in _docs(files["deploy/networkpolicies.yaml"])}
    redis_from = policies["mockado-redis"]["spec"]["ingress"][0]["from"][0]["podSelector"]
    assert redis_from["matchExpressions"][0]["values"] == ["mockado-collector", "mockado-loader"]
    # The base WireMock policy covers every shard and lets only the loader in.
    wiremock = policies["mockado-wiremock"]["spec"]
    assert wiremock["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "wiremock"
    assert wiremock["ingress"][0]["from"] == [
        {"podSelector": {"matchLabels": {"app.kubernetes.io/name": "mockado-loader"}}}
    ]
    # Canary access lives with the canary namespace's files.
    assert "canary-ns" not in files["deploy/networkpolicies.yaml"]
    canary = yaml.safe_load(files["istio/canary-ns/networkpolicy-wiremock-canary.yaml"])
    assert canary["metadata"]["namespace"] == "mockado"
    source = canary["spec"]["ingress"][0]["from"][0]
    assert source["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "canary-ns"
    }
    assert source["podSelector"]["matchLabels"] == {"track": "canary"}
    # The collector's base policy opens only metrics; the gRPC port per capture namespace.
    assert policies["mockado-collector-metrics"]["spec"]["ingress"] == [
        {"ports": [{"protocol": "TCP", "port": 9090}]}
    ]
    grpc = yaml.safe_load(files["istio/shop/networkpolicy-collector.yaml"])["spec"]["ingress"][0]
    assert grpc["from"][0]["namespaceSelector"]["matchLabels"] == {
        "kubernetes.io/metadata.name": "shop"
    }
    assert (
        grpc["from"][0]["podSelector"]["matchExpressions"][0]["key"] == "security.istio.io/tlsMode"
    )


def test_pod_config_has_no_secrets_and_in_cluster_urls() -> None:
    config = MockadoConfig.model_validate(
        {
            "collector": {
                "pseudonym_key": "k" * 32,
                "redis_url": "redis://user:hunter2@cache:6379/0",
            },
            "control_plane": {"namespaces": {"shop": {}}},
        }
    )
    data, notes = render.pod_config(config)
    text = yaml.safe_dump(data)
    assert "hunter2" not in text and "k" * 32 not in text
    assert data["collector"]["redis_url"] == "redis://cache:6379/0"
    assert data["loader"]["redis_url"] == "redis://mockado-redis.mockado.svc.cluster.local:6379/0"
    assert "control_plane" not in data
    assert any("MOCKADO_COLLECTOR__REDIS_URL" in n for n in notes)
    assert all("hunter2" not in n for n in notes)


# --------------------------------------------------------------------------- writing


def test_toggling_a_namespace_changes_only_its_files(tmp_path: Path) -> None:
    both = make_config({"shop": {}, "payments": {"sample_percent": 10}})
    write_files(render_all(both), tmp_path)
    handwritten = tmp_path / "istio/payments/notes.yaml"
    handwritten.write_text("mine: true\n")
    other = tmp_path / "istio/other/thing.yaml"
    other.parent.mkdir(parents=True)
    other.write_text("not: mockado\n")
    # Another tool's file, even with our label, is outside what render owns.
    dashboard = tmp_path / "deploy/grafana/board.yaml"
    dashboard.parent.mkdir(parents=True)
    dashboard.write_text("# Rendered by mockado (x)\n# app.kubernetes.io/managed-by: mockado\n")

    only_shop = make_config({"shop": {}, "payments": {"enabled": False, "sample_percent": 10}})
    summary = write_files(render_all(only_shop), tmp_path)
    assert summary.written == []
    assert sorted(summary.removed) == [
        "istio/payments/envoyfilter-capture.yaml",
        "istio/payments/envoyfilter-tap.yaml",
        "istio/payments/networkpolicy-collector.yaml",
    ]
    assert handwritten.exists() and other.exists() and dashboard.exists()

    handwritten.unlink()
    write_files(render_all(only_shop), tmp_path)
    assert not (tmp_path / "istio/payments").exists()

    summary = write_files(render_all(both), tmp_path)
    assert sorted(summary.written) == sorted(
        p for p in files_of(both) if p.startswith("istio/payments/")
    )


def test_stale_files_reports_drift(tmp_path: Path) -> None:
    files = render_all(make_config({"shop": {}}))
    assert render.stale_files(files, tmp_path)  # nothing written yet
    write_files(files, tmp_path)
    assert render.stale_files(files, tmp_path) == []
    (tmp_path / "deploy/redis.yaml").write_text("# Rendered by mockado (x)\nedited: true\n")
    assert render.stale_files(files, tmp_path) == ["deploy/redis.yaml"]


def test_main_writes_lists_and_returns_zero(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = make_config({"shop": {"sample_percent": 10}, "legacy": {"enabled": False}})
    assert render.main(config, out_dir=tmp_path, list_only=True, check=False, schemas_dir=None) == 0
    listing = capsys.readouterr().out
    assert re.search(r"namespace\s+shop\s+inbound\s+10%\s+all\s+istio/shop/", listing)
    assert re.search(r"namespace\s+legacy\s+disabled", listing)
    assert not any(tmp_path.iterdir())  # --list writes nothing
    assert (
        render.main(config, out_dir=tmp_path, list_only=False, check=False, schemas_dir=None) == 0
    )
    assert (tmp_path / "istio/shop/envoyfilter-capture.yaml").is_file()
    assert (tmp_path / "envoy_configs/local.yaml").is_file()
    assert (tmp_path / "deploy/collector.yaml").is_file()


def test_list_shows_each_canary_host_and_the_shard_serving_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    canary = {"workload_labels": {"track": "canary"}, "hosts": ["pay.example.com"]}
    config = make_config({"checkout": {"enabled": False, "canary": canary}})
    assert render.main(config, out_dir=None, list_only=True, check=False, schemas_dir=None) == 0
    listing = capsys.readouterr().out
    (shard,) = render.shard_services(config)
    assert re.search(
        rf"checkout\s+track=canary\s+pay\.example\.com\s+{re.escape(shard.host)}\s+"
        r"istio/checkout/virtualservice-canary\.yaml",
        listing,
    )
    plain = make_config({"shop": {}})
    assert render.main(plain, out_dir=None, list_only=True, check=False, schemas_dir=None) == 0
    assert "CANARY" not in capsys.readouterr().out


def test_timing_log_logs_status_and_time_only() -> None:
    assert "access_log" not in hcm(local())
    (entry,) = hcm(local(timing_log_path="/var/log/timing.log"))["access_log"]
    config = entry["typed_config"]
    assert config["path"] == "/var/log/timing.log"
    fields = re.findall(r"%([A-Z_]+)", config["log_format"]["text_format_source"]["inline_string"])
    # Nothing the request carries (path, query, headers) can reach this file.
    assert fields == ["RESPONSE_CODE", "COMMON_DURATION"]


def test_a_dead_collector_is_ejected_briefly_and_only_for_failed_connections() -> None:
    collector = cluster(local(), render.LOCAL_COLLECTOR_CLUSTER)
    outlier = collector["outlier_detection"]
    # Refused or timed-out connections only: a slow collector's streams never eject it.
    assert outlier["split_external_local_origin_errors"] is True
    assert outlier["consecutive_local_origin_failure"] == 3
    assert outlier["enforcing_consecutive_local_origin_failure"] == 100
    for external in ("consecutive_5xx", "consecutive_gateway_failure", "success_rate"):
        assert outlier[f"enforcing_{external}"] == 0
    # Capture resumes at most 2 s after the collector is back.
    assert outlier["max_ejection_time"] == "2s"
    # No panic routing to an ejected host: requests skip capture without connecting.
    assert collector["common_lb_config"]["healthy_panic_threshold"] == {"value": 0}


def test_the_collector_allows_more_streams_than_envoy_sends() -> None:
    from ext_proc_server.capture import server_options
    from ext_proc_server.core.config import CollectorConfig

    # The server frees a finished stream's slot a little after Envoy does; a stream it
    # refused in that gap would count as a failed connection (and eject the collector).
    limit = dict(server_options(CollectorConfig()))["grpc.max_concurrent_streams"]
    assert limit > COLLECTOR_STREAMS_PER_CONNECTION
