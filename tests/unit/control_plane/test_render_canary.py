"""Serving the mocks: WireMock shards in Kubernetes, canary VirtualServices, the local mock
router. Rendered files are read back as data; the loader's own routing code is the oracle
for which shard serves a host."""

from __future__ import annotations

import copy
import fnmatch
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from control_plane import validate
from control_plane.render import legacy as render
from control_plane.render.legacy import (
    default_schemas_dir,
    glob_authority_regex,
    render_all,
    render_mock_router,
    write_files,
)
from ext_proc_server.core.config import MockadoConfig
from ext_proc_server.core.errors import RenderError
from ext_proc_server.loader import Router, shard_urls

SCHEMAS = default_schemas_dir()
needs_schemas = pytest.mark.skipif(
    not SCHEMAS.is_dir(), reason=f"Istio CRD schemas not found at {SCHEMAS} (../shared/schemas)"
)

GROUPS = {
    "payments": ["payments.*", "billing-?.internal"],
    "partners": ["*.partner.example.com"],
}
HOSTS = [
    "payments.payments.svc.cluster.local",
    "billing-1.internal",
    "api.partner.example.com",
    "inventory.shop.svc.cluster.local",
]


def config_with(
    *,
    groups: dict[str, list[str]] | None = None,
    namespaces: dict[str, Any] | None = None,
    serving: dict[str, Any] | None = None,
    loader: dict[str, Any] | None = None,
    **global_: Any,
) -> MockadoConfig:
    data: dict[str, Any] = {
        "serving": {"shard_groups": GROUPS if groups is None else groups, **(serving or {})},
        "control_plane": {"namespaces": namespaces or {}},
    }
    if global_:
        data["control_plane"]["global"] = global_
    if loader:
        data["loader"] = loader
    return MockadoConfig.model_validate(data)


def canary_ns(hosts: list[str], labels: dict[str, str] | None = None, **ns: Any) -> dict:
    return {"enabled": False, "canary": {"workload_labels": labels or {"track": "canary"},
                                         "hosts": hosts}, **ns}  # fmt: skip


def files_of(config: MockadoConfig) -> dict[str, str]:
    return {f.path: f.text for f in render_all(config)}


