"""Kubernetes names: namespace and Service names, and the labels that mark mockado's files."""

from __future__ import annotations

from ext_proc_server.core.config import ControlPlaneConfig

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "mockado"
MANAGED_MARKER = f"{MANAGED_BY_LABEL}: {MANAGED_BY_VALUE}"
MANAGED_LABELS = f"{MANAGED_MARKER}\napp.kubernetes.io/part-of: mockado"
# The namespace whose config produced an object (mockado_namespace for deploy/, <ns> for
# istio/<ns>/, wherever the object itself lives): disabling a namespace prunes by it.
SCOPE_LABEL = "mockado.io/namespace"


def managed_labels(scope: str) -> dict[str, str]:
    """The labels every rendered object carries, so stale ones can be pruned by label."""
    return {
        "app.kubernetes.io/part-of": "mockado",
        MANAGED_BY_LABEL: MANAGED_BY_VALUE,
        SCOPE_LABEL: scope,
    }


def managed_context(scope: str) -> dict[str, str]:
    """The template values marking an Istio or policy file as mockado's; ``scope`` is the
    namespace whose config produced it (its istio/<scope>/ directory)."""
    return {
        "managed_marker": MANAGED_MARKER,
        "labels": f"{MANAGED_LABELS}\n{SCOPE_LABEL}: {scope}",
    }


def service_host(cp: ControlPlaneConfig, service: str) -> str:
    """A Service of mockado's namespace by its full name."""
    return f"{service}.{cp.mockado_namespace}.svc.cluster.local"
