"""The local mock router of `mockado up`: an Envoy that routes each request by Host to the
WireMock shard the loader put that host's mappings in."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from control_plane.render.clusters import check_port
from control_plane.render.environment import render_template
from control_plane.render.matchers import glob_authority_regex
from control_plane.render.sharding import DEFAULT_SHARD
from ext_proc_server.core.config import MockadoConfig
from ext_proc_server.core.errors import RenderError

# Envoy picks a virtual host by domain: exact, then the longest "*suffix", then the longest
# "prefix*", then "*". The loader picks the FIRST matching pattern in config order. Domains
# are used only when both agree for every host; otherwise every pattern is an ordered
# :authority regex route, which is the loader's rule exactly.
_DOMAIN_RANK = {"exact": 0, "suffix": 1, "prefix": 2, "regex": 3}
MOCK_ROUTER_TIMEOUT_S = 300.0

# (name, fnmatch host patterns, port) of each shard the router sends to.
ShardRoute = tuple[str, Sequence[str], int]


@dataclass(frozen=True)
class _HostRule:
    order: int
    cluster: str
    kind: str  # exact | suffix | prefix | regex
    value: str  # the domain's fixed part, or the pattern for regex
    pattern: str


@dataclass(frozen=True)
class MockRouterPlan:
    virtual_hosts: list[dict[str, Any]]  # by domain
    regex_routes: list[dict[str, Any]]  # ordered :authority regexes
    clusters: list[dict[str, Any]]  # one per shard
    all_ordered: bool  # domains would disagree with the loader: every pattern is a regex


def _glob_rules(pattern: str, *, order: int, cluster: str) -> list[_HostRule]:
    p = pattern.lower()
    stars = p.count("*")

    def rule(kind: str, value: str) -> _HostRule:
        return _HostRule(order, cluster, kind, value, p)

    if "?" in p or "[" in p or p == "*" or stars > 1:
        return [rule("regex", p)]
    if stars == 0:
        return [rule("exact", p)]
    if p.startswith("*"):
        # fnmatch's * may match nothing; Envoy's wildcard needs a character: add the exact
        # name too, unless no host could be it (".example.com").
        rest = p[1:]
        return [rule("suffix", rest)] + ([] if rest.startswith(".") else [rule("exact", rest)])
    if p.endswith("*"):
        rest = p[:-1]
        return [rule("prefix", rest)] + ([] if rest.endswith(".") else [rule("exact", rest)])
    return [rule("regex", p)]  # a * in the middle


def _overlap(a: _HostRule, b: _HostRule) -> bool:
    """Could one host match both rules (Envoy semantics: a wildcard needs one character)?"""
    if "regex" in (a.kind, b.kind):
        return True  # not worth proving otherwise: falls back to ordered routes
    if a.kind == b.kind == "exact":
        return a.value == b.value
    if {a.kind, b.kind} == {"exact", "suffix"}:
        e, w = (a, b) if a.kind == "exact" else (b, a)
        return e.value.endswith(w.value) and len(e.value) > len(w.value)
    if {a.kind, b.kind} == {"exact", "prefix"}:
        e, w = (a, b) if a.kind == "exact" else (b, a)
        return e.value.startswith(w.value) and len(e.value) > len(w.value)
    if a.kind == b.kind == "suffix":
        return a.value.endswith(b.value) or b.value.endswith(a.value)
    if a.kind == b.kind == "prefix":
        return a.value.startswith(b.value) or b.value.startswith(a.value)
    return True  # "*s" and "p*" both match p + "x" + s


def _envoy_prefers(a: _HostRule, b: _HostRule) -> bool:
    """Does Envoy pick ``a`` over ``b`` for a host both match?"""
    if _DOMAIN_RANK[a.kind] != _DOMAIN_RANK[b.kind]:
        return _DOMAIN_RANK[a.kind] < _DOMAIN_RANK[b.kind]
    if a.kind in ("suffix", "prefix"):
        return len(a.value) > len(b.value)
    return a.order < b.order  # regex routes run in order; equal exact names are deduplicated


def _domains_agree(rules: Sequence[_HostRule]) -> bool:
    """True when Envoy's domain choice equals the first match for every host."""
    for i, early in enumerate(rules):
        for late in rules[i + 1 :]:
            if early.cluster == late.cluster or early.order == late.order:
                continue
            if _overlap(early, late) and not _envoy_prefers(early, late):
                return False
    return True