def docs(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def pod_config(files: dict[str, str]) -> MockadoConfig:
    configmap = docs(files["deploy/configmap.yaml"])[0]
    return MockadoConfig.model_validate(yaml.safe_load(configmap["data"]["mockado.yaml"]))


# --------------------------------------------------------------------------- shards in k8s


def test_one_wiremock_deployment_and_service_per_shard() -> None:
    files = files_of(config_with())
    by_kind: dict[str, list[str]] = {}
    for doc in docs(files["deploy/wiremock.yaml"]):
        by_kind.setdefault(doc["kind"], []).append(doc["metadata"]["name"])
    expected = ["mockado-wiremock", "mockado-wiremock-payments", "mockado-wiremock-partners"]
    # One ConfigMap (the launcher every shard runs) for all shards.
    assert by_kind == {
        "ConfigMap": ["mockado-wiremock-launcher"],
        "Deployment": expected,
        "Service": expected,
    }
    for doc in docs(files["deploy/wiremock.yaml"]):
        name = doc["metadata"]["name"]
        if doc["kind"] == "ConfigMap":
            continue
        if doc["kind"] == "Service":
            assert doc["spec"]["selector"] == {"app.kubernetes.io/name": name}
        else:
            labels = doc["spec"]["template"]["metadata"]["labels"]
            assert labels["app.kubernetes.io/name"] == name
            # The base NetworkPolicy selects every shard by component.
            assert labels["app.kubernetes.io/component"] == "wiremock"


def wiremock_commands(files: dict[str, str]) -> list[list[str]]:
    return [
        d["spec"]["template"]["spec"]["containers"][0]["command"]
        for d in docs(files["deploy/wiremock.yaml"])
        if d["kind"] == "Deployment"
    ]


def test_every_shard_gets_the_serving_flags() -> None:
    commands = wiremock_commands(files_of(config_with(loader={"max_stubs": 20_000})))
    assert len(commands) == 3
    for command in commands:
        assert "--no-request-journal" in command
        assert "--disable-request-logging" in command
        assert "--max-request-journal-entries" not in command
        # Sized to the stub budget: 20000 / 20 + 256.
        assert command[1] == "-Xmx1256m"
    bounded = wiremock_commands(
        files_of(config_with(serving={"max_request_journal_entries": 50, "heap_mb": 300}))
    )
    for command in bounded:
        assert command[command.index("--max-request-journal-entries") + 1] == "50"
        assert "--no-request-journal" not in command
        assert command[1] == "-Xmx300m"


def test_default_heap_is_clamped() -> None:
    assert render.wiremock_heap_mb(config_with(loader={"max_stubs": 10})) == 256
    assert render.wiremock_heap_mb(config_with(loader={"max_stubs": 10_000})) == 756
    assert render.wiremock_heap_mb(config_with(loader={"max_stubs": 1_000_000})) == 2048


def test_configmap_routes_each_group_to_its_service_in_order() -> None:
    pod = pod_config(files_of(config_with()))
    assert [(s.host, s.wiremock_url) for s in pod.loader.shards] == [
        ("payments.*", "http://mockado-wiremock-payments.mockado.svc.cluster.local:8080"),
        ("billing-?.internal", "http://mockado-wiremock-payments.mockado.svc.cluster.local:8080"),
        (
            "*.partner.example.com",
            "http://mockado-wiremock-partners.mockado.svc.cluster.local:8080",
        ),
    ]
    assert pod.loader.wiremock_url == "http://mockado-wiremock.mockado.svc.cluster.local:8080"
    assert pod.serving.unmatched_webhook_url == (
        "http://mockado-loader.mockado.svc.cluster.local:9091/unmatched"
    )
    # The loader names the shards after the groups.
    urls, _routes = shard_urls(pod)
    assert sorted(urls) == ["default", "partners", "payments"]


def test_webhook_url_follows_the_loader_port_and_keeps_a_remote_url() -> None:
    pod = pod_config(files_of(config_with(loader={"http_port": 9500})))
    assert pod.serving.unmatched_webhook_url.endswith(".svc.cluster.local:9500/unmatched")
    remote = "http://hooks.example.net/miss"
    pod = pod_config(files_of(config_with(serving={"unmatched_webhook_url": remote})))
    assert pod.serving.unmatched_webhook_url == remote
    local = "http://127.0.0.1:9091/unmatched"
    pod = pod_config(files_of(config_with(serving={"unmatched_webhook_url": local})))
    assert "mockado-loader.mockado.svc" in pod.serving.unmatched_webhook_url


def test_without_groups_only_the_default_shard() -> None:
    files = files_of(config_with(groups={}))
    assert [d["metadata"]["name"] for d in docs(files["deploy/wiremock.yaml"])] == [
        "mockado-wiremock-launcher",
        "mockado-wiremock",
        "mockado-wiremock",
    ]
    assert pod_config(files).loader.shards == []


@pytest.mark.parametrize(
    ("groups", "loader", "message"),
    [
        ({"default": ["a.*"]}, None, "'default' is the shard"),
        ({"Payments": ["a.*"]}, None, "lowercase DNS labels"),
        ({"x" * 47: ["a.*"]}, None, "at most 46"),
        ({"a": []}, None, "at least one host pattern"),
        ({"a": ["p.*"], "b": ["P.*"]}, None, "also listed by group a"),
        (GROUPS, {"shards": [{"host": "x.*", "wiremock_url": "http://wm:8080"}]}, "leave it"),
        ({}, {"shards": [{"host": "x.*", "wiremock_url": "http://127.0.0.1:8081"}]}, "machine"),
    ],
)
def test_bad_shard_config_is_refused(
    groups: dict[str, list[str]], loader: dict[str, Any] | None, message: str
) -> None:
    with pytest.raises(RenderError, match=re.escape(message)):
        render_all(config_with(groups=groups, loader=loader))


# --------------------------------------------------------------------------- canary


def virtual_services(files: dict[str, str], namespace: str) -> list[dict[str, Any]]:
    return docs(files[f"istio/{namespace}/virtualservice-canary.yaml"])


def test_one_virtual_service_per_host_routing_canary_pods_to_the_loaders_shard() -> None:
    labels = {"track": "canary", "app": "checkout"}
    files = files_of(config_with(namespaces={"legacy": canary_ns(HOSTS, labels)}))
    services = virtual_services(files, "legacy")
    assert [vs["spec"]["hosts"] for vs in services] == [[h] for h in HOSTS]
    # The loader, reading the rendered ConfigMap, is the oracle for where mappings live.
    pod = pod_config(files)
    urls, routes = shard_urls(pod)
    router = Router(routes)
    for host, vs in zip(HOSTS, services, strict=True):
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
    long_b = "a" * 40 + ".payments.svc.cluster.locax"
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
        ({"ns": canary_ns(["payments"])}, {}, "short"),
        ({"ns": canary_ns(["a.example.com", "A.example.com"])}, {}, "listed twice"),
        ({"ns": canary_ns([])}, {}, "at least one host"),
        ({"ns": {"canary": {"hosts": ["a.example.com"]}}}, {}, "every workload"),
        ({}, {"canary": {"workload_labels": {"a": "b"}, "hosts": ["a.b.c"]}}, "per namespace"),
    ],
)
def test_bad_canaries_are_refused(
    namespaces: dict[str, Any], global_: dict[str, Any], message: str
) -> None:
    with pytest.raises(RenderError, match=message):
        render_all(config_with(namespaces=namespaces, **global_))


