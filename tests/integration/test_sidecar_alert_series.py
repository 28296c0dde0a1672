"""The series the sidecar alerts read (render/monitoring.py's SIDECAR_SERIES, selected as
the rendered rules select them), in a real Envoy's /stats/prometheus put through the
rendered monitors' metric relabelling: the rendered sidecar bootstrap, its stats named as an
Istio sidecar names them, run by the sidecars' Envoy 1.37 and by the bundled 1.40 (1.37
has no upstream_rq_active_overflow: its circuit breaker refuses in
upstream_rq_pending_overflow). A collector nobody listens for moves the failed streams; a hung
one past control_plane.collector.max_requests moves the circuit breaker's refusals; a
healthy one moves neither while it captures. In another cluster domain than cluster.local
(where Istio's stats tag cuts the collector cluster's name short) the rendered rules, run by
promtool on those series, still fire: the circuit breaker's, the failed streams' and, once
Envoy has reset the streams the hung collector held, the reset streams'."""

from __future__ import annotations

import re
import uuid

import httpx
import pytest
import yaml

from control_plane.render import render_all
from control_plane.render.clusters import COLLECTOR_FAILURES_TO_EJECT, istio_cluster_name
from control_plane.render.istio import capture_targets
from control_plane.render.monitoring import (
    RULES_PATH,
    SCRAPE_CONFIG_PATH,
    podmonitor_path,
    sidecar_selectors,
)
from ext_proc_server.core.config import MockadoConfig
from tests.support.ext_proc_rig import collector_settings, make_config, wait_until
from tests.support.processes import promised_port, wait_for_value
from tests.support.prometheus_rules import alerts, run_tool
from tests.support.sidecar_stats import (
    INBOUND_PREFIX,
    OUTBOUND_PREFIX,
    Sample,
    counts_active_overflow,
    each_sidecar_envoy,
    hung_collector,
    istio_sidecar_bootstrap,
    refusal_counters,
    relabel,
    running_version,
    samples,
    selected,
    start_envoy,
    total,
)

pytestmark = pytest.mark.integration

REQUESTS = 20
# Enough that most come while the collector is ejected (after COLLECTOR_FAILURES_TO_EJECT).
UNREACHABLE_REQUESTS = 4 * COLLECTOR_FAILURES_TO_EJECT


def _send(url: str, n: int = REQUESTS) -> None:
    # Capture fails open: every request is answered whatever the collector does.
    with httpx.Client(timeout=10) as client:
        for _ in range(n):
            resp = client.get(f"{url}/healthz", headers={"x-request-id": str(uuid.uuid4())})
            assert resp.status_code == 200


def _config(settings: dict | None = None, **control_plane: object) -> MockadoConfig:
    return make_config(settings or {}, control_plane={"namespaces": {"shop": {}}, **control_plane})


def _kept(config: MockadoConfig, admin_url: str) -> list[Sample]:
    """The Envoy's series as the rendered monitors keep them: prometheus/scrape.yaml's
    sidecar job and the PodMonitor relabel them alike."""
    files = {f.path: f.text for f in render_all(config)}
    (job,) = [j for j in yaml.safe_load(files[SCRAPE_CONFIG_PATH])["scrape_configs"]
              if j["job_name"] == "mockado-sidecars"]  # fmt: skip
    (target,) = capture_targets(config.control_plane)
    (monitor,) = [d for d in yaml.safe_load_all(files[podmonitor_path(target)]) if d]
    raw = samples(httpx.get(f"{admin_url}/stats/prometheus", timeout=5).text)
    kept = relabel(raw, job["metric_relabel_configs"])
    operator = relabel(raw, monitor["spec"]["podMetricsEndpoints"][0]["metricRelabelings"])
    assert kept == operator
    return kept


