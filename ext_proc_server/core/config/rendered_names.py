"""Checks across sections: what `mockado render` derives from more than one section must
name objects that exist. Each error names its full key (and the other key involved)."""

from __future__ import annotations

import re

from ext_proc_server.core.config.checks import KeyedValueError
from ext_proc_server.core.config.collector import CollectorConfig, cluster_hosts
from ext_proc_server.core.config.control_plane import ControlPlaneConfig, canary_host
from ext_proc_server.core.config.serving import ServingConfig
from ext_proc_server.core.hosts import ClusterHosts

_COLLECTOR_HOST = "control_plane.collector.host"
# Kubernetes Service names are RFC 1035 labels: a letter first.
_SERVICE_NAME = re.compile(r"[a-z]([-a-z0-9]{0,61}[a-z0-9])?")
# The other Services rendered into mockado's namespace (deploy/*.yaml); each shard group
# adds mockado-wiremock-<group>.
_OTHER_SERVICES = ("mockado-loader", "mockado-redis", "mockado-wiremock")


def check_collector_host(
    cp: ControlPlaneConfig, collector: CollectorConfig, serving: ServingConfig
) -> None:
    """The collector Service is rendered as ``<first label>`` in mockado's namespace: the
    host must be that Service's full name in the cluster's domain, or sidecars stream to a
    Service that is not the collector's (or none)."""
    domain = collector.cluster_domain
    service, _, rest = cp.collector.host.partition(".")
    namespace, _, rest = rest.partition(".")
    if namespace != cp.mockado_namespace or not rest.startswith("svc."):
        raise KeyedValueError(
            _COLLECTOR_HOST,
            f"not a Service in mockado's namespace ({cp.mockado_namespace}): the collector "
            f"Service is rendered there; write <service>.{cp.mockado_namespace}.svc.{domain}",
        )
    if rest != f"svc.{domain}":
        raise KeyedValueError(
            _COLLECTOR_HOST,
            f"in the DNS domain {rest.removeprefix('svc.')}, but collector.cluster_domain is "
            f"{domain}: Istio names the collector's cluster in the cluster's domain; make "
            "the two keys agree",
        )
    taken = {*_OTHER_SERVICES, *(f"mockado-wiremock-{g}" for g in serving.shard_groups)}
    if service in taken:
        raise KeyedValueError(
            _COLLECTOR_HOST, f"{service} is another mockado Service; name the collector's own"
        )
    if not _SERVICE_NAME.fullmatch(service):
        raise KeyedValueError(
            _COLLECTOR_HOST,
            f"{service!r} is not a Service name (a letter first, at most 63 characters)",
        )


def check_canary_services(cp: ControlPlaneConfig, collector: CollectorConfig) -> None:
    """Each canary host names a Service of the cluster (or, with a final dot, a host outside
    it), and each Service once: its names share one route (Istio routes a Service by its
    full name), so two of them would silently share one on_miss."""
    hosts = cluster_hosts(collector, namespaces=(*cp.namespaces, cp.mockado_namespace))
    for name, settings in cp.namespaces.items():
        if settings.canary is None:
            continue
        seen: dict[str, int] = {}
        for index, host in enumerate(settings.canary.hosts):
            key = f"control_plane.namespaces.{name}.canary.hosts.{index}"
            routed = canary_host(hosts, host, namespace=name)
            _check_routable(key, host, routed, hosts)
            if routed in seen:
                raise KeyedValueError(
                    key,
                    f"the same Service as hosts.{seen[routed]} ({routed}); list each "
                    "Service once (one route serves all its names, with one on_miss)",
                )
            seen[routed] = index


def _check_routable(key: str, host: str, routed: str, hosts: ClusterHosts) -> None:
    """Refuse a canary host whose VirtualService would match no call: Istio routes a
    Service only by its full name, so a name that stays half-resolved silently mocks
    nothing."""
    domain = hosts.cluster_domain
    if host.endswith("."):
        if hosts.canonical(routed) != routed:
            raise KeyedValueError(
                key,
                f"a final dot marks a host outside the cluster, but {routed} is the Service "
                f"{hosts.canonical(routed)}; write it without the dot",
            )
        return
    labels = routed.split(".")
    suffix = f".svc.{domain}"
    if routed.endswith(suffix) and routed.count(".") != suffix.count(".") + 1:
        raise KeyedValueError(key, f"not a Service's name: write <service>.<namespace>{suffix}")
    if len(labels) > 3 and labels[2] == "svc" and not routed.endswith(suffix):
        raise KeyedValueError(
            key,
            f"a Service name outside the cluster's DNS domain (collector.cluster_domain: "
            f"{domain}), which Istio would never route: write "
            f"<service>.<namespace>{suffix}",
        )
    if len(labels) == 2:
        raise KeyedValueError(
            key,
            f"{labels[1]} is not a namespace this config knows, so {routed} names no "
            f"Service: write its full name ({routed}{suffix}) or list {labels[1]} in "
            f"collector.cluster_namespaces; a host outside the cluster ends with a dot "
            f"({routed}.)",
        )
