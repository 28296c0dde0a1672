"""The rendered capture filter in a real Envoy 1.40, streaming to the real ext_proc server.

Envoy runs the sidecar-style bootstrap (the same filter and collector cluster name an
Istio EnvoyFilter installs) and the local bootstrap of `mockado up`. Captures are counted
from the collector's /metrics counter collector_requests_total (one per ext_proc stream),
so no Redis reads are needed.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import yaml

from control_plane.local import procs
from control_plane.render import (
    LocalEnvoy,
    UpstreamService,
    render_all,
    render_local_envoy,
    render_sidecar_envoy,
)
from ext_proc_server.core.config import MockadoConfig, load_config
from ext_proc_server.core.errors import RenderError
from tests.support.processes import promised_port, start_on_promised_ports, wait_for_value

pytestmark = pytest.mark.integration

_COUNTER = re.compile(r"^collector_requests_total\{[^}]*\} ([0-9.e+]+)$", re.MULTILINE)


class Collector:
    def __init__(self, grpc_port: int, http_port: int) -> None:
        self.grpc_port = grpc_port
        self.http_port = http_port
        self.metrics_url = f"http://127.0.0.1:{http_port}/metrics"

    def captured(self) -> int:
        text = httpx.get(self.metrics_url, timeout=5).text
        return int(sum(float(v) for v in _COUNTER.findall(text)))

    def settled(self, *, reaching: int = 0, quiet_s: float = 0.6, timeout_s: float = 15.0) -> int:
        """The counter once it reached ``reaching`` and stopped moving (streams finish after
        the responses: on a busy box, some after a quiet while of their own)."""
        wait_for_value(
            lambda: self.captured() >= reaching, timeout_s=30, what=f"{reaching} captures"
        )
        last, since = self.captured(), time.monotonic()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            time.sleep(0.15)
            now = self.captured()
            if now != last:
                last, since = now, time.monotonic()
            elif time.monotonic() - since >= quiet_s:
                break
        return last


def _config(tmp_path: Path, *, redis_url: str, grpc_port: int, http_port: int) -> Path:
    path = tmp_path / "mockado.yaml"
    path.write_text(
        yaml.safe_dump(
            {
                "collector": {
                    "grpc_port": grpc_port,
                    "http_port": http_port,
                    "redis_url": redis_url,
                    # Only Envoy decides what is captured in these tests.
                    "exclude_paths": [],
                    "sample_rate": 1.0,
                },
                "control_plane": {
                    "namespaces": {
                        "sampled": {"sample_percent": 10, "exclude_paths": ["/healthz"]},
                        "full": {"exclude_paths": ["/healthz", "re:/api/users/[0-9]+"]},
                        "off": {"enabled": False},
                    }
                },
            }
        )
    )
    return path


def start_collector(
    directory: Path, *, redis_url: str, logs_dir: Path, started, mockado_bin: str, env: dict
) -> tuple[MockadoConfig, Collector]:
    """The collector on promised ports, with its config written to ``directory``."""

    def launch(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
        grpc_port, http_port = ports
        path = _config(directory, redis_url=redis_url, grpc_port=grpc_port, http_port=http_port)
        process = procs.ManagedProcess(
            "ext-proc",
            [mockado_bin, "ext-proc", "--config", str(path)],
            log_path=logs_dir / f"control-plane-ext-proc-{grpc_port}.log",
            env=env,
        )
        return process, procs.http_ready(f"http://127.0.0.1:{http_port}/readyz")

    # Its ports are bound only once it starts: started again elsewhere when one was taken.
    _, [grpc_port, http_port] = start_on_promised_ports(
        "ext-proc", launch, started=started, timeout_s=30, count=2
    )
    # The config written last names the ports it listens on.
    return load_config(directory / "mockado.yaml", env={}), Collector(grpc_port, http_port)


@pytest.fixture(scope="module")
def config_and_collector(
    tmp_path_factory, redis_server, logs_dir, process_registry, mockado_bin, clean_env
) -> tuple[MockadoConfig, Collector]:
    return start_collector(
        tmp_path_factory.mktemp("cp"), redis_url=redis_server.url, logs_dir=logs_dir,
        started=process_registry.add, mockado_bin=mockado_bin, env=clean_env,
    )  # fmt: skip


def test_a_collector_whose_ports_were_taken_starts_on_others(
    squatter, tmp_path, redis_server, logs_dir, process_registry, mockado_bin, clean_env
) -> None:
    squatter.count = 2  # its gRPC and HTTP ports
    config, collector = start_collector(
        tmp_path, redis_url=redis_server.url, logs_dir=logs_dir,
        started=process_registry.add, mockado_bin=mockado_bin, env=clean_env,
    )  # fmt: skip
    assert len(squatter.ports) == 2
    assert {collector.grpc_port, collector.http_port}.isdisjoint(squatter.ports)
    assert (config.collector.grpc_port, config.collector.http_port) == (
        collector.grpc_port, collector.http_port,
    )  # fmt: skip
    first = (logs_dir / f"control-plane-ext-proc-{squatter.ports[0]}.log").read_text()
    assert "cannot listen" in first
    resp = httpx.get(f"http://127.0.0.1:{collector.http_port}/readyz", timeout=5)
    assert resp.status_code == 200


def _sidecar(envoy_factory, config: MockadoConfig, namespace: str, upstream, port: int):
    def render(listen_port: int, admin_port: int) -> str:
        return render_sidecar_envoy(
            config, namespace=namespace, listen_host="127.0.0.1", listen_port=listen_port,
            admin_port=admin_port, app_port=upstream.port, collector_host="127.0.0.1",
            collector_port=port,
        )  # fmt: skip

    return envoy_factory(render)


def _send(client: httpx.Client, url: str, n: int) -> None:
    for _ in range(n):
        resp = client.get(url, headers={"x-request-id": str(uuid.uuid4())})
        assert resp.status_code == 200


def test_sampling_at_10_percent_captures_about_10_percent(
    config_and_collector, envoy_factory: Callable, upstream
) -> None:
    config, collector = config_and_collector
    envoy = _sidecar(envoy_factory, config, "sampled", upstream, collector.grpc_port)
    before = collector.settled()
    with httpx.Client(timeout=10) as client:
        _send(client, f"{envoy.url}/api/users", 1000)
    captured = collector.settled() - before
    # Binomial(1000, 0.10): sd ~9.5, so 70..130 is more than 3 sd either way.
    assert 70 <= captured <= 130, f"captured {captured} of 1000 at 10%"


def test_excluded_paths_are_never_captured(
    config_and_collector, envoy_factory: Callable, upstream
) -> None:
    config, collector = config_and_collector
    envoy = _sidecar(envoy_factory, config, "full", upstream, collector.grpc_port)
    with httpx.Client(timeout=10) as client:
        before = collector.settled()
        _send(client, f"{envoy.url}/healthz", 30)
        _send(client, f"{envoy.url}/api/users/1", 30)
        _send(client, f"{envoy.url}/api/users/2?verbose=1", 10)
        assert collector.settled() - before == 0
        # The same Envoy captures everything else (100%): the filter is live.
        _send(client, f"{envoy.url}/api/users", 25)
        assert collector.settled(reaching=before + 25) - before == 25


def test_a_disabled_namespace_renders_no_filter(config_and_collector) -> None:
    config, _ = config_and_collector
    paths = [f.path for f in render_all(config)]
    assert any(p.startswith("istio/sampled/") for p in paths)
    assert not any(p.startswith("istio/off/") for p in paths)
    assert not any('"off"' in f.text for f in render_all(config) if f.kind == "envoyfilter")
    with pytest.raises(RenderError, match="disabled"):
        render_sidecar_envoy(config, namespace="off")


def test_local_proxy_excludes_paths_per_route_and_captures_the_rest(
    config_and_collector, envoy_factory: Callable, upstream
) -> None:
    config, collector = config_and_collector
    envoy = envoy_factory(
        lambda listen_port, admin_port: render_local_envoy(
            config,
            LocalEnvoy(
                listen_port=listen_port,
                admin_port=admin_port,
                upstream=UpstreamService(host="127.0.0.1", port=upstream.port),
                collector_port=collector.grpc_port,
                exclude_paths=["/healthz", "re:/api/users/[0-9]+"],
            ),
        )
    )
    with httpx.Client(timeout=10) as client:
        before = collector.settled()
        _send(client, f"{envoy.url}/healthz", 20)
        _send(client, f"{envoy.url}/api/users/1", 20)
        assert collector.settled() - before == 0
        _send(client, f"{envoy.url}/api/users", 20)
        assert collector.settled(reaching=before + 20) - before == 20


def test_unreachable_collector_fails_open(
    config_and_collector, envoy_factory: Callable, upstream
) -> None:
    config, _ = config_and_collector
    dead_port = promised_port()  # nothing listens here
    envoy = envoy_factory(
        lambda listen_port, admin_port: render_local_envoy(
            config,
            LocalEnvoy(
                listen_port=listen_port,
                admin_port=admin_port,
                upstream=UpstreamService(host="127.0.0.1", port=upstream.port),
                collector_port=dead_port,
            ),
        )
    )
    with httpx.Client(timeout=10) as client:
        _send(client, f"{envoy.url}/api/users", 20)

    def allowed() -> int:
        stats = httpx.get(f"{envoy.admin_url}/stats", timeout=5).text
        found = re.search(r"ext_proc\.mockado\.failure_mode_allowed: (\d+)", stats)
        return int(found.group(1)) if found else 0

    # Counted as each stream fails, which may be after its response went out.
    wait_for_value(lambda: allowed() >= 20, timeout_s=30, what="20 failures allowed")
    assert allowed() == 20
