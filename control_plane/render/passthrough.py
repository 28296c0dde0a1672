"""Pass-through on miss (a canary's ``on_miss: passthrough``): the egress the WireMock
shards need to proxy a miss to the real service, and nothing more.

The proxied call is captured where any call to that service is: by the service's own
sidecar (inbound capture); mockado's namespace never captures.

* ``istio/<canary namespace>/networkpolicy-wiremock-passthrough.yaml``: an Egress
  NetworkPolicy on the shards serving that canary's pass-through hosts: DNS, the
  namespace of each in-cluster host, mockado's loader (miss reports) and istiod (the
  shards' sidecars). Policies add up, so each canary namespace opens only its own hosts.
* ``istio/<mockado namespace>/sidecar-wiremock-passthrough.yaml``: one Istio ``Sidecar``
  per such shard, ``REGISTRY_ONLY``, listing exactly those hosts and mockado's namespace.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from control_plane.render.canary import Canary, CanaryRoute, canaries
from control_plane.render.environment import render_template
from control_plane.render.naming import managed_context
from control_plane.render.sharding import render_cluster_hosts
from ext_proc_server.core.config import MockadoConfig, canary_host


@dataclass(frozen=True)
class PassthroughShard:
    service: str  # the shard's Service and its pods' app.kubernetes.io/name
    hosts: tuple[str, ...]


def passthrough_routes(config: MockadoConfig, canary: Canary) -> list[CanaryRoute]:
    """The canary's routes whose host has ``on_miss: passthrough``."""
    settings = config.control_plane.namespaces[canary.namespace].canary
    if settings is None:
        return []
    cluster = render_cluster_hosts(config)
    wanted = {
        canary_host(cluster, h, namespace=canary.namespace) for h in settings.passthrough_hosts()
    }
    return [route for route in canary.routes if route.host in wanted]


def service_namespace(host: str, *, cluster_domain: str) -> str | None:
    """``api.payments.svc.<cluster_domain>`` -> ``payments``; None for a host outside the
    cluster."""
    suffix = f".svc.{cluster_domain}"
    if not host.endswith(suffix):
        return None
    labels = host.removesuffix(suffix).split(".")
    return labels[-1] if len(labels) >= 2 else None


def _egress_policy(config: MockadoConfig, canary: Canary, routes: Sequence[CanaryRoute]) -> str:
    cp = config.control_plane
    domain = config.collector.cluster_domain
    namespace_of = {
        h: service_namespace(h, cluster_domain=domain) for h in (r.host for r in routes)
    }
    return render_template(
        "istio/networkpolicy-wiremock-passthrough.yaml.j2",
        **managed_context(canary.namespace),
        name=f"mockado-wiremock-passthrough-{canary.namespace}",
        namespace=canary.namespace,
        mockado_namespace=cp.mockado_namespace,
        root_namespace=cp.root_namespace,
        services=sorted({route.shard.service for route in routes}),
        namespaces=sorted({ns for ns in namespace_of.values() if ns is not None}),
        external_hosts=sorted(h for h, ns in namespace_of.items() if ns is None),
        loader_http_port=config.loader.http_port,
    )


def _sidecars(config: MockadoConfig, shards: Sequence[PassthroughShard]) -> str:
    def egress_host(host: str) -> str:
        namespace = service_namespace(host, cluster_domain=config.collector.cluster_domain)
        return f"{namespace}/{host}" if namespace is not None else f"*/{host}"

    return render_template(
        "istio/sidecar-wiremock-passthrough.yaml.j2",
        **managed_context(config.control_plane.mockado_namespace),
        mockado_namespace=config.control_plane.mockado_namespace,
        shards=[(s.service, [egress_host(h) for h in s.hosts]) for s in shards],
    )


def passthrough_files(config: MockadoConfig) -> Iterator[tuple[str, str, str]]:
    """(path, text, kind) of each pass-through file; none when no canary passes through."""
    by_service: dict[str, set[str]] = {}
    for canary in canaries(config):
        routes = passthrough_routes(config, canary)
        if not routes:
            continue
        path = f"istio/{canary.namespace}/networkpolicy-wiremock-passthrough.yaml"
        yield path, _egress_policy(config, canary, routes), "k8s"
        for route in routes:
            by_service.setdefault(route.shard.service, set()).add(route.host)
    if by_service:
        shards = [PassthroughShard(s, tuple(sorted(h))) for s, h in sorted(by_service.items())]
        path = f"istio/{config.control_plane.mockado_namespace}/sidecar-wiremock-passthrough.yaml"
        yield path, _sidecars(config, shards), "istio"