def _router_cluster(name: str) -> str:
    return "mock_shard_" + re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def _shard_clusters(shards: Sequence[ShardRoute]) -> list[dict[str, Any]]:
    clusters: list[dict[str, Any]] = []
    for name, patterns, port in shards:
        cluster = _router_cluster(name)
        if any(c["name"] == cluster for c in clusters):
            raise RenderError(f"mock router: shard name {name!r} given twice")
        clusters.append({"name": cluster, "shard": name, "port": check_port(port)})
        if not all(patterns):
            raise RenderError(f"mock router: shard {name!r} has an empty host pattern")
    return clusters


def _domain_rules(shards: Sequence[ShardRoute]) -> list[_HostRule]:
    """Each pattern as Envoy domains where it has a form, else a regex, in pattern order."""
    rules: list[_HostRule] = []
    seen: set[tuple[str, str]] = set()
    order = 0
    for name, patterns, _port in shards:
        for pattern in patterns:
            for rule in _glob_rules(pattern, order=order, cluster=_router_cluster(name)):
                # An identical earlier rule already wins for the loader and for Envoy.
                if (rule.kind, rule.value) not in seen:
                    seen.add((rule.kind, rule.value))
                    rules.append(rule)
            order += 1
    return rules


def _regex_rules(shards: Sequence[ShardRoute]) -> list[_HostRule]:
    """Ordered regex routes for every pattern: the loader's first-match rule, exactly."""
    patterns = [(name, p) for name, shard_patterns, _port in shards for p in shard_patterns]
    return [
        _HostRule(order, _router_cluster(name), "regex", pattern, pattern)
        for order, (name, pattern) in enumerate(patterns)
    ]


def _virtual_hosts(
    clusters: Sequence[dict[str, Any]], rules: Sequence[_HostRule]
) -> list[dict[str, Any]]:
    vhosts: list[dict[str, Any]] = []
    for c in clusters:
        domains = []
        for r in rules:
            if r.cluster != c["name"] or r.kind == "regex":
                continue
            domains.append(
                {"exact": r.value, "suffix": f"*{r.value}", "prefix": f"{r.value}*"}[r.kind]
            )
        if domains:
            patterns = sorted({r.pattern for r in rules if r.cluster == c["name"]})
            vhosts.append(
                {"name": c["shard"], "domains": domains, "cluster": c["name"], "patterns": patterns}
            )
    return vhosts


def mock_router_plan(shards: Sequence[ShardRoute]) -> MockRouterPlan:
    """Domain virtual hosts, ordered regex routes and shard clusters for the mock router."""
    clusters = _shard_clusters(shards)
    rules = _domain_rules(shards)
    ordered = not _domains_agree(rules)
    if ordered:
        rules = _regex_rules(shards)
    shard_of = {c["name"]: c["shard"] for c in clusters}
    regex_routes = [
        {
            "pattern": r.pattern,
            "regex": glob_authority_regex(r.pattern),
            "cluster": r.cluster,
            "shard": shard_of[r.cluster],
        }
        for r in sorted(rules, key=lambda r: r.order)
        if r.kind == "regex"
    ]
    return MockRouterPlan(_virtual_hosts(clusters, rules), regex_routes, clusters, ordered)


def render_mock_router(
    config: MockadoConfig,
    *,
    listen_port: int,
    admin_port: int,
    shards: Sequence[ShardRoute],
    default_port: int,
) -> str:
    """A standalone Envoy bootstrap for `mockado up`: 127.0.0.1:listen_port routes each
    request by :authority/Host to the WireMock shard serving that host (shards =
    (name, fnmatch host patterns, port); the first matching pattern wins, as in the loader),
    other hosts to 127.0.0.1:default_port. The Host header is forwarded unchanged (the
    mappings match on it); no capture filter. HTTP/1.1 and h2c in, HTTP/1.1 to WireMock.
    ``config`` is taken for symmetry with the other renderers; nothing in it changes the
    router today.
    """
    plan = mock_router_plan(shards)
    return render_template(
        "envoy/mock-router.yaml.j2",
        listen_port=check_port(listen_port),
        admin_port=check_port(admin_port),
        virtual_hosts=plan.virtual_hosts,
        regex_routes=plan.regex_routes,
        all_ordered=plan.all_ordered,
        clusters=plan.clusters,
        default_cluster={
            "name": "mock_default",
            "shard": DEFAULT_SHARD,
            "port": check_port(default_port),
        },
        timeout_s=MOCK_ROUTER_TIMEOUT_S,
    )
