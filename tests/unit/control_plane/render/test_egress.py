"""Egress NetworkPolicies of namespaces that deny egress by default: capture reaches the
collector, canaries reach their WireMock shards, and nothing more is opened."""

from __future__ import annotations

from typing import Any

import pytest

from control_plane import validate
from ext_proc_server.core.config import MockadoConfig, load_config
from ext_proc_server.core.errors import ConfigError
from tests.unit.control_plane.render.shards import canary_ns, config_with
from tests.unit.control_plane.render.support import docs, files_of

PARTNER = "api.partner.example.com"
PAYMENTS = "payments.payments.svc.cluster.local"


def egress(files: dict[str, str], namespace: str) -> dict[str, dict[str, Any]]:
    return {
        d["metadata"]["name"]: d
        for d in docs(files[f"istio/{namespace}/networkpolicy-egress.yaml"])
    }


def only_rule(policy: dict[str, Any]) -> tuple[dict[str, Any], list[str], list[dict[str, Any]]]:
    """(pod selector, destination pod names, ports) of a policy that opens exactly one path."""
    spec = policy["spec"]
    assert spec["policyTypes"] == ["Egress"]
    (rule,) = spec["egress"]
    (peer,) = rule["to"]
    (expression,) = peer["podSelector"]["matchExpressions"]
    assert expression["key"] == "app.kubernetes.io/name" and expression["operator"] == "In"
    assert peer["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": "mocks"}}
    return spec["podSelector"], expression["values"], rule["ports"]


def test_capture_and_canary_namespaces_get_exactly_their_paths_to_mockado() -> None:
    config = MockadoConfig.model_validate({
        "collector": {"grpc_port": 6000},
        "serving": {"shard_groups": {"partners": ["*.partner.example.com"]}},
        "control_plane": {"mockado_namespace": "mocks", "namespaces": {
            "shop": {"default_deny_egress": True, "workload_selector": {"app": "cart"}},
            "checkout": {**canary_ns([PARTNER, PAYMENTS]), "enabled": True,
                         "default_deny_egress": True},
            "open": {},
        }},
    })  # fmt: skip
    files = files_of(config)
    shop = egress(files, "shop")
    assert list(shop) == ["mockado-egress-capture"]
    # The collector container's gRPC port (what the sidecars reach), not the Service port.
    assert only_rule(shop["mockado-egress-capture"]) == (
        {"matchLabels": {"app": "cart"}},
        ["mockado-collector"],
        [{"protocol": "TCP", "port": 6000}],
    )
    checkout = egress(files, "checkout")
    assert list(checkout) == ["mockado-egress-capture", "mockado-egress-canary"]
    assert only_rule(checkout["mockado-egress-capture"])[0] == {}
    assert only_rule(checkout["mockado-egress-canary"]) == (
        {"matchLabels": {"track": "canary"}},
        ["mockado-wiremock", "mockado-wiremock-partners"],
        [{"protocol": "TCP", "port": 8080}],
    )
    for policy in [*shop.values(), *checkout.values()]:
        assert validate.kubernetes_problems(policy, source="egress") == []
    assert "istio/open/networkpolicy-egress.yaml" not in files
    assert not any(p.endswith("networkpolicy-egress.yaml") and "mocks" in p for p in files)


def test_without_the_declaration_or_anything_of_mockado_there_nothing_is_rendered() -> None:
    files = files_of(config_with(namespaces={
        "shop": {}, "legacy": canary_ns([PAYMENTS]),
        "idle": {"enabled": False, "default_deny_egress": True},
    }))  # fmt: skip
    assert not [p for p in files if p.endswith("networkpolicy-egress.yaml")]


def test_in_global_mode_a_denying_namespace_gets_the_capture_path_of_the_global_selector() -> None:
    files = files_of(config_with(
        namespaces={"legacy": {**canary_ns([PAYMENTS]), "default_deny_egress": True}},
        enabled=True, workload_selector={"tier": "web"},
    ))  # fmt: skip
    policies = egress(files, "legacy")
    assert list(policies) == ["mockado-egress-capture", "mockado-egress-canary"]
    capture = policies["mockado-egress-capture"]["spec"]
    assert capture["podSelector"] == {"matchLabels": {"tier": "web"}}


def test_default_deny_egress_in_the_global_section_is_an_error_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"control_plane\.global\.default_deny_egress"):
        load_config(None, env={}, overrides={"control_plane.global": {"default_deny_egress": True}})
