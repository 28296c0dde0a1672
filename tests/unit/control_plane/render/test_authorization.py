"""Mesh security of mockado's namespace, read back as data: a ServiceAccount per workload,
mTLS STRICT, every AuthorizationPolicy (principals, paths, ports), and the EnvoyFilter that
keeps capture off mockado's own sidecars."""

from __future__ import annotations

from typing import Any

import pytest

from control_plane import validate
from control_plane.schemas import crd_problems
from ext_proc_server.core.config import MockadoConfig
from ext_proc_server.loader.shards import UNMATCHED_PATH
from tests.unit.control_plane.render.shards import canary_ns, config_with
from tests.unit.control_plane.render.support import docs, files_of

SCHEMAS = validate.default_schemas_dir()
LOADER = "cluster.local/ns/mockado/sa/mockado-loader"
COLLECTOR = "cluster.local/ns/mockado/sa/mockado-collector"
ADMIN = ["/__admin", "/__admin/*"]
METRICS_RULE = {"to": [{"operation": {"ports": ["9090"]}}]}


def security(files: dict[str, str], namespace: str = "mockado") -> dict[str, dict[str, Any]]:
    """Every object of istio/<namespace>/ mockado renders, by kind/name."""
    out = {}
    for path, text in files.items():
        if path.startswith(f"istio/{namespace}/"):
            for doc in docs(text):
                out[f"{doc['kind']}/{doc['metadata']['name']}"] = doc
    return out


def rules(policy: dict[str, Any]) -> list[dict[str, Any]]:
    assert policy["spec"]["action"] == "ALLOW"
    return policy["spec"]["rules"]


def mesh_config() -> MockadoConfig:
    # Capture in shop and payments; canaries in legacy (payments and default shards) and
    # in beta (the partners shard).
    return config_with(
        namespaces={
            "shop": {},
            "payments": {"workload_selector": {"app": "api"}},
            "off": {"enabled": False},
            "legacy": canary_ns(["payments.payments.svc.cluster.local", "inventory.shop.svc.cluster.local"]),
            "beta": canary_ns(["api.partner.example.com"]),
        }
    )  # fmt: skip


def test_every_authorization_policy_of_the_mockado_namespace() -> None:
    objects = security(files_of(mesh_config()))
    policies = {k.split("/", 1)[1]: v for k, v in objects.items() if k.startswith("Authorization")}
    assert sorted(policies) == ["mockado-collector", "mockado-loader", "mockado-redis", "mockado-wiremock",
                                "mockado-wiremock-partners", "mockado-wiremock-payments"]  # fmt: skip
    for name, policy in policies.items():
        assert policy["metadata"]["namespace"] == "mockado"
        assert policy["spec"]["selector"] == {"matchLabels": {"app.kubernetes.io/name": name}}
    # Captures only from the enabled capture namespaces' identities; metrics from anywhere.
    assert rules(policies["mockado-collector"]) == [
        {
            "from": [{"source": {"principals": ["cluster.local/ns/payments/sa/*",
                                                "cluster.local/ns/shop/sa/*"]}}],
            "to": [{"operation": {"ports": ["50051"]}}],
        },
        METRICS_RULE,
    ]  # fmt: skip
    loader_rule = {
        "from": [{"source": {"principals": [LOADER]}}],
        "to": [{"operation": {"ports": ["8080"]}}],
    }

    def canary_rule(*namespaces: str) -> dict[str, Any]:
        return {
            "from": [{"source": {"namespaces": list(namespaces)}}],
            "to": [{"operation": {"ports": ["8080"], "notPaths": ADMIN}}],
        }

    # The keeper's metrics and health (plain text too, for Prometheus).
    keeper_rule = {"to": [{"operation": {"ports": ["9092"], "methods": ["GET"],
                                         "paths": ["/metrics", "/healthz", "/readyz"]}}]}  # fmt: skip
    # /__admin only for the loader; each shard's canary namespaces on every other path.
    assert rules(policies["mockado-wiremock"]) == [loader_rule, keeper_rule, canary_rule("legacy")]
    assert rules(policies["mockado-wiremock-payments"]) == [
        loader_rule, keeper_rule, canary_rule("legacy")
    ]  # fmt: skip
    assert rules(policies["mockado-wiremock-partners"]) == [
        loader_rule, keeper_rule, canary_rule("beta")
    ]  # fmt: skip
    shards = [f"cluster.local/ns/mockado/sa/{name}" for name in
              ("mockado-wiremock", "mockado-wiremock-payments", "mockado-wiremock-partners")]  # fmt: skip
    # Redis: the producer, the consumer, and each shard's keeper (it reads the shard's record).
    assert rules(policies["mockado-redis"]) == [
        {
            "from": [{"source": {"principals": [COLLECTOR, LOADER, *shards]}}],
            "to": [{"operation": {"ports": ["6379"]}}],
        }
    ]
    # WireMock's unmatched-request webhook only from the shards; metrics and health for all.
    assert rules(policies["mockado-loader"]) == [
        {
            "from": [{"source": {"principals": shards}}],
            "to": [{"operation": {"ports": ["9091"], "methods": ["POST"], "paths": [UNMATCHED_PATH]}}],
        },
        {"to": [{"operation": {"ports": ["9091"], "methods": ["GET"],
                               "paths": ["/metrics", "/healthz", "/readyz"]}}]},
    ]  # fmt: skip
    # No rule anywhere trusts a label.
    assert "Labels" not in str([rules(p) for p in policies.values()])