def test_a_canary_changes_only_its_namespace_files(tmp_path: Path) -> None:
    base = {"shop": {}, "legacy": {"enabled": False}}
    write_files(render_all(config_with(namespaces=base)), tmp_path)
    with_canary = {**base, "legacy": canary_ns(HOSTS)}
    summary = write_files(render_all(config_with(namespaces=with_canary)), tmp_path)
    assert sorted(summary.written) == [
        "istio/legacy/networkpolicy-wiremock-canary.yaml",
        "istio/legacy/virtualservice-canary.yaml",
    ]
    summary = write_files(render_all(config_with(namespaces=base)), tmp_path)
    assert summary.written == []
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
               for p in summary.written)  # fmt: skip


@needs_schemas
def test_virtual_services_validate_strictly_against_the_crd() -> None:
    files = files_of(config_with(namespaces={"legacy": canary_ns(HOSTS)}))
    services = virtual_services(files, "legacy")
    for vs in services:
        assert validate.istio_schema_problems(vs, schemas_dir=SCHEMAS, source="vs") == []
    typo = copy.deepcopy(services[0])
    typo["spec"]["http"][0]["match"][0]["sourceLabel"] = {"a": "b"}
    problems = validate.istio_schema_problems(typo, schemas_dir=SCHEMAS, source="vs")
    assert problems and "sourceLabel" in problems[0]
    mistyped = copy.deepcopy(services[0])
    mistyped["spec"]["http"][0]["route"][0]["destination"]["port"] = {"number": "http"}
    assert validate.istio_schema_problems(mistyped, schemas_dir=SCHEMAS, source="vs")


# --------------------------------------------------------------------------- mock router


def router(shards: list[tuple[str, list[str], int]], default_port: int = 8080) -> dict[str, Any]:
    text = render_mock_router(
        MockadoConfig(), listen_port=10001, admin_port=9902, shards=shards,
        default_port=default_port,
    )  # fmt: skip
    return yaml.safe_load(text)


def route_config(boot: dict[str, Any]) -> dict[str, Any]:
    listener = boot["static_resources"]["listeners"][0]
    return listener["filter_chains"][0]["filters"][0]["typed_config"]["route_config"]


def cluster_ports(boot: dict[str, Any]) -> dict[str, int]:
    return {
        c["name"]: c["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]["address"][
            "socket_address"
        ]["port_value"]
        for c in boot["static_resources"]["clusters"]
    }


