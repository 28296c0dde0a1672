"""Reading rendered files back as data."""

from __future__ import annotations

from typing import Any

import yaml

from control_plane.render import render_all
from ext_proc_server.core.config import MockadoConfig


def files_of(config: MockadoConfig) -> dict[str, str]:
    return {f.path: f.text for f in render_all(config)}


def docs(text: str) -> list[dict[str, Any]]:
    """The Kubernetes objects of a rendered file (none in a Prometheus scrape config)."""
    return [d for d in yaml.safe_load_all(text) if d and "kind" in d]


def ext_proc(filter_entry: dict[str, Any]) -> dict[str, Any]:
    """The ext_proc config of an HTTP filter entry, inside its sampling matcher or not."""
    typed = filter_entry["typed_config"]
    if typed["@type"].endswith("ExtensionWithMatcher"):
        return typed["extension_config"]["typed_config"]
    return typed


def pod_config_of(files: dict[str, str]) -> MockadoConfig:
    """The config the pods load, from the rendered ConfigMap."""
    configmap = docs(files["deploy/configmap.yaml"])[0]
    return MockadoConfig.model_validate(yaml.safe_load(configmap["data"]["mockado.yaml"]))


def rendered_objects(
    files: dict[str, str], *, under: str, kind: str | None = None
) -> dict[str, dict[str, Any]]:
    """Every rendered object in files under the folder ``under`` (of ``kind``, when
    given), by name."""
    return {
        d["metadata"]["name"]: d
        for path, text in files.items()
        if path.startswith(under)
        for d in docs(text)
        if kind is None or d["kind"] == kind
    }


def deployments(files: dict[str, str]) -> dict[str, dict[str, Any]]:
    """Every Deployment under deploy/, by name."""
    return rendered_objects(files, under="deploy/", kind="Deployment")
