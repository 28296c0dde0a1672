"""Who may call mockado's services in the mesh: one ServiceAccount per workload, mTLS
STRICT in mockado's namespace, and AuthorizationPolicies on mesh identities (never on a
label a pod sets on itself).

- WireMock: the loader's principal on every path (the admin API, /__admin); the canary
  namespaces routed to a shard on every other path.
- Collector: gRPC (captures) only from the principals of the enabled capture namespaces
  (every mesh identity in global mode); its metrics port from anywhere.
- Redis: the collector's and the loader's principals.
- Loader: /unmatched (WireMock's webhook) only from the WireMock shards' principals; its
  metrics and health paths from anywhere.

An EnvoyFilter in mockado's namespace removes the capture filter from its own sidecars, so a
mesh-wide capture never records mockado's traffic (the collector would capture itself).
"""

from __future__ import annotations

from dataclasses import dataclass

from control_plane.render.canary import canaries
from control_plane.render.environment import render_template
from control_plane.render.istio import capture_targets
from control_plane.render.naming import managed_context
from control_plane.render.sharding import KEEPER_PORT, WIREMOCK_PORT, in_cluster_shards
from ext_proc_server.core.config import ControlPlaneConfig, MockadoConfig
from ext_proc_server.core.names import EXT_PROC_FILTER_NAME

COLLECTOR_ACCOUNT = "mockado-collector"
LOADER_ACCOUNT = "mockado-loader"
REDIS_ACCOUNT = "mockado-redis"
REDIS_PORT = 6379
ADMIN_PATHS = ("/__admin", "/__admin/*")
# The loader's HTTP paths anyone may call (Prometheus, health checks); /unmatched is WireMock's.
LOADER_OPEN_PATHS = ("/metrics", "/healthz", "/readyz")
# The web console, open in the mesh only when it has credentials (it checks them itself).
CONSOLE_PATHS = ("/console", "/console/*")
# The loader's webhook for WireMock's unmatched requests (serving.unmatched_webhook_url).
UNMATCHED_PATH = "/unmatched"


@dataclass(frozen=True)
class ShardPolicy:
    """The AuthorizationPolicy of one WireMock shard: who may call which paths."""

    service: str
    canary_namespaces: tuple[str, ...]


def principal(cp: ControlPlaneConfig, namespace: str, account: str) -> str:
    """A workload's mesh identity (SPIFFE path without the scheme), as Istio matches it."""
    return f"{cp.trust_domain}/ns/{namespace}/sa/{account}"


def service_accounts(config: MockadoConfig) -> list[str]:
    """One ServiceAccount per workload: the collector, loader, Redis and each WireMock shard."""
    shards = [shard.service for shard in in_cluster_shards(config)]
    return [COLLECTOR_ACCOUNT, LOADER_ACCOUNT, REDIS_ACCOUNT, *shards]


def capture_principals(config: MockadoConfig) -> list[str]:
    """Who may stream captures to the collector: each enabled namespace's workloads; in
    global mode, any mesh identity ("*" needs mTLS: a plain-text caller has none)."""
    cp = config.control_plane
    targets = capture_targets(cp)
    if any(t.is_global for t in targets):
        return ["*"]
    return [principal(cp, t.namespace, "*") for t in targets]


def shard_policies(config: MockadoConfig) -> list[ShardPolicy]:
    """Each shard, with the canary namespaces whose VirtualServices route to it."""
    users: dict[str, set[str]] = {}
    for canary in canaries(config):
        for route in canary.routes:
            users.setdefault(route.shard.service, set()).add(canary.namespace)
    return [
        ShardPolicy(shard.service, tuple(sorted(users.get(shard.service, ()))))
        for shard in in_cluster_shards(config)
    ]


def mesh_security_path(cp: ControlPlaneConfig, name: str) -> str:
    return f"istio/{cp.mockado_namespace}/{name}"


def render_mesh_security(config: MockadoConfig) -> dict[str, str]:
    """istio/<mockado_namespace>/ files: PeerAuthentication, AuthorizationPolicies and the
    EnvoyFilter keeping capture off mockado's own sidecars."""
    cp = config.control_plane
    common = {**managed_context(cp.mockado_namespace), "namespace": cp.mockado_namespace}
    return {
        mesh_security_path(cp, "peerauthentication.yaml"): render_template(
            "istio/peerauthentication.yaml.j2",
            **common,
            collector_tls=cp.collector.tls.enabled,
            grpc_port=config.collector.grpc_port,
            collector_http_port=config.collector.http_port,
            loader_http_port=config.loader.http_port,
            keeper_port=KEEPER_PORT,
            wiremock_in_cluster=bool(in_cluster_shards(config)),
        ),
        mesh_security_path(cp, "authorizationpolicies.yaml"): render_template(
            "istio/authorizationpolicies.yaml.j2",
            **common,
            loader=principal(cp, cp.mockado_namespace, LOADER_ACCOUNT),
            collector=principal(cp, cp.mockado_namespace, COLLECTOR_ACCOUNT),
            capture_principals=capture_principals(config),
            collector_tls=cp.collector.tls.enabled,
            grpc_port=config.collector.grpc_port,
            collector_http_port=config.collector.http_port,
            shards=shard_policies(config),
            wiremock_port=WIREMOCK_PORT,
            keeper_port=KEEPER_PORT,
            admin_paths=list(ADMIN_PATHS),
            redis_port=REDIS_PORT,
            wiremock_principals=[
                principal(cp, cp.mockado_namespace, shard.service)
                for shard in in_cluster_shards(config)
            ],
            loader_http_port=config.loader.http_port,
            loader_open_paths=list(LOADER_OPEN_PATHS),
            console_paths=console_paths(config),
            unmatched_path=UNMATCHED_PATH,
        ),
        mesh_security_path(cp, "envoyfilter-no-capture.yaml"): render_template(
            "istio/envoyfilter-no-capture.yaml.j2", **common, filter_name=EXT_PROC_FILTER_NAME
        ),
    }


def console_paths(config: MockadoConfig) -> list[str]:
    """The console's paths, which any mesh identity may GET, when ``loader.console_user`` is
    set (without credentials it is off: docs/console.md)."""
    return list(CONSOLE_PATHS) if config.loader.console_user is not None else []


def render_service_accounts(config: MockadoConfig, common: dict[str, object]) -> str:
    return render_template(
        "k8s/serviceaccounts.yaml.j2", **common, accounts=service_accounts(config)
    )
