"""Kubernetes names: namespace and Service names, and the labels that mark mockado's files."""

from __future__ import annotations

from ext_proc_server.core.config import ControlPlaneConfig

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "mockado"
MANAGED_MARKER = f"{MANAGED_BY_LABEL}: {MANAGED_BY_VALUE}"
MANAGED_LABELS = f"{MANAGED_MARKER}\napp.kubernetes.io/part-of: mockado"


def managed_context() -> dict[str, str]:
    """The template values marking an Istio or policy file as mockado's."""
    return {"managed_marker": MANAGED_MARKER, "labels": MANAGED_LABELS}


def service_host(cp: ControlPlaneConfig, service: str) -> str:
    """A Service of mockado's namespace by its full name."""
    return f"{service}.{cp.mockado_namespace}.svc.cluster.local"
