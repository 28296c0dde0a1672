"""The applied objects, kept the way the API server would: by kind, namespace and name."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.support.box.errors import BoxError

# The kinds the box runs pods for; the rest (HPA, NetworkPolicy, Istio) are kept, not acted on.
WORKLOAD_KINDS = ("Deployment", "StatefulSet")
NAMESPACED_DEFAULT = "default"


@dataclass(frozen=True)
class Workload:
    """A Deployment or StatefulSet: the pod template the box runs one replica of."""

    kind: str
    namespace: str
    name: str
    replicas: int
    labels: Mapping[str, str]  # of the pod template
    pod_spec: Mapping[str, Any]
    service_name: str | None  # a StatefulSet's governing Service

    @property
    def pod_name(self) -> str:
        # Deployments add a hash and a random suffix; "-0" is the StatefulSet's first pod.
        return f"{self.name}-0"


class Manifests:
    """Every applied document; ``apply`` twice replaces, as ``kubectl apply`` does."""

    def __init__(self) -> None:
        self._objects: dict[tuple[str, str, str], dict[str, Any]] = {}

    def apply(self, doc: Mapping[str, Any]) -> None:
        kind, meta = doc.get("kind"), doc.get("metadata") or {}
        if not kind or not meta.get("name"):
            raise BoxError(f"a document without kind or metadata.name: {str(doc)[:200]}")
        namespace = meta.get("namespace") or NAMESPACED_DEFAULT
        if kind == "Namespace":
            namespace = ""
        self._objects[(kind, namespace, meta["name"])] = dict(doc)

    def apply_yaml(self, text: str, *, source: str = "<text>") -> None:
        try:
            docs = [d for d in yaml.safe_load_all(text) if d]
        except yaml.YAMLError as exc:
            raise BoxError(f"{source}: invalid YAML ({exc})") from exc
        for doc in docs:
            self.apply(doc)

    def apply_dir(self, directory: Path) -> None:
        """Every *.yaml under the directory, like ``kubectl apply -f DIR --recursive``."""
        paths = sorted(directory.rglob("*.yaml"))
        if not paths:
            raise BoxError(f"{directory}: no manifests")
        for path in paths:
            self.apply_yaml(path.read_text(encoding="utf-8"), source=str(path))

    def get(self, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        return self._objects.get((kind, namespace, name))

    def of_kind(self, *kinds: str) -> list[dict[str, Any]]:
        return [doc for (kind, _, _), doc in self._objects.items() if kind in kinds]

    def namespaces(self) -> set[str]:
        return {ns for (_, ns, _) in self._objects if ns}

    def workloads(self) -> list[Workload]:
        return [_workload(doc) for doc in self.of_kind(*WORKLOAD_KINDS)]

    def services(self, namespace: str | None = None) -> list[dict[str, Any]]:
        return [
            doc
            for doc in self.of_kind("Service")
            if namespace is None or _namespace(doc) == namespace
        ]

    def configmap_data(self, namespace: str, name: str) -> dict[str, bytes] | None:
        doc = self.get("ConfigMap", namespace, name)
        if doc is None:
            return None
        data = {k: str(v).encode() for k, v in (doc.get("data") or {}).items()}
        data.update({k: base64.b64decode(v) for k, v in (doc.get("binaryData") or {}).items()})
        return data

    def secret_data(self, namespace: str, name: str) -> dict[str, bytes] | None:
        doc = self.get("Secret", namespace, name)
        if doc is None:
            return None
        data = {k: base64.b64decode(v) for k, v in (doc.get("data") or {}).items()}
        data.update({k: str(v).encode() for k, v in (doc.get("stringData") or {}).items()})
        return data


def secret_generic(namespace: str, name: str, *, from_literal: Mapping[str, str]) -> dict[str, Any]:
    """What ``kubectl -n NS create secret generic NAME --from-literal=K=V ...`` stores."""
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {"name": name, "namespace": namespace},
        "data": {k: base64.b64encode(v.encode()).decode() for k, v in from_literal.items()},
    }


def selects(selector: Mapping[str, str] | None, labels: Mapping[str, str]) -> bool:
    """A Service selector (plain labels): every key matches; an empty selector selects nothing."""
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


def decoded(data: Mapping[str, bytes] | None) -> dict[str, str] | None:
    """ConfigMap or Secret bytes as text, for env values."""
    if data is None:
        return None
    return {k: v.decode(errors="replace") for k, v in data.items()}


def _namespace(doc: Mapping[str, Any]) -> str:
    return (doc.get("metadata") or {}).get("namespace") or NAMESPACED_DEFAULT


def _workload(doc: Mapping[str, Any]) -> Workload:
    spec = doc.get("spec") or {}
    template = spec.get("template") or {}
    labels = (template.get("metadata") or {}).get("labels") or {}
    match = (spec.get("selector") or {}).get("matchLabels") or {}
    where = f"{doc['kind']} {_namespace(doc)}/{doc['metadata']['name']}"
    if not selects(match, labels):
        raise BoxError(f"{where}: selector.matchLabels {match} does not match the template labels")
    return Workload(
        kind=doc["kind"],
        namespace=_namespace(doc),
        name=doc["metadata"]["name"],
        replicas=int(spec.get("replicas", 1)),
        labels=labels,
        pod_spec=template.get("spec") or {},
        service_name=spec.get("serviceName"),
    )
