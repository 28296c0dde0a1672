"""Rendered files pass the real validators: `envoy --mode validate` (a one-shot process,
no server), the Istio CRD schemas and the bundled Kubernetes schemas. Broken input fails.

Envoy runs once per file (~0.1-1 s each); the whole golden set is validated once per
session.
"""

from __future__ import annotations

import copy
import re
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from control_plane import validate
from control_plane.local.procs import find_envoy
from control_plane.render import LocalEnvoy, UpstreamService, render_all, render_local_envoy
from ext_proc_server.core.config import MockadoConfig, load_config
from tests.support.paths import sidecar_envoy

GOLDEN_CONFIG = Path(__file__).parent / "render" / "golden" / "config.yaml"
SCHEMAS = validate.default_schemas_dir()
LOCAL = LocalEnvoy(
    listen_port=1,
    admin_port=2,
    upstream=UpstreamService(host="127.0.0.1", port=3),
    collector_port=4,
)


@pytest.fixture(scope="session")
def golden_config() -> MockadoConfig:
    return load_config(GOLDEN_CONFIG, env={})


@pytest.fixture(scope="session")
def golden_files(golden_config: MockadoConfig) -> list:
    return render_all(golden_config)


def test_every_rendered_file_validates(
    golden_config: MockadoConfig, golden_files: list, envoy_binary: str
) -> None:
    # Envoy bootstraps, EnvoyFilter patches embedded in bootstraps, CRD and k8s schemas.
    problems = validate.check_rendered(
        golden_files, config=golden_config, schemas_dir=SCHEMAS, sidecar_envoy=envoy_binary
    )
    assert problems == []


def test_envoy_rejects_a_broken_bootstrap(tmp_path: Path) -> None:
    good = render_local_envoy(MockadoConfig(), replace(LOCAL, sample_percent=10))
    broken = good.replace("denominator: HUNDRED", "denominator: PERCENT")
    (tmp_path / "good.yaml").write_text(good)
    (tmp_path / "broken.yaml").write_text(broken)
    problems = validate.envoy_validate([tmp_path / "good.yaml", tmp_path / "broken.yaml"])
    assert len(problems) == 1
    assert problems[0].startswith("broken.yaml: envoy rejected it")


def _envoyfilter(golden_files: list) -> dict[str, Any]:
    text = next(f.text for f in golden_files if f.path == "istio/shop/envoyfilter-capture.yaml")
    return yaml.safe_load(text)


def test_istio_schema_rejects_unknown_and_mistyped_fields(golden_files: list) -> None:
    doc = _envoyfilter(golden_files)
    assert validate.schema_problems(doc, schemas_dir=SCHEMAS, source="x") == []

    typo = copy.deepcopy(doc)
    typo["spec"]["workloadSelecter"] = {"labels": {"app": "a"}}
    problems = validate.schema_problems(typo, schemas_dir=SCHEMAS, source="x")
    assert problems and "workloadSelecter" in problems[0]

    bad_context = copy.deepcopy(doc)
    bad_context["spec"]["configPatches"][0]["match"]["context"] = "SIDECAR_SIDEWAYS"
    problems = validate.schema_problems(bad_context, schemas_dir=SCHEMAS, source="x")
    assert any("configPatches/0/match/context" in p for p in problems)


def test_destination_rule_validates_against_its_crd(golden_files: list) -> None:
    text = next(f.text for f in golden_files if f.path.endswith("destinationrule-collector.yaml"))
    doc = yaml.safe_load(text)
    assert validate.schema_problems(doc, schemas_dir=SCHEMAS, source="dr") == []
    doc["spec"]["trafficPolicy"]["connectionPool"]["http"]["http2MaxRequests"] = "many"
    assert validate.schema_problems(doc, schemas_dir=SCHEMAS, source="dr")


def test_kubernetes_schemas_are_strict_and_offline(golden_files: list) -> None:
    text = next(f.text for f in golden_files if f.path == "deploy/collector.yaml")
    deployment = next(d for d in yaml.safe_load_all(text) if d["kind"] == "Deployment")
    assert validate.kubernetes_problems(deployment, source="c") == []
    bogus = copy.deepcopy(deployment)
    bogus["spec"]["template"]["spec"]["containers"][0]["securityContex"] = {}
    problems = validate.kubernetes_problems(bogus, source="c")
    assert problems and "securityContex" in problems[0]
    wrong_type = copy.deepcopy(deployment)
    wrong_type["spec"]["replicas"] = "three"
    assert validate.kubernetes_problems(wrong_type, source="c")


def test_check_reports_a_missing_schema_dir(golden_config: MockadoConfig, tmp_path: Path) -> None:
    files = [f for f in render_all(golden_config) if f.kind == "envoyfilter"][:1]
    problems = validate.check_rendered(files, config=golden_config, schemas_dir=tmp_path / "nope")
    assert any("CRD schemas not found" in p for p in problems)


def test_envoy_accepts_the_timing_log(tmp_path: Path) -> None:
    config = render_local_envoy(
        MockadoConfig(), replace(LOCAL, timing_log_path=str(tmp_path / "timing.log"))
    )
    (tmp_path / "timing.yaml").write_text(config)
    assert validate.envoy_validate([tmp_path / "timing.yaml"]) == []


def test_the_declared_envoy_version_is_checked_against_the_binary_that_validates() -> None:
    envoy = find_envoy()
    actual = validate.envoy_version(envoy)
    assert re.fullmatch(r"1\.[0-9]+", actual)
    same = MockadoConfig.model_validate({"control_plane": {"envoy_version": actual}})
    line, ok = validate.envoy_version_report(same, envoy)
    assert ok and f"Envoy {actual} (control_plane.envoy_version)" in line
    older = MockadoConfig.model_validate({"control_plane": {"envoy_version": "1.30"}})
    # The bundled Envoy may differ from the sidecars': said, not failed.
    line, ok = validate.envoy_version_report(older, None)
    assert ok and "sidecars run 1.30" in line and "pass --envoy" in line
    # A binary the user names must be the declared version.
    line, ok = validate.envoy_version_report(older, envoy)
    assert not ok and "--envoy must be the sidecars' Envoy" in line


def test_the_sidecars_envoy_the_checks_use_is_the_declared_version() -> None:
    declared = MockadoConfig().control_plane.envoy_version
    assert validate.envoy_version(sidecar_envoy()) == declared
    line, ok = validate.envoy_version_report(MockadoConfig(), sidecar_envoy())
    assert ok and f"validated with Envoy {declared} (control_plane.envoy_version)" in line
