"""Egress NetworkPolicies for namespaces that deny egress by default
(``default_deny_egress``): their pods may reach the collector's gRPC port (capture) and the
WireMock shards their canary routes to, and nothing more. Policies add up, so these only
open mockado's paths; everything else the namespace needs (DNS, istiod) stays its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from control_plane.render.canary import Canary, canaries
from control_plane.render.environment import render_template
from control_plane.render.naming import managed_context
from control_plane.render.sharding import WIREMOCK_PORT
from ext_proc_server.core.config import MockadoConfig


@dataclass(frozen=True)
class EgressRule:
    """One NetworkPolicy: these pods of the namespace may reach these mockado pods."""

    name: str
    what: str
    pod_labels: dict[str, str]  # empty: every pod of the namespace
    services: tuple[str, ...]  # app.kubernetes.io/name of the destination pods
    port: int


def _capture_selector(config: MockadoConfig, namespace: str) -> dict[str, str] | None:
    """The pods whose sidecars capture in ``namespace`` (None: no capture there)."""
    cp = config.control_plane
    settings = cp.namespaces[namespace]
    if settings.enabled:
        return dict(sorted(settings.workload_selector.items()))
    if cp.global_.enabled:
        return dict(sorted(cp.global_.workload_selector.items()))
    return None


def egress_rules(config: MockadoConfig, namespace: str) -> list[EgressRule]:
    rules: list[EgressRule] = []
    selector = _capture_selector(config, namespace)
    if selector is not None:
        rules.append(
            EgressRule(
                name="mockado-egress-capture",
                what="Capture: the sidecars stream exchanges to the collector (ext_proc gRPC)",
                pod_labels=selector,
                services=("mockado-collector",),
                port=config.collector.grpc_port,
            )
        )
    canary: Canary | None = next((c for c in canaries(config) if c.namespace == namespace), None)
    if canary is not None:
        shards = sorted({route.shard.service for route in canary.routes})
        rules.append(
            EgressRule(
                name="mockado-egress-canary",
                what="Canary routing: the canary pods call the WireMock shards of their hosts",
                pod_labels=canary.workload_labels,
                services=tuple(shards),
                port=WIREMOCK_PORT,
            )
        )
    return rules


def egress_path(namespace: str) -> str:
    return f"istio/{namespace}/networkpolicy-egress.yaml"


def render_egress_policies(config: MockadoConfig) -> Iterator[tuple[str, str]]:
    """(path, text) for each namespace declaring default-deny egress that mockado uses."""
    cp = config.control_plane
    for namespace in sorted(cp.namespaces):
        if not cp.namespaces[namespace].default_deny_egress:
            continue
        rules = egress_rules(config, namespace)
        if rules:
            yield (
                egress_path(namespace),
                render_template(
                    "istio/networkpolicy-egress.yaml.j2",
                    **managed_context(namespace),
                    namespace=namespace,
                    mockado_namespace=cp.mockado_namespace,
                    rules=rules,
                ),
            )
