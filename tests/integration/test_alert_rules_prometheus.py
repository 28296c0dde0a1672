"""The rendered prometheus/rules.yaml in a real Prometheus (Debian's package) scraping a
real `mockado loader` (with Redis and WireMock): an entry the loader cannot decode is
dead-lettered and MockadoStubsDeadLettered fires; the loader stopped, MockadoLoaderDown
goes pending."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis
import yaml

from control_plane.local import procs
from control_plane.render.monitoring import RULES_PATH, SCRAPE_JOBS
from ext_proc_server.core.config import load_config
from tests.support.paths import REPO
from tests.support.processes import RedisHandle, WireMockHandle, poll_until
from tests.support.prometheus_rules import rendered, tool

pytestmark = [pytest.mark.integration, pytest.mark.timeout(300)]


class Prometheus:
    """A Prometheus on a free port, scraping every second and evaluating the rules as often."""

    def __init__(self, work: Path, logs_dir: Path, *, rules: str, targets: dict[str, str]):
        self.port = procs.free_port()
        (work / "rules.yaml").write_text(rules, encoding="utf-8")
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": ["rules.yaml"],
            "scrape_configs": [
                {"job_name": job, "static_configs": [{"targets": [target]}]}
                for job, target in targets.items()
            ],
        }
        (work / "prometheus.yml").write_text(yaml.safe_dump(config), encoding="utf-8")
        self.process = procs.ManagedProcess(
            "prometheus",
            [tool("prometheus"), f"--config.file={work / 'prometheus.yml'}",
             f"--storage.tsdb.path={work / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.port}"],
            log_path=logs_dir / f"prometheus-{self.port}.log",
        )  # fmt: skip

    def __enter__(self) -> Prometheus:
        self.process.start()
        self.process.wait_ready(procs.http_ready(f"{self.url}/-/ready"), timeout_s=60)
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.stop(timeout_s=15)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def value(self, query: str) -> float | None:
        data = httpx.get(f"{self.url}/api/v1/query", params={"query": query}, timeout=5).json()
        result = data["data"]["result"]
        return float(result[0]["value"][1]) if result else None

    def alert_states(self) -> dict[str, str]:
        """alertname -> state (pending or firing) of every active alert."""
        data = httpx.get(f"{self.url}/api/v1/alerts", timeout=5).json()
        return {a["labels"]["alertname"]: a["state"] for a in data["data"]["alerts"]}


@pytest.fixture
def loader(
    redis_server: RedisHandle, wiremock: WireMockHandle, mockado_bin: str, clean_env: dict,
    tmp_path: Path, logs_dir: Path,
) -> Iterator[tuple[procs.ManagedProcess, int, str]]:  # fmt: skip
    queue = f"alerts-{uuid.uuid4().hex[:8]}"
    port = procs.free_port()
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
    process = procs.ManagedProcess(
        "loader",
        [mockado_bin, "loader", "--config", str(tmp_path / "mockado.yaml"),
         "--http-port", str(port)],
        log_path=logs_dir / f"alerts-loader-{port}.log", env=clean_env, cwd=REPO,
    ).start()  # fmt: skip
    try:
        process.wait_ready(procs.http_ready(f"http://127.0.0.1:{port}/healthz"), timeout_s=60)
        yield process, port, queue
    finally:
        process.stop(timeout_s=15)


def test_a_real_prometheus_fires_and_pends_the_rendered_alerts(loader, redis_server, tmp_path,
                                                                logs_dir):  # fmt: skip
    process, port, queue = loader
    rules = rendered(load_config(REPO / "mockado.example.yaml", env={}))[RULES_PATH]
    targets = {SCRAPE_JOBS["loader"]: f"127.0.0.1:{port}"}
    client = redis.Redis.from_url(redis_server.url)
    with Prometheus(tmp_path, logs_dir, rules=rules, targets=targets) as prometheus:
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
