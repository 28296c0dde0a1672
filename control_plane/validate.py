"""Validate rendered files with the real tools, offline.

- Envoy bootstraps: ``envoy --mode validate -c FILE`` (the real 1.40 binary).
- Istio and Prometheus Operator resources: strict JSON Schemas generated at install time
  from their CRDs (``control_plane.schemas``): an unknown field is an error here, as with
  ``kubectl apply --validate=strict``; and the CRDs' own rules (types, required fields).
  Each EnvoyFilter HTTP filter patch, with the collector cluster it names, is also embedded
  into a minimal bootstrap that Envoy validates.
- Kubernetes manifests: kubernetes-validate's bundled schemas (strict, offline).

Every function returns a list of problems (file, object and JSON path, never values).
"""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from control_plane.absent_files import with_stand_ins
from control_plane.assets import REPO_ROOT
from control_plane.render import RenderedFile, collector_limits, render_template
from control_plane.schemas import crd_problems, crd_schema, model_package
from ext_proc_server.core.config import MockadoConfig
from ext_proc_server.core.errors import RenderError

KUBERNETES_VERSION = "1.30.0"
ENVOY_VALIDATE_TIMEOUT_S = 60.0


def default_schemas_dir() -> Path:
    """Where ``make install`` writes the CRD schemas: .tools/crd-schemas in the checkout."""
    return REPO_ROOT / ".tools" / "crd-schemas"


def _where(doc: Mapping[str, Any], source: str) -> str:
    """The file and the object a problem is in: ``FILE: Kind/name``."""
    return f"{source}: {doc.get('kind')}/{(doc.get('metadata') or {}).get('name')}"


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
        # A REMOVE patch has no filter to validate.
        if patch.get("applyTo") == "HTTP_FILTER" and "value" in patch.get("patch", {}):
            # JSON is YAML: the patch value goes in byte-for-byte as Istio would send it.
            filters.append(json.dumps(patch["patch"]["value"], sort_keys=True))
    if not filters:
        raise RenderError(f"{source}: no HTTP_FILTER patch to validate")
    limits = collector_limits(config.control_plane.collector)
    options = _istio_protocol_options(limits["streams_per_connection"])
    for patch in doc.get("spec", {}).get("configPatches", []):
        if patch.get("applyTo") == "CLUSTER":
            options = merged_cluster_patch(
                options, patch, cluster_name=limits["cluster_name"], source=source
            )
    cluster = {**limits, "protocol_options": json.dumps(options, sort_keys=True)}
    return render_template(
        "check/envoyfilter-bootstrap.yaml.j2",
        source=source,
        http_filters=filters,
        clusters=[cluster],
    )


_HTTP_OPTIONS = "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"


def _istio_protocol_options(max_concurrent_streams: int) -> dict[str, Any]:
    """What Istio writes in the collector cluster's typed_extension_protocol_options: HTTP/2
    (a grpc port), with the DestinationRule's maxConcurrentStreams."""
    return {
        _HTTP_OPTIONS: {
            "@type": f"type.googleapis.com/{_HTTP_OPTIONS}",
            "explicit_http_config": {
                "http2_protocol_options": {"max_concurrent_streams": max_concurrent_streams}
            },
        }
    }


def merged_cluster_patch(
    options: Mapping[str, Any], patch: Mapping[str, Any], *, cluster_name: str, source: str
) -> dict[str, Any]:
    """The cluster's typed_extension_protocol_options (``options``) after a CLUSTER MERGE
    of it, as Istio applies one: a map, so each entry of the patch replaces the cluster's
    whole entry. Any other patch is refused, never left unchecked."""
    value = patch.get("patch", {}).get("value") or {}
    named = ((patch.get("match") or {}).get("cluster") or {}).get("name")
    others = set(value) - {"typed_extension_protocol_options"}
    if patch.get("patch", {}).get("operation") != "MERGE" or others or named != cluster_name:
        raise RenderError(
            f"{source}: only a CLUSTER MERGE of the collector cluster's "
            "typed_extension_protocol_options is checked"
        )
    return {**options, **value.get("typed_extension_protocol_options", {})}


# --------------------------------------------------------------------------- CRD schemas


