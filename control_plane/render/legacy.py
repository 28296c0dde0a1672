"""Render Envoy bootstraps, Istio EnvoyFilters and Kubernetes manifests from Jinja templates.

Every file comes from a template under ``control_plane/templates/`` rendered with
StrictUndefined, so a missing value is an error, never an empty string. Python only
computes the values (cluster names, matchers, percentages); the YAML shape lives in
the templates.

The collector learns who it is capturing from three gRPC initial-metadata headers
(constants below), sent on every ext_proc stream.
"""

from __future__ import annotations

import fnmatch
import hashlib
import ipaddress
import json
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import jinja2
import yaml

from control_plane.assets import REPO_ROOT, TEMPLATES_DIR, WIREMOCK_LAUNCHER
from ext_proc_server.core.config import (
    COLLECTOR_STREAMS_PER_CONNECTION,
    CollectorService,
    ControlPlaneConfig,
    MockadoConfig,
    NamespaceConfig,
    TLSClient,
    redact_url,
)
from ext_proc_server.core.errors import RenderError
from ext_proc_server.core.names import (
    EXT_PROC_FILTER_NAME,
    META_BODY_LIMIT,
    META_NAMESPACE,
    META_WORKLOAD,
    REQUEST_ATTRIBUTES,
)

ENVOY_VERSION = "1.40"
EXT_PROC_STAT_PREFIX = "mockado"
LOCAL_COLLECTOR_CLUSTER = "mockado_collector"
LOCAL_SAMPLE_RUNTIME_KEY = "mockado.capture.sample_percent"
# Blocking mode waits at most this long per message, then fails open.
BLOCKING_MESSAGE_TIMEOUT_S = 0.2
MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "mockado"
MANAGED_MARKER = f"{MANAGED_BY_LABEL}: {MANAGED_BY_VALUE}"

SYSTEM_CA_FILES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/cert.pem",
)


# --------------------------------------------------------------------------- jinja


def _duration(seconds: float) -> str:
    """0.25 -> "0.25s", 1.0 -> "1s" (protobuf Duration JSON form)."""
    text = f"{float(seconds):.9f}".rstrip("0").rstrip(".")
    return f"{text}s"


def _quote(value: object) -> str:
    # A JSON string is a valid double-quoted YAML scalar, whatever it contains.
    return json.dumps(str(value), ensure_ascii=True)


def _yaml_bool(value: object) -> str:
    if not isinstance(value, bool):
        raise RenderError("template: yaml_bool expects a boolean")
    return "true" if value else "false"


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES_DIR)),
        undefined=jinja2.StrictUndefined,
        autoescape=False,  # noqa: S701 - YAML output, values are quoted with |q
        keep_trailing_newline=True,
        trim_blocks=False,
        lstrip_blocks=False,
    )
    env.filters["q"] = _quote
    env.filters["duration"] = _duration
    env.filters["yaml_bool"] = _yaml_bool
    return env


def render_template(name: str, /, **context: Any) -> str:
    """Render one template; undefined values and template errors become RenderError."""
    try:
        template = _environment().get_template(name)
        text = template.render(template_name=name, envoy_version=ENVOY_VERSION, **context)
    except jinja2.TemplateError as exc:
        raise RenderError(f"{name}: {exc.__class__.__name__}: {exc.message}") from exc
    text = "\n".join(line.rstrip() for line in text.splitlines()) + "\n"
    try:
        list(yaml.safe_load_all(text))
    except yaml.YAMLError as exc:
        raise RenderError(f"{name}: rendered output is not valid YAML") from exc
    return text


# --------------------------------------------------------------------------- matchers


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _glob_to_regex(pattern: str) -> str:
    out = []
    for char in pattern:
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        else:
            out.append(re.escape(char))
    return "".join(out)


def host_matcher(pattern: str) -> dict[str, Any]:
    """A host filter -> StringMatcher on :authority (any port, case-insensitive).

    ``re:REGEX`` is an RE2 regex; otherwise ``*`` and ``?`` are globs.
    """
    if not pattern:
        raise RenderError("host filter: empty pattern")
    body = pattern[3:] if pattern.startswith("re:") else _glob_to_regex(pattern)
    _check_regex(body, what="host filter")
    return {"kind": "safe_regex", "value": f"(?i)(?:{body})(?::[0-9]+)?"}


def path_matcher(pattern: str) -> dict[str, Any]:
    """A path filter -> StringMatcher on :path. A prefix, or ``re:REGEX``.

    Envoy regexes (RE2) must match the whole path; the query string is allowed after it.
    """
    if pattern.startswith("re:"):
        body = pattern[3:]
        _check_regex(body, what="path filter")
        return {"kind": "safe_regex", "value": f"(?:{body})(?:\\?.*)?"}
    if not pattern.startswith("/"):
        raise RenderError("path filter: a prefix must start with '/' (or use 're:')")
    return {"kind": "prefix", "value": pattern}


def _check_regex(body: str, *, what: str) -> None:
    try:
        re.compile(body)
    except re.error as exc:
        raise RenderError(f"{what}: invalid regex ({exc.msg})") from exc


def sample_fraction(percent: float) -> dict[str, Any]:
    """A FractionalPercent for ``percent``: HUNDRED when whole, else MILLION."""
    if not 0 <= percent <= 100:
        raise RenderError("sample_percent: must be between 0 and 100")
    if float(percent).is_integer():
        return {"numerator": int(percent), "denominator": "HUNDRED", "percent": _pct(percent)}
    return {
        "numerator": round(percent * 10_000),
        "denominator": "MILLION",
        "percent": _pct(percent),
    }


def _pct(percent: float) -> str:
    return f"{percent:g}"


# --------------------------------------------------------------------------- capture spec


@dataclass(frozen=True)
class SkipRule:
    comment: str
    header: str
    patterns: tuple[dict[str, Any], ...]
    # negate: skip when the request matches NONE of the patterns (include lists).
    negate: bool = False


@dataclass(frozen=True)
class CaptureFilter:
    """Everything the ext_proc snippet in _capture.j2 needs."""

    cluster_name: str
    authority: str
    observability: bool
    failure_mode_allow: bool
    deferred_close_timeout_s: float
    message_timeout_s: float
    initial_metadata: tuple[tuple[str, str], ...]
    rules: tuple[SkipRule, ...] = ()
    sample: dict[str, Any] | None = None
    request_attributes: tuple[str, ...] = REQUEST_ATTRIBUTES
    filter_name: str = EXT_PROC_FILTER_NAME
    stat_prefix: str = EXT_PROC_STAT_PREFIX


