"""Validate rendered files with the real tools, offline.

- Envoy bootstraps: ``envoy --mode validate -c FILE`` (the real 1.40 binary).
- EnvoyFilters: the Istio CRD's openAPIV3Schema (jsonschema), made strict the way the
  API server prunes (an unknown field is an error here, not silently dropped there);
  then each HTTP filter patch, with the collector cluster it names, is embedded into a
  minimal bootstrap that Envoy validates too.
- Other Istio resources (DestinationRule): their CRD schema.
- Kubernetes manifests: kubernetes-validate's bundled schemas (strict, offline).

Every function returns a list of problems (file and JSON path, never values).
"""

from __future__ import annotations

import copy
import json
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from control_plane.assets import REPO_ROOT
from control_plane.render import RenderedFile, collector_limits, render_template
from ext_proc_server.core.config import MockadoConfig
from ext_proc_server.core.errors import RenderError

KUBERNETES_VERSION = "1.30.0"
ENVOY_VALIDATE_TIMEOUT_S = 60.0
CRD_FILES = {
    ("networking.istio.io", "EnvoyFilter"): "istio-envoyfilter-crd.yaml",
    ("networking.istio.io", "DestinationRule"): "istio-destinationrule-crd.yaml",
    ("networking.istio.io", "VirtualService"): "istio-virtualservice-crd.yaml",
}


def default_schemas_dir() -> Path:
    """../shared/schemas next to the repository (the Istio CRDs)."""
    return REPO_ROOT.parent / "shared" / "schemas"


# --------------------------------------------------------------------------- envoy


