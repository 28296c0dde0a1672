from __future__ import annotations

import asyncio
import socket

import httpx
import pytest
from prometheus_client import CollectorRegistry, Gauge

import ext_proc_server.core.metrics  # noqa: F401 - registers the metrics served
from ext_proc_server.core.errors import MockadoError
from ext_proc_server.core.probes import build_probe_app, serve_probes


def test_readyz_reports_each_check():
    async def checks() -> dict[str, bool]:
        return {"redis": True, "wiremock": False}

    async def scenario() -> tuple[int, dict]:
        transport = httpx.ASGITransport(app=build_probe_app(ready_check=checks))
        async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
            assert (await client.get("/healthz")).status_code == 200
            metrics = await client.get("/metrics")
            assert "collector_truncated_total" in metrics.text
            resp = await client.get("/readyz")
            return resp.status_code, resp.json()

    status, body = asyncio.run(scenario())
    assert status == 503
    assert body["checks"] == {"redis": True, "wiremock": False}


def test_a_busy_port_is_a_clear_error_not_an_exit():
    async def checks() -> dict[str, bool]:
        return {}

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(MockadoError, match=f"http port {port}: cannot listen"):
            asyncio.run(serve_probes(ready_check=checks, host="127.0.0.1", port=port))


def test_a_scrape_records_each_check_and_checks_that_raise():
    # Its own registry: the process-wide one keeps collector_ready for the collector.
    gauge = Gauge("probe_ready", "test", ["check"], registry=CollectorRegistry())
    outcome: list[dict[str, bool] | Exception] = [{"redis": False}]

    async def checks() -> dict[str, bool]:
        if isinstance(outcome[0], Exception):
            raise outcome[0]
        return outcome[0]

    async def scrape() -> None:
        transport = httpx.ASGITransport(app=build_probe_app(ready_check=checks, ready_gauge=gauge))
        async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
            assert (await client.get("/metrics")).status_code == 200

    asyncio.run(scrape())  # no /readyz call: the scrape itself checks
    assert (_sample(gauge, "redis"), _sample(gauge, "checks")) == (0, 1)
    outcome[0] = RuntimeError("hung")
    asyncio.run(scrape())
    assert (_sample(gauge, "redis"), _sample(gauge, "checks")) == (0, 0)  # redis: as last seen
    outcome[0] = {"redis": True}
    asyncio.run(scrape())
    assert (_sample(gauge, "redis"), _sample(gauge, "checks")) == (1, 1)


def _sample(gauge: Gauge, check: str) -> float | None:
    (family,) = gauge.collect()
    return next((s.value for s in family.samples if s.labels == {"check": check}), None)
