"""Istio objects of each capture scope: the capture and (opt-in, istio-debug/) tap
EnvoyFilters, the collector's NetworkPolicy, and the collector's DestinationRule."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from control_plane.render.capture import (
    BLOCKING_MESSAGE_TIMEOUT_S,
    CaptureFilter,
    is_observability_mode,
    sample_matcher,
    skip_rules,
)
from control_plane.render.clusters import collector_limits, istio_cluster_name
from control_plane.render.environment import render_template
from control_plane.render.matchers import percent_text
from control_plane.render.naming import managed_context
from ext_proc_server.core.config import ControlPlaneConfig, NamespaceConfig, encode_body_limits
from ext_proc_server.core.errors import RenderError
from ext_proc_server.core.names import (
    META_BODY_LIMIT,
    META_BODY_LIMITS,
    META_NAMESPACE,
    META_WORKLOAD,
)

_CONTEXTS = {
    "inbound": ("SIDECAR_INBOUND",),
    "outbound": ("SIDECAR_OUTBOUND",),
    "both": ("SIDECAR_INBOUND", "SIDECAR_OUTBOUND"),
}
_DIRECTION_OF_CONTEXT = {"SIDECAR_INBOUND": "inbound", "SIDECAR_OUTBOUND": "outbound"}
# Debug-only objects (the tap filter) live here, apart from istio/ which the runbook applies.
DEBUG_DIR = "istio-debug"
# Extra initial metadata: which side of the call a stream was captured on ("both").
HEADER_DIRECTION = "x-mockado-direction"


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


def capture_targets(cp: ControlPlaneConfig) -> list[CaptureTarget]:
    """The enabled scopes, sorted; global mode and enabled namespaces are exclusive."""
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


def sidecar_target(cp: ControlPlaneConfig, namespace: str | None) -> CaptureTarget:
    """The settings of an enabled namespace; None: the mesh-wide ones, enabled or not."""
    if namespace is None:
        # The mesh-wide settings, so the example does not change when a namespace is toggled.
        return CaptureTarget("global", "default", cp.global_, is_global=True)
    settings = cp.namespaces.get(namespace)
    if settings is None:
        raise RenderError(f"control_plane.namespaces.{namespace}: not configured")
    if not settings.enabled:
        raise RenderError(f"control_plane.namespaces.{namespace}: capture is disabled")
    return CaptureTarget(namespace, namespace, settings, is_global=False)


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
    if settings.body_limits:
        # Bodies stream to the collector (STREAMED, nothing buffered in Envoy), so no
        # Envoy limit caps these: the collector keeps what the matching rule allows.
        metadata.append((META_BODY_LIMITS, encode_body_limits(settings.body_limits)))
    metadata.append((HEADER_DIRECTION, _DIRECTION_OF_CONTEXT[context]))
    return CaptureFilter(
        cluster_name=istio_cluster_name(cp.collector),
        authority=cp.collector.host,
        observability=is_observability_mode(cp.collector, None),
        failure_mode_allow=cp.collector.failure_mode_allow,
        deferred_close_timeout_s=cp.collector.deferred_close_timeout_s,
        message_timeout_s=BLOCKING_MESSAGE_TIMEOUT_S,
        initial_metadata=tuple(metadata),
        rules=skip_rules(
            include_hosts=settings.include_hosts,
            exclude_hosts=settings.exclude_hosts,
            include_paths=settings.include_paths,
            exclude_paths=settings.exclude_paths,
        ),
        sample=sample_matcher(settings.sample_percent, target.runtime_key),
    )


# EnvoyFilter priorities: higher applies later. Both insert before the router, so the one
# applied last sits nearest to it, after every filter of default priority (0).
CAPTURE_FILTER_PRIORITY = 10
TAP_FILTER_PRIORITY = 20


def destination_rule_path(cp: ControlPlaneConfig) -> str:
    return f"istio/{cp.mockado_namespace}/destinationrule-collector.yaml"


def debug_tap_path(target: CaptureTarget) -> str:
    return f"{DEBUG_DIR}/{target.namespace}/envoyfilter-tap.yaml"


def _render_scope_file(template: str, target: CaptureTarget, **values: object) -> str:
    return render_template(
        template, **managed_context(target.namespace), scope=target.scope, **values
    )


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
    return _render_scope_file(
        "istio/envoyfilter-capture.yaml.j2",
        target,
        namespace=target.namespace,
        contexts=list(target.contexts),
        both_directions=settings.direction == "both",
        sample_percent=percent_text(settings.sample_percent),
        notes=notes,
        destination_rule_path=destination_rule_path(cp),
        collector=collector_limits(cp.collector),
        priority=CAPTURE_FILTER_PRIORITY,
        workload_selector=dict(sorted(settings.workload_selector.items())),
        patches=[
            {"context": c, "capture": target_capture_filter(cp, target, context=c)}
            for c in target.contexts
        ],
    )


def render_envoyfilter_tap(cp: ControlPlaneConfig, target: CaptureTarget) -> str:
    return _render_scope_file(
        "istio/envoyfilter-tap.yaml.j2",
        target,
        namespace=target.namespace,
        contexts=list(target.contexts),
        config_id=f"mockado-tap-{target.key}",
        priority=TAP_FILTER_PRIORITY,
        workload_selector=dict(sorted(target.settings.workload_selector.items())),
    )


def render_collector_network_policy(cp: ControlPlaneConfig, target: CaptureTarget) -> str:
    return _render_scope_file(
        "istio/networkpolicy-collector.yaml.j2",
        target,
        name=f"mockado-collector-from-{target.key}",
        mockado_namespace=cp.mockado_namespace,
        source_namespace=None if target.is_global else target.namespace,
    )


def render_destination_rule(cp: ControlPlaneConfig) -> str:
    return render_template(
        "istio/destinationrule-collector.yaml.j2",
        **managed_context(cp.mockado_namespace),
        namespace=cp.mockado_namespace,
        host=cp.collector.host,
        tls=cp.collector.tls,
        **collector_limits(cp.collector),
    )
