"""Standalone Envoy bootstraps: the local capture proxy of `mockado up` and the
sidecar-style example, both with the ext_proc capture filter and the collector cluster."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from control_plane.render.capture import (
    BLOCKING_MESSAGE_TIMEOUT_S,
    CaptureFilter,
    is_observability_mode,
    sample_matcher,
)
from control_plane.render.clusters import (
    check_port,
    collector_cluster,
    endpoint,
    system_ca_file,
    tls_socket,
)
from control_plane.render.environment import render_template
from control_plane.render.istio import (
    CaptureTarget,
    sidecar_target,
    target_capture_filter,
    workload_name,
)
from control_plane.render.matchers import route_matcher
from ext_proc_server.core.config import MockadoConfig
from ext_proc_server.core.errors import RenderError
from ext_proc_server.core.names import META_NAMESPACE, META_WORKLOAD

LOCAL_COLLECTOR_CLUSTER = "mockado_collector"
LOCAL_SAMPLE_RUNTIME_KEY = "mockado.capture.sample_percent"
# Status, then microseconds from the request's first byte in to the response's last byte
# out: the latency Envoy gives the client, without the client's own scheduling. Nothing
# from the request itself (path, query, headers) is logged, so no secret can be.
TIMING_LOG_FORMAT = "%RESPONSE_CODE% %COMMON_DURATION(DS_RX_BEG:DS_TX_END:us)%\n"
_UPSTREAM_PROTOCOL = {None: "downstream", True: "http2", False: "http1"}


@dataclass(frozen=True, kw_only=True)
class UpstreamService:
    """The real service behind the local proxy."""

    host: str
    port: int
    tls: bool = False
    # The CA that verifies a TLS upstream (default: the system bundle).
    ca_file: str | None = None
    timeout_s: float = 30.0
    # None speaks the client's protocol (HTTP/1.1 or h2c; TLS negotiates with ALPN);
    # False/True force HTTP/1.1 / HTTP/2 (cleartext).
    http2: bool | None = None


@dataclass(frozen=True, kw_only=True)
class LocalEnvoy:
    """The local capture proxy: where it listens, what it proxies, where it captures to.

    ``sample_percent`` (default 100) hashes x-request-id; ``exclude_paths`` (prefixes or
    ``re:REGEX``) get routes where ext_proc is disabled. ``capture_mode`` None is
    ``control_plane.collector.capture_mode``. ``timing_log_path``: a file with one line per
    request, its status and Envoy's own time for it (see ``TIMING_LOG_FORMAT``).
    """

    listen_port: int
    admin_port: int
    upstream: UpstreamService
    collector_port: int
    collector_host: str = "127.0.0.1"
    listen_host: str = "127.0.0.1"
    capture_mode: str | None = None
    sample_percent: float | None = None
    exclude_paths: Sequence[str] = ()
    timing_log_path: str | None = None


def render_envoy_bootstrap(
    *,
    description: Sequence[str],
    node: Mapping[str, str],
    listen: Mapping[str, Any],
    admin_port: int,
    upstream: Mapping[str, Any],
    collector: Mapping[str, Any],
    capture: CaptureFilter,
    excluded_routes: Sequence[Mapping[str, Any]] = (),
    max_downstream_connections: int = 10_000,
    timing_log_path: str | None = None,
) -> str:
    return render_template(
        "envoy/bootstrap.yaml.j2",
        description=list(description),
        node=dict(node),
        admin_port=check_port(admin_port),
        listen=dict(listen),
        upstream=dict(upstream),
        collector=dict(collector),
        capture_filter=capture,
        excluded_routes=list(excluded_routes),
        max_downstream_connections=max_downstream_connections,
        timing_log={"path": timing_log_path, "format": TIMING_LOG_FORMAT}
        if timing_log_path
        else None,
    )


def _upstream_cluster(upstream: UpstreamService) -> dict[str, Any]:
    out = endpoint(upstream.host, upstream.port)
    out.update(
        tls=upstream.tls,
        tls_socket=tls_socket(
            host=upstream.host, server_name=None, ca_file=upstream.ca_file or system_ca_file()
        )
        if upstream.tls
        else None,
        timeout_s=upstream.timeout_s,
        cluster_name="upstream",
        protocol=_UPSTREAM_PROTOCOL[upstream.http2],
    )
    return out


def _local_collector(config: MockadoConfig, envoy: LocalEnvoy) -> dict[str, Any]:
    # The local collector is this config's ext_proc server: TLS when it serves TLS,
    # trusting control_plane.collector.tls.ca_file, else its own (self-signed) certificate.
    collector_cfg = config.control_plane.collector
    server_tls = config.collector.tls
    return collector_cluster(
        collector_cfg,
        cluster_name=LOCAL_COLLECTOR_CLUSTER,
        host=envoy.collector_host,
        port=envoy.collector_port,
        tls=collector_cfg.tls.model_copy(update={"enabled": True}) if server_tls.enabled else None,
        trusted_ca_file=server_tls.cert_file,
    )


def render_local_envoy(config: MockadoConfig, envoy: LocalEnvoy) -> str:
    """A standalone Envoy bootstrap: listener -> upstream, with ext_proc capture to the collector.

    An unreachable collector is skipped while ``control_plane.collector.failure_mode_allow``
    is true (the default): traffic flows unchanged.
    """
    collector_cfg = config.control_plane.collector
    percent = 100.0 if envoy.sample_percent is None else float(envoy.sample_percent)
    observability = is_observability_mode(collector_cfg, envoy.capture_mode)
    upstream = _upstream_cluster(envoy.upstream)
    collector = _local_collector(config, envoy)
    capture = CaptureFilter(
        cluster_name=LOCAL_COLLECTOR_CLUSTER,
        authority=envoy.collector_host,
        observability=observability,
        failure_mode_allow=collector_cfg.failure_mode_allow,
        deferred_close_timeout_s=collector_cfg.deferred_close_timeout_s,
        message_timeout_s=BLOCKING_MESSAGE_TIMEOUT_S,
        initial_metadata=((META_NAMESPACE, "local"), (META_WORKLOAD, "mockado-up")),
        sample=sample_matcher(percent, LOCAL_SAMPLE_RUNTIME_KEY),
    )
    excluded_routes = [route_matcher(p) for p in envoy.exclude_paths]
    return render_envoy_bootstrap(
        description=("Local capture proxy for `mockado up`.",),
        node={
            "id": "mockado-local",
            "cluster": "mockado-local",
            "namespace": "local",
            "workload": "mockado-up",
        },
        admin_port=envoy.admin_port,
        listen={
            "name": "mockado_ingress",
            "host": envoy.listen_host,
            "port": check_port(envoy.listen_port),
        },
        upstream=upstream,
        collector=collector,
        capture=capture,
        excluded_routes=excluded_routes,
        timing_log_path=envoy.timing_log_path,
    )


def _sidecar_description(target: CaptureTarget) -> tuple[str, ...]:
    settings_name = (
        "control_plane.global" if target.is_global else f"control_plane.namespaces.{target.key}"
    )
    return (
        f"Sidecar-style example (VMs, docker) with the settings of {settings_name}:",
        "the capture filter and the collector cluster are the ones the Istio EnvoyFilter",
        "installs; point the collector cluster at your collector.",
        "Run next to the app: envoy -c sidecar-example.yaml",
    )


def _sidecar_node(target: CaptureTarget, app_host: str, cluster_domain: str) -> dict[str, str]:
    pod_ns = "default" if target.is_global else target.namespace
    workload = workload_name(target.settings.workload_selector) or "example"
    return {
        # As Istio names a sidecar: its DNS domain last.
        "id": f"sidecar~{app_host}~{workload}.{pod_ns}~{pod_ns}.svc.{cluster_domain}",
        "cluster": f"{workload}.{pod_ns}",
        "namespace": pod_ns,
        "workload": workload,
    }


def render_sidecar_envoy(
    config: MockadoConfig,
    *,
    namespace: str | None = None,
    listen_host: str = "0.0.0.0",
    listen_port: int = 15006,
    admin_port: int = 15000,
    app_host: str = "127.0.0.1",
    app_port: int = 8080,
    collector_host: str | None = None,
    collector_port: int | None = None,
    direction: str = "inbound",
) -> str:
    """A sidecar-style bootstrap (VMs, docker): the same capture filter and collector cluster
    name an EnvoyFilter gives an Istio sidecar, in front of a local app.

    ``namespace`` picks the settings (default: control_plane.global's, enabled or not).
    The collector cluster keeps its Istio name; ``collector_host``/``collector_port`` only
    change where it points (default: the configured collector service).
    """
    cp = config.control_plane
    target = sidecar_target(cp, namespace)
    context = {"inbound": "SIDECAR_INBOUND", "outbound": "SIDECAR_OUTBOUND"}.get(direction)
    if context is None:
        raise RenderError("sidecar direction: must be 'inbound' or 'outbound'")
    capture = target_capture_filter(cp, target, context=context)
    collector = collector_cluster(
        cp.collector,
        cluster_name=capture.cluster_name,
        host=collector_host or cp.collector.host,
        port=collector_port or cp.collector.port,
        tls=cp.collector.tls,
        server_name=cp.collector.host,
    )
    upstream = endpoint(app_host, app_port)
    upstream.update(
        cluster_name=f"inbound|{app_port}||",
        tls=False,
        tls_socket=None,
        timeout_s=30.0,
        protocol="downstream",
    )
    return render_envoy_bootstrap(
        description=_sidecar_description(target),
        node=_sidecar_node(target, app_host, config.collector.cluster_domain),
        listen={"name": "mockado_sidecar", "host": listen_host, "port": check_port(listen_port)},
        admin_port=admin_port,
        upstream=upstream,
        collector=collector,
        capture=capture,
    )
