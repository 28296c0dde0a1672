"""Kubernetes names: namespace and Service names, and the labels that mark mockado's files."""

from __future__ import annotations

import hashlib
import json

from ext_proc_server.core.config import MockadoConfig

MANAGED_BY_LABEL = "app.kubernetes.io/managed-by"
MANAGED_BY_VALUE = "mockado"
MANAGED_MARKER = f"{MANAGED_BY_LABEL}: {MANAGED_BY_VALUE}"
MANAGED_LABELS = f"{MANAGED_MARKER}\napp.kubernetes.io/part-of: mockado"
# The namespace whose config produced an object (mockado_namespace for deploy/, <ns> for
# istio/<ns>/, wherever the object itself lives): disabling a namespace prunes by it.
SCOPE_LABEL = "mockado.io/namespace"
# A DNS label: the longest name a Service, or a label value, may have.
MAX_LABEL_LENGTH = 63
_DIGEST_LENGTH = 8


def bounded_name(prefix: str, key: str) -> str:
    """``<prefix>-<key>`` when it fits a label value (63 characters), else cut with a hash
    of ``key`` appended: deterministic, and distinct for distinct keys."""
    name = f"{prefix}-{key}"
    if len(name) <= MAX_LABEL_LENGTH:
        return name
    digest = hashlib.sha256(key.encode()).hexdigest()[:_DIGEST_LENGTH]
    return f"{name[: MAX_LABEL_LENGTH - _DIGEST_LENGTH - 1].rstrip('-')}-{digest}"


def managed_labels(scope: str) -> dict[str, str]:
    """The labels every rendered object carries, so stale ones can be pruned by label."""
    return {
        "app.kubernetes.io/part-of": "mockado",
        MANAGED_BY_LABEL: MANAGED_BY_VALUE,
        SCOPE_LABEL: scope,
    }


def managed_context(scope: str) -> dict[str, str]:
    """The template values marking an Istio or policy file as mockado's; ``scope`` is the
    namespace whose config produced it (its istio/<scope>/ directory). The namespace is
    quoted: a name like ``9``, ``1e3`` or ``on`` is a number or a boolean in plain YAML."""
    return {
        "managed_marker": MANAGED_MARKER,
        "labels": f"{MANAGED_LABELS}\n{SCOPE_LABEL}: {json.dumps(scope)}",
    }


def service_host(config: MockadoConfig, service: str) -> str:
    """A Service of mockado's namespace by its full name, in the cluster's DNS domain
    (collector.cluster_domain), as the canary hosts routed to it are."""
    cluster_domain = config.collector.cluster_domain
    return f"{service}.{config.control_plane.mockado_namespace}.svc.{cluster_domain}"
