"""The sidecars' collector cluster gets HTTP/2 keepalive pings from the capture EnvoyFilter
(a CLUSTER MERGE; Istio's DestinationRule has no field for them). Istio merges a map field
entry by entry, replacing each entry whole, so the patch must restate what Istio writes in
its HttpProtocolOptions entry for this cluster: checked here against Istio's own CRD, and
by `mockado render --check`, which merges the patch as Istio does and has Envoy validate it."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from control_plane import validate
from control_plane.render.istio import (
    capture_targets,
    destination_rule_path,
    render_destination_rule,
    render_envoyfilter_capture,
)
from ext_proc_server.core.config import MockadoConfig
from ext_proc_server.core.config.control_plane import MAX_DEFERRED_CLOSE_TIMEOUT_S
from ext_proc_server.core.errors import RenderError

HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


def rendered(hold_s: float = 5.0, **cp: Any) -> tuple[MockadoConfig, dict[str, dict]]:
    """The config, and its capture EnvoyFilter(s) and the collector's DestinationRule."""
    config = MockadoConfig.model_validate(
        {
            "control_plane": {
                "namespaces": {"shop": {}},
                "collector": {"deferred_close_timeout_s": hold_s},
                **cp,
            }
        }
    )
    files = {
        f"istio/{target.namespace}/envoyfilter-capture.yaml": yaml.safe_load(
            render_envoyfilter_capture(config.control_plane, target)
        )
        for target in capture_targets(config.control_plane)
    }
    files[destination_rule_path(config.control_plane)] = yaml.safe_load(
        render_destination_rule(config.control_plane)
    )
    return config, files


def cluster_patches(envoyfilter: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in envoyfilter["spec"]["configPatches"] if p["applyTo"] == "CLUSTER"]


def istio_entry(destination_rule: dict[str, Any]) -> dict[str, Any]:
    """What Istio writes in the collector cluster's HttpProtocolOptions: HTTP/2 (a grpc port)
    with the DestinationRule's maxConcurrentStreams (Istio's applyConnectionPool)."""
    streams = destination_rule["spec"]["trafficPolicy"]["connectionPool"]["http"][
        "maxConcurrentStreams"
    ]
    return {"explicit_http_config": {"http2_protocol_options": {"max_concurrent_streams": streams}}}


def contains(whole: Any, part: Any) -> bool:
    if isinstance(part, dict):
        return isinstance(whole, dict) and all(
            k in whole and contains(whole[k], v) for k, v in part.items()
        )
    return whole == part


@settings(max_examples=25, deadline=None)
# A hold is whole milliseconds (a finer one is refused at load).
@given(hold_s=st.integers(min_value=1, max_value=60_000).map(lambda ms: ms / 1000))
def test_the_collector_cluster_is_pinged_and_keeps_istios_options(hold_s: float) -> None:
    config, files = rendered(hold_s)
    collector = config.control_plane.collector
    (patch,) = cluster_patches(files["istio/shop/envoyfilter-capture.yaml"])
    assert patch["match"] == {
        "context": "SIDECAR_OUTBOUND",
        "cluster": {"name": f"outbound|{collector.port}||{collector.host}"},
    }
    assert patch["patch"]["operation"] == "MERGE"
    assert list(patch["patch"]["value"]) == ["typed_extension_protocol_options"]
    (entry,) = patch["patch"]["value"]["typed_extension_protocol_options"].items()
    name, options = entry
    assert name == HTTP_OPTIONS and options["@type"] == f"type.googleapis.com/{HTTP_OPTIONS}"
    # The entry replaces Istio's: everything Istio put there is in it.
    assert contains(options, istio_entry(files["istio/mockado/destinationrule-collector.yaml"]))
    http2 = options["explicit_http_config"]["http2_protocol_options"]
    # A stall of up to twice the hold closes no connection; never under Envoy's former 5 s.
    timeout_s = max(5.0, 2 * hold_s)
    assert http2["connection_keepalive"]["interval"] == "30s"
    assert float(http2["connection_keepalive"]["timeout"].removesuffix("s")) == pytest.approx(
        timeout_s
    )