@each_sidecar_envoy
@pytest.mark.parametrize("stat_prefix", [INBOUND_PREFIX, OUTBOUND_PREFIX])
def test_an_unreachable_collector_moves_the_failed_streams(
    stat_prefix, binary, envoy_factory, upstream
):
    config = _config()
    selectors = sidecar_selectors(config.control_plane)
    envoy = start_envoy(envoy_factory, istio_sidecar_bootstrap(
        config, stat_prefix=stat_prefix, app_port=upstream.port,
        collector_port=promised_port(),
    ), binary)  # fmt: skip
    before = _kept(config, envoy.admin_url)
    # Each series exists (a counter at 0) before anything happened: rate() has a start.
    # Not upstream_rq_active_overflow on 1.37: the rules fall back to the pending refusals.
    active = counts_active_overflow(running_version(envoy.admin_url))
    for key, selector in selectors.items():
        present = 1 if active or key != "refused_active" else 0
        assert len(selected(selector, before)) == present, (key, selector)
    _send(envoy.url, UNREACHABLE_REQUESTS)
    after = _kept(config, envoy.admin_url)
    # Every capture failed; after COLLECTOR_FAILURES_TO_EJECT refused connections Envoy
    # ejects the collector and opens no stream at all.
    failed = total(selectors["streams_failed"], after) - total(selectors["streams_failed"], before)
    assert failed == UNREACHABLE_REQUESTS
    assert total(selectors["streams_started"], after) < UNREACHABLE_REQUESTS / 2
    assert total(selectors["refused_active"], after) == 0
    assert total(selectors["refused_pending"], after) == 0
    # One name whatever the listener: its prefix in http_conn_manager_prefix, where Istio
    # puts an address's and the relabelling an inbound listener's (dots as underscores).
    listener = {INBOUND_PREFIX: "inbound_0_0_0_0_8080", OUTBOUND_PREFIX: OUTBOUND_PREFIX}
    (sample,) = selected(selectors["streams_failed"], after)
    assert sample.labels == {"http_conn_manager_prefix": listener[stat_prefix]}
    connect_failed = [s for s in after if s.name == "envoy_cluster_upstream_cx_connect_fail"]
    assert [s.labels["cluster_name"] for s in connect_failed if s.value > 0] == [
        f"outbound|{config.control_plane.collector.port}||{config.control_plane.collector.host}"
    ]


@each_sidecar_envoy
def test_a_hung_collector_past_max_requests_moves_the_circuit_breakers_refusals(
    binary, envoy_factory, upstream
):
    config = _config(collector={"max_requests": 2})
    selectors = sidecar_selectors(config.control_plane)
    with hung_collector() as port:
        envoy = start_envoy(envoy_factory, istio_sidecar_bootstrap(
            config, stat_prefix=OUTBOUND_PREFIX, app_port=upstream.port, collector_port=port,
        ), binary)  # fmt: skip
        active = counts_active_overflow(running_version(envoy.admin_url))
        before = _kept(config, envoy.admin_url)
        # Each stream stays open for the deferred close (5 s) after its response: the
        # requests after the first two find both slots taken.
        _send(envoy.url)
        after = _kept(config, envoy.admin_url)
        envoy.process.stop(timeout_s=15)

    def moved(key: str) -> float:
        return total(selectors[key], after) - total(selectors[key], before)

    # Each request either got one of the two slots or was refused, and a refused stream is
    # a failed one too. Envoy 1.38 and later count the refusal as active_overflow, 1.37 as
    # pending_overflow.
    refusals = "refused_active" if active else "refused_pending"
    other = "refused_pending" if active else "refused_active"
    assert moved("streams_started") + moved(refusals) == REQUESTS
    assert moved(refusals) >= REQUESTS / 2
    assert moved("streams_failed") == moved(refusals)
    assert moved(other) == 0


@each_sidecar_envoy
def test_a_healthy_collector_captures_and_moves_neither(
    binary, envoy_factory, upstream, ext_proc_factory, redis_server
):
    settings = collector_settings(redis_server.url, exclude_paths=[], sample_rate=1.0)
    config = make_config(settings, control_plane={"namespaces": {"shop": {}}})
    selectors = sidecar_selectors(config.control_plane)
    collector = ext_proc_factory(settings)
    envoy = start_envoy(envoy_factory, istio_sidecar_bootstrap(
        config, stat_prefix=INBOUND_PREFIX, app_port=upstream.port,
        collector_port=collector.grpc_port,
    ), binary)  # fmt: skip
    _send(envoy.url)
    wait_until(
        lambda: (
            collector.metric("collector_requests_total", method="GET", status="2xx") >= REQUESTS
        ),
        what="the collector received every capture stream",
    )
    after = _kept(config, envoy.admin_url)
    assert total(selectors["streams_started"], after) == REQUESTS
    for key in ("streams_failed", "refused_active", "refused_pending"):
        assert total(selectors[key], after) == 0, key
    envoy.process.stop(timeout_s=15)
    collector.process.stop(timeout_s=15)


