"""Check custom resources the two ways an npm model package allows (see the package docstring).

- ``crd_problems``: the package's own validators, compiled from the project's CRD schemas
  (types, enums, required fields, one-of rules), run by node.
- ``crd_schema``: JSON Schemas generated from the package's TypeScript types, which know
  every field name: an unknown field is an error, as with ``kubectl apply --validate=strict``.
  The generator reads one-of unions (``Exclude<...>``) as required fields, so the generated
  schemas keep only the field names and types; the CRD validators judge what is required.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from ext_proc_server.core.errors import RenderError

SCHEMA_GENERATOR = "ts-json-schema-generator@2.4.0"


@dataclass(frozen=True)
class ModelPackage:
    """An npm package of models generated from a project's CRDs, and the kinds mockado
    renders from it."""

    name: str  # the npm package, e.g. "@kubernetes-models/istio"
    version: str  # pinned: the package's release
    source: str  # whose CRDs its types come from (its package.json says so)
    kinds: tuple[tuple[str, str, str], ...]  # (group, version, kind)

    @property
    def spec(self) -> str:
        """What ``npm install`` is given: the package at its pinned version."""
        return f"{self.name}@{self.version}"

    @property
    def key(self) -> str:
        """The short name ``python -m control_plane.schemas`` takes: "istio"."""
        return self.name.rpartition("/")[2]

    def owns(self, api_version: str) -> bool:
        """Whether ``api_version``'s group is this package's (its kinds rendered or not)."""
        group = api_version.partition("/")[0]
        return any(group == g for g, _, _ in self.kinds)


ISTIO = ModelPackage(
    name="@kubernetes-models/istio",
    version="3.0.1",
    source="Istio 1.29.2",
    kinds=(
        ("networking.istio.io", "v1alpha3", "EnvoyFilter"),
        ("networking.istio.io", "v1", "DestinationRule"),
        ("networking.istio.io", "v1", "VirtualService"),
        ("networking.istio.io", "v1", "Sidecar"),
        ("security.istio.io", "v1", "AuthorizationPolicy"),
        ("security.istio.io", "v1", "PeerAuthentication"),
    ),
)
PROMETHEUS_OPERATOR = ModelPackage(
    name="@kubernetes-models/prometheus-operator",
    version="6.0.0",
    source="Prometheus Operator",
    kinds=(
        ("monitoring.coreos.com", "v1", "PodMonitor"),
        ("monitoring.coreos.com", "v1", "ServiceMonitor"),
        ("monitoring.coreos.com", "v1", "PrometheusRule"),
    ),
)
MODEL_PACKAGES = (ISTIO, PROMETHEUS_OPERATOR)

# Runs in node next to the model packages: one problem (or null) per [package, document].
_CRD_VALIDATOR_SCRIPT = """
let text = "";
for await (const chunk of process.stdin) text += chunk;
const out = [];
for (const [pkg, doc] of JSON.parse(text)) {
  const [group, version] = doc.apiVersion.split("/");
  try {
    const models = await import(`${pkg}/${group}/${version}/${doc.kind}`);
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
const [kinds, models, out, tsconfig] = [JSON.parse(process.argv[1]), ...process.argv.slice(2)];
for (const [group, version, kind] of kinds) {
  const schema = createGenerator({
    path: `${models}/${group}/${version}/${kind}.d.ts`, type: `I${kind}`,
    skipTypeCheck: true, additionalProperties: false, tsconfig,
  }).createSchema(`I${kind}`);
  fs.writeFileSync(`${out}/${group}_${version}_${kind}.json`, JSON.stringify(schema));
}
"""
# The generator's own defaults, but resolving imports as node does: through a package's
# "exports" (the Prometheus Operator's kinds extend ``TypeMeta`` of @kubernetes-models/base,
# which has no other entry point).
_GENERATOR_TSCONFIG = {
    "compilerOptions": {
        "noEmit": True,
        "emitDecoratorMetadata": True,
        "experimentalDecorators": True,
        "target": "es5",
        "module": "nodenext",
        "moduleResolution": "nodenext",
        "strictNullChecks": False,
    }
}


def model_package(api_version: str) -> ModelPackage | None:
    """The model package whose group ``api_version`` is in, or None (a core Kubernetes kind)."""
    return next((p for p in MODEL_PACKAGES if p.owns(api_version)), None)


def schema_file(schemas_dir: Path, group: str, version: str, kind: str) -> Path:
    return schemas_dir / f"{group}_{version}_{kind}.json"


def generate_schemas(package: ModelPackage, node_modules: Path, out_dir: Path) -> list[Path]:
    """Write one strict JSON Schema per kind of ``package`` into ``out_dir``.

    ``node_modules`` holds ``package`` and ``SCHEMA_GENERATOR`` (npm install).
    """
    models = (node_modules / package.name).resolve()
    if not models.is_dir():
        raise RenderError(f"{models}: missing; npm install {package.spec} first")
    out_dir.mkdir(parents=True, exist_ok=True)
    try:
        with tempfile.TemporaryDirectory(prefix="mockado-schemas-") as tmp:
            tsconfig = Path(tmp) / "tsconfig.json"
            tsconfig.write_text(json.dumps(_GENERATOR_TSCONFIG), encoding="utf-8")
            argv = ["node", "--input-type=module", "-e", _GENERATOR_SCRIPT, "--"]
            argv += [json.dumps(package.kinds), str(models), str(out_dir.resolve()), str(tsconfig)]
            subprocess.run(
                argv, cwd=node_modules.parent, check=True, capture_output=True, text=True
            )
    except (OSError, subprocess.CalledProcessError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        raise RenderError(
            f"generating the {package.key} schemas failed: {detail.strip()[-500:]}"
        ) from exc
    written = []
    for group, version, kind in package.kinds:
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


def crd_schema(schemas_dir: Path, api_version: str, kind: str) -> dict[str, Any] | None:
    """The schema of ``api_version``/``kind``, or None when mockado has none for it.

    Raises RenderError when a known kind's file is missing (``make install`` writes them).
    """
    group, _, version = api_version.partition("/")
    package = model_package(api_version)
    if package is None or (group, version, kind) not in package.kinds:
        return None
    path = schema_file(schemas_dir, group, version, kind)
    if not path.is_file():
        raise RenderError(
            f"{path}: missing {kind} schema; `make install` generates it from {package.spec}"
        )
    return _load(path)


def crd_problems(node_modules: Path, docs: list[dict[str, Any]]) -> list[str | None]:
    """One problem (or None) per document of a ``MODEL_PACKAGES`` kind, from its package's
    CRD validators (one node process for all of them)."""
    if not docs:
        return []
    pairs = []
    for doc in docs:
        package = model_package(str(doc.get("apiVersion", "")))
        if package is None:
            raise RenderError(f"{doc.get('apiVersion')} {doc.get('kind')}: no model package")
        if not (node_modules / package.name).is_dir():
            raise RenderError(f"{node_modules}: no {package.spec}; `make install` installs it")
        pairs.append((package.name, doc))
    argv = ["node", "--input-type=module", "-e", _CRD_VALIDATOR_SCRIPT]
    try:
        done = subprocess.run(
            argv,
            cwd=node_modules.parent,
            input=json.dumps(pairs),
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return json.loads(done.stdout)
    except (OSError, ValueError, subprocess.SubprocessError) as exc:
        raise RenderError(f"the CRD validators failed to run ({type(exc).__name__})") from exc
