"""Checks across sections: what `mockado render` derives from more than one section must
name objects that exist. Each error names its full key (and the other key involved)."""

from __future__ import annotations

import re

from ext_proc_server.core.config.checks import KeyedValueError
from ext_proc_server.core.config.collector import CollectorConfig, cluster_hosts
from ext_proc_server.core.config.control_plane import ControlPlaneConfig
from ext_proc_server.core.config.serving import ServingConfig

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
    """Each canary lists a Service once: its names share one route (Istio routes a Service
    by its full name), so two of them would silently share one on_miss."""
    hosts = cluster_hosts(collector, namespaces=(*cp.namespaces, cp.mockado_namespace))
    for name, settings in cp.namespaces.items():
        if settings.canary is None:
            continue
        seen: dict[str, int] = {}
        for index, host in enumerate(settings.canary.hosts):
            canonical = hosts.canonical(host, namespace=name)
            if canonical in seen:
                raise KeyedValueError(
                    f"control_plane.namespaces.{name}.canary.hosts.{index}",
                    f"the same Service as hosts.{seen[canonical]} ({canonical}); list each "
                    "Service once (one route serves all its names, with one on_miss)",
                )
            seen[canonical] = index