def _humanize(value: float) -> str:
    """Prometheus's humanize of a value below 1000: 4 significant digits, below 1 with an
    SI prefix (0.1667 is 166.7m)."""
    prefixes, prefix = iter(("m", "u", "n", "p", "f", "a", "z", "y")), ""
    while value != 0 and abs(value) < 1:
        prefix, value = next(prefixes), value * 1000
    return f"{value:.4g}{prefix}"


def _humanized(template: str, value: float) -> str:
    # Prometheus's humanizePercentage: the value x 100 with 4 significant digits.
    text = template.replace("{{ $labels.namespace }}", "shop")
    text = text.replace("{{ $value | humanizePercentage }}", f"{value * 100:.4g}%")
    return text.replace("{{ $value | humanize }}", _humanize(value))


def _promtool_on(config: MockadoConfig, moves: list[Sample], firing: dict[str, float], tmp_path):
    """promtool's unit test of the rendered prometheus/rules.yaml on the sidecar series
    ``moves`` (each kept sample, its value what it moved by): each series growing by that
    every minute for 30 minutes, with the pod's labels; at 25 minutes each alert of
    ``firing`` fires with that value, for namespace shop."""
    rules = {f.path: f.text for f in render_all(config)}[RULES_PATH]
    (tmp_path / "rules.yaml").write_text(rules, encoding="utf-8")
    series = []
    for sample in moves:
        labels = {**sample.labels, "namespace": "shop", "pod": "web-1"}
        text = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        series.append({"series": f"{sample.name}{{{text}}}", "values": f"0+{sample.value:.0f}x30"})
    cases = []
    for rule in [r for r in alerts(yaml.safe_load(rules)["groups"]) if r["alert"] in firing]:
        notes = rule["annotations"]
        shown = {k: _humanized(notes[k], firing[rule["alert"]]) for k in ("summary", "description")}
        expected = {"exp_labels": {**rule["labels"], "namespace": "shop"},
                    "exp_annotations": {**notes, **shown}}  # fmt: skip
        cases.append({"eval_time": "25m", "alertname": rule["alert"], "exp_alerts": [expected]})
    assert len(cases) == len(firing)
    tests = {"rule_files": ["rules.yaml"], "evaluation_interval": "1m",
             "tests": [{"interval": "1m", "input_series": series, "alert_rule_test": cases}]}  # fmt: skip
    (tmp_path / "tests.yaml").write_text(yaml.safe_dump(tests), encoding="utf-8")
    return run_tool("promtool", "test", "rules", "tests.yaml", cwd=tmp_path)


# Envoy's own refusals, added back to the streams opened less those ended: the streams
# reset unanswered (as MockadoSidecarCaptureStreamsReset reads them).
_REFUSALS = ("refused_no_host", "refused_connect_failed", "refused_pending", "refused_active")
# Resets to see before the snapshot: each series grows by its move every minute in
# promtool's test, and the reset alert fires above 0.1/s (6 a minute).
RESETS = 10
# Streams to the hung collector reset this long after their exchange (the default 5 s
# would outlast the test's traffic).
HOLD_S = 1.0


def _cluster_counts(admin_url: str, cluster: str) -> dict[str, int]:
    """The collector cluster's counters from Envoy's admin API, by their short names."""
    prefix = f"cluster.{cluster}."
    text = httpx.get(f"{admin_url}/stats", params={"filter": f"^{re.escape(prefix)}"},
                     timeout=5).text  # fmt: skip
    found = (line.partition(": ") for line in text.splitlines())
    return {name.removeprefix(prefix): int(v) for name, _, v in found if v.strip().isdigit()}


def _reset(admin_url: str, cluster: str) -> int:
    """The streams Envoy reset unanswered so far (and those open, reset if never answered)."""
    c = _cluster_counts(admin_url, cluster)
    refused = ("upstream_cx_none_healthy", "upstream_rq_pending_failure_eject",
               *refusal_counters(running_version(admin_url)))  # fmt: skip
    return c["upstream_rq_total"] - c["upstream_rq_completed"] + sum(c[k] for k in refused)