def test_the_console_is_open_in_the_mesh_only_with_credentials() -> None:
    def loader_rules(config: MockadoConfig) -> list[dict[str, Any]]:
        return rules(security(files_of(config))["AuthorizationPolicy/mockado-loader"])

    config = mesh_config()
    assert len(loader_rules(config)) == 2
    with_console = config.model_copy(
        update={"loader": config.loader.model_copy(update={"console_user": "ops"})}
    )
    _, metrics, console = loader_rules(with_console)
    assert metrics["to"][0]["operation"]["paths"] == ["/metrics", "/healthz", "/readyz"]
    # The port also takes plain text (for Prometheus): the console wants a mesh identity.
    assert console == {
        "from": [{"source": {"principals": ["*"]}}],
        "to": [{"operation": {"ports": ["9091"], "methods": ["GET"],
                              "paths": ["/console", "/console/*"]}}],
    }  # fmt: skip


def _scraped_ports(files: dict[str, str]) -> dict[str, int]:
    """Workload -> the container port the ServiceMonitor scrapes (by the Service's port
    name, its targetPort and the pod's named port), as Prometheus would reach it."""
    (monitor,) = docs(files["deploy/monitoring/servicemonitor.yaml"])
    (wanted,) = monitor["spec"]["selector"]["matchExpressions"]
    names = {e["port"] for e in monitor["spec"]["endpoints"]}
    out = {}
    for path in ("deploy/collector.yaml", "deploy/loader.yaml"):
        objects = {d["kind"]: d for d in docs(files[path])}
        workload = objects["Deployment"]["metadata"]["name"]
        assert workload in wanted["values"]
        targets = {
            p["targetPort"] for p in objects["Service"]["spec"]["ports"] if p["name"] in names
        }
        (container,) = objects["Deployment"]["spec"]["template"]["spec"]["containers"]
        (out[workload],) = [p["containerPort"] for p in container["ports"] if p["name"] in targets]
    return out


