"""The loader's HTTP app: the catch-all webhook counts misses by shard and method."""

from __future__ import annotations

import asyncio

import httpx

from ext_proc_server.core.probes import build_probe_app
from ext_proc_server.loader.app import unmatched_route
from ext_proc_server.loader.shards import UNMATCHED_PATH
from tests.support.loader_rig import metric

UNMATCHED = "mockado_serving_unmatched_requests_total"


async def ready() -> dict[str, bool]:
    return {"redis": True}


def post(*bodies: bytes) -> list[int]:
    async def scenario() -> list[int]:
        transport = httpx.ASGITransport(
            app=build_probe_app(ready_check=ready, extra_routes=[unmatched_route(None)])
        )
        async with httpx.AsyncClient(transport=transport, base_url="http://loader") as client:
            return [(await client.post(UNMATCHED_PATH, content=b)).status_code for b in bodies]

    return asyncio.run(scenario())


def test_a_miss_is_counted_by_shard_and_method():
    before = metric(UNMATCHED, shard="pay", method="GET")
    assert post(b'{"shard": "pay", "method": "GET", "path": "/x"}') == [204]
    assert metric(UNMATCHED, shard="pay", method="GET") == before + 1


def test_a_malformed_event_is_refused_and_not_counted():
    before = metric(UNMATCHED, shard="pay", method="GET")
    assert post(b"{not json", b'{"shard": "pay"}', b"[1]") == [400, 400, 400]
    assert metric(UNMATCHED, shard="pay", method="GET") == before