def _skip_rules(
    *,
    include_hosts: Sequence[str] = (),
    exclude_hosts: Sequence[str] = (),
    include_paths: Sequence[str] = (),
    exclude_paths: Sequence[str] = (),
) -> tuple[SkipRule, ...]:
    rules: list[SkipRule] = []
    if exclude_paths:
        rules.append(
            SkipRule(
                "Excluded paths are never captured.",
                ":path",
                tuple(path_matcher(p) for p in exclude_paths),
            )
        )
    if exclude_hosts:
        rules.append(
            SkipRule(
                "Excluded hosts are never captured.",
                ":authority",
                tuple(host_matcher(h) for h in exclude_hosts),
            )
        )
    if include_paths:
        rules.append(
            SkipRule(
                "Only listed paths are captured.",
                ":path",
                tuple(path_matcher(p) for p in include_paths),
                negate=True,
            )
        )
    if include_hosts:
        rules.append(
            SkipRule(
                "Only listed hosts are captured.",
                ":authority",
                tuple(host_matcher(h) for h in include_hosts),
                negate=True,
            )
        )
    return tuple(rules)


def _sample(percent: float, runtime_key: str) -> dict[str, Any] | None:
    fraction = sample_fraction(percent)
    if percent == 100:
        return None  # no matcher: every request is captured
    return {**fraction, "runtime_key": runtime_key}


def _mode_is_observability(collector: CollectorService, capture_mode: str | None) -> bool:
    mode = capture_mode or collector.capture_mode
    if mode not in ("observability", "blocking"):
        raise RenderError("capture_mode: must be 'observability' or 'blocking'")
    return mode == "observability"


def _system_ca_file() -> str:
    for candidate in SYSTEM_CA_FILES:
        if Path(candidate).is_file():
            return candidate
    raise RenderError(
        "upstream TLS: no system CA bundle found; pass upstream_ca_file to verify the upstream"
    )


def _endpoint(host: str, port: int) -> dict[str, Any]:
    if not host:
        raise RenderError("endpoint: empty host")
    if not 1 <= port <= 65535:
        raise RenderError("endpoint: port out of range")
    return {"host": host, "port": port, "discovery": "STATIC" if _is_ip(host) else "LOGICAL_DNS"}


# --------------------------------------------------------------------------- local envoy


def render_local_envoy(
    config: MockadoConfig,
    *,
    listen_port: int,
    admin_port: int,
    upstream_host: str,
    upstream_port: int,
    upstream_tls: bool = False,
    ext_proc_host: str = "127.0.0.1",
    ext_proc_port: int,
    capture_mode: str | None = None,
    sample_percent: float | None = None,
    exclude_paths: Sequence[str] = (),
    upstream_ca_file: str | None = None,
    listen_host: str = "127.0.0.1",
    upstream_timeout_s: float = 30.0,
    upstream_http2: bool | None = None,
    timing_log_path: str | None = None,
) -> str:
    """A standalone Envoy bootstrap: listener -> upstream, with ext_proc capture to the collector.

    Sampling (``sample_percent`` < 100) hashes x-request-id; ``exclude_paths`` (prefixes or
    ``re:REGEX``) get routes where ext_proc is disabled. ``upstream_http2`` None speaks the
    client's protocol to the upstream; False/True force HTTP/1.1 / HTTP/2 (cleartext).
    An unreachable collector is skipped while ``control_plane.collector.failure_mode_allow``
    is true (the default): traffic flows unchanged. ``timing_log_path``: a file with one
    line per request, its status and Envoy's own time for it (see ``TIMING_LOG_FORMAT``).
    """
    collector_cfg = config.control_plane.collector
    percent = 100.0 if sample_percent is None else float(sample_percent)
    observability = _mode_is_observability(collector_cfg, capture_mode)
    upstream = _endpoint(upstream_host, upstream_port)
    upstream.update(
        tls=upstream_tls,
        tls_socket=_tls_socket(
            host=upstream_host, server_name=None, ca_file=upstream_ca_file or _system_ca_file()
        )
        if upstream_tls
        else None,
        timeout_s=upstream_timeout_s,
        cluster_name="upstream",
        # None: the client's protocol (HTTP/1.1 or h2c); TLS upstreams negotiate with ALPN.
        protocol={None: "downstream", True: "http2", False: "http1"}[upstream_http2],
    )
    # The local collector is this config's ext_proc server: TLS when it serves TLS,
    # trusting control_plane.collector.tls.ca_file, else its own (self-signed) certificate.
    server_tls = config.collector.tls
    collector = _collector_cluster(
        collector_cfg,
        cluster_name=LOCAL_COLLECTOR_CLUSTER,
        host=ext_proc_host,
        port=ext_proc_port,
        tls=collector_cfg.tls.model_copy(update={"enabled": True}) if server_tls.enabled else None,
        trusted_ca_file=server_tls.cert_file,
    )
    capture = CaptureFilter(
        cluster_name=LOCAL_COLLECTOR_CLUSTER,
        authority=ext_proc_host,
        observability=observability,
        failure_mode_allow=collector_cfg.failure_mode_allow,
        deferred_close_timeout_s=collector_cfg.deferred_close_timeout_s,
        message_timeout_s=BLOCKING_MESSAGE_TIMEOUT_S,
        initial_metadata=((META_NAMESPACE, "local"), (META_WORKLOAD, "mockado-up")),
        sample=_sample(percent, LOCAL_SAMPLE_RUNTIME_KEY),
    )
    excluded_routes = [_route_matcher(p) for p in exclude_paths]
    return render_envoy_bootstrap(
        description=("Local capture proxy for `mockado up`.",),
        node={
            "id": "mockado-local",
            "cluster": "mockado-local",
            "namespace": "local",
            "workload": "mockado-up",
        },
        admin_port=admin_port,
        listen={"name": "mockado_ingress", "host": listen_host, "port": _port(listen_port)},
        upstream=upstream,
        collector=collector,
        capture=capture,
        excluded_routes=excluded_routes,
        timing_log_path=timing_log_path,
    )


# Status, then microseconds from the request's first byte in to the response's last byte
# out: the latency Envoy gives the client, without the client's own scheduling. Nothing
# from the request itself (path, query, headers) is logged, so no secret can be.
TIMING_LOG_FORMAT = "%RESPONSE_CODE% %COMMON_DURATION(DS_RX_BEG:DS_TX_END:us)%\n"


