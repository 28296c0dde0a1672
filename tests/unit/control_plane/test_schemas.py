"""The Istio schemas `make install` generates from the npm model package."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from control_plane import validate
from control_plane.assets import REPO_ROOT
from control_plane.schemas import ISTIO_KINDS, crd_problems, generate_istio_schemas, istio_schema
from ext_proc_server.core.errors import RenderError

SCHEMAS = validate.default_schemas_dir()
NODE_MODULES = REPO_ROOT / ".tools" / "npm" / "node_modules"


def test_every_rendered_istio_kind_has_a_schema() -> None:
    for group, version, kind in ISTIO_KINDS:
        schema = istio_schema(SCHEMAS, f"{group}/{version}", kind)
        assert schema is not None and "definitions" in schema


def test_free_form_fields_stay_free_and_unknown_fields_are_errors() -> None:
    schema = istio_schema(SCHEMAS, "networking.istio.io/v1alpha3", "EnvoyFilter")
    patch = {"operation": "MERGE", "value": {"any": {"nested": ["config", 1]}}}
    doc = {
        "apiVersion": "networking.istio.io/v1alpha3",
        "kind": "EnvoyFilter",
        "metadata": {"name": "x", "namespace": "shop"},
        "spec": {"configPatches": [{"applyTo": "CLUSTER", "patch": patch}], "priority": 10},
    }
    assert list(jsonschema.Draft7Validator(schema).iter_errors(doc)) == []
    doc["spec"]["prority"] = 10
    (error,) = jsonschema.Draft7Validator(schema).iter_errors(doc)
    assert "prority" in error.message


def test_an_authorization_policy_is_checked_to_its_fields() -> None:
    schema = istio_schema(SCHEMAS, "security.istio.io/v1", "AuthorizationPolicy")
    rule = {"from": [{"source": {"principals": ["cluster.local/ns/mockado/sa/loader"]}}]}
    doc = {
        "apiVersion": "security.istio.io/v1",
        "kind": "AuthorizationPolicy",
        "metadata": {"name": "x"},
        "spec": {"action": "ALLOW", "rules": [rule]},
    }
    assert list(jsonschema.Draft7Validator(schema).iter_errors(doc)) == []
    assert crd_problems(NODE_MODULES, [doc]) == [None]
    doc["spec"]["action"] = "PERMIT"
    assert list(jsonschema.Draft7Validator(schema).iter_errors(doc))
    (problem,) = crd_problems(NODE_MODULES, [doc])
    assert "spec/action" in problem


def test_the_crd_validators_see_what_field_names_cannot() -> None:
    route = {"route": [{"destination": {"port": {"number": 80}}}]}
    doc = {
        "apiVersion": "networking.istio.io/v1",
        "kind": "VirtualService",
        "metadata": {"name": "x"},
        "spec": {"hosts": ["api.shop.svc.cluster.local"], "http": [route]},
    }
    schema = istio_schema(SCHEMAS, "networking.istio.io/v1", "VirtualService")
    assert list(jsonschema.Draft7Validator(schema).iter_errors(doc)) == []
    (problem,) = crd_problems(NODE_MODULES, [doc])
    assert "destination must have required property host" in problem


def test_unknown_kinds_have_none_and_a_missing_file_says_how_to_get_it(tmp_path: Path) -> None:
    assert istio_schema(SCHEMAS, "networking.k8s.io/v1", "NetworkPolicy") is None
    with pytest.raises(RenderError, match="make install"):
        istio_schema(tmp_path, "networking.istio.io/v1", "VirtualService")


def test_generation_is_reproducible(tmp_path: Path) -> None:
    written = generate_istio_schemas(NODE_MODULES, tmp_path)
    assert len(written) == len(ISTIO_KINDS)
    for path in written:
        assert json.loads(path.read_text()) == json.loads((SCHEMAS / path.name).read_text())
