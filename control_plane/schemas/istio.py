"""Check Istio objects the two ways the model package allows (see the package docstring).

- ``crd_problems``: the package's own validators, compiled from Istio's CRD schemas (types,
  enums, required fields, one-of rules), run by node.
- ``istio_schema``: JSON Schemas generated from the package's TypeScript types, which know
  every field name: an unknown field is an error, as with ``kubectl apply --validate=strict``.
  The generator reads one-of unions (``Exclude<...>``) as required fields, so the generated
  schemas keep only the field names and types; the CRD validators judge what is required.
"""

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

# Runs in node next to the model package: one problem (or null) per document on stdin.
_CRD_VALIDATOR_SCRIPT = """
let text = "";
for await (const chunk of process.stdin) text += chunk;
const out = [];
for (const doc of JSON.parse(text)) {
  const [group, version] = doc.apiVersion.split("/");
  try {
    const models = await import(`@kubernetes-models/istio/${group}/${version}/${doc.kind}`);
    new models[doc.kind](doc).validate();
    out.push(null);
  } catch (error) {
    out.push(String(error.message).split("\\n")[0].slice(0, 300));
  }
}
console.log(JSON.stringify(out));
"""

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
        path.write_text(json.dumps(_field_names_only(json.loads(path.read_text()))))
        written.append(path)
    return written


def _field_names_only(node: Any) -> Any:
    """No ``required`` (the CRD validators judge it), and ``{}`` in the TypeScript types,
    a CRD field that keeps unknown fields (an EnvoyFilter patch's ``value``, a ``Struct``),
    is any object, not an empty one."""
    if isinstance(node, dict):
        out = {k: _field_names_only(v) for k, v in node.items() if k != "required"}
        if (
            out.get("type") == "object"
            and out.get("additionalProperties") is False
            and "properties" not in out
        ):
            del out["additionalProperties"]
        return out
    if isinstance(node, list):
        return [_field_names_only(v) for v in node]
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


def is_istio_kind(api_version: str, kind: str) -> bool:
    group, _, version = api_version.partition("/")
    return (group, version, kind) in ISTIO_KINDS


def crd_problems(node_modules: Path, docs: list[dict[str, Any]]) -> list[str | None]:
    """One problem (or None) per document of an ``ISTIO_KINDS`` kind, from the CRD validators."""
    if not docs:
        return []
    if not (node_modules / "@kubernetes-models" / "istio").is_dir():
        raise RenderError(f"{node_modules}: no {ISTIO_MODELS}; `make install` installs it")
    argv = ["node", "--input-type=module", "-e", _CRD_VALIDATOR_SCRIPT]
    try:
        done = subprocess.run(
            argv,
            cwd=node_modules.parent,
            input=json.dumps(docs),
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return json.loads(done.stdout)
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        raise RenderError(f"the Istio CRD validators failed to run ({type(exc).__name__})") from exc