def envoy_pick(boot: dict[str, Any], authority: str) -> int:
    """Envoy's choice, modelled: virtual host by domain (port ignored; exact, then the
    longest *suffix, then the longest prefix*, then "*"; a wildcard needs one character),
    then the first route whose :authority regex matches."""
    host = authority.lower().rsplit(":", 1)[0] if re.search(r":\d+$", authority) else authority
    host = host.lower()
    vhosts = route_config(boot)["virtual_hosts"]

    def matches(kind: str, domain: str) -> bool:
        if kind == "exact":
            return "*" not in domain and domain == host
        fixed = domain[1:] if kind == "suffix" else domain[:-1]
        if len(host) <= len(fixed) or domain == "*":
            return False
        if kind == "suffix":
            return domain.startswith("*") and host.endswith(fixed)
        return domain.endswith("*") and not domain.startswith("*") and host.startswith(fixed)

    def candidates(kind: str) -> list[tuple[int, dict[str, Any]]]:
        found = [(len(d), vh) for vh in vhosts for d in vh["domains"] if matches(kind, d)]
        return sorted(found, key=lambda c: -c[0])

    chosen = None
    for kind in ("exact", "suffix", "prefix"):
        found = candidates(kind)
        if found:
            chosen = found[0][1]
            break
    if chosen is None:
        chosen = next(vh for vh in vhosts if vh["domains"] == ["*"])
    for route in chosen["routes"]:
        headers = route["match"].get("headers", [])
        regexes = [h["string_match"]["safe_regex"]["regex"] for h in headers]
        if all(re.fullmatch(r, authority) for r in regexes):
            return cluster_ports(boot)[route["route"]["cluster"]]
    raise AssertionError("no route matched")


def loader_pick(shards: list[tuple[str, list[str], int]], host: str, default: int) -> int:
    bare = re.sub(r":\d+$", "", host).lower()
    for _name, patterns, port in shards:
        if any(fnmatch.fnmatchcase(bare, p.lower()) for p in patterns):
            return port
    return default


PROBE_HOSTS = [
    "payments", "payments.svc", "PAYMENTS.svc:8080", "payments.partner.example.com",
    "api.partner.example.com:443", "partner.example.com", "example.com", "billing-1.internal",
    "billing-12.internal", "api.example.com", "api.example.com.evil", "x.api.example.com",
    "abc.zy", "abc.xy", "mid.dle", "middle", "other.host", "a", "pay", "payments.example.net",
    "x.example.net:80", "example.net", "shop", "shop.example.net", "shopping:1",
]  # fmt: skip
SHARD_SETS = [
    [("pay", ["payments.*", "pay"], 8081), ("ext", ["*.example.com"], 8082)],
    [("ext", ["*.example.com"], 8082), ("pay", ["payments.*"], 8081)],
    [("ext", ["*.example.com"], 8082), ("api", ["api.example.com"], 8083)],
    [("api", ["api.example.com"], 8083), ("ext", ["*.example.com"], 8082)],
    [("a", ["*.com"], 8081), ("b", ["*.example.com"], 8082)],
    [("a", ["a?c.[!x]y", "mid*dle"], 8081), ("b", ["*partner.example.com"], 8082)],
    [("b", ["*"], 8082), ("a", ["api.example.com"], 8081)],
    [("a", ["payments.*", "*.partner.example.com"], 8081), ("b", ["*.example.com"], 8082)],
    [
        ("ext", ["api.example.com", "*.example.net"], 8082),
        ("pay", ["payments.*", "shop*"], 8081),
        ("odd", ["billing-?.internal"], 8083),
    ],
]


@pytest.mark.parametrize("shards", SHARD_SETS)
def test_mock_router_sends_every_host_where_the_loader_put_its_mappings(
    shards: list[tuple[str, list[str], int]],
) -> None:
    boot = router(shards, default_port=8080)
    for host in PROBE_HOSTS:
        assert envoy_pick(boot, host) == loader_pick(shards, host, 8080), host


def test_mock_router_uses_domains_when_they_agree_with_the_loader() -> None:
    # A *suffix listed before another shard's prefix*: Envoy's preference is the loader's.
    shards = [
        ("ext", ["api.example.com", "*.example.net"], 8082),
        ("pay", ["payments.*", "shop*"], 8081),
        ("odd", ["billing-?.internal"], 8083),
    ]
    boot = router(shards)
    vhosts = {vh["name"]: vh for vh in route_config(boot)["virtual_hosts"]}
    assert route_config(boot)["ignore_port_in_host_matching"] is True
    # fnmatch's * may match nothing, Envoy's not: "shop*" also gets "shop" (no host is
    # "payments.", so that one gets no exact twin).
    assert vhosts["shard_pay"]["domains"] == ["payments.*", "shop*", "shop"]
    assert vhosts["shard_ext"]["domains"] == ["api.example.com", "*.example.net"]
    assert "shard_odd" not in vhosts
    other = vhosts["other_hosts"]["routes"]
    # "?" has no Envoy domain form: an ordered :authority regex, then the default shard.
    assert other[0]["match"]["headers"][0]["name"] == ":authority"
    assert "google_re2" in other[0]["match"]["headers"][0]["string_match"]["safe_regex"]
    assert other[-1] == {
        "match": {"prefix": "/"},
        "route": {"cluster": "mock_default", "timeout": "300s"},
    }