def _port(port: int) -> int:
    if not 0 <= port <= 65535:
        raise RenderError("port out of range")
    return port


def _route_matcher(pattern: str) -> dict[str, Any]:
    """An excluded path as a route match: prefix, or an RE2 regex on the path (no query)."""
    if pattern.startswith("re:"):
        _check_regex(pattern[3:], what="path filter")
        return {"kind": "safe_regex", "value": pattern[3:]}
    return path_matcher(pattern)


def _tls_socket(
    *,
    host: str,
    server_name: str | None,
    ca_file: str | None,
    cert_file: str | None = None,
    key_file: str | None = None,
) -> dict[str, Any]:
    """Values of the upstream TLS snippet. ``ca_file`` None means: do not verify."""
    name = server_name or host
    return {
        "sni": None if _is_ip(name) else name,
        "ca_file": ca_file,
        "san_type": "IP_ADDRESS" if _is_ip(name) else "DNS",
        "san": name,
        "cert_file": cert_file,
        "key_file": key_file,
    }


def _collector_cluster(
    collector: CollectorService,
    *,
    cluster_name: str,
    host: str,
    port: int,
    tls: TLSClient | None,
    server_name: str | None = None,
    trusted_ca_file: str | None = None,
) -> dict[str, Any]:
    """The ext_proc cluster: HTTP/2, fast connect timeout, circuit breakers, optional TLS."""
    out = _endpoint(host, port)
    out.update(
        cluster_name=cluster_name,
        max_requests=collector.max_requests,
        max_connections=max(1, min(collector.max_requests, 1024)),
        streams_per_connection=COLLECTOR_STREAMS_PER_CONNECTION,
        tls=bool(tls and tls.enabled),
        tls_socket=None,
    )
    if tls and tls.enabled:
        ca_file = None
        if tls.verify:
            ca_file = tls.ca_file or trusted_ca_file or _system_ca_file()
        out["tls_socket"] = _tls_socket(
            host=host,
            server_name=server_name,
            ca_file=ca_file,
            cert_file=tls.cert_file,
            key_file=tls.key_file,
        )
    return out


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
        admin_port=_port(admin_port),
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


# --------------------------------------------------------------------------- istio targets

_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_CONTEXTS = {
    "inbound": ("SIDECAR_INBOUND",),
    "outbound": ("SIDECAR_OUTBOUND",),
    "both": ("SIDECAR_INBOUND", "SIDECAR_OUTBOUND"),
}
_DIRECTION_OF_CONTEXT = {"SIDECAR_INBOUND": "inbound", "SIDECAR_OUTBOUND": "outbound"}
# Extra initial metadata: which side of the call a stream was captured on ("both").
HEADER_DIRECTION = "x-mockado-direction"
MANAGED_LABELS = f"{MANAGED_MARKER}\napp.kubernetes.io/part-of: mockado"


@dataclass(frozen=True)
class CaptureTarget:
    """One enabled capture scope: a namespace, or the mesh (global mode, root namespace)."""

    key: str
    namespace: str
    settings: NamespaceConfig
    is_global: bool

    @property
    def contexts(self) -> tuple[str, ...]:
        return _CONTEXTS[self.settings.direction]

    @property
    def scope(self) -> str:
        if self.is_global:
            return f"the whole mesh (global mode, root namespace {self.namespace})"
        return f"namespace {self.namespace}"

    @property
    def runtime_key(self) -> str:
        return f"mockado.capture.{'global' if self.is_global else self.namespace}.sample_percent"


def _check_namespace(name: str, *, key: str) -> str:
    # Namespace names become directory names: only DNS labels, never "../x".
    if len(name) > 63 or not _DNS_LABEL.match(name):
        raise RenderError(f"{key}: not a valid Kubernetes namespace name")
    return name


def capture_targets(cp: ControlPlaneConfig) -> list[CaptureTarget]:
    """The enabled scopes, sorted; global mode and enabled namespaces are exclusive."""
    _check_namespace(cp.root_namespace, key="control_plane.root_namespace")
    _check_namespace(cp.mockado_namespace, key="control_plane.mockado_namespace")
    for name in cp.namespaces:
        _check_namespace(name, key=f"control_plane.namespaces.{name}")
    enabled = sorted(name for name, ns in cp.namespaces.items() if ns.enabled)
    if cp.global_.enabled:
        if enabled:
            # A root-namespace filter already applies to every namespace: both would
            # insert two capture filters into the same sidecars.
            raise RenderError(
                "control_plane.global.enabled: also enabled namespaces "
                f"({', '.join(enabled)}) would be captured twice; disable one of them"
            )
        return [CaptureTarget("global", cp.root_namespace, cp.global_, is_global=True)]
    return [CaptureTarget(n, n, cp.namespaces[n], is_global=False) for n in enabled]


def istio_cluster_name(collector: CollectorService) -> str:
    """The collector's outbound cluster as Istio names it."""
    if "." not in collector.host:
        raise RenderError(
            "control_plane.collector.host: use the service's full name "
            "(e.g. mockado-collector.mockado.svc.cluster.local)"
        )
    return f"outbound|{collector.port}||{collector.host}"


def workload_name(selector: Mapping[str, str]) -> str | None:
    """A readable name for a workload selector: its app label, else the sorted labels."""
    for key in ("app", "app.kubernetes.io/name"):
        if selector.get(key):
            return selector[key]
    if not selector:
        return None
    return ",".join(f"{k}={v}" for k, v in sorted(selector.items()))


def target_capture_filter(
    cp: ControlPlaneConfig, target: CaptureTarget, *, context: str
) -> CaptureFilter:
    settings = target.settings
    metadata: list[tuple[str, str]] = []
    if not target.is_global:
        # Global mode spans namespaces: the collector reads xds.node.metadata.NAMESPACE.
        metadata.append((META_NAMESPACE, target.namespace))
    workload = workload_name(settings.workload_selector)
    if workload:
        metadata.append((META_WORKLOAD, workload))
    metadata.append((META_BODY_LIMIT, str(settings.body_limit_bytes)))
    metadata.append((HEADER_DIRECTION, _DIRECTION_OF_CONTEXT[context]))
    return CaptureFilter(
        cluster_name=istio_cluster_name(cp.collector),
        authority=cp.collector.host,
        observability=_mode_is_observability(cp.collector, None),
        failure_mode_allow=cp.collector.failure_mode_allow,
        deferred_close_timeout_s=cp.collector.deferred_close_timeout_s,
        message_timeout_s=BLOCKING_MESSAGE_TIMEOUT_S,
        initial_metadata=tuple(metadata),
        rules=_skip_rules(
            include_hosts=settings.include_hosts,
            exclude_hosts=settings.exclude_hosts,
            include_paths=settings.include_paths,
            exclude_paths=settings.exclude_paths,
        ),
        sample=_sample(settings.sample_percent, target.runtime_key),
    )


