"""The local mock router: Envoy sends every host to the shard the loader put its mappings
in (Envoy's domain choice modelled, the loader's first-match rule as the oracle), and the
real Envoy accepts every rendered router."""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from control_plane import validate
from control_plane.render import render_mock_router
from ext_proc_server.core.config import MockadoConfig
from ext_proc_server.core.errors import RenderError


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
