"""Generate and look up the Istio JSON Schemas (see the package docstring)."""

from __future__ import annotations

import json
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

from ext_proc_server.core.errors import RenderError

# The npm package and the Istio release its CRDs come from (its package.json says so).
ISTIO_MODELS = "@kubernetes-models/istio@3.0.1"
ISTIO_VERSION = "1.29.2"
SCHEMA_GENERATOR = "ts-json-schema-generator@2.4.0"
# (group, version, kind) of every Istio object mockado renders.
ISTIO_KINDS = (
    ("networking.istio.io", "v1alpha3", "EnvoyFilter"),
    ("networking.istio.io", "v1", "DestinationRule"),
    ("networking.istio.io", "v1", "VirtualService"),
    ("networking.istio.io", "v1", "Sidecar"),
    ("security.istio.io", "v1", "AuthorizationPolicy"),
    ("security.istio.io", "v1", "PeerAuthentication"),
)

# Runs in node with the two packages installed next to it: one schema file per kind.
_GENERATOR_SCRIPT = """
import { createGenerator } from "ts-json-schema-generator";
import fs from "node:fs";
const [kinds, models, out] = [JSON.parse(process.argv[1]), process.argv[2], process.argv[3]];
for (const [group, version, kind] of kinds) {
  const schema = createGenerator({
    path: `${models}/${group}/${version}/${kind}.d.ts`, type: `I${kind}`,
    skipTypeCheck: true, additionalProperties: false,
  }).createSchema(`I${kind}`);
  fs.writeFileSync(`${out}/${group}_${version}_${kind}.json`, JSON.stringify(schema));
}
"""


def schema_file(schemas_dir: Path, group: str, version: str, kind: str) -> Path:
    return schemas_dir / f"{group}_{version}_{kind}.json"


def generate_istio_schemas(node_modules: Path, out_dir: Path) -> list[Path]:
    """Write one strict JSON Schema per ``ISTIO_KINDS`` entry into ``out_dir``.

    ``node_modules`` holds ``ISTIO_MODELS`` and ``SCHEMA_GENERATOR`` (npm install).
    """
    models = (node_modules / "@kubernetes-models" / "istio").resolve()
    if not models.is_dir():
        raise RenderError(f"{models}: missing; npm install {ISTIO_MODELS} first")
    out_dir.mkdir(parents=True, exist_ok=True)
    argv = ["node", "--input-type=module", "-e", _GENERATOR_SCRIPT, "--"]
    argv += [json.dumps(ISTIO_KINDS), str(models), str(out_dir.resolve())]
    try:
        subprocess.run(argv, cwd=node_modules.parent, check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        raise RenderError(f"generating the Istio schemas failed: {detail.strip()[-500:]}") from exc
    written = []
    for group, version, kind in ISTIO_KINDS:
        path = schema_file(out_dir, group, version, kind)
        path.write_text(json.dumps(_free_form_objects(json.loads(path.read_text()))))
        written.append(path)
    return written


def _free_form_objects(node: Any) -> Any:
    """``{}`` in the TypeScript types is a CRD field that keeps unknown fields (an
    EnvoyFilter patch's ``value``, a ``Struct``): any object, not an empty one."""
    if isinstance(node, dict):
        out = {k: _free_form_objects(v) for k, v in node.items()}
        if (
            out.get("type") == "object"
            and out.get("additionalProperties") is False
            and "properties" not in out
        ):
            del out["additionalProperties"]
        return out
    if isinstance(node, list):
        return [_free_form_objects(v) for v in node]
    return node


@cache
def _load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def istio_schema(schemas_dir: Path, api_version: str, kind: str) -> dict[str, Any] | None:
    """The schema of ``api_version``/``kind``, or None when mockado has none for it.

    Raises RenderError when a known kind's file is missing (``make install`` writes them).
    """
    group, _, version = api_version.partition("/")
    if (group, version, kind) not in ISTIO_KINDS:
        return None
    path = schema_file(schemas_dir, group, version, kind)
    if not path.is_file():
        raise RenderError(
            f"{path}: missing Istio schema; `make install` generates it from {ISTIO_MODELS}"
        )
    return _load(path)
