"""The loader's HTTP app on ``loader.http_port``: /healthz, /readyz, /metrics, and the
/unmatched webhook each shard's catch-all calls on a miss."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

import uvicorn
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from ext_proc_server.core.metrics import MISSES_DROPPED, SERVING_UNMATCHED, method_label
from ext_proc_server.core.probes import ReadyCheck, serve_probes
from ext_proc_server.loader.routing import safe_name
from ext_proc_server.loader.shards import UNMATCHED_PATH
from ext_proc_server.misses import InvalidMissEvent, MissRecorder, parse_miss_event

BIND_HOST = "0.0.0.0"
START_TIMEOUT_S = 15.0


def unmatched_route(recorder: MissRecorder | None) -> Route:
    """WireMock's catch-all webhook: one call per request no recording matched. Counted
    at once; handed to the miss report (when on), which records it later."""

    async def unmatched(request: Request) -> Response:
        raw = await request.body()
        try:
            event = json.loads(raw)
            shard, method = str(event["shard"]), method_label(str(event["method"]))
        except (ValueError, KeyError, TypeError):
            return Response(status_code=400)
        SERVING_UNMATCHED.labels(shard=safe_name(shard)[:64], method=method).inc()
        if recorder is not None:
            try:
                recorder.offer(parse_miss_event(raw))
            except InvalidMissEvent:
                MISSES_DROPPED.labels(reason="invalid").inc()
        return Response(status_code=204)

    return Route(UNMATCHED_PATH, unmatched, methods=["POST"])


async def serve_app(
    *, ready_check: ReadyCheck, port: int, routes: Sequence[BaseRoute] = ()
) -> uvicorn.Server:
    """Start the app on the running loop. -> the server (set ``should_exit`` to stop it)."""
    return await asyncio.wait_for(
        serve_probes(ready_check=ready_check, host=BIND_HOST, port=port, extra_routes=routes),
        timeout=START_TIMEOUT_S,
    )
