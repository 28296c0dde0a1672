"""Any config the loader accepts renders objects a cluster accepts and that fit together
(render_invariants); anything else the loader refuses, naming the key. Configs come from
config_strategies: many namespaces with names up to 63 characters, canary hosts in every
form, shards, pass-through, body limits, directions, sampling, TLS.

Derandomized and bounded; the real validators (Envoy, Istio CRDs, Kubernetes schemas) run
on a few examples, the cheaper invariants on more."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings

from control_plane import validate
from control_plane.render import render_all
from ext_proc_server.core.config import MockadoConfig, load_config
from ext_proc_server.core.errors import ConfigError

from .config_strategies import mockado_configs
from .render_invariants import (
    canary_problems,
    capture_problems,
    label_problems,
    name_problems,
    objects,
    policy_selector_problems,
    reference_problems,
    yaml_problems,
)

SCHEMAS = validate.default_schemas_dir()
_SETTINGS = {
    "derandomize": True,
    "deadline": None,
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    # No explain phase: it traces every line (Python 3.11), minutes for one failure.
    "phases": [Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink],
}
# Envoy and node run per example: a failure is reported as found, not shrunk.
_UNSHRUNK = {**_SETTINGS, "phases": [Phase.explicit, Phase.reuse, Phase.generate]}
_SECTIONS = ("control_plane.", "serving.", "collector.", "loader.")


def _load(data: dict[str, Any]) -> MockadoConfig | None:
    """The config, or None when the loader refuses it (naming a key of the data)."""
    try:
        return load_config(None, env={}, overrides=data)
    except ConfigError as exc:
        assert str(exc).startswith(_SECTIONS), str(exc)
        return None


def _reordered(data: dict[str, Any]) -> dict[str, Any]:
    """The same config with its namespaces listed in reverse (their order means nothing)."""
    cp = data["control_plane"]
    namespaces = dict(reversed(list(cp["namespaces"].items())))
    return {**data, "control_plane": {**cp, "namespaces": namespaces}}


@settings(max_examples=60, **_SETTINGS)
@given(mockado_configs())
def test_a_loaded_config_renders_objects_that_fit_together(data: dict[str, Any]) -> None:
    config = _load(data)
    if config is None:
        return
    files = render_all(config)
    found = objects(files)
    problems = [
        *name_problems(found),
        *label_problems(found),
        *yaml_problems(files),
        *reference_problems(found, config),
        *capture_problems(found, config),
        *canary_problems(found, config),
        *policy_selector_problems(found, config),
    ]
    assert problems == []
    # Deterministic: the same bytes again, and whatever order the namespaces are listed in.
    again = load_config(None, env={}, overrides=_reordered(data))
    assert render_all(again) == files


@settings(max_examples=6, **_UNSHRUNK)
@given(mockado_configs())
def test_a_loaded_config_passes_envoy_and_the_schemas(
    envoy_binary: str, data: dict[str, Any]
) -> None:
    config = _load(data)
    if config is None:
        return
    files = render_all(config)
    problems = validate.check_rendered(
        files, config=config, schemas_dir=SCHEMAS, sidecar_envoy=envoy_binary
    )
    assert problems == []


@pytest.mark.parametrize("namespace", ["9", "0755", "1e3", "null", "on", "no", "yes"])
def test_a_namespace_named_like_a_number_or_boolean_stays_a_string(namespace: str) -> None:
    config = load_config(
        None,
        env={},
        overrides={
            "control_plane": {
                "namespaces": {
                    namespace: {
                        "default_deny_egress": True,
                        "debug_tap": True,
                        "canary": {
                            "workload_labels": {"v": "2"},
                            "hosts": ["api.shop.svc.cluster.local"],
                        },
                    }
                }
            }
        },
    )
    files = render_all(config)
    found = objects(files)
    assert label_problems(found) == []
    assert yaml_problems(files) == []
    scopes = {
        doc["metadata"]["labels"]["mockado.io/namespace"]
        for path, doc in found
        if path.startswith("istio")
    }
    assert scopes == {namespace, "mockado"}


def test_a_63_character_namespace_gets_a_short_deterministic_monitor_name() -> None:
    long_a, long_b = "a" * 60 + "-one", "a" * 60 + "-two"
    overrides = {"control_plane": {"namespaces": {long_a[:63]: {}, long_b[:63]: {}, "shop": {}}}}
    config = load_config(None, env={}, overrides=overrides)
    files = render_all(config)
    found = objects(files)
    assert label_problems(found) == []
    assert name_problems(found) == []
    monitors = sorted(
        doc["metadata"]["name"]
        for _, doc in found
        if doc["kind"] == "PodMonitor" and doc["metadata"]["name"].startswith("mockado-sidecars")
    )
    assert len(monitors) == 3 and all(len(name) <= 63 for name in monitors)
    assert "mockado-sidecars-shop" in monitors  # short names are kept as they were
    assert render_all(config) == files


def test_a_cluster_domain_of_its_own_names_every_in_cluster_host_under_it() -> None:
    config = load_config(
        None,
        env={},
        overrides={
            "collector": {"cluster_domain": "corp.example"},
            "control_plane": {
                "namespaces": {
                    "checkout": {
                        "enabled": False,
                        "canary": {
                            "workload_labels": {"track": "canary"},
                            "hosts": ["api.payments.svc", "api.partner.example.com"],
                            "on_miss": "passthrough",
                        },
                    }
                }
            },
        },
    )
    files = render_all(config)
    found = objects(files)
    assert reference_problems(found, config) == []
    routes = {
        doc["spec"]["hosts"][0]: doc["spec"]["http"][0]["route"][0]["destination"]["host"]
        for _, doc in found
        if doc["kind"] == "VirtualService"
    }
    assert routes == {
        "api.payments.svc.corp.example": "mockado-wiremock.mockado.svc.corp.example",
        "api.partner.example.com": "mockado-wiremock.mockado.svc.corp.example",
    }
    # Pass-through: the in-cluster host's namespace is opened, the external host is external.
    [sidecar] = [doc for _, doc in found if doc["kind"] == "Sidecar"]
    assert sorted(sidecar["spec"]["egress"][0]["hosts"]) == [
        "*/api.partner.example.com",
        "mockado/*",
        "payments/api.payments.svc.corp.example",
    ]
    [policy] = [d for p, d in found if p.endswith("networkpolicy-wiremock-passthrough.yaml")]
    opened = [
        peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
        for rule in policy["spec"]["egress"]
        for peer in rule.get("to", [])
        if "namespaceSelector" in peer and peer["namespaceSelector"].get("matchLabels")
    ]
    assert "payments" in opened


@pytest.mark.parametrize(
    ("control_plane", "error"),
    [
        # Renders nothing: a root-namespace filter and a namespace filter in one sidecar.
        (
            {"global": {"enabled": True}, "namespaces": {"shop": {"direction": "both"}}},
            "control_plane.global.enabled: also enabled namespaces (shop) would be captured twice",
        ),
        # Silently nothing: envoyfilter-no-capture.yaml drops the filter from these sidecars.
        (
            {"namespaces": {"mockado": {}}},
            "control_plane.namespaces.mockado: mockado's own namespace is never captured",
        ),
        # Silently nothing: Istio has no cluster outbound|50051||mockado-collector.mockado.
        (
            {"collector": {"host": "mockado-collector.mockado"}, "namespaces": {"shop": {}}},
            "control_plane.collector.host: a short name of a Service",
        ),
        (
            {"collector": {"host": "collector.shop.svc"}, "namespaces": {"shop": {}}},
            "control_plane.collector.host: a short name of a Service",
        ),
        (
            {"mockado_namespace": "mesh-tools", "namespaces": {"mesh-tools": {"enabled": False}}},
            "control_plane.namespaces.mesh-tools: mockado's own namespace is never captured",
        ),
    ],
)
def test_what_cannot_render_is_refused_at_load_naming_the_key(
    control_plane: dict[str, Any], error: str
) -> None:
    with pytest.raises(ConfigError) as refused:
        load_config(None, env={}, overrides={"control_plane": control_plane})
    assert str(refused.value).startswith(error)


def test_the_default_collector_host_is_in_the_cluster_domain() -> None:
    overrides = {
        "collector": {"cluster_domain": "Corp.Example."},
        "control_plane": {"mockado_namespace": "mesh-tools", "namespaces": {"shop": {}}},
    }
    config = load_config(None, env={}, overrides=overrides)
    assert config.control_plane.collector.host == "mockado-collector.mesh-tools.svc.corp.example"
    assert capture_problems(objects(render_all(config)), config) == []
    # An explicit host is kept as Istio names it: the Service rendered under its first label.
    overrides["control_plane"]["collector"] = {"host": " Capture.Mesh-Tools.svc.corp.example. "}
    config = load_config(None, env={}, overrides=overrides)
    assert config.control_plane.collector.host == "capture.mesh-tools.svc.corp.example"
    assert capture_problems(objects(render_all(config)), config) == []
    # Anywhere else, the rendered Service would not be the one the sidecars stream to.
    overrides["control_plane"]["collector"] = {"host": "collector.example.com"}
    with pytest.raises(ConfigError, match=r"^control_plane\.collector\.host: not a Service"):
        load_config(None, env={}, overrides=overrides)
