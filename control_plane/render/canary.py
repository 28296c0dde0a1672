"""Canaries: a namespace's labelled workloads call the mocks instead of the real hosts,
through one VirtualService per mocked host and a NetworkPolicy into the WireMock shards."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from control_plane.render.environment import render_template
from control_plane.render.naming import managed_context
from control_plane.render.sharding import (
    WIREMOCK_PORT,
    ShardService,
    default_shard_in_cluster,
    render_cluster_hosts,
    shard_for_host,
    shard_services,
)
from ext_proc_server.core.config import (
    CanaryConfig,
    ControlPlaneConfig,
    MockadoConfig,
    canary_host,
)
from ext_proc_server.core.errors import RenderError
from ext_proc_server.core.hosts import ClusterHosts

_MAX_OBJECT_NAME = 63


@dataclass(frozen=True)
class CanaryRoute:
    host: str  # the mocked host, as the canary calls it
    name: str  # the VirtualService's name
    shard: ShardService


@dataclass(frozen=True)
class Canary:
    namespace: str
    workload_labels: dict[str, str]
    routes: tuple[CanaryRoute, ...]


def canaries(config: MockadoConfig) -> list[Canary]:
    """Every namespace with a ``canary`` section, sorted; independent of capture ``enabled``
    (a canary namespace needs no capture of its own)."""
    cp = config.control_plane
    shards = shard_services(config)
    hosts = render_cluster_hosts(config)
    found = [
        _canary(namespace, cp.namespaces[namespace].canary, shards, hosts)
        for namespace in sorted(cp.namespaces)
        if cp.namespaces[namespace].canary is not None
    ]
    if not default_shard_in_cluster(config):
        for canary in found:
            _check_in_cluster(canary, default=shards[0])
    return found


def _check_in_cluster(canary: Canary, *, default: ShardService) -> None:
    # The mesh routes a canary's calls to a Service of mockado's namespace; the default
    # shard is then the user's own WireMock, which render knows nothing of.
    for route in canary.routes:
        if route.shard == default:
            raise RenderError(
                f"control_plane.namespaces.{canary.namespace}.canary.hosts: {route.host} is "
                "served by the default shard, the WireMock loader.wiremock_url names "
                "(not a rendered one); canaries call only the rendered WireMock shards: "
                "give the host a serving.shard_groups group"
            )


def _canary(
    namespace: str, canary: CanaryConfig, shards: Sequence[ShardService], hosts: ClusterHosts
) -> Canary:
    # The config checked the labels and hosts (lower-cased, full names, each once).
    canonical = [canary_host(hosts, host, namespace=namespace) for host in canary.hosts]
    return Canary(
        namespace=namespace,
        workload_labels=dict(sorted(canary.workload_labels.items())),
        routes=_routes(list(dict.fromkeys(canonical)), shards, hosts),
    )


def _routes(
    hosts: Sequence[str], shards: Sequence[ShardService], cluster: ClusterHosts
) -> tuple[CanaryRoute, ...]:
    """One route per canonical host (``api.payments`` and its FQDN are one Service, and
    Istio routes every name of a Service by its FQDN)."""
    routes: list[CanaryRoute] = []
    names: set[str] = set()
    for host in hosts:
        name = _canary_name(host, taken=names)
        names.add(name)
        shard = shard_for_host(host, shards, hosts=cluster)
        routes.append(CanaryRoute(host=host, name=name, shard=shard))
    return tuple(routes)


def _canary_name(host: str, *, taken: set[str]) -> str:
    """mockado-canary-<host with dots as dashes>; a hash suffix when too long or taken."""
    name = "mockado-canary-" + host.replace(".", "-")
    if len(name) <= _MAX_OBJECT_NAME and name not in taken:
        return name
    digest = hashlib.sha256(host.encode()).hexdigest()[:8]
    return f"{name[: _MAX_OBJECT_NAME - 9].rstrip('-')}-{digest}"


def canary_path(namespace: str) -> str:
    return f"istio/{namespace}/virtualservice-canary.yaml"


def render_virtualservice_canary(cp: ControlPlaneConfig, canary: Canary) -> str:
    return render_template(
        "istio/virtualservice-canary.yaml.j2",
        **managed_context(canary.namespace),
        namespace=canary.namespace,
        mockado_namespace=cp.mockado_namespace,
        workload_labels=canary.workload_labels,
        routes=list(canary.routes),
        wiremock_port=WIREMOCK_PORT,
    )


def render_wiremock_canary_network_policy(cp: ControlPlaneConfig, canary: Canary) -> str:
    return render_template(
        "istio/networkpolicy-wiremock-canary.yaml.j2",
        **managed_context(canary.namespace),
        name=f"mockado-wiremock-from-{canary.namespace}",
        namespace=canary.namespace,
        mockado_namespace=cp.mockado_namespace,
        workload_labels=canary.workload_labels,
        services=sorted({r.shard.service for r in canary.routes}),
    )