def _reset_at_least(url: str, admin_url: str, cluster: str, count: int) -> int:
    """Traffic, a request per poll, until Envoy has reset ``count`` streams to the hung
    collector; then until it holds none open -> the streams it reset."""

    def one_more() -> int | None:
        _send(url, 1)
        reset = _reset(admin_url, cluster)
        return reset if reset >= count else None

    wait_for_value(one_more, timeout_s=60, interval_s=0.1, what=f"{count} streams reset")
    wait_for_value(lambda: _cluster_counts(admin_url, cluster)["upstream_rq_active"] == 0,
                   timeout_s=30, what="no capture stream open")  # fmt: skip
    return _reset(admin_url, cluster)


@each_sidecar_envoy
def test_in_another_cluster_domain_the_sidecar_alerts_fire_on_the_real_series(
    binary, envoy_factory, upstream, tmp_path
):
    """Outside cluster.local Istio's stats tag cuts the collector cluster's name at its
    first dot (cluster_name "outbound|PORT||mockado-collector", the rest in the series'
    name); the monitors put the name back, so the rules select the collector cluster's
    series as they do in cluster.local, and promtool sees the three sidecar alerts fire on
    those series. The hung collector's streams are held HOLD_S, and the series are read
    once Envoy has reset them. On 1.37 there is no upstream_rq_active_overflow series: the
    rules read every refusal in upstream_rq_pending_overflow."""
    collector = {"max_requests": 2, "deferred_close_timeout_s": HOLD_S}
    config = _config({"cluster_domain": "corp.internal"}, collector=collector)
    port = config.control_plane.collector.port
    cluster = f"outbound|{port}||mockado-collector.mockado.svc.corp.internal"
    assert istio_cluster_name(config.control_plane.collector) == cluster
    selectors = sidecar_selectors(config.control_plane)
    with hung_collector() as hung:
        envoy = start_envoy(envoy_factory, istio_sidecar_bootstrap(
            config, stat_prefix=OUTBOUND_PREFIX, app_port=upstream.port, collector_port=hung,
        ), binary)  # fmt: skip
        active = counts_active_overflow(running_version(envoy.admin_url))
        raw_before = samples(httpx.get(f"{envoy.admin_url}/stats/prometheus", timeout=5).text)
        before = _kept(config, envoy.admin_url)
        reset_before = _reset(envoy.admin_url, cluster)
        _send(envoy.url)
        reset = _reset_at_least(envoy.url, envoy.admin_url, cluster, RESETS) - reset_before
        after = _kept(config, envoy.admin_url)
        envoy.process.stop(timeout_s=15)
    # What Envoy itself shows: the collector cluster's name cut short.
    short = [s for s in raw_before if s.name.startswith("envoy_cluster_mockado_svc_corp_internal_")]
    assert short and {s.labels["cluster_name"] for s in short} == {
        f"outbound|{port}||mockado-collector"
    }
    moves = []
    for key, selector in selectors.items():
        if key == "refused_active" and not active:
            assert selected(selector, after) == []
            continue
        (sample,) = selected(selector, after)
        start = total(selector, before)
        moves.append(Sample(sample.name, sample.labels, sample.value - start))
    moved = {key: total(selector, moves) for key, selector in selectors.items()}
    refused = moved["refused_active"] + moved["refused_pending"]
    attempts = moved["streams_started"] + moved["streams_failed"]
    assert refused >= REQUESTS / 2
    # The kept series count the resets the admin API shows.
    kept_reset = moved["streams_opened"] - moved["streams_ended"]
    kept_reset += sum(moved[key] for key in _REFUSALS)
    assert kept_reset == reset >= RESETS, moved
    proc = _promtool_on(config, moves, {
        "MockadoSidecarCircuitBreakerOpen": refused / attempts,
        "MockadoSidecarStreamsFailing": moved["streams_failed"] / attempts,
        # Each series grows by its move every minute: the resets per second.
        "MockadoSidecarCaptureStreamsReset": reset / 60,
    }, tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
