"""mockado's alert rules (deploy/monitoring/prometheusrule.yaml and prometheus/rules.yaml,
one template): the real promtool checks both and runs the unit tests of
alert_rules_test.yaml, each alert firing when it should and quiet when it should not;
every series a rule reads is one ext_proc_server/core/metrics.py exports, and every alert
links to its section of docs/runbook.md."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import Counter, Gauge, Histogram

from control_plane.render.monitoring import (
    PROMETHEUS_RULE_PATH,
    RULES_PATH,
    RUNBOOK_URL,
    SCRAPE_CONFIG_PATH,
    SCRAPE_JOBS,
    operator_jobs,
)
from ext_proc_server.core import metrics
from ext_proc_server.core.config import MockadoConfig, load_config
from tests.support.paths import REPO
from tests.support.prometheus_rules import (
    alerts,
    matchers,
    operator_groups,
    rendered,
    run_tool,
    series_names,
)

UNIT_TESTS = Path(__file__).parent / "alert_rules_test.yaml"
EXAMPLE = load_config(REPO / "mockado.example.yaml", env={})
MOVED = MockadoConfig.model_validate(
    {"control_plane": {"mockado_namespace": "mocks", "prometheus_namespace": "monitoring",
                       "collector": {"host": "mockado-capture.mocks.svc.cluster.local"}}}
)  # fmt: skip
SEVERITIES = {"critical", "warning", "info"}
# Series Prometheus makes itself, not read from /metrics.
SYNTHETIC = {"up"}
# Label values the rules match that core/metrics.py enumerates.
ENUMERATED = {
    ("collector_dropped_total", "reason"): set(metrics.DROP_REASONS),
    ("collector_redis_errors_total", "error"): set(metrics.REDIS_ERROR_KINDS),
    ("mockado_serving_requests_total", "answer"): set(metrics.SERVED_ANSWERS),
}


def plain_groups(config: MockadoConfig) -> list[dict[str, Any]]:
    return yaml.safe_load(rendered(config)[RULES_PATH])["groups"]


def exported_series() -> dict[str, Any]:
    """Every series name core/metrics.py exports -> its metric."""
    out: dict[str, Any] = {}
    for value in vars(metrics).values():
        if isinstance(value, Counter | Gauge | Histogram):
            (family,) = value.describe()
            suffixes = {"counter": ("_total",), "gauge": ("",),
                        "histogram": ("_bucket", "_sum", "_count")}[family.type]  # fmt: skip
            out.update({family.name + suffix: family for suffix in suffixes})
    return out


@pytest.mark.parametrize("config", [EXAMPLE, MOVED], ids=["example", "moved"])
def test_promtool_checks_the_rules_file_and_the_prometheusrule(config, tmp_path):
    files = rendered(config)
    (tmp_path / "rules.yaml").write_text(files[RULES_PATH], encoding="utf-8")
    groups = {"groups": operator_groups(files[PROMETHEUS_RULE_PATH])}
    (tmp_path / "operator.yaml").write_text(yaml.safe_dump(groups), encoding="utf-8")
    for name in ("rules.yaml", "operator.yaml"):
        proc = run_tool("promtool", "check", "rules", name, cwd=tmp_path)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        assert "SUCCESS: 21 rules found" in proc.stdout, proc.stdout


def test_promtool_unit_tests_fire_and_stay_quiet(tmp_path):
    (tmp_path / "rules.yaml").write_text(rendered(EXAMPLE)[RULES_PATH], encoding="utf-8")
    shutil.copy(UNIT_TESTS, tmp_path / UNIT_TESTS.name)
    proc = run_tool("promtool", "test", "rules", UNIT_TESTS.name, cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout


def test_every_alert_has_a_firing_and_a_quiet_unit_test():
    cases = [c for t in yaml.safe_load(UNIT_TESTS.read_text())["tests"]
             for c in t["alert_rule_test"]]  # fmt: skip
    names = {rule["alert"] for rule in alerts(plain_groups(EXAMPLE))}
    fired = {c["alertname"] for c in cases if c["exp_alerts"]}
    quiet = {c["alertname"] for c in cases if not c["exp_alerts"]}
    assert names == fired, f"no firing test: {sorted(names - fired)}"
    assert names == quiet, f"no quiet test: {sorted(names - quiet)}"


def test_every_series_a_rule_reads_is_exported_by_core_metrics():
    exported = exported_series()
    for rule in alerts(plain_groups(EXAMPLE)):
        names = series_names(rule["expr"])
        assert names, rule["alert"]
        unknown = names - set(exported) - SYNTHETIC
        assert not unknown, f"{rule['alert']}: not in core/metrics.py: {sorted(unknown)}"
        for series, label, _, value in matchers(rule["expr"]):
            if series in SYNTHETIC:
                continue
            values = set(value.split("|"))
            known = ENUMERATED.get((series, label))
            if known is not None:
                assert values <= known, f"{rule['alert']}: {series}{{{label}}}: {values - known}"
            else:
                # The metric's help text names the values it takes.
                help_text = exported[series].documentation
                assert all(v in help_text for v in values), f"{rule['alert']}: {series}: {values}"


def test_the_metric_name_check_catches_a_misspelt_series():
    # The parser behind the check above: a series it missed would pass unchecked.
    expr = ('sum by (shard) (rate(wiremock_loader_stubs_rejectd_total{shard="a"}[5m])) > 0 '
            'unless on (shard) absent(up{job="x"}) or vector(0)')  # fmt: skip
    assert series_names(expr) == {"wiremock_loader_stubs_rejectd_total", "up"}
    assert list(matchers(expr)) == [
        ("wiremock_loader_stubs_rejectd_total", "shard", "=", "a"),
        ("up", "job", "=", "x"),
    ]


def _runbook_anchors() -> set[str]:
    text = (REPO / "docs" / "runbook.md").read_text(encoding="utf-8")
    headings = re.findall(r"^#{2,4} (.+)$", text, re.M)
    # GitHub's anchors: lower case, punctuation dropped, spaces as dashes.
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_every_alert_waits_is_graded_explained_and_links_its_runbook_section():
    anchors = _runbook_anchors()
    for rule in alerts(plain_groups(EXAMPLE)):
        name = rule["alert"]
        assert re.fullmatch(r"[0-9]+[smh]", rule["for"]), name
        assert rule["labels"]["severity"] in SEVERITIES, name
        notes = rule["annotations"]
        assert notes["summary"] and notes["description"], name
        assert notes["runbook_url"] == f"{RUNBOOK_URL}#{name.lower()}", name
        assert name.lower() in anchors, f"docs/runbook.md has no section {name}"


@pytest.mark.parametrize("config", [EXAMPLE, MOVED], ids=["example", "moved"])
def test_the_prometheusrule_holds_the_same_alerts_on_the_operators_jobs(config):
    files = rendered(config)
    text = yaml.safe_dump(operator_groups(files[PROMETHEUS_RULE_PATH]))
    for component, job in operator_jobs(config.control_plane).items():
        text = text.replace(job, SCRAPE_JOBS[component])
    assert yaml.safe_load(text) == plain_groups(config)
    (rule,) = [d for d in yaml.safe_load_all(files[PROMETHEUS_RULE_PATH]) if d]
    assert rule["metadata"]["namespace"] == (config.control_plane.prometheus_namespace or
                                             config.control_plane.mockado_namespace)  # fmt: skip


@pytest.mark.parametrize("config", [EXAMPLE, MOVED], ids=["example", "moved"])
def test_the_rules_match_the_jobs_prometheus_gives_the_targets(config):
    files = rendered(config)
    scrape_jobs = {
        j["job_name"] for j in yaml.safe_load(files[SCRAPE_CONFIG_PATH])["scrape_configs"]
    }
    assert set(SCRAPE_JOBS.values()) <= scrape_jobs
    # The Operator: a ServiceMonitor's targets get their Service's name, a PodMonitor's
    # "<its namespace>/<its name>".
    objects = [d for text in files.values() if text.lstrip("#").strip() for d in
               yaml.safe_load_all(text) if isinstance(d, dict) and "kind" in d]  # fmt: skip
    services = {d["metadata"]["name"] for d in objects if d["kind"] == "Service"}
    keepers = next(d for d in objects if d["kind"] == "PodMonitor"
                   and d["spec"]["selector"].get("matchLabels", {}).get(
                       "app.kubernetes.io/component") == "wiremock")  # fmt: skip
    jobs = operator_jobs(config.control_plane)
    assert {jobs["collector"], jobs["loader"]} <= services
    meta = keepers["metadata"]
    assert jobs["keepers"] == f"{meta['namespace']}/{meta['name']}"
