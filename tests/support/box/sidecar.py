"""Istio's sidecar, reduced to what capture needs: an Envoy in the pod with the
EnvoyFilter patches applied to its inbound listener.

``inject_sidecar`` adds an ``istio-proxy`` container (and a ConfigMap holding its
bootstrap) to a workload, the way Istio's injector adds one, and points the Services that
select the pod at the inbound listener, in place of Istio's iptables redirect. The
bootstrap has what istiod would push for it: the inbound listener (``virtualInbound``) with
each ``SIDECAR_INBOUND`` HTTP filter patch inserted before the router, a route to the app,
and an ``outbound|PORT||HOST`` cluster for each cluster a patch names, built from that
Service (HTTP/2 when its port says grpc/http2) and its DestinationRule's connection pool,
with each ``SIDECAR_OUTBOUND`` CLUSTER MERGE of it applied as Istio merges it (the capture
EnvoyFilter's HTTP/2 keepalive on the collector cluster).
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any

import yaml

from control_plane.validate import merged_cluster_patch
from ext_proc_server.core.errors import RenderError
from tests.support.box.errors import BoxError
from tests.support.box.manifests import Manifests, selects

INBOUND_PORT = 15006
STATUS_PORT = 15021
ADMIN_PORT = 15000
PROXY_UID = 1337
CONFIG_DIR = "/etc/istio/proxy"
_HCM = "envoy.filters.network.http_connection_manager"
_HCM_TYPE = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
_ROUTER = "envoy.filters.http.router"
_ROUTER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
_HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


def inject_sidecar(
    manifests: Manifests,
    *,
    namespace: str,
    deployment: str,
    image: str,
    app_port: int,
    root_namespace: str = "istio-system",
) -> None:
    """Add the istio-proxy container to the Deployment and route its Services through it."""
    doc = manifests.get("Deployment", namespace, deployment)
    if doc is None:
        raise BoxError(f"inject_sidecar: no Deployment {namespace}/{deployment}")
    doc = copy.deepcopy(doc)
    template = doc["spec"]["template"]
    labels = template["metadata"].get("labels") or {}
    selected = dict(namespace=namespace, labels=labels, root_namespace=root_namespace)
    bootstrap = sidecar_bootstrap(
        manifests,
        list(inbound_filters(manifests, **selected)),
        namespace=namespace,
        workload=deployment,
        app_port=app_port,
        cluster_patches=list(outbound_cluster_patches(manifests, **selected)),
    )
    config_name = f"{deployment}-istio-proxy"
    manifests.apply({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": config_name, "namespace": namespace},
        "data": {"envoy.yaml": yaml.safe_dump(bootstrap, sort_keys=False)},
    })  # fmt: skip
    template["spec"].setdefault("volumes", []).append(
        {"name": "istio-proxy-config", "configMap": {"name": config_name}}
    )
    template["spec"]["containers"].append(proxy_container(image))
    manifests.apply(doc)
    for service in manifests.services(namespace):
        if selects((service.get("spec") or {}).get("selector"), labels):
            service = copy.deepcopy(service)
            for port in service["spec"].get("ports") or []:
                port["targetPort"] = INBOUND_PORT
            manifests.apply(service)


def proxy_container(image: str) -> dict[str, Any]:
    return {
        "name": "istio-proxy",
        "image": image,
        "command": ["envoy", "-c", f"{CONFIG_DIR}/envoy.yaml", "--disable-hot-restart",
                    "--concurrency", "2", "--log-level", "warning"],
        "ports": [{"name": "inbound", "containerPort": INBOUND_PORT},
                  {"name": "status-port", "containerPort": STATUS_PORT}],
        "readinessProbe": {"httpGet": {"path": "/healthz/ready", "port": "status-port"}, "periodSeconds": 2},
        "securityContext": {
            "runAsUser": PROXY_UID, "runAsGroup": PROXY_UID, "runAsNonRoot": True,
            "readOnlyRootFilesystem": True, "allowPrivilegeEscalation": False,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "istio-proxy-config", "mountPath": CONFIG_DIR, "readOnly": True}],
    }  # fmt: skip


def workload_patches(
    manifests: Manifests,
    *,
    apply_to: str,
    context: str,
    namespace: str,
    labels: Mapping[str, str],
    root_namespace: str,
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(EnvoyFilter name, patch) for each `apply_to` patch in `context` (or ANY) of the
    EnvoyFilters of the namespace (and the root) that select the workload."""
    for doc in manifests.of_kind("EnvoyFilter"):
        meta, spec = doc["metadata"], doc.get("spec") or {}
        if meta.get("namespace") not in (namespace, root_namespace):
            continue
        selector = (spec.get("workloadSelector") or {}).get("labels")
        if selector and not selects(selector, labels):
            continue
        for patch in spec.get("configPatches") or []:
            match = patch.get("match") or {}
            if patch.get("applyTo") == apply_to and match.get("context") in (context, "ANY"):
                yield f"EnvoyFilter {meta['name']}", patch


