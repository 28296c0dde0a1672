"""``mockado render``: write the rendered files (default), --list them, or --check them."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from control_plane.cli.options import Command, load, setup_logs

if TYPE_CHECKING:
    from control_plane.render import RenderedFile, RenderedObject
    from ext_proc_server.core.config import MockadoConfig


COMMAND = Command(
    name="render",
    help="render Istio EnvoyFilters, Envoy configs and Kubernetes manifests",
    description="Render every file from control_plane/templates/ for the enabled namespaces.",
    example="mockado render --config mockado.yaml --check",
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--out", metavar="DIR", help="output root (default: istio/ and envoy_configs/)"
    )
    parser.add_argument(
        "--list", action="store_true", help="print what is enabled, where and at what sampling"
    )
    parser.add_argument(
        "--check",
        action="store_true",
        help="validate with real Envoy and the Istio/Prometheus Operator/Kubernetes schemas",
    )
    parser.add_argument(
        "--envoy",
        metavar="BIN",
        help="with --check: the Envoy binary of the sidecars (its version must be "
        "control_plane.envoy_version) to validate the EnvoyFilter patches with "
        "(default: the bundled Envoy)",
    )
    parser.add_argument(
        "--schemas-dir",
        metavar="DIR",
        help="the Istio and Prometheus Operator JSON Schemas (default: .tools/crd-schemas, "
        "written by make install)",
    )


def run(args: argparse.Namespace) -> int:
    """Returns 0, or 1 when --check finds problems."""
    from control_plane.render import listing, render_all, uncounted_miss_warnings

    setup_logs(args, "render")
    config = load(args)
    out_root = Path(args.out) if args.out else Path.cwd()
    if args.list:
        sys.stdout.write(listing(config))
        return 0
    files = render_all(config)
    for warning in uncounted_miss_warnings(config):
        sys.stderr.write(f"warning: {warning}\n")
    if args.check:
        schemas_dir = Path(args.schemas_dir) if args.schemas_dir else None
        return _check(
            files, config, out_root=out_root, schemas_dir=schemas_dir, sidecar_envoy=args.envoy
        )
    return _write(files, out_root)


def _check(
    files: Sequence[RenderedFile],
    config: MockadoConfig,
    *,
    out_root: Path,
    schemas_dir: Path | None,
    sidecar_envoy: str | None,
) -> int:
    """Validate every file (Envoy, Istio and Prometheus Operator CRD schemas, Kubernetes
    schemas) and report files on disk that differ from a fresh render; writes nothing."""
    from control_plane import validate
    from control_plane.render import left_over_objects, stale_files

    notes: list[str] = []
    problems = validate.check_rendered(
        files,
        config=config,
        schemas_dir=schemas_dir or validate.default_schemas_dir(),
        sidecar_envoy=sidecar_envoy,
        notes=notes,
    )
    for note in notes:
        sys.stdout.write(f"note: {note}\n")
    version_line, version_ok = validate.envoy_version_report(config, sidecar_envoy)
    if not version_ok:
        problems.append(version_line)
    else:
        sys.stdout.write(f"{version_line}\n")
    for problem in problems:
        sys.stdout.write(f"invalid: {problem}\n")
    stale = stale_files(files, out_root)
    left_over = left_over_objects(files, out_root)
    for path in stale:
        sys.stdout.write(f"out of date: {path} (run `mockado render`)\n")
    _print_objects(left_over, "render would remove or rewrite")
    ok = not problems and not stale
    sys.stdout.write(f"{len(files)} files checked: {'OK' if ok else 'FAILED'}\n")
    return 0 if ok else 1


def _print_objects(by_file: Mapping[str, Sequence[RenderedObject]], what: str) -> None:
    """The objects of removed files, with the command deleting each: a file's removal
    leaves what `kubectl apply` created from it in the cluster (capture stays live)."""
    objects = [obj for path in sorted(by_file) for obj in by_file[path]]
    if not objects:
        return
    sys.stdout.write(
        f"{len(objects)} objects of the files {what} stay in the cluster if they were "
        "applied (kubectl apply never deletes); delete them:\n"
    )
    for obj in objects:
        sys.stdout.write(f"  {obj.delete_command}\n")


def _write(files: Sequence[RenderedFile], out_root: Path) -> int:
    from control_plane.render import write_files

    summary = write_files(files, out_root)
    for path in summary.written:
        sys.stdout.write(f"wrote {path}\n")
    for path in summary.removed:
        sys.stdout.write(f"removed {path}\n")
    _print_objects(summary.removed_objects, "removed or rewritten")
    sys.stdout.write(
        f"{len(summary.written)} written, {len(summary.unchanged)} unchanged, "
        f"{len(summary.removed)} removed under {out_root}\n"
    )
    return 0