def _collector_limits(collector: CollectorService) -> dict[str, Any]:
    return {
        "cluster_name": istio_cluster_name(collector),
        "max_requests": collector.max_requests,
        "max_connections": max(1, min(collector.max_requests, 1024)),
        "streams_per_connection": COLLECTOR_STREAMS_PER_CONNECTION,
    }


def _common(cp: ControlPlaneConfig) -> dict[str, Any]:
    return {"managed_marker": MANAGED_MARKER, "labels": MANAGED_LABELS}


def _destination_rule_path(cp: ControlPlaneConfig) -> str:
    return f"istio/{cp.mockado_namespace}/destinationrule-collector.yaml"


def render_envoyfilter_capture(cp: ControlPlaneConfig, target: CaptureTarget) -> str:
    settings = target.settings
    notes = []
    if settings.include_hosts or settings.exclude_hosts:
        notes.append("Host filters match :authority (any port, case-insensitive).")
    if settings.sample_percent < 100:
        notes.append(
            f"Sampling is adjustable per proxy at runtime: POST /runtime_modify?"
            f"{target.runtime_key}=<integer percent> on the sidecar admin port (15000)."
        )
    return render_template(
        "istio/envoyfilter-capture.yaml.j2",
        **_common(cp),
        scope=target.scope,
        namespace=target.namespace,
        contexts=list(target.contexts),
        both_directions=settings.direction == "both",
        sample_percent=_pct(settings.sample_percent),
        notes=notes,
        destination_rule_path=_destination_rule_path(cp),
        workload_selector=dict(sorted(settings.workload_selector.items())),
        patches=[
            {"context": c, "capture": target_capture_filter(cp, target, context=c)}
            for c in target.contexts
        ],
    )


def render_envoyfilter_tap(cp: ControlPlaneConfig, target: CaptureTarget) -> str:
    return render_template(
        "istio/envoyfilter-tap.yaml.j2",
        **_common(cp),
        scope=target.scope,
        namespace=target.namespace,
        contexts=list(target.contexts),
        config_id=f"mockado-tap-{target.key}",
        workload_selector=dict(sorted(target.settings.workload_selector.items())),
    )


def render_collector_network_policy(cp: ControlPlaneConfig, target: CaptureTarget) -> str:
    return render_template(
        "istio/networkpolicy-collector.yaml.j2",
        **_common(cp),
        scope=target.scope,
        name=f"mockado-collector-from-{target.key}",
        mockado_namespace=cp.mockado_namespace,
        source_namespace=None if target.is_global else target.namespace,
    )


def render_destination_rule(cp: ControlPlaneConfig) -> str:
    limits = _collector_limits(cp.collector)
    return render_template(
        "istio/destinationrule-collector.yaml.j2",
        **_common(cp),
        namespace=cp.mockado_namespace,
        host=cp.collector.host,
        tls=cp.collector.tls,
        **limits,
    )


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
    target = _pick_target(cp, namespace)
    context = {"inbound": "SIDECAR_INBOUND", "outbound": "SIDECAR_OUTBOUND"}.get(direction)
    if context is None:
        raise RenderError("sidecar direction: must be 'inbound' or 'outbound'")
    capture = target_capture_filter(cp, target, context=context)
    collector = _collector_cluster(
        cp.collector,
        cluster_name=capture.cluster_name,
        host=collector_host or cp.collector.host,
        port=collector_port or cp.collector.port,
        tls=cp.collector.tls,
        server_name=cp.collector.host,
    )
    pod_ns = "default" if target.is_global else target.namespace
    settings_name = (
        "control_plane.global" if target.is_global else f"control_plane.namespaces.{target.key}"
    )
    workload = workload_name(target.settings.workload_selector) or "example"
    upstream = _endpoint(app_host, app_port)
    upstream.update(
        cluster_name=f"inbound|{app_port}||",
        tls=False,
        tls_socket=None,
        timeout_s=30.0,
        protocol="downstream",
    )
    return render_envoy_bootstrap(
        description=(
            f"Sidecar-style example (VMs, docker) with the settings of {settings_name}:",
            "the capture filter and the collector cluster are the ones the Istio EnvoyFilter",
            "installs; point the collector cluster at your collector.",
            "Run next to the app: envoy -c sidecar-example.yaml",
        ),
        node={
            "id": f"sidecar~{app_host}~{workload}.{pod_ns}~{pod_ns}.svc.cluster.local",
            "cluster": f"{workload}.{pod_ns}",
            "namespace": pod_ns,
            "workload": workload,
        },
        listen={"name": "mockado_sidecar", "host": listen_host, "port": _port(listen_port)},
        admin_port=admin_port,
        upstream=upstream,
        collector=collector,
        capture=capture,
    )


def _pick_target(cp: ControlPlaneConfig, namespace: str | None) -> CaptureTarget:
    if namespace is None:
        # The mesh-wide settings, so the example does not change when a namespace is toggled.
        return CaptureTarget("global", "default", cp.global_, is_global=True)
    settings = cp.namespaces.get(namespace)
    if settings is None:
        raise RenderError(f"control_plane.namespaces.{namespace}: not configured")
    if not settings.enabled:
        raise RenderError(f"control_plane.namespaces.{namespace}: capture is disabled")
    _check_namespace(namespace, key=f"control_plane.namespaces.{namespace}")
    return CaptureTarget(namespace, namespace, settings, is_global=False)


# --------------------------------------------------------------------------- serving: shards

DEFAULT_SHARD = "default"
WIREMOCK_SERVICE = "mockado-wiremock"
WIREMOCK_PORT = 8080
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