def envoy_validate(paths: Sequence[Path], *, envoy: str | None = None) -> list[str]:
    """Run ``envoy --mode validate`` on each file (two at a time); problems per failing file."""
    if not paths:
        return []
    if envoy is None:
        from control_plane.local.procs import find_envoy  # only when validating

        envoy = find_envoy()

    def one(path: Path) -> str | None:
        try:
            proc = subprocess.run(
                [envoy, "--mode", "validate", "-c", str(path), "-l", "error"],
                capture_output=True,
                text=True,
                timeout=ENVOY_VALIDATE_TIMEOUT_S,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return f"{path.name}: envoy --mode validate timed out"
        if proc.returncode == 0:
            return None
        return f"{path.name}: envoy rejected it: {_envoy_error(proc.stdout + proc.stderr)}"

    with ThreadPoolExecutor(max_workers=2) as pool:
        return [r for r in pool.map(one, paths) if r]


def _envoy_error(output: str) -> str:
    """The informative line of Envoy's complaint (it may dump the whole proto first)."""
    lines = [ln.strip() for ln in output.splitlines() if ln.strip()]
    for needle in ("validation failed", "invalid", "unable", "unknown", "error", "exception"):
        for line in reversed(lines):
            if needle in line.lower() and "goo.gle/debug" not in line:
                # Drop the log prefix and the temporary file name.
                return line.split("': ", 1)[-1][-600:]
    return (lines[-1] if lines else "no output")[-600:]


def envoyfilter_check_bootstrap(
    doc: Mapping[str, Any], *, config: MockadoConfig, source: str
) -> str:
    """A minimal bootstrap holding each HTTP_FILTER patch of an EnvoyFilter and its cluster."""
    filters = []
    for patch in doc.get("spec", {}).get("configPatches", []):
        if patch.get("applyTo") == "HTTP_FILTER":
            # JSON is YAML: the patch value goes in byte-for-byte as Istio would send it.
            filters.append(json.dumps(patch["patch"]["value"], sort_keys=True))
    if not filters:
        raise RenderError(f"{source}: no HTTP_FILTER patch to validate")
    clusters = [collector_limits(config.control_plane.collector)]
    return render_template(
        "check/envoyfilter-bootstrap.yaml.j2",
        source=source,
        http_filters=filters,
        clusters=clusters,
    )


# --------------------------------------------------------------------------- istio schemas


def _strict(schema: Any) -> Any:
    """Reject unknown fields where the CRD lists properties and does not preserve unknowns."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if (
            "properties" in out
            and "additionalProperties" not in out
            and not out.get("x-kubernetes-preserve-unknown-fields")
        ):
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


@cache
def _crd_schema(schemas_dir: str, file_name: str, version: str) -> dict[str, Any]:
    path = Path(schemas_dir) / file_name
    try:
        docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d]
    except OSError as exc:
        raise RenderError(f"{path}: cannot read the CRD ({exc.strerror})") from exc
    for crd in docs:
        for v in crd.get("spec", {}).get("versions", []):
            if v.get("name") == version:
                schema = copy.deepcopy(v["schema"]["openAPIV3Schema"])
                # metadata is validated by the API server, not the CRD: allow any object.
                schema.setdefault("properties", {})["metadata"] = {"type": "object"}
                schema["properties"].setdefault("apiVersion", {"type": "string"})
                schema["properties"].setdefault("kind", {"type": "string"})
                return _strict(schema)
    raise RenderError(f"{path}: no version {version} in the CRD")


def istio_schema_problems(doc: Mapping[str, Any], *, schemas_dir: Path, source: str) -> list[str]:
    import jsonschema  # the check extra

    group, _, version = str(doc.get("apiVersion", "")).partition("/")
    file_name = CRD_FILES.get((group, str(doc.get("kind"))))
    if file_name is None:
        return [f"{source}: no CRD schema known for {doc.get('apiVersion')} {doc.get('kind')}"]
    schema = _crd_schema(str(schemas_dir), file_name, version)
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{source}: {'/'.join(str(p) for p in err.absolute_path) or '(root)'}: {err.message[:300]}"
        for err in sorted(validator.iter_errors(dict(doc)), key=lambda e: list(e.absolute_path))
    ]


# --------------------------------------------------------------------------- kubernetes


def kubernetes_problems(doc: Mapping[str, Any], *, source: str) -> list[str]:
    """Strict validation against kubernetes-validate's bundled (offline) schemas.

    Without the package, a structural check (apiVersion, kind, metadata.name) stands in.
    """
    try:
        import kubernetes_validate  # the check extra
    except ImportError:
        return _structural_problems(doc, source=source)
    where = f"{source}: {doc.get('kind')}/{doc.get('metadata', {}).get('name')}"
    try:
        kubernetes_validate.validate(dict(doc), KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = "/".join(str(p) for p in getattr(exc, "path", ()) or ())
        message = getattr(exc, "message", str(exc)).splitlines()[0]
        return [f"{where}: {path or '(root)'}: {message[:300]}"]
    except kubernetes_validate.utils.SchemaNotFoundError:
        return [f"{where}: no Kubernetes {KUBERNETES_VERSION} schema for this kind"]
    return []


def _structural_problems(doc: Mapping[str, Any], *, source: str) -> list[str]:
    problems = []
    for key in ("apiVersion", "kind"):
        if not isinstance(doc.get(key), str):
            problems.append(f"{source}: {key} missing")
    if not isinstance(doc.get("metadata", {}).get("name"), str):
        problems.append(f"{source}: metadata.name missing")
    return problems


# --------------------------------------------------------------------------- everything


def _documents(f: RenderedFile) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(f.text) if d]


def check_rendered(
    files: Iterable[RenderedFile], *, config: MockadoConfig, schemas_dir: Path
) -> list[str]:
    """Validate every rendered file; an empty list means all passed."""
    files = list(files)
    problems: list[str] = []
    needs_schemas = any(f.kind in ("envoyfilter", "istio") for f in files)
    if needs_schemas and not Path(schemas_dir).is_dir():
        problems.append(f"{schemas_dir}: Istio CRD schema directory not found (--schemas-dir)")
    with tempfile.TemporaryDirectory(prefix="mockado-check-") as tmp:
        to_validate: list[Path] = []
        for n, f in enumerate(files):
            if f.kind == "envoy":
                path = Path(tmp) / f"{n:03d}-{Path(f.path).name}"
                path.write_text(f.text, encoding="utf-8")
                to_validate.append(path)
                continue
            for doc in _documents(f):
                if f.kind in ("envoyfilter", "istio"):
                    if Path(schemas_dir).is_dir():
                        problems += istio_schema_problems(
                            doc, schemas_dir=schemas_dir, source=f.path
                        )
                    if doc.get("kind") == "EnvoyFilter":
                        path = Path(tmp) / f"{n:03d}-check-{Path(f.path).name}"
                        path.write_text(
                            envoyfilter_check_bootstrap(doc, config=config, source=f.path),
                            encoding="utf-8",
                        )
                        to_validate.append(path)
                else:
                    problems += kubernetes_problems(doc, source=f.path)
        names = {p.name: p for p in to_validate}
        for problem in envoy_validate(to_validate):
            problems.append(_rename(problem, names, files))
    return problems


def _rename(problem: str, names: Mapping[str, Path], files: Sequence[RenderedFile]) -> str:
    # "003-check-envoyfilter-capture.yaml: ..." -> "istio/shop/envoyfilter-capture.yaml: ..."
    head, _, rest = problem.partition(": ")
    if head in names:
        index = int(head.split("-", 1)[0])
        return f"{files[index].path}: {rest}"
    return problem
