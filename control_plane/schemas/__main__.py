"""``python -m control_plane.schemas TOOLS_DIR [PACKAGE ...]``: fetch the model packages
(all, or those named by key: ``istio``, ``prometheus-operator``) with npm and write their
JSON Schemas to TOOLS_DIR/crd-schemas (``make install`` runs it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from control_plane.schemas.models import MODEL_PACKAGES, SCHEMA_GENERATOR, generate_schemas


def main(argv: list[str]) -> int:
    by_key = {p.key: p for p in MODEL_PACKAGES}
    if not argv or any(key not in by_key for key in argv[1:]):
        print(
            f"usage: python -m control_plane.schemas TOOLS_DIR [{' '.join(by_key)}]",
            file=sys.stderr,
        )
        return 2
    tools, packages = Path(argv[0]), [by_key[key] for key in argv[1:]] or list(MODEL_PACKAGES)
    npm_prefix = tools / "npm"
    npm = ["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(npm_prefix)]
    subprocess.run([*npm, *(p.spec for p in packages), SCHEMA_GENERATOR], check=True)
    for package in packages:
        for path in generate_schemas(package, npm_prefix / "node_modules", tools / "crd-schemas"):
            print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
