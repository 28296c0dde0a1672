"""Rendered files on disk: write what changed, remove what mockado rendered before and no
longer produces, and report drift."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from control_plane.render.naming import MANAGED_MARKER
from control_plane.render.output import RenderedFile

# Where render writes, and how deep: istio[-debug]/<namespace>/*.yaml, deploy's directories
# applied each on its own (monitoring/: the Prometheus Operator's; grafana-sidecar/: Grafana's
# sidecar), the others flat. Other files there (e.g. deploy/grafana/) are never looked at.
APPLIED_ON_THEIR_OWN = ("deploy/monitoring", "deploy/grafana-sidecar")
OWNED_GLOBS = (
    "istio/*/*.yaml",
    "istio-debug/*/*.yaml",
    "envoy_configs/*.yaml",
    "deploy/*.yaml",
    *(f"{directory}/*.yaml" for directory in APPLIED_ON_THEIR_OWN),
    "prometheus/*.yaml",
)
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


def _left_over(files: Sequence[RenderedFile], out_root: Path) -> Iterator[Path]:
    """Files mockado rendered under ``out_root`` that ``files`` no longer include."""
    wanted = {f.path for f in files}
    owned = sorted(p for pattern in OWNED_GLOBS for p in out_root.glob(pattern) if p.is_file())
    for path in owned:
        if path.relative_to(out_root).as_posix() not in wanted and _is_managed(path):
            yield path


def _is_current(f: RenderedFile, out_root: Path) -> bool:
    target = out_root / f.path
    return target.is_file() and target.read_text(encoding="utf-8") == f.text


@dataclass(frozen=True)
class RenderedObject:
    """One object a rendered file declares."""

    kind: str
    namespace: str | None
    name: str

    @property
    def delete_command(self) -> str:
        where = f"-n {self.namespace} " if self.namespace else ""
        return f"kubectl delete {where}{self.kind.lower()}/{self.name} --ignore-not-found"


def objects_in(path: Path) -> list[RenderedObject]:
    """The Kubernetes objects a rendered file declares (none for an Envoy bootstrap):
    removing the file does not remove them from the cluster."""
    try:
        return objects_of(path.read_text(encoding="utf-8"))
    except OSError:
        return []


def objects_of(text: str) -> list[RenderedObject]:
    """The Kubernetes objects a rendered text declares."""
    try:
        docs = list(yaml.safe_load_all(text))
    except yaml.YAMLError:
        return []
    out = []
    for doc in docs:
        if isinstance(doc, dict) and "kind" in doc and "apiVersion" in doc:
            meta = doc.get("metadata") or {}
            out.append(RenderedObject(doc["kind"], meta.get("namespace"), str(meta.get("name"))))
    return out


@dataclass
class WriteSummary:
    written: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    # Per removed or rewritten file, the objects it declared and no longer does (still in
    # the cluster if they were applied: `kubectl apply` never deletes).
    removed_objects: dict[str, list[RenderedObject]] = field(default_factory=dict)


def _dropped(f: RenderedFile, out_root: Path) -> list[RenderedObject]:
    """Objects the file on disk (one mockado rendered) declares and ``f`` no longer does:
    a canary host or a policy taken out of a file that stays."""
    target = out_root / f.path
    if not target.is_file() or not _is_managed(target):
        return []
    kept = set(objects_of(f.text))
    return [obj for obj in objects_in(target) if obj not in kept]


def _not_moved(
    by_file: dict[str, list[RenderedObject]], files: Sequence[RenderedFile]
) -> dict[str, list[RenderedObject]]:
    """``by_file`` less the objects another rendered file declares: moved, not gone (the
    dashboard's ConfigMap out of deploy/monitoring/), so deleting them would remove what
    the new file applies."""
    if not any(by_file.values()):
        return by_file
    declared = {obj for f in files for obj in objects_of(f.text)}
    kept = {path: [obj for obj in objs if obj not in declared] for path, objs in by_file.items()}
    return {path: objs for path, objs in kept.items() if objs}


def write_files(files: Sequence[RenderedFile], out_root: Path) -> WriteSummary:
    """Write changed files; remove files mockado rendered before that are no longer produced.

    Only files carrying the mockado marker are ever removed, and a directory only when
    that leaves it empty, so a namespace's hand-written files survive its disabling.
    """
    summary = WriteSummary()
    for f in files:
        if _is_current(f, out_root):
            summary.unchanged.append(f.path)
            continue
        dropped = _dropped(f, out_root)
        if dropped:
            summary.removed_objects[f.path] = dropped
        target = out_root / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(target.suffix + ".tmp")
        tmp.write_text(f.text, encoding="utf-8")
        tmp.replace(target)
        summary.written.append(f.path)
    for path in list(_left_over(files, out_root)):
        relative = path.relative_to(out_root).as_posix()
        summary.removed_objects[relative] = objects_in(path)
        path.unlink()
        summary.removed.append(relative)
    # A directory left empty (it only held our files) goes too.
    for directory in [
        *out_root.glob("istio/*"),
        *out_root.glob("istio-debug/*"),
        *(out_root / directory for directory in APPLIED_ON_THEIR_OWN),
    ]:
        if directory.is_dir() and not any(directory.iterdir()):
            directory.rmdir()
    debug = out_root / "istio-debug"
    if debug.is_dir() and not any(debug.iterdir()):
        debug.rmdir()
    summary.removed_objects = _not_moved(summary.removed_objects, files)
    return summary


def stale_files(files: Sequence[RenderedFile], out_root: Path) -> list[str]:
    """Paths on disk that differ from a fresh render (missing, changed or left over)."""
    out = [f.path for f in files if not _is_current(f, out_root)]
    out += [path.relative_to(out_root).as_posix() for path in _left_over(files, out_root)]
    return out


def left_over_objects(
    files: Sequence[RenderedFile], out_root: Path
) -> dict[str, list[RenderedObject]]:
    """Files a fresh render would remove, with the objects each declares, and files it would
    rewrite, with the objects they would no longer declare."""
    out = {
        f.path: dropped
        for f in files
        if not _is_current(f, out_root) and (dropped := _dropped(f, out_root))
    }
    out.update(
        (path.relative_to(out_root).as_posix(), objects_in(path))
        for path in _left_over(files, out_root)
    )
    return _not_moved(out, files)