@pytest.mark.parametrize("tls", [False, True])
def test_prometheus_outside_the_mesh_can_scrape_what_the_monitors_name(tls: bool) -> None:
    # mTLS STRICT refuses a caller without a sidecar, as Prometheus usually is: each port
    # the ServiceMonitor scrapes takes plain text on its own workload, and nothing else does.
    cp: dict[str, Any] = {"namespaces": {"shop": {}}}
    if tls:
        cp["collector"] = {"tls": {"enabled": True, "ca_file": "/ca.pem"}}
    files = files_of(MockadoConfig.model_validate({"control_plane": cp}))
    scraped = _scraped_ports(files)
    assert scraped == {"mockado-collector": 9090, "mockado-loader": 9091}
    objects = security(files)
    authentications = {k: v for k, v in objects.items() if k.startswith("PeerAuthentication/")}
    assert set(authentications) == {
        "PeerAuthentication/mockado-strict",
        "PeerAuthentication/mockado-collector",
        "PeerAuthentication/mockado-loader",
        "PeerAuthentication/mockado-wiremock-keepers",
    }
    # The keeper beside each WireMock (its metrics port: test_metrics_ports.py).
    keepers = authentications["PeerAuthentication/mockado-wiremock-keepers"]["spec"]
    assert keepers["portLevelMtls"] == {9092: {"mode": "PERMISSIVE"}}
    for workload, port in scraped.items():
        spec = authentications[f"PeerAuthentication/{workload}"]["spec"]
        assert spec["selector"] == {"matchLabels": {"app.kubernetes.io/name": workload}}
        assert spec["mtls"] == {"mode": "STRICT"}
        grpc = {50051: {"mode": "PERMISSIVE"}} if tls and workload == "mockado-collector" else {}
        assert spec["portLevelMtls"] == {port: {"mode": "PERMISSIVE"}, **grpc}
        # Without a mesh identity, only the metrics port itself is allowed.
        open_rules = [
            r for r in rules(objects[f"AuthorizationPolicy/{workload}"]) if "from" not in r
        ]
        for rule in open_rules:
            (operation,) = rule["to"]
            assert operation["operation"]["ports"] in ([str(port)], ["50051"] if tls else [])
    # The plain scrape config names the same container ports (by name).
    assert "regex: http-metrics" in files["prometheus/scrape.yaml"]


def test_a_shard_no_canary_uses_allows_only_the_loader_and_no_scope_means_no_captures() -> None:
    policies = security(files_of(config_with(namespaces={})))
    only, keeper = rules(policies["AuthorizationPolicy/mockado-wiremock-partners"])
    assert only["from"] == [{"source": {"principals": [LOADER]}}]
    assert "from" not in keeper and keeper["to"][0]["operation"]["ports"] == ["9092"]
    assert rules(policies["AuthorizationPolicy/mockado-collector"]) == [METRICS_RULE]


def test_global_capture_accepts_any_mesh_identity_and_the_trust_domain_is_configurable() -> None:
    config = MockadoConfig.model_validate(
        {"control_plane": {"global": {"enabled": True}, "trust_domain": "corp.example"}}
    )
    policies = security(files_of(config))
    grpc, metrics = rules(policies["AuthorizationPolicy/mockado-collector"])
    assert grpc["from"] == [{"source": {"principals": ["*"]}}]
    assert metrics == METRICS_RULE
    redis = rules(policies["AuthorizationPolicy/mockado-redis"])[0]
    assert redis["from"][0]["source"]["principals"] == [
        "corp.example/ns/mockado/sa/mockado-collector",
        "corp.example/ns/mockado/sa/mockado-loader",
        "corp.example/ns/mockado/sa/mockado-wiremock",
    ]


def test_mtls_is_strict_in_the_mockado_namespace_and_it_follows_mockado_namespace() -> None:
    config = MockadoConfig.model_validate(
        {"control_plane": {"mockado_namespace": "mocks", "namespaces": {"shop": {}}}}
    )
    files = files_of(config)
    assert security(files) == {}
    objects = security(files, "mocks")
    strict = objects["PeerAuthentication/mockado-strict"]
    assert strict["metadata"]["namespace"] == "mocks"
    assert "selector" not in strict["spec"]
    assert strict["spec"] == {"mtls": {"mode": "STRICT"}}
    loader = rules(objects["AuthorizationPolicy/mockado-wiremock"])[0]
    assert loader["from"][0]["source"]["principals"] == ["cluster.local/ns/mocks/sa/mockado-loader"]


