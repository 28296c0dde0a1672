"""The Istio and Prometheus Operator schemas `make install` generates from npm model
packages."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from control_plane import validate
from control_plane.assets import REPO_ROOT
from control_plane.schemas import (
    MODEL_PACKAGES,
    PROMETHEUS_OPERATOR,
    crd_problems,
    crd_schema,
    generate_schemas,
)
from ext_proc_server.core.errors import RenderError

SCHEMAS = validate.default_schemas_dir()
NODE_MODULES = REPO_ROOT / ".tools" / "npm" / "node_modules"


def test_every_rendered_custom_kind_has_a_schema() -> None:
    for package in MODEL_PACKAGES:
        for group, version, kind in package.kinds:
            schema = crd_schema(SCHEMAS, f"{group}/{version}", kind)
            assert schema is not None and "definitions" in schema


def test_free_form_fields_stay_free_and_unknown_fields_are_errors() -> None:
    schema = crd_schema(SCHEMAS, "networking.istio.io/v1alpha3", "EnvoyFilter")
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
    schema = crd_schema(SCHEMAS, "security.istio.io/v1", "AuthorizationPolicy")
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
    schema = crd_schema(SCHEMAS, "networking.istio.io/v1", "VirtualService")
    assert list(jsonschema.Draft7Validator(schema).iter_errors(doc)) == []
    (problem,) = crd_problems(NODE_MODULES, [doc])
    assert "destination must have required property host" in problem


def _rule_group() -> dict:
    rule = {"alert": "Down", "expr": "up == 0", "for": "5m", "labels": {"severity": "warning"}}
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "x"},
        "spec": {"groups": [{"name": "g", "rules": [rule]}]},
    }


def test_a_prometheus_rule_needs_its_expression_and_a_duration_string() -> None:
    doc = _rule_group()
    schema = crd_schema(SCHEMAS, "monitoring.coreos.com/v1", "PrometheusRule")
    assert list(jsonschema.Draft7Validator(schema).iter_errors(doc)) == []
    assert crd_problems(NODE_MODULES, [doc]) == [None]
    del doc["spec"]["groups"][0]["rules"][0]["expr"]
    # The generated schemas leave what is required to the CRD validators.
    assert list(jsonschema.Draft7Validator(schema).iter_errors(doc)) == []
    (problem,) = crd_problems(NODE_MODULES, [doc])
    assert "spec/groups/0/rules/0 must have required property expr" in problem
    doc = _rule_group()
    doc["spec"]["groups"][0]["rules"][0]["for"] = 5
    (error,) = jsonschema.Draft7Validator(schema).iter_errors(doc)
    assert list(error.absolute_path) == ["spec", "groups", 0, "rules", 0, "for"]
    (problem,) = crd_problems(NODE_MODULES, [doc])
    assert "spec/groups/0/rules/0/for must be string" in problem


def test_a_pod_monitor_endpoint_is_checked_to_its_fields() -> None:
    endpoint = {"port": "http-metrics", "path": "/metrics", "interval": "15s"}
    doc = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PodMonitor",
        "metadata": {"name": "x"},
        "spec": {"selector": {"matchLabels": {"app": "a"}}, "podMetricsEndpoints": [endpoint]},
    }
    schema = crd_schema(SCHEMAS, "monitoring.coreos.com/v1", "PodMonitor")
    assert list(jsonschema.Draft7Validator(schema).iter_errors(doc)) == []
    assert crd_problems(NODE_MODULES, [doc]) == [None]
    endpoint["scrapeInterval"] = endpoint.pop("interval")
    (error,) = jsonschema.Draft7Validator(schema).iter_errors(doc)
    assert list(error.absolute_path) == ["spec", "podMetricsEndpoints", 0]
    assert "scrapeInterval" in error.message


def test_unknown_kinds_have_none_and_a_missing_file_says_how_to_get_it(tmp_path: Path) -> None:
    assert crd_schema(SCHEMAS, "networking.k8s.io/v1", "NetworkPolicy") is None
    assert crd_schema(SCHEMAS, "monitoring.coreos.com/v1", "Probe") is None
    with pytest.raises(RenderError, match="make install"):
        crd_schema(tmp_path, "networking.istio.io/v1", "VirtualService")
    with pytest.raises(RenderError, match=f"from {PROMETHEUS_OPERATOR.spec}"):
        crd_schema(tmp_path, "monitoring.coreos.com/v1", "PrometheusRule")


@pytest.mark.parametrize("package", MODEL_PACKAGES, ids=lambda p: p.key)
def test_generation_is_reproducible(package, tmp_path: Path) -> None:
    written = generate_schemas(package, NODE_MODULES, tmp_path)
    assert len(written) == len(package.kinds)
    for path in written:
        assert json.loads(path.read_text()) == json.loads((SCHEMAS / path.name).read_text())