def shard_services(config: MockadoConfig) -> list[ShardService]:
    """The default shard first, then one per ``serving.shard_groups`` group, in config order."""
    cp = config.control_plane
    out = [_shard_service(cp, DEFAULT_SHARD, WIREMOCK_SERVICE, ())]
    owner: dict[str, str] = {}
    for group, patterns in config.serving.shard_groups.items():
        key = f"serving.shard_groups.{group}"
        if group == DEFAULT_SHARD:
            raise RenderError(f"{key}: 'default' is the shard of hosts no group claims")
        if len(group) > _MAX_GROUP_NAME or not _DNS_LABEL.match(group):
            raise RenderError(
                f"{key}: group names are lowercase DNS labels of at most "
                f"{_MAX_GROUP_NAME} characters (they name a Kubernetes Service)"
            )
        if not patterns:
            raise RenderError(f"{key}: list at least one host pattern")
        for pattern in patterns:
            if not pattern.strip():
                raise RenderError(f"{key}: empty host pattern")
            lowered = pattern.lower()
            if lowered in owner:
                raise RenderError(
                    f"{key}: a host pattern is also listed by group {owner[lowered]} "
                    "(the first one would take every mapping)"
                )
            owner[lowered] = group
        out.append(_shard_service(cp, group, f"{WIREMOCK_SERVICE}-{group}", tuple(patterns)))
    return out


def _shard_service(
    cp: ControlPlaneConfig, group: str, service: str, patterns: tuple[str, ...]
) -> ShardService:
    host = f"{service}.{cp.mockado_namespace}.svc.cluster.local"
    return ShardService(group=group, service=service, host=host, patterns=patterns)


def shard_for_host(host: str, shards: Sequence[ShardService]) -> ShardService:
    """The shard serving ``host``: the loader's rule, the first matching fnmatch pattern
    (case-insensitive, in shard_groups order), else the default shard (``shards[0]``)."""
    lowered = host.lower()
    for shard in shards[1:]:
        if any(fnmatch.fnmatchcase(lowered, p.lower()) for p in shard.patterns):
            return shard
    return shards[0]


