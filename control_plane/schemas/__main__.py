"""``python -m control_plane.schemas TOOLS_DIR``: fetch the Istio model package with npm and
write the JSON Schemas to TOOLS_DIR/istio-schemas (``make install`` runs it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from control_plane.schemas.istio import ISTIO_MODELS, SCHEMA_GENERATOR, generate_istio_schemas


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m control_plane.schemas TOOLS_DIR", file=sys.stderr)
        return 2
    tools = Path(argv[0])
    npm_prefix = tools / "npm"
    npm = ["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(npm_prefix)]
    subprocess.run([*npm, ISTIO_MODELS, SCHEMA_GENERATOR], check=True)
    for path in generate_istio_schemas(npm_prefix / "node_modules", tools / "istio-schemas"):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
