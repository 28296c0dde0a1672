from __future__ import annotations

import asyncio
import socket

import httpx
import pytest

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
