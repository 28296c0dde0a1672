"""The series the sidecar alerts read (render/monitoring.py's SIDECAR_SERIES, selected as
the rendered rules select them), in a real Envoy's /stats/prometheus put through the
rendered monitors' metric relabelling: the rendered sidecar bootstrap, its stats named as an
Istio sidecar names them. A collector nobody listens for moves the failed streams; a hung
one past control_plane.collector.max_requests moves the circuit breaker's refusals; a
healthy one moves neither while it captures. In another cluster domain than cluster.local
(where Istio's stats tag cuts the collector cluster's name short) the rendered rules, run by
promtool on those series, still fire."""

from __future__ import annotations

import uuid

import httpx
import pytest
import yaml

from control_plane.local import procs
from control_plane.render import render_all
from control_plane.render.clusters import istio_cluster_name
from control_plane.render.istio import capture_targets
from control_plane.render.monitoring import (
    RULES_PATH,
    SCRAPE_CONFIG_PATH,
    podmonitor_path,
    sidecar_selectors,
)
from ext_proc_server.core.config import MockadoConfig
from tests.support.ext_proc_rig import collector_settings, make_config, wait_until
from tests.support.prometheus_rules import alerts, run_tool
from tests.support.sidecar_stats import (
    INBOUND_PREFIX,
    OUTBOUND_PREFIX,
    Sample,
    hung_collector,
    istio_sidecar_bootstrap,
    relabel,
    samples,
    selected,
    total,
)

pytestmark = pytest.mark.integration

REQUESTS = 20


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


@pytest.mark.parametrize("stat_prefix", [INBOUND_PREFIX, OUTBOUND_PREFIX])
def test_an_unreachable_collector_moves_the_failed_streams(stat_prefix, envoy_factory, upstream):
    config = _config()
    selectors = sidecar_selectors(config.control_plane)
    envoy = envoy_factory(istio_sidecar_bootstrap(
        config, stat_prefix=stat_prefix, app_port=upstream.port,
        collector_port=procs.free_port(),
    ))  # fmt: skip
    before = _kept(config, envoy.admin_url)
    # Each series exists (a counter at 0) before anything happened: rate() has a start.
    for key, selector in selectors.items():
        assert len(selected(selector, before)) == 1, (key, selector)
    _send(envoy.url)
    after = _kept(config, envoy.admin_url)
    # Every capture failed; after a few refused connections Envoy ejects the collector and
    # opens no stream at all.
    failed = total(selectors["streams_failed"], after) - total(selectors["streams_failed"], before)
    assert failed == REQUESTS
    assert total(selectors["streams_started"], after) < REQUESTS / 2
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


def test_a_hung_collector_past_max_requests_moves_the_circuit_breakers_refusals(
    envoy_factory, upstream
):
    config = _config(collector={"max_requests": 2})
    selectors = sidecar_selectors(config.control_plane)
    with hung_collector() as port:
        envoy = envoy_factory(istio_sidecar_bootstrap(
            config, stat_prefix=OUTBOUND_PREFIX, app_port=upstream.port, collector_port=port,
        ))  # fmt: skip
        before = _kept(config, envoy.admin_url)
        # Each stream stays open for the deferred close (1 s) after its response: the
        # requests after the first two find both slots taken.
        _send(envoy.url)
        after = _kept(config, envoy.admin_url)
        envoy.process.stop(timeout_s=15)

    def moved(key: str) -> float:
        return total(selectors[key], after) - total(selectors[key], before)

    # Each request either got one of the two slots or was refused, and a refused stream is
    # a failed one too. Envoy 1.38 and later count the refusal as active_overflow.
    assert moved("streams_started") + moved("refused_active") == REQUESTS
    assert moved("refused_active") >= REQUESTS / 2
    assert moved("streams_failed") == moved("refused_active")
    assert moved("refused_pending") == 0


def test_a_healthy_collector_captures_and_moves_neither(
    envoy_factory, upstream, ext_proc_factory, redis_server
):
    settings = collector_settings(redis_server.url, exclude_paths=[], sample_rate=1.0)
    config = make_config(settings, control_plane={"namespaces": {"shop": {}}})
    selectors = sidecar_selectors(config.control_plane)
    collector = ext_proc_factory(settings)
    envoy = envoy_factory(istio_sidecar_bootstrap(
        config, stat_prefix=INBOUND_PREFIX, app_port=upstream.port,
        collector_port=collector.grpc_port,
    ))  # fmt: skip
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


def _humanized(template: str, value: float) -> str:
    # Prometheus's humanizePercentage: the value x 100 with 4 significant digits.
    text = template.replace("{{ $labels.namespace }}", "shop")
    return text.replace("{{ $value | humanizePercentage }}", f"{value * 100:.4g}%")


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


def test_in_another_cluster_domain_the_circuit_breaker_alert_fires_on_the_real_series(
    envoy_factory, upstream, tmp_path
):
    """Outside cluster.local Istio's stats tag cuts the collector cluster's name at its
    first dot (cluster_name "outbound|PORT||mockado-collector", the rest in the series'
    name); the monitors put the name back, so the rules select the refusals as they do in
    cluster.local, and promtool sees both sidecar alerts fire on those series."""
    config = _config({"cluster_domain": "corp.internal"}, collector={"max_requests": 2})
    port = config.control_plane.collector.port
    cluster = f"outbound|{port}||mockado-collector.mockado.svc.corp.internal"
    assert istio_cluster_name(config.control_plane.collector) == cluster
    selectors = sidecar_selectors(config.control_plane)
    with hung_collector() as hung:
        envoy = envoy_factory(istio_sidecar_bootstrap(
            config, stat_prefix=OUTBOUND_PREFIX, app_port=upstream.port, collector_port=hung,
        ))  # fmt: skip
        raw_before = samples(httpx.get(f"{envoy.admin_url}/stats/prometheus", timeout=5).text)
        before = _kept(config, envoy.admin_url)
        _send(envoy.url)
        after = _kept(config, envoy.admin_url)
        envoy.process.stop(timeout_s=15)
    # What Envoy itself shows: the collector cluster's name cut short.
    short = [s for s in raw_before if s.name.startswith("envoy_cluster_mockado_svc_corp_internal_")]
    assert short and {s.labels["cluster_name"] for s in short} == {
        f"outbound|{port}||mockado-collector"
    }
    moves = []
    for selector in selectors.values():
        (sample,) = selected(selector, after)
        start = total(selector, before)
        moves.append(Sample(sample.name, sample.labels, sample.value - start))
    moved = {key: total(selector, moves) for key, selector in selectors.items()}
    refused = moved["refused_active"] + moved["refused_pending"]
    attempts = moved["streams_started"] + moved["streams_failed"]
    assert refused >= REQUESTS / 2
    proc = _promtool_on(config, moves, {
        "MockadoSidecarCircuitBreakerOpen": refused / attempts,
        "MockadoSidecarStreamsFailing": moved["streams_failed"] / attempts,
    }, tmp_path)  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