def wiremock_heap_mb(config: MockadoConfig) -> int:
    """serving.heap_mb, else sized to the stub budget: loader.max_stubs/20 + 256 MB
    (256..2048), the same default `mockado up` uses."""
    if config.serving.heap_mb is not None:
        return config.serving.heap_mb
    return max(256, min(2048, config.loader.max_stubs // 20 + 256))


# --------------------------------------------------------------------------- canary routing

# A host name Istio can route: lowercase labels, at least one dot (Istio reads a short name
# relative to the VirtualService's namespace, which is rarely the service meant).
_HOST_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$")
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
    if cp.global_.canary is not None:
        raise RenderError(
            "control_plane.global.canary: canaries are per namespace "
            "(control_plane.namespaces.<name>.canary)"
        )
    shards = shard_services(config)
    out = []
    for namespace in sorted(cp.namespaces):
        canary = cp.namespaces[namespace].canary
        if canary is None:
            continue
        key = f"control_plane.namespaces.{namespace}.canary"
        _check_namespace(namespace, key=f"control_plane.namespaces.{namespace}")
        if not canary.workload_labels:
            raise RenderError(
                f"{key}.workload_labels: required; without labels every workload of the "
                "namespace would be sent to the mocks"
            )
        if not canary.hosts:
            raise RenderError(f"{key}.hosts: list at least one host to mock")
        routes: list[CanaryRoute] = []
        names: set[str] = set()
        for n, raw in enumerate(canary.hosts):
            host = raw.strip().lower()
            if not _HOST_NAME.match(host) or len(host) > 253:
                raise RenderError(
                    f"{key}.hosts[{n}]: not a full host name (no wildcard, no port, no short "
                    "name: e.g. payments.payments.svc.cluster.local)"
                )
            if any(r.host == host for r in routes):
                raise RenderError(f"{key}.hosts[{n}]: listed twice")
            name = _canary_name(host, taken=names)
            names.add(name)
            routes.append(CanaryRoute(host=host, name=name, shard=shard_for_host(host, shards)))
        out.append(
            Canary(
                namespace=namespace,
                workload_labels=dict(sorted(canary.workload_labels.items())),
                routes=tuple(routes),
            )
        )
    return out


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
        **_common(cp),
        namespace=canary.namespace,
        mockado_namespace=cp.mockado_namespace,
        workload_labels=canary.workload_labels,
        routes=list(canary.routes),
        wiremock_port=WIREMOCK_PORT,
    )


def render_wiremock_canary_network_policy(cp: ControlPlaneConfig, canary: Canary) -> str:
    return render_template(
        "istio/networkpolicy-wiremock-canary.yaml.j2",
        **_common(cp),
        name=f"mockado-wiremock-from-{canary.namespace}",
        namespace=canary.namespace,
        mockado_namespace=cp.mockado_namespace,
        workload_labels=canary.workload_labels,
        services=sorted({r.shard.service for r in canary.routes}),
    )


# --------------------------------------------------------------------------- local mock router

# Envoy picks a virtual host by domain: exact, then the longest "*suffix", then the longest
# "prefix*", then "*". The loader picks the FIRST matching pattern in config order. Domains
# are used only when both agree for every host; otherwise every pattern is an ordered
# :authority regex route, which is the loader's rule exactly.
_DOMAIN_RANK = {"exact": 0, "suffix": 1, "prefix": 2, "regex": 3}
MOCK_ROUTER_TIMEOUT_S = 300.0


@dataclass(frozen=True)
class _HostRule:
    order: int
    cluster: str
    kind: str  # exact | suffix | prefix | regex
    value: str  # the domain's fixed part, or the pattern for regex
    pattern: str


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


def glob_authority_regex(pattern: str) -> str:
    """An fnmatch pattern as an RE2 regex on :authority: case-insensitive, any port.

    ``*`` any text, ``?`` one character, ``[seq]``/``[!seq]`` a class, as fnmatch reads them.
    """
    p = pattern.lower()
    out, i = [], 0
    while i < len(p):
        char = p[i]
        i += 1
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[":
            j = i + 1 if p[i : i + 1] == "!" else i
            j = j + 1 if p[j : j + 1] == "]" else j
            j = p.find("]", j)
            if j < 0:
                out.append(re.escape(char))  # no closing bracket: a literal "["
                continue
            body, i = p[i:j], j + 1
            negate = body.startswith("!")
            body = (body[1:] if negate else body).replace("\\", "\\\\")
            body = body.replace("[", "\\[").replace("^", "\\^")
            out.append(f"[{'^' if negate else ''}{body}]")
        else:
            out.append(re.escape(char))
    body = "".join(out)
    _check_regex(body, what="host pattern")
    return f"(?i)(?:{body})(?::[0-9]+)?"


def _router_cluster(name: str) -> str:
    return "mock_shard_" + re.sub(r"[^A-Za-z0-9_.-]", "_", name)


def mock_router_plan(
    shards: Sequence[tuple[str, Sequence[str], int]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """-> (domain virtual hosts, ordered regex routes, shard clusters) for the mock router."""
    clusters: list[dict[str, Any]] = []
    rules: list[_HostRule] = []
    seen: set[tuple[str, str]] = set()
    order = 0
    for name, patterns, port in shards:
        cluster = _router_cluster(name)
        if any(c["name"] == cluster for c in clusters):
            raise RenderError(f"mock router: shard name {name!r} given twice")
        clusters.append({"name": cluster, "shard": name, "port": _port(port)})
        for pattern in patterns:
            if not pattern:
                raise RenderError(f"mock router: shard {name!r} has an empty host pattern")
            for rule in _glob_rules(pattern, order=order, cluster=cluster):
                # An identical earlier rule already wins for the loader and for Envoy.
                if (rule.kind, rule.value) not in seen:
                    seen.add((rule.kind, rule.value))
                    rules.append(rule)
            order += 1
    ordered = not _domains_agree(rules)
    if ordered:
        # Ordered regex routes for every pattern: the loader's first-match rule, exactly.
        rules = []
        order = 0
        for name, patterns, _port_number in shards:
            for pattern in patterns:
                rules.append(_HostRule(order, _router_cluster(name), "regex", pattern, pattern))
                order += 1
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
    regex_routes = [
        {
            "pattern": r.pattern,
            "regex": glob_authority_regex(r.pattern),
            "cluster": r.cluster,
            "shard": next(c["shard"] for c in clusters if c["name"] == r.cluster),
        }
        for r in sorted(rules, key=lambda r: r.order)
        if r.kind == "regex"
    ]
    return vhosts, regex_routes, clusters, ordered


def render_mock_router(
    config: MockadoConfig,
    *,
    listen_port: int,
    admin_port: int,
    shards: Sequence[tuple[str, Sequence[str], int]],
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
    vhosts, regex_routes, clusters, all_ordered = mock_router_plan(shards)
    return render_template(
        "envoy/mock-router.yaml.j2",
        listen_port=_port(listen_port),
        admin_port=_port(admin_port),
        virtual_hosts=vhosts,
        regex_routes=regex_routes,
        all_ordered=all_ordered,
        clusters=clusters,
        default_cluster={
            "name": "mock_default",
            "shard": DEFAULT_SHARD,
            "port": _port(default_port),
        },
        timeout_s=MOCK_ROUTER_TIMEOUT_S,
    )


# --------------------------------------------------------------------------- kubernetes

_SECRET_CONFIG_KEYS = (("collector", "pseudonym_key"),)
_URL_CONFIG_KEYS = (("collector", "redis_url"), ("loader", "redis_url"), ("loader", "wiremock_url"))
IN_CLUSTER_BACKUP_PATH = "/var/lib/mockado/backups"
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


def _service_url(cp: ControlPlaneConfig, name: str, scheme: str, port: int, suffix: str) -> str:
    return f"{scheme}://{name}.{cp.mockado_namespace}.svc.cluster.local:{port}{suffix}"


def _strip_userinfo(url: str) -> tuple[str, bool]:
    # user:password@ and a credential query (redis://host/0?password=...) both go.
    if redact_url(url) == url:
        return url, False
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2], query="")), True


def pod_config(config: MockadoConfig) -> tuple[dict[str, Any], list[str]]:
    """The mockado.yaml of the pods: no control_plane section, no secrets, in-cluster URLs.

    Returns (data, notes): notes name the keys that were changed, never their values.
    """
    cp = config.control_plane
    # Only keys the user set: the pods apply the same defaults, and the file stays short.
    data = config.model_dump(
        mode="json", by_alias=True, exclude={"control_plane"}, exclude_unset=True
    )
    for section in ("collector", "loader"):
        data.setdefault(section, {})
    notes: list[str] = []
    for section, key in _SECRET_CONFIG_KEYS:
        if data[section].pop(key, None) is not None:
            notes.append(f"{section}.{key}: removed (secret; set it in Secret mockado-env)")
    in_cluster = {
        ("collector", "redis_url"): _service_url(cp, "mockado-redis", "redis", 6379, "/0"),
        ("loader", "redis_url"): _service_url(cp, "mockado-redis", "redis", 6379, "/0"),
        ("loader", "wiremock_url"): _service_url(cp, "mockado-wiremock", "http", 8080, ""),
    }
    for section, key in _URL_CONFIG_KEYS:
        url = getattr(getattr(config, section), key)
        if urlsplit(url).hostname in _LOCAL_HOSTS:
            data[section][key] = in_cluster[(section, key)]
            notes.append(f"{section}.{key}: points at the in-cluster service")
            continue
        stripped, changed = _strip_userinfo(url)
        data[section][key] = stripped
        if changed:
            notes.append(
                f"{section}.{key}: credentials removed; set the full URL in Secret mockado-env "
                f"as MOCKADO_{section.upper()}__{key.upper()}"
            )
    groups = shard_services(config)[1:]
    if groups:
        if config.loader.shards:
            raise RenderError(
                "loader.shards: leave it empty when serving.shard_groups is set "
                "(render derives the routes to each group's WireMock Service)"
            )
        # Same order as shard_groups: the loader's first matching pattern wins.
        data["loader"]["shards"] = [
            {"host": pattern, "wiremock_url": shard.url}
            for shard in groups
            for pattern in shard.patterns
        ]
        notes.append("loader.shards: one route per serving.shard_groups pattern")
    for n, shard in enumerate(data["loader"].get("shards", [])):
        if urlsplit(shard["wiremock_url"]).hostname in _LOCAL_HOSTS:
            raise RenderError(
                f"loader.shards[{n}].wiremock_url: points at this machine; in Kubernetes "
                "use serving.shard_groups (one WireMock Deployment per group)"
            )
        shard["wiremock_url"], changed = _strip_userinfo(shard["wiremock_url"])
        if changed:
            notes.append("loader.shards[].wiremock_url: credentials removed")
    webhook = config.serving.unmatched_webhook_url
    if webhook is None or urlsplit(webhook).hostname in _LOCAL_HOSTS:
        serving = data.setdefault("serving", {})
        serving["unmatched_webhook_url"] = _service_url(
            cp, "mockado-loader", "http", config.loader.http_port, "/unmatched"
        )
        notes.append("serving.unmatched_webhook_url: the loader Service's /unmatched")
    data["loader"]["backup_path"] = IN_CLUSTER_BACKUP_PATH
    return data, notes


def _wiremock_memory(heap_mb: int) -> tuple[int, int]:
    # JVM overhead (metaspace, threads, buffers) on top of the heap.
    return heap_mb + 128, heap_mb + max(256, heap_mb // 2)


def _redis_limit_mi(maxmemory: str) -> int:
    number, unit = int(maxmemory[:-2]), maxmemory[-2:]
    mib = {"kb": number / 1024, "mb": number * 1.0, "gb": number * 1024.0}[unit]
    return int(mib * 1.5) + 64


def render_k8s_manifests(config: MockadoConfig) -> dict[str, str]:
    cp, serving = config.control_plane, config.serving
    if config.collector.grpc_port == 0 or config.collector.http_port == 0:
        raise RenderError("collector.grpc_port/http_port: a fixed port is needed in Kubernetes")
    if config.loader.http_port == 0:
        raise RenderError("loader.http_port: a fixed port is needed in Kubernetes")
    common = {"managed_marker": MANAGED_MARKER, "namespace": cp.mockado_namespace}
    data, notes = pod_config(config)
    heap_mb = wiremock_heap_mb(config)
    memory_request_mi, memory_limit_mi = _wiremock_memory(heap_mb)
    service_name, _, _ = cp.collector.host.partition(".")
    return {
        "deploy/namespace.yaml": render_template("k8s/namespace.yaml.j2", **common),
        "deploy/configmap.yaml": render_template(
            "k8s/configmap.yaml.j2",
            **common,
            notes=notes,
            config_yaml=yaml.safe_dump(data, sort_keys=False, default_flow_style=False),
        ),
        "deploy/collector.yaml": render_template(
            "k8s/collector.yaml.j2",
            **common,
            image=cp.image,
            grpc_port=config.collector.grpc_port,
            http_port=config.collector.http_port,
            service_name=service_name,
            service_port=cp.collector.port,
        ),
        "deploy/loader.yaml": render_template(
            "k8s/loader.yaml.j2",
            **common,
            image=cp.image,
            http_port=config.loader.http_port,
            backup_path=IN_CLUSTER_BACKUP_PATH,
        ),
        "deploy/wiremock.yaml": render_template(
            "k8s/wiremock.yaml.j2",
            **common,
            image=serving.wiremock_image,
            jar_path=serving.wiremock_jar_path,
            indexed=serving.indexed_stubs,
            jdk_image=serving.jdk_image,
            launcher_name=WIREMOCK_LAUNCHER.name,
            launcher_source=WIREMOCK_LAUNCHER.read_text(encoding="utf-8")
            if serving.indexed_stubs
            else "",
            shards=shard_services(config),
            heap_mb=heap_mb,
            max_stubs=config.loader.max_stubs,
            heap_is_default=serving.heap_mb is None,
            journal_entries=serving.max_request_journal_entries,
            memory_request_mi=memory_request_mi,
            memory_limit_mi=memory_limit_mi,
        ),
        "deploy/redis.yaml": render_template(
            "k8s/redis.yaml.j2",
            **common,
            image=cp.redis_image,
            maxmemory=cp.redis_maxmemory,
            memory_limit_mi=_redis_limit_mi(cp.redis_maxmemory),
        ),
        "deploy/networkpolicies.yaml": render_template(
            "k8s/networkpolicies.yaml.j2",
            **common,
            collector_http_port=config.collector.http_port,
            loader_http_port=config.loader.http_port,
        ),
    }


# --------------------------------------------------------------------------- everything

LOCAL_DEFAULTS = {
    "listen_port": 10000,
    "admin_port": 9901,
    "upstream_host": "127.0.0.1",
    "upstream_port": 8000,
}


# The mock router as `mockado up` runs it: the default shard on the WireMock base port, the
# serving.shard_groups on the following ones (control_plane/stack.py plan_shards).
MOCK_ROUTER_DEFAULTS = {"listen_port": 10001, "admin_port": 9902, "default_port": 8080}


def _example_mock_router(config: MockadoConfig) -> str:
    base = MOCK_ROUTER_DEFAULTS["default_port"]
    shards = [
        (group, list(patterns), base + i)
        for i, (group, patterns) in enumerate(config.serving.shard_groups.items(), start=1)
    ]
    return render_mock_router(config, shards=shards, **MOCK_ROUTER_DEFAULTS)


@dataclass(frozen=True)
class RenderedFile:
    path: str  # relative, POSIX
    text: str
    kind: str  # "envoy" | "envoyfilter" | "istio" | "k8s"


def render_all(config: MockadoConfig) -> list[RenderedFile]:
    """Every output file, in a stable order. Raises RenderError naming the key at fault."""
    cp = config.control_plane
    files: list[RenderedFile] = []
    for target in capture_targets(cp):
        base = f"istio/{target.namespace}"
        files.append(
            RenderedFile(
                f"{base}/envoyfilter-capture.yaml",
                render_envoyfilter_capture(cp, target),
                "envoyfilter",
            )
        )
        files.append(
            RenderedFile(
                f"{base}/envoyfilter-tap.yaml", render_envoyfilter_tap(cp, target), "envoyfilter"
            )
        )
        files.append(
            RenderedFile(
                f"{base}/networkpolicy-collector.yaml",
                render_collector_network_policy(cp, target),
                "k8s",
            )
        )
    for canary in canaries(config):
        files.append(
            RenderedFile(
                canary_path(canary.namespace), render_virtualservice_canary(cp, canary), "istio"
            )
        )
        files.append(
            RenderedFile(
                f"istio/{canary.namespace}/networkpolicy-wiremock-canary.yaml",
                render_wiremock_canary_network_policy(cp, canary),
                "k8s",
            )
        )
    files.append(RenderedFile(_destination_rule_path(cp), render_destination_rule(cp), "istio"))
    files.append(
        RenderedFile(
            "envoy_configs/local.yaml",
            render_local_envoy(
                config, ext_proc_port=config.collector.grpc_port or 50051, **LOCAL_DEFAULTS
            ),
            "envoy",
        )
    )
    files.append(
        RenderedFile("envoy_configs/sidecar-example.yaml", render_sidecar_envoy(config), "envoy")
    )
    files.append(
        RenderedFile("envoy_configs/mock-router.yaml", _example_mock_router(config), "envoy")
    )
    for path, text in render_k8s_manifests(config).items():
        files.append(RenderedFile(path, text, "k8s"))
    return files


# --------------------------------------------------------------------------- writing

# Where render writes, and how deep: istio/<namespace>/*.yaml, the others flat. Other
# files there (e.g. deploy/grafana/) are never looked at.
OWNED_GLOBS = ("istio/*/*.yaml", "envoy_configs/*.yaml", "deploy/*.yaml")
RENDERED_HEADER = "# Rendered by mockado ("


def _is_managed(path: Path) -> bool:
    """Rendered by mockado: the header line plus the managed-by marker (or an Envoy file)."""
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            head = fh.read(2000)
    except OSError:
        return False
    if not head.startswith(RENDERED_HEADER):
        return False
    return MANAGED_MARKER in head or path.parent.name == "envoy_configs"


def _owned_files(out_root: Path) -> list[Path]:
    return sorted(p for pattern in OWNED_GLOBS for p in out_root.glob(pattern) if p.is_file())


@dataclass
class WriteSummary:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def write_files(files: Sequence[RenderedFile], out_root: Path) -> WriteSummary:
    """Write changed files; remove files mockado rendered before that are no longer produced.

    Only files carrying the mockado marker are ever removed, and a directory only when
    that leaves it empty, so a namespace's hand-written files survive its disabling.
    """
    summary = WriteSummary()
    wanted = {f.path for f in files}
    for f in files:
        target = out_root / f.path
        if target.is_file() and target.read_text(encoding="utf-8") == f.text:
            summary.unchanged.append(f.path)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(f.text, encoding="utf-8")
        tmp.replace(target)
        summary.written.append(f.path)
    for path in _owned_files(out_root):
        rel = path.relative_to(out_root).as_posix()
        if rel not in wanted and _is_managed(path):
            path.unlink()
            summary.removed.append(rel)
    # A namespace directory left empty (it only held our files) goes too.
    for directory in out_root.glob("istio/*"):
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
    return summary


def stale_files(files: Sequence[RenderedFile], out_root: Path) -> list[str]:
    """Paths on disk that differ from a fresh render (missing, changed or left over)."""
    out = []
    wanted = {f.path for f in files}
    for f in files:
        target = out_root / f.path
        if not target.is_file() or target.read_text(encoding="utf-8") != f.text:
            out.append(f.path)
    for path in _owned_files(out_root):
        rel = path.relative_to(out_root).as_posix()
        if rel not in wanted and _is_managed(path):
            out.append(rel)
    return out


def listing(config: MockadoConfig) -> str:
    """What `mockado render --list` prints: each scope, where it renders, at what sampling;
    then each canary's mocked hosts and the WireMock shard serving them."""
    cp = config.control_plane
    rows = [("SCOPE", "NAMESPACE", "CAPTURE", "SAMPLE", "WORKLOADS", "FILES")]
    targets = {t.key: t for t in capture_targets(cp)}
    if cp.global_.enabled:
        t = targets["global"]
        rows.append(_row("mesh", t))
    else:
        rows.append(("mesh", cp.root_namespace, "disabled", "-", "-", "-"))
    for name in sorted(cp.namespaces):
        if name in targets and not targets[name].is_global:
            rows.append(_row("namespace", targets[name]))
        else:
            rows.append(("namespace", name, "disabled", "-", "-", "-"))
    lines = _table(rows)
    mode = cp.collector.capture_mode
    lines.append(
        f"collector: {cp.collector.host}:{cp.collector.port} ({mode}, "
        f"{'fail open' if cp.collector.failure_mode_allow else 'FAIL CLOSED'})"
    )
    canary_rows = [("CANARY", "WORKLOADS", "MOCKED HOST", "SERVED BY", "FILE")]
    for canary in canaries(config):
        labels = ",".join(f"{k}={v}" for k, v in canary.workload_labels.items())
        for route in canary.routes:
            canary_rows.append((canary.namespace, labels, route.host, route.shard.host,
                                canary_path(canary.namespace)))  # fmt: skip
    if len(canary_rows) > 1:
        lines += ["", *_table(canary_rows)]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows]


def _row(scope: str, t: CaptureTarget) -> tuple[str, ...]:
    direction = t.settings.direction
    if direction == "both":
        direction = "both (in-mesh calls twice)"
    return (
        scope,
        t.namespace,
        direction,
        f"{_pct(t.settings.sample_percent)}%",
        workload_name(t.settings.workload_selector) or "all",
        f"istio/{t.namespace}/",
    )


def default_schemas_dir() -> Path:
    """../shared/schemas next to the repository (the Istio CRDs)."""
    return REPO_ROOT.parent / "shared" / "schemas"


def main(
    config: MockadoConfig,
    *,
    out_dir: Path | None,
    list_only: bool,
    check: bool,
    schemas_dir: Path | None,
) -> int:
    """`mockado render`: write files (default), --list them, or --check them (no writes).

    --check validates every rendered file (Envoy, Istio CRD schemas, Kubernetes schemas)
    and reports files on disk that differ from a fresh render. Returns 0, or 1 on problems.
    """
    out_root = Path.cwd() if out_dir is None else Path(out_dir)
    if list_only:
        sys.stdout.write(listing(config))
        return 0
    files = render_all(config)
    if check:
        from control_plane import validate  # validate imports this module

        problems = validate.check_rendered(
            files, config=config, schemas_dir=schemas_dir or default_schemas_dir()
        )
        for problem in problems:
            sys.stdout.write(f"invalid: {problem}\n")
        stale = stale_files(files, out_root)
        for path in stale:
            sys.stdout.write(f"out of date: {path} (run `mockado render`)\n")
        ok = not problems and not stale
        sys.stdout.write(f"{len(files)} files checked: {'OK' if ok else 'FAILED'}\n")
        return 0 if ok else 1
    summary = write_files(files, out_root)
    for path in summary.written:
        sys.stdout.write(f"wrote {path}\n")
    for path in summary.removed:
        sys.stdout.write(f"removed {path}\n")
    sys.stdout.write(
        f"{len(summary.written)} written, {len(summary.unchanged)} unchanged, "
        f"{len(summary.removed)} removed under {out_root}\n"
    )
    return 0
