"""The Prometheus Operator objects mockado renders (deploy/monitoring/) pass their CRDs'
schemas, in the golden render and as shipped; a wrong field is a problem that names the
file, the object and the field path."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from control_plane import validate
from control_plane.render import RenderedFile, render_all
from ext_proc_server.core.config import MockadoConfig, load_config
from tests.support.paths import REPO

GOLDEN_CONFIG = Path(__file__).parent / "render" / "golden" / "config.yaml"
SCHEMAS = validate.default_schemas_dir()
MONITORING_DIR = "deploy/monitoring/"
RULE_FILE = f"{MONITORING_DIR}prometheusrule.yaml"
SHOP_MONITOR_FILE = f"{MONITORING_DIR}podmonitor-shop.yaml"


@pytest.fixture(scope="module")
def golden_config() -> MockadoConfig:
    return load_config(GOLDEN_CONFIG, env={})


def _golden(config: MockadoConfig) -> list[RenderedFile]:
    return [f for f in render_all(config) if f.path.startswith(MONITORING_DIR)]


def _shipped(_config: MockadoConfig) -> list[RenderedFile]:
    # What `mockado render --config mockado.example.yaml` wrote into the repository.
    return [
        RenderedFile(path=p.relative_to(REPO).as_posix(), text=p.read_text(), kind="k8s")
        for p in sorted((REPO / MONITORING_DIR).glob("*.yaml"))
    ]


def _objects(files: list[RenderedFile]) -> list[tuple[str, dict[str, Any]]]:
    return [(f.path, doc) for f in files for doc in yaml.safe_load_all(f.text) if doc]


def _with(path: str, doc: dict[str, Any]) -> RenderedFile:
    return RenderedFile(path=path, text=yaml.safe_dump(doc), kind="k8s")


def _check(config: MockadoConfig, files: list[RenderedFile]) -> list[str]:
    return validate.check_rendered(files, config=config, schemas_dir=SCHEMAS)


@pytest.mark.parametrize("rendered", [_golden, _shipped], ids=["golden", "shipped"])
def test_every_monitoring_object_is_checked_against_its_crd(
    rendered: Callable[[MockadoConfig], list[RenderedFile]], golden_config: MockadoConfig
) -> None:
    files = rendered(golden_config)
    objects = _objects(files)
    kinds = {doc["kind"] for _, doc in objects}
    # The Operator's objects only (the dashboard's ConfigMap is in deploy/grafana-sidecar/).
    assert kinds == {"PodMonitor", "ServiceMonitor", "PrometheusRule"}
    assert _check(golden_config, files) == []
    # Each object, given a field its kind does not have, is rejected by its name.
    mutated, expected = [], []
    for path, doc in objects:
        bad = copy.deepcopy(doc)
        bad["spec"]["scrapeIntervall"] = "30s"
        mutated.append(_with(path, bad))
        name = f"{path}: {doc['kind']}/{doc['metadata']['name']}"
        expected.append(
            f"{name}: spec: Additional properties are not allowed ('scrapeIntervall' was unexpected)"
        )
    assert sorted(_check(golden_config, mutated)) == sorted(expected)


def _golden_doc(config: MockadoConfig, path: str) -> dict[str, Any]:
    (doc,) = [doc for p, doc in _objects(_golden(config)) if p == path]
    return doc


def test_a_rule_without_its_expression_is_named_with_its_path(golden_config: MockadoConfig) -> None:
    doc = _golden_doc(golden_config, RULE_FILE)
    del doc["spec"]["groups"][0]["rules"][1]["expr"]
    (problem,) = _check(golden_config, [_with(RULE_FILE, doc)])
    assert problem.startswith(
        f"{RULE_FILE}: PrometheusRule/mockado-alerts (Prometheus Operator CRD)"
    )
    assert "spec/groups/0/rules/1 must have required property expr" in problem


def test_a_numeric_for_is_named_with_its_path(golden_config: MockadoConfig) -> None:
    doc = _golden_doc(golden_config, RULE_FILE)
    doc["spec"]["groups"][1]["rules"][0]["for"] = 5
    problems = _check(golden_config, [_with(RULE_FILE, doc)])
    where = f"{RULE_FILE}: PrometheusRule/mockado-alerts"
    assert f"{where}: spec/groups/1/rules/0/for: 5 is not of type 'string'" in problems
    assert any(
        p.startswith(f"{where} (Prometheus Operator CRD)")
        and "spec/groups/1/rules/0/for must be string" in p
        for p in problems
    )


def test_a_misspelt_pod_monitor_endpoint_key_is_named_with_its_path(
    golden_config: MockadoConfig,
) -> None:
    doc = _golden_doc(golden_config, SHOP_MONITOR_FILE)
    endpoint = doc["spec"]["podMetricsEndpoints"][0]
    endpoint["metricRelabellings"] = endpoint.pop("metricRelabelings")
    assert _check(golden_config, [_with(SHOP_MONITOR_FILE, doc)]) == [
        f"{SHOP_MONITOR_FILE}: PodMonitor/mockado-sidecars-shop: spec/podMetricsEndpoints/0: "
        "Additional properties are not allowed ('metricRelabellings' was unexpected)"
    ]


def test_a_monitoring_kind_without_a_schema_is_a_problem(golden_config: MockadoConfig) -> None:
    probe = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "Probe",
        "metadata": {"name": "x"},
        "spec": {},
    }
    (problem,) = _check(golden_config, [_with(f"{MONITORING_DIR}probe.yaml", probe)])
    assert problem == (
        f"{MONITORING_DIR}probe.yaml: no Prometheus Operator schema known for "
        "monitoring.coreos.com/v1 Probe"
    )


def test_missing_schemas_fail_the_monitoring_check(
    golden_config: MockadoConfig, tmp_path: Path
) -> None:
    files = _golden(golden_config)[:1]
    problems = validate.check_rendered(files, config=golden_config, schemas_dir=tmp_path / "no")
    assert problems == [
        f"{tmp_path / 'no'}: CRD schemas not found (`make install` writes them; or --schemas-dir)"
    ]