def test_global_capture_pings_the_collector_cluster_too() -> None:
    _, files = rendered(global_={"enabled": True}, namespaces={})
    (patch,) = cluster_patches(files["istio/istio-system/envoyfilter-capture.yaml"])
    assert patch["match"]["cluster"]["name"].startswith("outbound|50051||mockado-collector.")


def test_the_envoyfilter_is_valid_under_istios_schema() -> None:
    # The EnvoyFilter schema make install generates from Istio's published models, unknown
    # fields refused as kubectl apply --validate=strict does.
    _, files = rendered()
    doc = files["istio/shop/envoyfilter-capture.yaml"]
    schemas_dir = validate.default_schemas_dir()
    assert validate.schema_problems(doc, schemas_dir=schemas_dir, source="x") == []
    # A CLUSTER match that says nothing Istio knows is refused.
    wrong = copy.deepcopy(doc)
    cluster_patches(wrong)[0]["match"]["cluster"] = {"nmae": "outbound|50051||x"}
    assert validate.schema_problems(wrong, schemas_dir=schemas_dir, source="x")


# The longest hold (60 s) gives the longest timeout Envoy is sent.
@pytest.mark.parametrize(
    ("hold_s", "timeout"), [(7.5, "15s"), (MAX_DEFERRED_CLOSE_TIMEOUT_S, "120s")]
)
def test_the_check_has_envoy_validate_the_cluster_patch_as_istio_merges_it(
    tmp_path: Path, hold_s: float, timeout: str, envoy_binary: str
) -> None:
    config, files = rendered(hold_s=hold_s)
    doc = files["istio/shop/envoyfilter-capture.yaml"]
    bootstrap = validate.envoyfilter_check_bootstrap(doc, config=config, source="ef")
    (cluster,) = yaml.safe_load(bootstrap)["static_resources"]["clusters"]
    http2 = cluster["typed_extension_protocol_options"][HTTP_OPTIONS]["explicit_http_config"][
        "http2_protocol_options"
    ]
    assert http2 == {
        "max_concurrent_streams": 32,
        "connection_keepalive": {"interval": "30s", "timeout": timeout},
    }
    good = tmp_path / "good.yaml"
    good.write_text(bootstrap)
    assert validate.envoy_validate([good], envoy=envoy_binary) == []
    # A timeout under Envoy's 1 ms minimum is rejected by Envoy: the patch is what it checks.
    broken = copy.deepcopy(doc)
    (patch,) = cluster_patches(broken)
    (options,) = patch["patch"]["value"]["typed_extension_protocol_options"].values()
    options["explicit_http_config"]["http2_protocol_options"]["connection_keepalive"]["timeout"] = (
        "0.0001s"
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(validate.envoyfilter_check_bootstrap(broken, config=config, source="ef"))
    (problem,) = validate.envoy_validate([bad], envoy=envoy_binary)
    assert problem.startswith("bad.yaml: envoy rejected it") and "Timeout" in problem


def test_the_check_refuses_a_cluster_patch_it_cannot_merge_as_istio_does() -> None:
    config, files = rendered()
    doc = files["istio/shop/envoyfilter-capture.yaml"]
    # A circuit breaker would be appended to Istio's (Envoy reads only the first): not
    # what the check builds, so it says so instead of passing it unchecked.
    appended = copy.deepcopy(doc)
    cluster_patches(appended)[0]["patch"]["value"]["circuit_breakers"] = {"thresholds": []}
    other = copy.deepcopy(doc)
    cluster_patches(other)[0]["match"]["cluster"]["name"] = (
        "outbound|80||web.shop.svc.cluster.local"
    )
    for wrong in (appended, other):
        with pytest.raises(RenderError, match="only a CLUSTER MERGE of the collector cluster"):
            validate.envoyfilter_check_bootstrap(wrong, config=config, source="ef")
