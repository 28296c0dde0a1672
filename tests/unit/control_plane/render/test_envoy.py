"""The local capture proxy and the sidecar example: what ends up in the bootstrap, read back
as data (no processes)."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from control_plane.render import (
    LOCAL_COLLECTOR_CLUSTER,
    LOCAL_SAMPLE_RUNTIME_KEY,
    LocalEnvoy,
    UpstreamService,
    render_local_envoy,
    render_sidecar_envoy,
)
from ext_proc_server.core.config import COLLECTOR_STREAMS_PER_CONNECTION, MockadoConfig
from ext_proc_server.core.errors import RenderError
from ext_proc_server.core.names import META_NAMESPACE, META_WORKLOAD
from tests.unit.control_plane.render.support import ext_proc

LOCAL = LocalEnvoy(
    listen_port=10000,
    admin_port=9901,
    upstream=UpstreamService(host="127.0.0.1", port=8000),
    collector_port=50051,
)


def local(
    config: MockadoConfig | None = None, *, upstream: dict[str, Any] | None = None, **fields: Any
) -> dict[str, Any]:
    envoy = replace(LOCAL, upstream=replace(LOCAL.upstream, **(upstream or {})), **fields)
    return yaml.safe_load(render_local_envoy(config or MockadoConfig(), envoy))


def hcm(bootstrap: dict[str, Any]) -> dict[str, Any]:
    listener = bootstrap["static_resources"]["listeners"][0]
    return listener["filter_chains"][0]["filters"][0]["typed_config"]


def cluster(bootstrap: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in bootstrap["static_resources"]["clusters"] if c["name"] == name)


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
    # Trailers are how the capture sees an HTTP/2 message end when its last frame is trailers.
    assert (mode["request_trailer_mode"], mode["response_trailer_mode"]) == ("SEND", "SEND")
    assert "response.code_details" in proc["response_attributes"]
    assert "xds.node.metadata.WORKLOAD_NAME" in proc["request_attributes"]
    metadata = {m["key"]: m["value"] for m in proc["grpc_service"]["initial_metadata"]}
    assert (metadata[META_NAMESPACE], metadata[META_WORKLOAD]) == ("local", "mockado-up")
    collector = cluster(boot, proc["grpc_service"]["envoy_grpc"]["cluster_name"])
    assert collector["connect_timeout"] == "0.25s"
    assert collector["circuit_breakers"]["thresholds"][0]["max_requests"] == 77
    options = collector["typed_extension_protocol_options"]
    http2 = next(iter(options.values()))["explicit_http_config"]["http2_protocol_options"]
    # Envoy keeps to the collector's stream limit before its SETTINGS arrive.
    assert http2["max_concurrent_streams"] == COLLECTOR_STREAMS_PER_CONNECTION
    assert hcm(boot)["codec_type"] == "AUTO"


def test_local_envoy_listens_where_it_is_told_and_captures_to_the_given_collector() -> None:
    boot = local(listen_host="0.0.0.0", listen_port=12345, admin_port=12346, collector_port=7777)
    listener = boot["static_resources"]["listeners"][0]["address"]["socket_address"]
    assert listener == {"address": "0.0.0.0", "port_value": 12345}
    assert boot["admin"]["address"]["socket_address"]["port_value"] == 12346
    address = cluster(boot, LOCAL_COLLECTOR_CLUSTER)["load_assignment"]["endpoints"][0][
        "lb_endpoints"
    ][0]["endpoint"]["address"]["socket_address"]
    assert address == {"address": "127.0.0.1", "port_value": 7777}


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
    unsampled = hcm(local())["http_filters"][0]["typed_config"]["xds_matcher"]
    assert len(unsampled["matcher_list"]["matchers"]) == 1  # upgrades only
    typed = hcm(local(sample_percent=10))["http_filters"][0]["typed_config"]
    matcher = typed["xds_matcher"]["matcher_list"]["matchers"][-1]
    custom = matcher["predicate"]["not_matcher"]["single_predicate"]
    assert custom["input"]["typed_config"]["header_name"] == "x-request-id"
    fraction = custom["custom_match"]["typed_config"]["runtime_fraction"]
    assert fraction["default_value"] == {"numerator": 10, "denominator": "HUNDRED"}
    assert fraction["runtime_key"] == LOCAL_SAMPLE_RUNTIME_KEY
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
    boot = local(upstream={"host": "api.example.com", "port": 443, "tls": True,
                           "ca_file": str(ca)})  # fmt: skip
    upstream = cluster(boot, "upstream")
    assert upstream["type"] == "LOGICAL_DNS"
    tls = upstream["transport_socket"]["typed_config"]
    assert tls["sni"] == "api.example.com"
    validation = tls["common_tls_context"]["validation_context"]
    assert validation["trusted_ca"] == {"filename": str(ca)}
    assert validation["match_typed_subject_alt_names"][0]["matcher"] == {"exact": "api.example.com"}
    by_ip = local(upstream={"host": "10.0.0.1", "tls": True, "ca_file": str(ca)})
    tls = cluster(by_ip, "upstream")["transport_socket"]["typed_config"]
    assert "sni" not in tls
    san = tls["common_tls_context"]["validation_context"]["match_typed_subject_alt_names"][0]
    assert san == {"san_type": "IP_ADDRESS", "matcher": {"exact": "10.0.0.1"}}


@pytest.mark.parametrize(
    ("http2", "protocol_options"),
    [
        (None, "use_downstream_protocol_config"),
        (False, "explicit_http_config"),
        (True, "explicit_http_config"),
    ],
)
def test_local_envoy_upstream_protocol(http2: bool | None, protocol_options: str) -> None:
    upstream = cluster(local(upstream={"http2": http2}), "upstream")
    options = next(iter(upstream["typed_extension_protocol_options"].values()))
    assert protocol_options in options
    if http2 is not None:
        expected = "http2_protocol_options" if http2 else "http_protocol_options"
        assert expected in options["explicit_http_config"]


def test_local_envoy_rejects_bad_values() -> None:
    with pytest.raises(RenderError):
        local(capture_mode="sometimes")
    with pytest.raises(RenderError):
        local(sample_percent=150)
    with pytest.raises(RenderError):
        local(exclude_paths=["no-slash"])
    with pytest.raises(RenderError):
        local(upstream={"port": 70000})


def test_timing_log_logs_status_and_time_only() -> None:
    assert "access_log" not in hcm(local())
    (entry,) = hcm(local(timing_log_path="/var/log/timing.log"))["access_log"]
    config = entry["typed_config"]
    assert config["path"] == "/var/log/timing.log"
    fields = re.findall(r"%([A-Z_]+)", config["log_format"]["text_format_source"]["inline_string"])
    # Nothing the request carries (path, query, headers) can reach this file.
    assert fields == ["RESPONSE_CODE", "COMMON_DURATION"]


def test_a_dead_collector_is_ejected_briefly_and_only_for_failed_connections() -> None:
    collector = cluster(local(), LOCAL_COLLECTOR_CLUSTER)
    outlier = collector["outlier_detection"]
    # Refused or timed-out connections only: a slow collector's streams never eject it.
    assert outlier["split_external_local_origin_errors"] is True
    # Envoy counts a failure per stream reset: a connection closed under every stream it
    # carries (a keepalive timeout) is one short of an ejection.
    (options,) = collector["typed_extension_protocol_options"].values()
    streams = options["explicit_http_config"]["http2_protocol_options"]["max_concurrent_streams"]
    assert outlier["consecutive_local_origin_failure"] == streams + 1
    assert outlier["enforcing_consecutive_local_origin_failure"] == 100
    for external in ("consecutive_5xx", "consecutive_gateway_failure", "success_rate"):
        assert outlier[f"enforcing_{external}"] == 0
    # Capture resumes at most 2 s after the collector is back.
    assert outlier["max_ejection_time"] == "2s"
    # No panic routing to an ejected host: requests skip capture without connecting.
    assert collector["common_lb_config"]["healthy_panic_threshold"] == {"value": 0}


def _seconds(duration: str) -> float:
    assert duration.endswith("s"), duration
    return float(duration.removesuffix("s"))


@pytest.mark.parametrize("hold_s", [0.5, 2.5, 5.0, 7.25, 30.0])
def test_the_collector_keepalive_outlasts_a_stall_of_twice_the_hold_yet_finds_dead_connections(
    hold_s: float,
) -> None:
    config = MockadoConfig.model_validate(
        {"control_plane": {"collector": {"deferred_close_timeout_s": hold_s},
                           "namespaces": {"shop": {"workload_selector": {"app": "cart"}}}}}
    )  # fmt: skip
    for text in (render_local_envoy(config, LOCAL), render_sidecar_envoy(config, namespace="shop")):
        boot = yaml.safe_load(text)
        name = ext_proc(hcm(boot)["http_filters"][0])["grpc_service"]["envoy_grpc"]["cluster_name"]
        options = cluster(boot, name)["typed_extension_protocol_options"]
        http2 = next(iter(options.values()))["explicit_http_config"]["http2_protocol_options"]
        keepalive = http2["connection_keepalive"]
        interval_s, timeout_s = _seconds(keepalive["interval"]), _seconds(keepalive["timeout"])
        # A collector stalled up to twice the hold answers no ping and loses no connection
        # for it; never under the 5 s Envoy had, however short the hold.
        assert timeout_s >= 2 * hold_s and timeout_s >= 5.0, keepalive
        # A dead connection is still closed: the next ping comes within the interval plus
        # Envoy's 15 % jitter, and the bound the bootstrap states is that.
        assert "interval_jitter" not in keepalive, keepalive
        bound_s = interval_s * 1.15 + timeout_s
        assert f"closed within {bound_s:g}s" in " ".join(text.split()), bound_s


def test_sidecar_example_is_named_in_the_cluster_domain() -> None:
    # As Istio names a sidecar and the collector's cluster: in collector.cluster_domain.
    config = MockadoConfig.model_validate(
        {"collector": {"cluster_domain": "corp.internal"},
         "control_plane": {"namespaces": {"shop": {"workload_selector": {"app": "cart"}}}}}
    )  # fmt: skip
    boot = yaml.safe_load(render_sidecar_envoy(config, namespace="shop"))
    assert boot["node"]["id"] == "sidecar~127.0.0.1~cart.shop~shop.svc.corp.internal"
    name = ext_proc(hcm(boot)["http_filters"][0])["grpc_service"]["envoy_grpc"]["cluster_name"]
    assert name == "outbound|50051||mockado-collector.mockado.svc.corp.internal"


def test_sidecar_example_uses_the_istio_cluster_name_pointed_where_asked() -> None:
    config = MockadoConfig.model_validate(
        {"control_plane": {"namespaces": {"shop": {"workload_selector": {"app": "cart"}}}}}
    )
    text = render_sidecar_envoy(
        config, namespace="shop", direction="outbound", collector_host="10.1.2.3",
        collector_port=9999,
    )  # fmt: skip
    boot = yaml.safe_load(text)
    assert "control_plane.namespaces.shop" in text
    assert boot["node"]["id"] == "sidecar~127.0.0.1~cart.shop~shop.svc.cluster.local"
    proc = ext_proc(hcm(boot)["http_filters"][0])
    name = proc["grpc_service"]["envoy_grpc"]["cluster_name"]
    assert name == "outbound|50051||mockado-collector.mockado.svc.cluster.local"
    address = cluster(boot, name)["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"][
        "address"
    ]["socket_address"]
    assert address == {"address": "10.1.2.3", "port_value": 9999}
    metadata = {m["key"]: m["value"] for m in proc["grpc_service"]["initial_metadata"]}
    assert metadata["x-mockado-direction"] == "outbound"
    with pytest.raises(RenderError, match="direction"):
        render_sidecar_envoy(config, direction="sideways")
    with pytest.raises(RenderError, match="not configured"):
        render_sidecar_envoy(config, namespace="elsewhere")


def test_local_envoy_proxies_websockets_and_never_captures_an_upgrade() -> None:
    config = hcm(local())
    assert config["upgrade_configs"] == [{"upgrade_type": "websocket"}]
    assert config["http2_protocol_options"] == {"allow_connect": True}
    first = config["http_filters"][0]["typed_config"]["xds_matcher"]["matcher_list"]["matchers"][0]
    predicate = first["predicate"]["single_predicate"]
    assert predicate["input"]["typed_config"]["header_name"] == "upgrade"
    assert first["on_match"]["action"]["typed_config"]["@type"].endswith("SkipFilter")