def test_collector_tls_opens_only_its_grpc_port_to_tls_and_says_who_authenticates() -> None:
    config = MockadoConfig.model_validate(
        {"control_plane": {"namespaces": {"shop": {}},
                           "collector": {"tls": {"enabled": True, "ca_file": "/ca.pem"}}}}
    )  # fmt: skip
    files = files_of(config)
    objects = security(files)
    assert objects["PeerAuthentication/mockado-strict"]["spec"] == {"mtls": {"mode": "STRICT"}}
    port_level = objects["PeerAuthentication/mockado-collector"]["spec"]
    assert port_level["selector"] == {
        "matchLabels": {"app.kubernetes.io/name": "mockado-collector"}
    }
    assert port_level["portLevelMtls"] == {
        50051: {"mode": "PERMISSIVE"},
        9090: {"mode": "PERMISSIVE"},
    }
    grpc, _ = rules(objects["AuthorizationPolicy/mockado-collector"])
    assert grpc == {"to": [{"operation": {"ports": ["50051"]}}]}
    assert "client_ca_file" in files["istio/mockado/authorizationpolicies.yaml"]


def test_one_service_account_per_workload_and_injection_in_the_mockado_namespace() -> None:
    files = files_of(mesh_config())
    accounts = {d["metadata"]["name"]: d for d in docs(files["deploy/serviceaccounts.yaml"])}
    assert all(d["kind"] == "ServiceAccount" for d in accounts.values())
    assert all(d["automountServiceAccountToken"] is False for d in accounts.values())
    used = {}
    for path, text in files.items():
        for doc in docs(text) if path.startswith("deploy/") else []:
            if doc["kind"] == "Deployment":
                pod = doc["spec"]["template"]["spec"]
                used[doc["metadata"]["name"]] = pod["serviceAccountName"]
                assert pod["automountServiceAccountToken"] is False
    # Each workload is its own identity, named after it.
    assert used == {name: name for name in used}
    assert set(used) == set(accounts)
    (namespace,) = docs(files["deploy/00-namespace.yaml"])
    assert namespace["metadata"]["labels"]["istio-injection"] == "enabled"


def test_capture_is_removed_from_the_mockado_namespace_sidecars() -> None:
    config = MockadoConfig.model_validate({"control_plane": {"global": {"enabled": True}}})
    files = files_of(config)
    no_capture = security(files)["EnvoyFilter/mockado-no-capture"]
    assert "workloadSelector" not in no_capture["spec"]
    patches = no_capture["spec"]["configPatches"]
    assert [p["match"]["context"] for p in patches] == ["SIDECAR_INBOUND", "SIDECAR_OUTBOUND"]
    for patch in patches:
        assert patch["applyTo"] == "HTTP_FILTER"
        assert patch["patch"] == {"operation": "REMOVE"}
        sub = patch["match"]["listener"]["filterChain"]["filter"]["subFilter"]
        assert sub == {"name": "envoy.filters.http.ext_proc"}
    # After the mesh-wide capture filter (root namespace, default priority 0).
    (capture,) = docs(files["istio/istio-system/envoyfilter-capture.yaml"])
    assert no_capture["spec"]["priority"] > capture["spec"].get("priority", 0)
    assert capture["spec"]["configPatches"][0]["patch"]["value"]["name"] == (
        "envoy.filters.http.ext_proc"
    )


@pytest.mark.parametrize("tls", [False, True])
def test_security_objects_validate_against_the_istio_crds(tls: bool) -> None:
    cp = {"namespaces": {"shop": {}, "legacy": canary_ns(["api.partner.example.com"])}}
    if tls:
        cp["collector"] = {"tls": {"enabled": True, "ca_file": "/ca.pem"}}
    objects = list(security(files_of(MockadoConfig.model_validate({"control_plane": cp}))).values())
    assert {d["kind"] for d in objects} >= {
        "AuthorizationPolicy",
        "PeerAuthentication",
        "EnvoyFilter",
    }
    for doc in objects:
        assert validate.schema_problems(doc, schemas_dir=SCHEMAS, source="x") == []
    assert crd_problems(SCHEMAS.parent / "npm" / "node_modules", objects) == [None] * len(objects)
