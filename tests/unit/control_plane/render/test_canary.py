"""Canaries: one VirtualService per mocked host, routing the canary's pods to the shard the
loader put that host's mappings in, and a NetworkPolicy into those shards. The loader's own
routing code is the oracle for which shard serves a host."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from control_plane import validate
from control_plane.render import render_all, write_files
from ext_proc_server.core.config import load_config
from ext_proc_server.core.errors import ConfigError
from ext_proc_server.loader import Router, shard_urls
from tests.unit.control_plane.render.shards import HOSTS, ROUTED, canary_ns, config_with
from tests.unit.control_plane.render.support import docs, files_of, pod_config_of

SCHEMAS = validate.default_schemas_dir()


def virtual_services(files: dict[str, str], namespace: str) -> list[dict[str, Any]]:
    return docs(files[f"istio/{namespace}/virtualservice-canary.yaml"])


def test_one_virtual_service_per_host_routing_canary_pods_to_the_loaders_shard() -> None:
    labels = {"track": "canary", "app": "checkout"}
    files = files_of(config_with(namespaces={"legacy": canary_ns(HOSTS, labels)}))
    services = virtual_services(files, "legacy")
    assert [vs["spec"]["hosts"] for vs in services] == [[h] for h in ROUTED]
    # The loader, reading the rendered ConfigMap, is the oracle for where mappings live.
    pod = pod_config_of(files)
    urls, routes = shard_urls(pod)
    router = Router(routes)
    for host, vs in zip(ROUTED, services, strict=True):
        assert vs["apiVersion"] == "networking.istio.io/v1"
        assert vs["metadata"]["namespace"] == "legacy"
        assert vs["metadata"]["name"] == "mockado-canary-" + host.replace(".", "-")
        assert vs["spec"]["exportTo"] == ["."]
        canary, production = vs["spec"]["http"]
        assert canary["match"] == [{"sourceLabels": labels}]
        (destination,) = canary["route"]
        expected_url = urls[router.shard_for(host)]
        assert f"http://{destination['destination']['host']}:8080" == expected_url
        assert destination["destination"]["port"] == {"number": 8080}
        # The Host header is kept: the mappings match on it.
        assert "rewrite" not in canary and "headers" not in canary
        # Everyone else reaches the real host, on the port they called.
        assert "match" not in production
        assert production["route"] == [{"destination": {"host": host}}]


def test_the_file_explains_conflicts_and_why_no_destination_rule() -> None:
    text = files_of(config_with(namespaces={"legacy": canary_ns(HOSTS[:1])}))[
        "istio/legacy/virtualservice-canary.yaml"
    ]
    assert "CONFLICT" in text and "FIRST http route of your VirtualService" in text
    assert "No DestinationRule" in text and "auto mTLS" in text
    assert [d["kind"] for d in docs(text)] == ["VirtualService"]


def test_canary_network_policy_opens_only_the_shards_it_uses() -> None:
    files = files_of(config_with(namespaces={"legacy": canary_ns(HOSTS[:2])}))
    policy = yaml.safe_load(files["istio/legacy/networkpolicy-wiremock-canary.yaml"])
    assert policy["metadata"]["namespace"] == "mockado"
    (expression,) = policy["spec"]["podSelector"]["matchExpressions"]
    assert expression["values"] == ["mockado-wiremock-payments"]
    assert policy["spec"]["ingress"][0]["ports"] == [{"protocol": "TCP", "port": "http"}]


def test_hosts_are_lowercased_and_long_names_stay_valid_and_distinct() -> None:
    long_a = "a" * 40 + ".payments.svc.cluster.local"
    long_b = "a" * 40 + ".payments2.svc.cluster.local"
    files = files_of(
        config_with(namespaces={"ns": canary_ns(["API.Partner.Example.com", long_a, long_b])})
    )
    services = virtual_services(files, "ns")
    assert services[0]["spec"]["hosts"] == ["api.partner.example.com"]
    names = [vs["metadata"]["name"] for vs in services]
    assert len(set(names)) == 3
    assert all(len(n) <= 63 and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", n) for n in names)


@pytest.mark.parametrize(
    ("namespaces", "global_", "message"),
    [
        ({"ns": canary_ns(["*.example.com"])}, {}, "not a full host name"),
        ({"ns": canary_ns(["payments.example.com:8080"])}, {}, "not a full host name"),
        ({"ns": canary_ns(["payments"])}, {}, "no short name"),
        ({"ns": canary_ns(["a.example.com", "A.example.com"])}, {}, "listed twice"),
        ({"ns": canary_ns([])}, {}, "at least one host"),
        ({"ns": {"canary": {"hosts": ["a.example.com"]}}}, {}, "every workload"),
        ({}, {"canary": {"workload_labels": {"a": "b"}, "hosts": ["a.b.c"]}}, "per namespace"),
    ],
)
def test_bad_canaries_are_refused_when_the_config_loads(
    namespaces: dict[str, Any], global_: dict[str, Any], message: str
) -> None:
    overrides = {"control_plane.namespaces": namespaces}
    if global_:
        overrides["control_plane.global"] = global_
    with pytest.raises(ConfigError, match=message):
        load_config(None, env={}, overrides=overrides)


def test_a_canary_changes_only_its_namespace_files(tmp_path: Path) -> None:
    base = {"shop": {}, "legacy": {"enabled": False}}
    write_files(render_all(config_with(namespaces=base)), tmp_path)
    with_canary = {**base, "legacy": canary_ns(HOSTS)}
    summary = write_files(render_all(config_with(namespaces=with_canary)), tmp_path)
    # Plus the WireMock shards' AuthorizationPolicies, which name the canary namespaces.
    assert sorted(summary.written) == [
        "istio/legacy/networkpolicy-wiremock-canary.yaml",
        "istio/legacy/virtualservice-canary.yaml",
        "istio/mockado/authorizationpolicies.yaml",
    ]
    summary = write_files(render_all(config_with(namespaces=base)), tmp_path)
    assert summary.written == ["istio/mockado/authorizationpolicies.yaml"]
    assert sorted(summary.removed) == [
        "istio/legacy/networkpolicy-wiremock-canary.yaml",
        "istio/legacy/virtualservice-canary.yaml",
    ]
    assert not (tmp_path / "istio/legacy").exists()
    # Turning capture on for the canary namespace adds capture files, leaves the canary's.
    write_files(render_all(config_with(namespaces=with_canary)), tmp_path)
    enabled = {**base, "legacy": {**canary_ns(HOSTS), "enabled": True}}
    summary = write_files(render_all(config_with(namespaces=enabled)), tmp_path)
    assert summary.removed == []
    assert all(p.startswith("istio/legacy/envoyfilter") or "networkpolicy-collector" in p
               or p == "deploy/monitoring/podmonitor-legacy.yaml"
               or p == "istio/mockado/authorizationpolicies.yaml"
               for p in summary.written)  # fmt: skip


def test_virtual_services_validate_strictly_against_the_crd() -> None:
    files = files_of(config_with(namespaces={"legacy": canary_ns(HOSTS)}))
    services = virtual_services(files, "legacy")
    for vs in services:
        assert validate.schema_problems(vs, schemas_dir=SCHEMAS, source="vs") == []
    typo = copy.deepcopy(services[0])
    typo["spec"]["http"][0]["match"][0]["sourceLabel"] = {"a": "b"}
    problems = validate.schema_problems(typo, schemas_dir=SCHEMAS, source="vs")
    assert problems and "sourceLabel" in problems[0]
    mistyped = copy.deepcopy(services[0])
    mistyped["spec"]["http"][0]["route"][0]["destination"]["port"] = {"number": "http"}
    assert validate.schema_problems(mistyped, schemas_dir=SCHEMAS, source="vs")


def test_a_service_named_by_name_dot_namespace_is_routed_by_its_fqdn_to_the_loaders_shard() -> None:
    # payments is a configured namespace, so "api.payments" is a Service: the canary routes
    # its FQDN (every name of it) to the shard the loader routes it to.
    groups = {"payments": ["*.payments"], "partners": ["*.partner.example.com"]}
    hosts = ["api.payments", "api.payments.example.com"]
    files = files_of(
        config_with(
            groups=groups,
            namespaces={"legacy": canary_ns(hosts), "payments": {"enabled": True}},
        )
    )
    services = virtual_services(files, "legacy")
    assert [vs["spec"]["hosts"] for vs in services] == [
        ["api.payments.svc.cluster.local"],
        ["api.payments.example.com"],
    ]
    urls, routes = shard_urls(pod_config_of(files))
    router = Router(routes)
    assert router.shard_for("api.payments.svc.cluster.local") == "payments"
    for vs in services:
        (destination,) = vs["spec"]["http"][0]["route"]
        host = vs["spec"]["hosts"][0]
        assert f"http://{destination['destination']['host']}:8080" == urls[router.shard_for(host)]
    assert (
        "mockado-wiremock-payments"
        in services[0]["spec"]["http"][0]["route"][0]["destination"]["host"]
    )