def test_mock_router_falls_back_to_ordered_routes_when_domains_would_disagree() -> None:
    # payments.* is listed first: payments.example.com must go to "pay", but Envoy
    # prefers a *suffix domain over a prefix* one.
    boot = router([("pay", ["payments.*"], 8081), ("ext", ["*.example.com"], 8082)])
    (vhost,) = route_config(boot)["virtual_hosts"]
    assert vhost["domains"] == ["*"]
    clusters = [r["route"]["cluster"] for r in vhost["routes"]]
    assert clusters == ["mock_shard_pay", "mock_shard_ext", "mock_default"]


def test_mock_router_keeps_the_request_as_sent() -> None:
    boot = router([("pay", ["payments.*"], 8081)])
    hcm = boot["static_resources"]["listeners"][0]["filter_chains"][0]["filters"][0]
    typed = hcm["typed_config"]
    assert typed["codec_type"] == "AUTO"
    assert typed["generate_request_id"] is False
    assert [f["name"] for f in typed["http_filters"]] == ["envoy.filters.http.router"]
    assert typed["http_filters"][0]["typed_config"]["suppress_envoy_headers"] is True
    text = yaml.safe_dump(boot)
    for forbidden in ("host_rewrite", "auto_host_rewrite", "strip_any_host_port", "ext_proc"):
        assert forbidden not in text
    listener = boot["static_resources"]["listeners"][0]["address"]["socket_address"]
    assert listener == {"address": "127.0.0.1", "port_value": 10001}


@pytest.mark.parametrize(
    ("pattern", "host"),
    [
        (p, h)
        for p in ["payments.*", "*.example.com", "a?c.[!x]y", "[ab]*", "x[", "mid*dle", "a.b+c"]
        for h in ["payments.svc", "api.example.com", "abc.zy", "abc.xy", "b", "x[", "middle",
                  "a.b+c", "a.bbc", "Payments.Svc"]
    ],
)  # fmt: skip
def test_authority_regex_agrees_with_fnmatch(pattern: str, host: str) -> None:
    regex = glob_authority_regex(pattern)
    expected = fnmatch.fnmatchcase(host.lower(), pattern.lower())
    assert bool(re.fullmatch(regex, host)) is expected
    assert bool(re.fullmatch(regex, f"{host}:8080")) is expected


def test_mock_router_refuses_bad_shards() -> None:
    with pytest.raises(RenderError, match="given twice"):
        router([("a", ["x.*"], 8081), ("a", ["y.*"], 8082)])
    with pytest.raises(RenderError, match="empty host pattern"):
        router([("a", [""], 8081)])
    with pytest.raises(RenderError, match="port"):
        router([("a", ["x.*"], 70_000)])


def test_envoy_accepts_the_mock_routers_and_rejects_a_broken_one(tmp_path: Path) -> None:
    # One batch: every shard set above, plus a deliberately broken bootstrap.
    paths = []
    for n, shards in enumerate(SHARD_SETS):
        path = tmp_path / f"router-{n}.yaml"
        path.write_text(
            render_mock_router(
                MockadoConfig(),
                listen_port=10001,
                admin_port=9902,
                shards=shards,
                default_port=8080,
            ),
            encoding="utf-8",
        )
        paths.append(path)
    broken = tmp_path / "broken.yaml"
    broken.write_text(paths[0].read_text().replace("codec_type: AUTO", "codec_type: HTTP9"))
    problems = validate.envoy_validate([*paths, broken])
    assert len(problems) == 1
    assert problems[0].startswith("broken.yaml: envoy rejected it")