def schema_problems(doc: Mapping[str, Any], *, schemas_dir: Path, source: str) -> list[str]:
    """``doc`` against the strict JSON Schema of its Istio or Prometheus Operator kind (see
    control_plane.schemas)."""
    import jsonschema  # the check extra

    api_version, kind = str(doc.get("apiVersion", "")), str(doc.get("kind"))
    schema = crd_schema(schemas_dir, api_version, kind)
    if schema is None:
        package = model_package(api_version)
        known = f"{package.source} schema" if package else "CRD schema"
        return [f"{source}: no {known} known for {api_version} {kind}"]
    validator = jsonschema.Draft7Validator(schema)
    # An anyOf (a match on a listener, route or cluster) says only "not valid under any
    # of the given schemas"; the deepest of its branches' errors names the field.
    errors = [
        max(err.context, key=lambda e: len(e.absolute_path)) if err.context else err
        for err in validator.iter_errors(dict(doc))
    ]
    where = _where(doc, source)
    return [
        f"{where}: {'/'.join(str(p) for p in err.absolute_path) or '(root)'}: {err.message[:300]}"
        for err in sorted(errors, key=lambda e: list(e.absolute_path))
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
    where = _where(doc, source)
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
    files: Iterable[RenderedFile],
    *,
    config: MockadoConfig,
    schemas_dir: Path,
    sidecar_envoy: str | None = None,
    notes: list[str] | None = None,
) -> list[str]:
    """Validate every rendered file; an empty list means all passed.

    ``sidecar_envoy``: the Envoy binary the EnvoyFilter patches are checked with (default:
    the local one, which also checks envoy_configs/, the local stack's own files).
    ``notes`` receives each TLS file a bootstrap names that is not on this machine, and
    what Envoy validated instead (``control_plane.absent_files``).
    """
    files = list(files)
    problems: list[str] = []
    crd_docs: list[tuple[str, dict[str, Any]]] = []
    with tempfile.TemporaryDirectory(prefix="mockado-check-") as tmp:
        to_validate: list[Path] = []
        patches: list[Path] = []
        for n, f in enumerate(files):
            if f.kind == "envoy":
                path = Path(tmp) / f"{n:03d}-{Path(f.path).name}"
                text, stood_in = with_stand_ins(f.text)
                if notes is not None:
                    notes += [f"{f.path}: {note}" for note in stood_in]
                path.write_text(text, encoding="utf-8")
                to_validate.append(path)
                continue
            if f.kind in ("prometheus", "grafana"):
                continue  # a scrape config or a dashboard, not an object
            for doc in _documents(f):
                if model_package(str(doc.get("apiVersion", ""))) is None:
                    problems += kubernetes_problems(doc, source=f.path)
                    continue
                crd_docs.append((f.path, doc))
                if doc.get("kind") == "EnvoyFilter" and _inserts_filters(doc):
                    path = Path(tmp) / f"{n:03d}-check-{Path(f.path).name}"
                    path.write_text(
                        envoyfilter_check_bootstrap(doc, config=config, source=f.path),
                        encoding="utf-8",
                    )
                    patches.append(path)
        problems += _crd_problems(crd_docs, schemas_dir=Path(schemas_dir))
        names = {p.name: p for p in [*to_validate, *patches]}
        found = envoy_validate(to_validate) + envoy_validate(patches, envoy=sidecar_envoy)
        problems += [_rename(problem, names, files) for problem in found]
    return problems


def envoy_version(envoy: str | None = None) -> str:
    """The "1.40" of ``envoy --version`` ("envoy version: HASH/1.40.0/Clean/RELEASE/...")."""
    if envoy is None:
        from control_plane.local.procs import find_envoy  # only when validating

        envoy = find_envoy()
    try:
        proc = subprocess.run(
            [envoy, "--version"], capture_output=True, text=True, timeout=30, check=False
        )
    except OSError as exc:
        raise RenderError(f"--envoy: cannot run {envoy} ({exc.strerror})") from exc
    match = re.search(r"/(1\.[0-9]+)\.[0-9]+/", proc.stdout + proc.stderr)
    if match is None:
        raise RenderError(f"--envoy: {envoy} --version did not print an Envoy version")
    return match[1]


def envoy_version_report(config: MockadoConfig, sidecar_envoy: str | None) -> tuple[str, bool]:
    """(what checked the EnvoyFilter patches, whether that matches the declared version).

    A binary the user names (--envoy, e.g. taken from the mesh's proxyv2 image) must be
    the declared version; the bundled one may differ, and the line says so.
    """
    declared = config.control_plane.envoy_version
    actual = envoy_version(sidecar_envoy)
    if actual == declared:
        return (
            f"EnvoyFilter patches validated with Envoy {actual} (control_plane.envoy_version)",
            True,
        )
    line = (
        f"EnvoyFilter patches validated with Envoy {actual}, but the sidecars run {declared} "
        f"(control_plane.envoy_version): a field added after {declared} would pass here"
    )
    if sidecar_envoy is not None:
        return f"{line}; --envoy must be the sidecars' Envoy", False
    return f"{line}; pass --envoy with the sidecars' Envoy binary to check with it", True


def _inserts_filters(doc: Mapping[str, Any]) -> bool:
    patches = doc.get("spec", {}).get("configPatches", [])
    return any("value" in p.get("patch", {}) for p in patches)


def _crd_problems(docs: list[tuple[str, dict[str, Any]]], *, schemas_dir: Path) -> list[str]:
    """Field names (generated schemas), then the CRD rules (the model packages' validators)."""
    if not docs:
        return []
    if not schemas_dir.is_dir():
        return [
            f"{schemas_dir}: CRD schemas not found (`make install` writes them; or --schemas-dir)"
        ]
    problems: list[str] = []
    for source, doc in docs:
        problems += schema_problems(doc, schemas_dir=schemas_dir, source=source)
    verdicts = crd_problems(schemas_dir.parent / "npm" / "node_modules", [doc for _, doc in docs])
    for (source, doc), verdict in zip(docs, verdicts, strict=True):
        if verdict:
            package = model_package(str(doc.get("apiVersion", "")))
            source_crd = f"{package.source} CRD" if package else "CRD"
            problems.append(f"{_where(doc, source)} ({source_crd}): {verdict}")
    return problems


def _rename(problem: str, names: Mapping[str, Path], files: Sequence[RenderedFile]) -> str:
    # "003-check-envoyfilter-capture.yaml: ..." -> "istio/shop/envoyfilter-capture.yaml: ..."
    head, _, rest = problem.partition(": ")
    if head in names:
        index = int(head.split("-", 1)[0])
        return f"{files[index].path}: {rest}"
    return problem