def inbound_filters(manifests: Manifests, **selected: Any) -> Iterator[dict[str, Any]]:
    """The HTTP filters the EnvoyFilters of the namespace (and the root) insert inbound."""
    patches = workload_patches(
        manifests, apply_to="HTTP_FILTER", context="SIDECAR_INBOUND", **selected
    )
    for source, patch in patches:
        listener = (patch.get("match") or {}).get("listener") or {}
        sub = ((listener.get("filterChain") or {}).get("filter") or {}).get("subFilter")
        if patch["patch"].get("operation") != "INSERT_BEFORE" or (sub or {}).get("name") != _ROUTER:
            raise BoxError(f"{source}: the box applies only INSERT_BEFORE {_ROUTER}")
        yield copy.deepcopy(patch["patch"]["value"])


def outbound_cluster_patches(
    manifests: Manifests, **selected: Any
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(EnvoyFilter name, patch) for each CLUSTER patch of the workload's outbound clusters;
    each names its cluster, the only match the box follows."""
    patches = workload_patches(
        manifests, apply_to="CLUSTER", context="SIDECAR_OUTBOUND", **selected
    )
    for source, patch in patches:
        if not (patch["match"].get("cluster") or {}).get("name"):
            raise BoxError(f"{source}: the box applies only CLUSTER patches naming their cluster")
        yield source, copy.deepcopy(patch)


def patched_cluster(
    cluster: dict[str, Any], patches: Iterable[tuple[str, Mapping[str, Any]]]
) -> dict[str, Any]:
    """The cluster with each CLUSTER MERGE that names it applied as Istio applies it (the
    merge `mockado render --check` validates); the others name other clusters."""
    for source, patch in patches:
        if patch["match"]["cluster"]["name"] != cluster["name"]:
            continue
        options = cluster.get("typed_extension_protocol_options") or {}
        try:
            merged = merged_cluster_patch(
                options, patch, cluster_name=cluster["name"], source=source
            )
        except RenderError as exc:
            raise BoxError(f"{exc}; the box applies no other") from exc
        cluster = {**cluster, "typed_extension_protocol_options": merged}
    return cluster


def sidecar_bootstrap(
    manifests: Manifests,
    filters: list[dict[str, Any]],
    *,
    namespace: str,
    workload: str,
    app_port: int,
    cluster_patches: Sequence[tuple[str, Mapping[str, Any]]] = (),
) -> dict[str, Any]:
    """``cluster_patches``: (EnvoyFilter name, patch) of each CLUSTER patch to apply to the
    outbound clusters (``outbound_cluster_patches``)."""
    pod = f"{workload}-0"
    clusters = [_static_cluster(f"inbound|{app_port}||", "127.0.0.1", app_port),
                _static_cluster("box-admin", "127.0.0.1", ADMIN_PORT)]  # fmt: skip
    clusters += [
        patched_cluster(outbound_cluster(manifests, name), cluster_patches)
        for name in sorted(set(_cluster_names(filters)))
    ]
    return {
        "node": {
            "id": f"sidecar~0.0.0.0~{pod}.{namespace}~{namespace}.svc.cluster.local",
            "cluster": f"{workload}.{namespace}",
            "metadata": {"NAMESPACE": namespace, "WORKLOAD_NAME": workload},
        },
        "admin": {"address": _address("127.0.0.1", ADMIN_PORT)},
        "static_resources": {
            "listeners": [
                _http_listener("virtualInbound", INBOUND_PORT, f"inbound|{app_port}||", filters),
                # Istio's status port: /healthz/ready answers what Envoy's /ready says.
                _http_listener(
                    "status",
                    STATUS_PORT,
                    "box-admin",
                    [],
                    prefix="/healthz/ready",
                    prefix_rewrite="/ready",
                ),
            ],
            "clusters": clusters,
        },
    }


def outbound_cluster(manifests: Manifests, name: str) -> dict[str, Any]:
    """Istio's ``outbound|PORT||HOST`` cluster for a Service, with its DestinationRule."""
    direction, port, _, host = [*name.split("|"), "", "", "", ""][:4]
    if direction != "outbound" or not port.isdigit():
        raise BoxError(f"cluster {name!r}: not an Istio outbound|PORT||HOST name")
    service_name, _, rest = host.partition(".")
    service_ns = rest.split(".")[0] if rest else "default"
    service = manifests.get("Service", service_ns, service_name)
    ports = ((service or {}).get("spec") or {}).get("ports") or []
    service_port = next((p for p in ports if int(p["port"]) == int(port)), None)
    if service_port is None:
        raise BoxError(f"cluster {name!r}: no Service {service_ns}/{service_name} with port {port}")
    cluster: dict[str, Any] = {
        "name": name, "type": "STRICT_DNS", "dns_lookup_family": "V4_ONLY", "connect_timeout": "10s",
        "load_assignment": {"cluster_name": name, "endpoints": [
            {"lb_endpoints": [{"endpoint": {"address": _address(host, int(port))}}]}]},
    }  # fmt: skip
    pool = _connection_pool(manifests, host)
    http2: dict[str, Any] | None = None
    if _speaks_http2(service_port):
        http2 = {}
        if "maxConcurrentStreams" in pool.get("http", {}):
            http2["max_concurrent_streams"] = pool["http"]["maxConcurrentStreams"]
        cluster["typed_extension_protocol_options"] = {
            _HTTP_OPTIONS: {"@type": f"type.googleapis.com/{_HTTP_OPTIONS}",
                            "explicit_http_config": {"http2_protocol_options": http2}}}  # fmt: skip
    cluster.update(_pool_limits(pool))
    return cluster


def _speaks_http2(port: Mapping[str, Any]) -> bool:
    # Istio's protocol selection: appProtocol, else the port name's prefix.
    protocol = (port.get("appProtocol") or str(port.get("name", "")).split("-")[0]).lower()
    return protocol in ("grpc", "http2", "grpc-web", "h2c")


def _connection_pool(manifests: Manifests, host: str) -> dict[str, Any]:
    for rule in manifests.of_kind("DestinationRule"):
        if (rule.get("spec") or {}).get("host") == host:
            return ((rule["spec"].get("trafficPolicy") or {}).get("connectionPool")) or {}
    return {}


def _pool_limits(pool: Mapping[str, Any]) -> dict[str, Any]:
    tcp, http = pool.get("tcp") or {}, pool.get("http") or {}
    limits: dict[str, Any] = {}
    if "connectTimeout" in tcp:
        limits["connect_timeout"] = envoy_duration(tcp["connectTimeout"])
    threshold = {key: value for key, value in (
        ("max_connections", tcp.get("maxConnections")),
        ("max_requests", http.get("http2MaxRequests")),
        ("max_pending_requests", http.get("http1MaxPendingRequests")),
    ) if value is not None}  # fmt: skip
    if threshold:
        limits["circuit_breakers"] = {"thresholds": [{"priority": "DEFAULT", **threshold}]}
    return limits


def envoy_duration(istio: str) -> str:
    """Istio's duration ("250ms", "1s", "1m", "1h") as Envoy's JSON Duration ("0.250s")."""
    units = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    for suffix in ("ms", "s", "m", "h"):
        if istio.endswith(suffix) and istio[: -len(suffix)].replace(".", "", 1).isdigit():
            return f"{float(istio[: -len(suffix)]) * units[suffix]:.3f}s"
    raise BoxError(f"duration {istio!r}: not an Istio duration")


def _cluster_names(node: Any) -> Iterator[str]:
    if isinstance(node, Mapping):
        if "envoy_grpc" in node:
            yield node["envoy_grpc"]["cluster_name"]
        for value in node.values():
            yield from _cluster_names(value)
    elif isinstance(node, list):
        for value in node:
            yield from _cluster_names(value)


def _http_listener(
    name: str,
    port: int,
    cluster: str,
    filters: list[dict[str, Any]],
    *,
    prefix: str = "/",
    prefix_rewrite: str | None = None,
) -> dict[str, Any]:
    route: dict[str, Any] = {"cluster": cluster, "timeout": "0s"}
    if prefix_rewrite:
        route["prefix_rewrite"] = prefix_rewrite
    manager = {
        "@type": _HCM_TYPE,
        "stat_prefix": name,
        "route_config": {"name": name, "virtual_hosts": [
            {"name": name, "domains": ["*"], "routes": [{"match": {"prefix": prefix}, "route": route}]}]},
        "http_filters": [*filters, {"name": _ROUTER, "typed_config": {"@type": _ROUTER_TYPE}}],
    }  # fmt: skip
    return {"name": name, "address": _address("0.0.0.0", port),
            "filter_chains": [{"filters": [{"name": _HCM, "typed_config": manager}]}]}  # fmt: skip


def _static_cluster(name: str, address: str, port: int) -> dict[str, Any]:
    return {"name": name, "type": "STATIC", "connect_timeout": "1s",
            "load_assignment": {"cluster_name": name, "endpoints": [
                {"lb_endpoints": [{"endpoint": {"address": _address(address, port)}}]}]}}  # fmt: skip


def _address(host: str, port: int) -> dict[str, Any]:
    return {"socket_address": {"address": host, "port_value": port}}
