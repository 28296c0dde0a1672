"""The rendered prometheus/rules.yaml in a real Prometheus (Debian's package) scraping a
real `mockado loader` (with Redis and WireMock): an entry the loader cannot decode is
dead-lettered and MockadoStubsDeadLettered fires; the loader stopped, MockadoLoaderDown
goes pending. And scraping real Envoys with the rendered sidecar bootstrap through
prometheus/scrape.yaml's sidecar job: a collector nobody listens for pends
MockadoSidecarStreamsFailing (and not MockadoSidecarCaptureStreamsReset: Envoy answers those
refusals itself), a hung one past max_requests MockadoSidecarCircuitBreakerOpen and, for the
streams it holds and Envoy resets unanswered, MockadoSidecarCaptureStreamsReset, in
cluster.local and in another cluster domain (where Istio's stats tag cuts the collector
cluster's name short and the scrape job's relabelling puts it back); the dashboard's sidecar
panels' queries have values there too."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis
import yaml

from control_plane.local import procs
from control_plane.render.clusters import istio_cluster_name
from control_plane.render.monitoring import RULES_PATH, SCRAPE_CONFIG_PATH, SCRAPE_JOBS
from ext_proc_server.core.config import MockadoConfig, load_config
from tests.support.dashboard_series import dashboard_sidecar_queries
from tests.support.paths import REPO
from tests.support.processes import (
    RedisHandle,
    WireMockHandle,
    poll_until,
    promised_port,
    start_on_promised_ports,
)
from tests.support.prometheus_rules import rendered, tool
from tests.support.sidecar_stats import (
    INBOUND_PREFIX,
    OUTBOUND_PREFIX,
    hung_collector,
    istio_sidecar_bootstrap,
)

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


class Prometheus:
    """A Prometheus on a free port, scraping every second and evaluating the rules as often."""

    def __init__(self, work: Path, logs_dir: Path, *, rules: str, scrape_configs: list[dict]):
        self.work = work
        self.logs_dir = logs_dir
        self.port = 0  # set once it listens
        self.process: procs.ManagedProcess | None = None
        (work / "rules.yaml").write_text(rules, encoding="utf-8")
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": ["rules.yaml"],
            "scrape_configs": scrape_configs,
        }
        (work / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")

    def _launch(self, ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
        [port] = ports
        process = procs.ManagedProcess(
            "prometheus",
            [tool("prometheus"), f"--config.file={self.work / 'prometheus.yml'}",
             f"--storage.tsdb.path={self.work / 'data'}",
             f"--web.listen-address=127.0.0.1:{port}"],
            log_path=self.logs_dir / f"prometheus-{port}.log",
        )  # fmt: skip
        return process, procs.http_ready(f"http://127.0.0.1:{port}/-/ready")

    def __enter__(self) -> Prometheus:
        # It binds its port only once started: started again elsewhere when it was taken.
        self.process, [self.port] = start_on_promised_ports(
            "prometheus", self._launch, started=lambda process: process, timeout_s=60
        )
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.stop(timeout_s=15)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def value(self, query: str) -> float | None:
        data = httpx.get(f"{self.url}/api/v1/query", params={"query": query}, timeout=5).json()
        result = data["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    def alerts(self) -> list[dict[str, Any]]:
        """Every active alert: its labels and state (pending or firing)."""
        return httpx.get(f"{self.url}/api/v1/alerts", timeout=5).json()["data"]["alerts"]

    def alert_states(self) -> dict[str, str]:
        """alertname -> state (pending or firing) of every active alert."""
        return {a["labels"]["alertname"]: a["state"] for a in self.alerts()}


def static_jobs(targets: dict[str, str]) -> list[dict]:
    return [{"job_name": job, "static_configs": [{"targets": [target]}]}
            for job, target in targets.items()]  # fmt: skip


@pytest.fixture
def loader(
    redis_server: RedisHandle, wiremock: WireMockHandle, mockado_bin: str, clean_env: dict,
    tmp_path: Path, logs_dir: Path,
) -> Iterator[tuple[procs.ManagedProcess, int, str]]:  # fmt: skip
    queue = f"alerts-{uuid.uuid4().hex[:8]}"
    config = {
        "loader": {
            "redis_url": redis_server.url,
            "wiremock_url": wiremock.url,
            "redis_queue": queue,
            "retry_backoff": 0.05,
            "retry_max_delay": 0.5,
        }
    }
    (tmp_path / "mockado.yaml").write_text(yaml.safe_dump(config), encoding="utf-8")

    def launch(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
        [port] = ports
        process = procs.ManagedProcess(
            "loader",
            [mockado_bin, "loader", "--config", str(tmp_path / "mockado.yaml"),
             "--http-port", str(port)],
            log_path=logs_dir / f"alerts-loader-{port}.log", env=clean_env, cwd=REPO,
        )  # fmt: skip
        return process, procs.http_ready(f"http://127.0.0.1:{port}/healthz")

    started: list[procs.ManagedProcess] = []
    try:
        process, [port] = start_on_promised_ports(
            "loader", launch, started=started.append, timeout_s=60
        )
        yield process, port, queue
    finally:
        for process in started:
            process.stop(timeout_s=15)


def test_a_real_prometheus_fires_and_pends_the_rendered_alerts(loader, redis_server, tmp_path,
                                                                logs_dir):  # fmt: skip
    process, port, queue = loader
    rules = rendered(load_config(REPO / "mockado.example.yaml", env={}))[RULES_PATH]
    targets = {SCRAPE_JOBS["loader"]: f"127.0.0.1:{port}"}
    client = redis.Redis.from_url(redis_server.url)
    with Prometheus(
        tmp_path, logs_dir, rules=rules, scrape_configs=static_jobs(targets)
    ) as prometheus:
        up = f'up{{job="{SCRAPE_JOBS["loader"]}"}}'
        assert poll_until(lambda: prometheus.value(up) == 1, timeout_s=60)
        # The rules are evaluated: no collector is scraped, so its absence is pending.
        assert poll_until(
            lambda: prometheus.alert_states().get("MockadoCollectorAbsent") == "pending",
            timeout_s=60,
        )
        assert "MockadoStubsDeadLettered" not in prometheus.alert_states()
        dead = 'wiremock_loader_mappings_processed_total{status="dead_lettered"}'
        # Not JSON: the loader dead-letters it at once. The counter's first sample
        # (1) is no increase to Prometheus, the second entry's (2) is.
        client.xadd(queue, {"mapping": "not a mapping"})
        assert poll_until(lambda: prometheus.value(dead) == 1, timeout_s=60)
        assert "MockadoStubsDeadLettered" not in prometheus.alert_states()
        client.xadd(queue, {"mapping": "not a mapping either"})
        assert poll_until(lambda: prometheus.value(dead) == 2, timeout_s=60)
        assert poll_until(
            lambda: prometheus.alert_states().get("MockadoStubsDeadLettered") == "firing",
            timeout_s=60,
        )
        assert client.xlen(f"{queue}:dead") == 2
        assert "MockadoLoaderDown" not in prometheus.alert_states()
        process.stop(timeout_s=15)
        assert poll_until(lambda: prometheus.value(up) == 0, timeout_s=60)
        # for: 5m: pending, and not firing within the test.
        assert poll_until(
            lambda: prometheus.alert_states().get("MockadoLoaderDown") == "pending",
            timeout_s=60,
        )
    client.close()


def sidecar_job(scrape_config: str, targets: dict[str, str]) -> dict:
    """prometheus/scrape.yaml's sidecar job, its pods found by hand: each target (an Envoy's
    admin address) labelled with its namespace, as the job's relabelling would. Its metric
    relabelling (the series it keeps) is the rendered one."""
    (job,) = [j for j in yaml.safe_load(scrape_config)["scrape_configs"]
              if j["job_name"] == "mockado-sidecars"]  # fmt: skip
    del job["kubernetes_sd_configs"], job["relabel_configs"]
    job["static_configs"] = [
        {"targets": [target], "labels": {"namespace": namespace}}
        for namespace, target in targets.items()
    ]
    return job


def sidecar_pending(prometheus: Prometheus) -> set[tuple[str, str]]:
    """(alertname, namespace) of each sidecar alert pending."""
    return {(a["labels"]["alertname"], a["labels"].get("namespace", ""))
            for a in prometheus.alerts() if a["state"] == "pending"
            and a["labels"]["alertname"].startswith("MockadoSidecar")}  # fmt: skip


class Traffic:
    """A request every 50 ms to each Envoy until stopped: capture attempts keep coming."""

    def __init__(self, urls: list[str]) -> None:
        self._urls = urls
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.answered = 0

    def _run(self) -> None:
        with httpx.Client(timeout=5) as client:
            while not self._stop.wait(0.05):
                for url in self._urls:
                    # Capture fails open: every request is answered.
                    if client.get(f"{url}/healthz").status_code == 200:
                        self.answered += 1

    def __enter__(self) -> Traffic:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


# Two streams at a time to the hung collector, each reset 1 s after its exchange: 2 resets/s,
# over the reset alert's 0.1/s within the 5 minutes' first 15 s of samples.
HUNG_COLLECTOR = {"max_requests": 2, "deferred_close_timeout_s": 1.0}


def _sidecar_config(cluster_domain: str) -> MockadoConfig:
    if cluster_domain == "cluster.local":
        overrides = {f"control_plane.collector.{k}": v for k, v in HUNG_COLLECTOR.items()}
        return load_config(REPO / "mockado.example.yaml", env={}, overrides=overrides)
    # The example's hosts are in cluster.local: a config of its own.
    return MockadoConfig.model_validate({
        "collector": {"cluster_domain": cluster_domain},
        "control_plane": {"namespaces": {"shop": {}}, "collector": HUNG_COLLECTOR},
    })  # fmt: skip


@pytest.mark.parametrize("cluster_domain", ["cluster.local", "corp.internal"])
def test_a_real_prometheus_pends_the_sidecar_alerts_on_real_envoys(
    cluster_domain, envoy_factory, upstream, tmp_path, logs_dir
):  # fmt: skip
    config = _sidecar_config(cluster_domain)
    assert config.control_plane.collector.host.endswith(f".svc.{cluster_domain}")
    files = rendered(config)
    with hung_collector() as hung_port:
        unreachable = envoy_factory(istio_sidecar_bootstrap(
            config, stat_prefix=INBOUND_PREFIX, app_port=upstream.port,
            collector_port=promised_port(),
        ))  # fmt: skip
        overflowing = envoy_factory(istio_sidecar_bootstrap(
            config, stat_prefix=OUTBOUND_PREFIX, app_port=upstream.port, collector_port=hung_port,
        ))  # fmt: skip
        targets = {"shop": f"127.0.0.1:{unreachable.admin_port}",
                   "orders": f"127.0.0.1:{overflowing.admin_port}"}  # fmt: skip
        jobs = [sidecar_job(files[SCRAPE_CONFIG_PATH], targets)]
        with (
            Prometheus(tmp_path, logs_dir, rules=files[RULES_PATH], scrape_configs=jobs) as prom,
            Traffic([unreachable.url, overflowing.url]) as traffic,
        ):
            expected = {
                ("MockadoSidecarStreamsFailing", "shop"),
                # Its refusals are failed streams too.
                ("MockadoSidecarStreamsFailing", "orders"),
                ("MockadoSidecarCircuitBreakerOpen", "orders"),
                # The streams it did open, reset unanswered once held 1 s; shop's are all
                # refusals Envoy answers itself (failed connections, no healthy host).
                ("MockadoSidecarCaptureStreamsReset", "orders"),
            }
            assert poll_until(lambda: sidecar_pending(prom) == expected, timeout_s=90), (
                sidecar_pending(prom)
            )
            # The metric relabelling kept what the rules read, an inbound listener's stat
            # prefix moved out of the name, and dropped the rest.
            inbound = 'envoy_http_ext_proc_mockado_streams_failed{http_conn_manager_prefix="inbound_0_0_0_0_8080"}'
            assert prom.value(f"count({inbound})") == 1
            assert prom.value('count({job="mockado-sidecars",__name__=~"envoy_server_.*"})') is None
            # The dashboard's sidecar panels read the same series: each query has a value.
            cluster = istio_cluster_name(config.control_plane.collector)
            queries = dashboard_sidecar_queries(cluster)
            assert len(queries) >= 4
            for query in queries:
                assert prom.value(query) is not None, query
            assert traffic.answered > 0
        unreachable.process.stop(timeout_s=15)
        overflowing.process.stop(timeout_s=15)


def test_a_prometheus_whose_port_was_taken_starts_on_another(squatter, tmp_path, logs_dir):
    with Prometheus(tmp_path, logs_dir, rules="groups: []\n", scrape_configs=[]) as prom:
        assert squatter.ports and prom.port not in squatter.ports
        # The first one could not listen on the taken port.
        first = (logs_dir / f"prometheus-{squatter.ports[0]}.log").read_text(errors="replace")
        assert "address already in use" in first
        assert httpx.get(f"{prom.url}/-/ready", timeout=5).status_code == 200


def test_a_loader_whose_port_was_taken_starts_on_another(squatter, loader, logs_dir):
    process, port, _queue = loader
    assert squatter.ports and port not in squatter.ports
    assert process.alive
    first = (logs_dir / f"alerts-loader-{squatter.ports[0]}.log").read_text(errors="replace")
    assert f"http port {squatter.ports[0]}: cannot listen" in first  # the first one
    assert httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=5).status_code == 200
