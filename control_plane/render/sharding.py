"""WireMock shards: the default one and one per ``serving.shard_groups`` group, which
shard serves a host (the loader's rule), and how big each shard's heap is."""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from control_plane.render.naming import service_host
from ext_proc_server.core.config import MockadoConfig, cluster_hosts, redact_url
from ext_proc_server.core.hosts import ClusterHosts

DEFAULT_SHARD = "default"
WIREMOCK_SERVICE = "mockado-wiremock"
WIREMOCK_PORT = 8080
# The keeper beside each WireMock (`mockado keep-shard`): probes and /metrics.
KEEPER_PORT = 9092
# Hosts of a URL meant for this machine: render points them at the in-cluster Service.
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
# "mockado-wiremock-" + group must stay a DNS label (63 characters).
_MAX_GROUP_NAME = 63 - len(WIREMOCK_SERVICE) - 1


@dataclass(frozen=True)
class ShardService:
    """One WireMock Deployment + Service: the default one, or one per serving.shard_groups."""

    group: str
    service: str
    host: str  # the Service's full name
    patterns: tuple[str, ...]

    @property
    def url(self) -> str:
        return f"http://{self.host}:{WIREMOCK_PORT}"


def _shard_service(
    config: MockadoConfig, group: str, service: str, patterns: tuple[str, ...]
) -> ShardService:
    return ShardService(
        group=group, service=service, host=service_host(config, service), patterns=patterns
    )


def shard_services(config: MockadoConfig) -> list[ShardService]:
    """The default shard first, then one per ``serving.shard_groups`` group, in config order."""
    out = [_shard_service(config, DEFAULT_SHARD, WIREMOCK_SERVICE, ())]
    # The config checked the group names and patterns.
    for group, patterns in config.serving.shard_groups.items():
        out.append(_shard_service(config, group, f"{WIREMOCK_SERVICE}-{group}", tuple(patterns)))
    return out


def default_shard_in_cluster(config: MockadoConfig) -> bool:
    """Whether the default shard is the rendered ``mockado-wiremock``: ``loader.wiremock_url``
    is local (render points it there) or names that Service. Any other URL is a WireMock
    the user runs elsewhere (outside the cluster, or another namespace's): the loader loads
    and keeps it itself, and render runs no WireMock of its own for it."""
    host = (urlsplit(config.loader.wiremock_url).hostname or "").lower().rstrip(".")
    namespace = config.control_plane.mockado_namespace
    full = service_host(config, WIREMOCK_SERVICE)
    names = {WIREMOCK_SERVICE, f"{WIREMOCK_SERVICE}.{namespace}",
             f"{WIREMOCK_SERVICE}.{namespace}.svc", full}  # fmt: skip
    return host in LOCAL_HOSTS or host in names


def in_cluster_shards(config: MockadoConfig) -> list[ShardService]:
    """The shards render runs as WireMock Deployments (each with its keeper): every group's,
    and the default one unless it is outside (``default_shard_in_cluster``)."""
    shards = shard_services(config)
    return shards if default_shard_in_cluster(config) else shards[1:]


def outside_shard_urls(config: MockadoConfig) -> list[str]:
    """The WireMocks the loader loads that render does not run (the user's own, outside the
    cluster or in another namespace), credentials left out."""
    urls = [] if default_shard_in_cluster(config) else [config.loader.wiremock_url]
    if not config.serving.shard_groups:
        urls += [route.wiremock_url for route in config.loader.shards]
    return list(dict.fromkeys(redact_url(url) for url in urls))


def uncounted_miss_warnings(config: MockadoConfig) -> list[str]:
    """What an operator is told about misses on the WireMocks render does not run: their
    catch-all reports each miss to the loader Service's /unmatched, which only the rendered
    WireMock pods may call (NetworkPolicy, AuthorizationPolicy) and which a WireMock outside
    the cluster cannot even resolve. Nothing when serving.unmatched_webhook_url names
    another address (the user's own arrangement)."""
    webhook = config.serving.unmatched_webhook_url
    if webhook is not None and urlsplit(webhook).hostname not in LOCAL_HOSTS:
        return []
    return [
        f"misses on the WireMock at {url} are not counted: its catch-all still answers them, "
        "but reports each to the loader Service's /unmatched, which only the WireMock pods "
        "render runs may call; `mockado misses`, the console and "
        "mockado_serving_unmatched_requests_total leave them out (docs/loader.md)"
        for url in outside_shard_urls(config)
    ]


def known_namespaces(config: MockadoConfig) -> list[str]:
    """The namespaces the rendered pods know exist: every configured one, mockado's own,
    and collector.cluster_namespaces (sorted, each once)."""
    cp = config.control_plane
    names = {*cp.namespaces, cp.mockado_namespace, *config.collector.cluster_namespaces}
    return sorted(names)


def render_cluster_hosts(config: MockadoConfig) -> ClusterHosts:
    """The canonical-host rules of the rendered pods (see ``known_namespaces``)."""
    return cluster_hosts(config.collector, namespaces=known_namespaces(config))


def shard_for_host(
    host: str, shards: Sequence[ShardService], *, hosts: ClusterHosts | None = None
) -> ShardService:
    """The shard serving ``host``: the loader's rule, the first matching fnmatch pattern
    (case-insensitive, in shard_groups order), else the default shard (``shards[0]``).
    With ``hosts``, the host and the patterns are compared in their canonical form, as
    the loader compares them."""
    lowered = host.lower()
    if hosts is not None:
        lowered = hosts.canonical(lowered)
    for shard in shards[1:]:
        patterns = [p.lower() for p in shard.patterns]
        if hosts is not None:
            patterns = [hosts.canonical_pattern(p) for p in patterns]
        if any(fnmatch.fnmatchcase(lowered, p) for p in patterns):
            return shard
    return shards[0]


def wiremock_heap_mb(config: MockadoConfig) -> int:
    """serving.heap_mb, else sized to the stub budget: loader.max_stubs/20 + 256 MB
    (256..2048), the same default `mockado up` uses."""
    if config.serving.heap_mb is not None:
        return config.serving.heap_mb
    return max(256, min(2048, config.loader.max_stubs // 20 + 256))
