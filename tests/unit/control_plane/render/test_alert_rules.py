"""mockado's alert rules (deploy/monitoring/prometheusrule.yaml and prometheus/rules.yaml,
one template): the real promtool checks both and runs the unit tests of
alert_rules_test.yaml, each alert firing when it should and quiet when it should not;
every series a rule reads is one ext_proc_server/core/metrics.py exports or one of the
sidecars' Envoy series (tests/integration/test_sidecar_alert_series.py finds them in a real
Envoy), and every alert links to its section of the runbook control_plane.runbook_url
names."""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import Counter, Gauge, Histogram

from control_plane.render.clusters import istio_cluster_name
from control_plane.render.monitoring import (
    PROMETHEUS_RULE_PATH,
    RULES_PATH,
    SCRAPE_CONFIG_PATH,
    SCRAPE_JOBS,
    SIDECAR_SERIES,
    operator_jobs,
    sidecar_selectors,
)
from ext_proc_server.core import metrics
from ext_proc_server.core.config import DEFAULT_RUNBOOK_URL, MockadoConfig, load_config
from ext_proc_server.core.errors import ConfigError
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
RULE_COUNT = 24
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
        assert f"SUCCESS: {RULE_COUNT} rules found" in proc.stdout, proc.stdout


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


def test_every_series_a_rule_reads_is_exported_by_core_metrics_or_the_sidecars():
    exported = exported_series()
    sidecar = set(SIDECAR_SERIES.values())
    cluster = istio_cluster_name(EXAMPLE.control_plane.collector)
    read_by_rules = set()
    for rule in alerts(plain_groups(EXAMPLE)):
        names = series_names(rule["expr"])
        assert names, rule["alert"]
        read_by_rules |= names & sidecar
        unknown = names - set(exported) - SYNTHETIC - sidecar
        assert not unknown, f"{rule['alert']}: not in core/metrics.py: {sorted(unknown)}"
        for series, label, op, value in matchers(rule["expr"]):
            if series in SYNTHETIC:
                continue
            if series in sidecar:
                # Only the collector's cluster: a sidecar refusing calls to another
                # Service is no lost capture.
                assert (label, op, value) == ("cluster_name", "=", cluster), rule["alert"]
                continue
            values = set(value.split("|"))
            known = ENUMERATED.get((series, label))
            if known is not None:
                assert values <= known, f"{rule['alert']}: {series}{{{label}}}: {values - known}"
            else:
                # The metric's help text names the values it takes.
                help_text = exported[series].documentation
                assert all(v in help_text for v in values), f"{rule['alert']}: {series}: {values}"
    # Each sidecar series the integration test finds in a real Envoy is one a rule reads.
    assert read_by_rules == sidecar


def test_the_sidecar_rules_read_the_collector_cluster_the_config_names():
    cluster = "outbound|50051||mockado-capture.mocks.svc.cluster.local"
    selectors = sidecar_selectors(MOVED.control_plane)
    assert selectors["refused_active"] == (
        f'envoy_cluster_upstream_rq_active_overflow{{cluster_name="{cluster}"}}'
    )
    (group,) = [g for g in plain_groups(MOVED) if g["name"] == "mockado-sidecars"]
    refusals = [r for r in group["rules"] if "overflow" in r["expr"]]
    assert refusals
    assert all(cluster in r["expr"] for r in refusals)


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
        assert notes["runbook_url"] == f"{DEFAULT_RUNBOOK_URL}#{name.lower()}", name
        assert name.lower() in anchors, f"docs/runbook.md has no section {name}"


@pytest.mark.parametrize("config", [EXAMPLE, MOVED], ids=["example", "moved"])
def test_the_prometheusrule_holds_the_same_alerts_on_the_operators_jobs(config):
    files = rendered(config)
    text = yaml.safe_dump(operator_groups(files[PROMETHEUS_RULE_PATH]))
    for component, job in operator_jobs(config.control_plane).items():
        # Only where a job is named: the collector's job is its Service's name, which the
        # collector cluster's name holds too.
        for form in ('job="{}"', "job {}"):
            text = text.replace(form.format(job), form.format(SCRAPE_JOBS[component]))
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


MIRROR = "https://git.example.internal/platform/mockado/-/blob/main/docs/runbook.md"


@pytest.mark.parametrize("source", ["file", "env"])
def test_the_alerts_link_the_runbook_the_config_names(source, tmp_path):
    path = tmp_path / "mockado.yaml"
    if source == "file":
        path.write_text(yaml.safe_dump({"control_plane": {"runbook_url": MIRROR}}))
        config = load_config(path, env={})
    else:
        path.write_text("{}\n")
        config = load_config(path, env={"MOCKADO_CONTROL_PLANE__RUNBOOK_URL": MIRROR + "/"})
    assert config.control_plane.runbook_url == MIRROR
    files = rendered(config)
    plain = yaml.safe_load(files[RULES_PATH])["groups"]
    for rule in [*alerts(plain), *alerts(operator_groups(files[PROMETHEUS_RULE_PATH]))]:
        assert rule["annotations"]["runbook_url"] == f"{MIRROR}#{rule['alert'].lower()}"
    (tmp_path / "rules.yaml").write_text(files[RULES_PATH], encoding="utf-8")
    proc = run_tool("promtool", "check", "rules", "rules.yaml", cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert f"SUCCESS: {RULE_COUNT} rules found" in proc.stdout, proc.stdout


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("git.example.internal/docs/runbook.md", "invalid URL"),
        ("ftp://git.example.internal/runbook.md", "invalid URL"),
        (f"{MIRROR}#alerts", "without an #anchor"),
        ("https://wiki.example.internal/{{ .Labels }}", "not a URL"),
        ("https://wiki.example.internal/run book", "not a URL"),
    ],
)
def test_a_runbook_url_that_is_no_page_is_refused_naming_the_key(url, why):
    with pytest.raises(ConfigError) as refused:
        load_config(None, env={"MOCKADO_CONTROL_PLANE__RUNBOOK_URL": url})
    assert str(refused.value).startswith("control_plane.runbook_url: ")
    assert why in str(refused.value)
