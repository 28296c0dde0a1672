"""The loader's HTTP app on ``loader.http_port``: /healthz, /readyz, /metrics, and the
/unmatched webhook each shard's catch-all calls on a miss."""

from __future__ import annotations

import asyncio
import json

import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ext_proc_server.core.metrics import SERVING_UNMATCHED, method_label
from ext_proc_server.core.probes import ReadyCheck, serve_probes
from ext_proc_server.loader.routing import safe_name
from ext_proc_server.loader.shards import UNMATCHED_PATH

BIND_HOST = "0.0.0.0"
START_TIMEOUT_S = 15.0


async def count_unmatched(request: Request) -> Response:
    """WireMock's catch-all webhook: one call per request no recording matched."""
    try:
        event = json.loads(await request.body())
        shard, method = str(event["shard"]), method_label(str(event["method"]))
    except (ValueError, KeyError, TypeError):
        return Response(status_code=400)
    SERVING_UNMATCHED.labels(shard=safe_name(shard)[:64], method=method).inc()
    return Response(status_code=204)


ROUTES = [Route(UNMATCHED_PATH, count_unmatched, methods=["POST"])]


async def serve_app(*, ready_check: ReadyCheck, port: int) -> uvicorn.Server:
    """Start the app on the running loop. -> the server (set ``should_exit`` to stop it)."""
    return await asyncio.wait_for(
        serve_probes(ready_check=ready_check, host=BIND_HOST, port=port, extra_routes=ROUTES),
        timeout=START_TIMEOUT_S,
    )
