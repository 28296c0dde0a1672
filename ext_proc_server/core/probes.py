"""The small HTTP app every long-running mockado process serves beside its main
port: ``/healthz`` (the process is alive), ``/readyz`` (its dependencies answer)
and ``/metrics`` (Prometheus text)."""

from __future__ import annotations

import asyncio
import os
import socket
from collections.abc import Awaitable, Callable, Sequence

import uvicorn
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Gauge,
    generate_latest,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ext_proc_server.core.errors import MockadoError

ReadyCheck = Callable[[], Awaitable[dict[str, bool]]]
# How long /readyz (and a scrape that records readiness) waits for the checks.
READY_TIMEOUT_S = 3.0
# The check that fails when the checks themselves raise or time out.
CHECKS_FAILED = "checks"


def _registry() -> CollectorRegistry:
    # With several worker processes, metrics are aggregated from PROMETHEUS_MULTIPROC_DIR.
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return registry
    return REGISTRY


def build_probe_app(
    *,
    ready_check: ReadyCheck,
    extra_routes: Sequence[BaseRoute] = (),
    before_scrape: Callable[[], None] | None = None,
    ready_gauge: Gauge | None = None,
) -> Starlette:
    """``before_scrape``: called before each /metrics answer (a server that tallies
    metrics in batches folds them in, so the scrape is exact). ``ready_gauge`` (labelled
    by ``check``): set to each check's result on every /readyz and before every /metrics
    answer, so a scrape says whether the process is ready and which check fails."""

    async def checked() -> dict[str, bool]:
        try:
            checks = await asyncio.wait_for(ready_check(), timeout=READY_TIMEOUT_S)
        except Exception:
            checks = {CHECKS_FAILED: False}
        if ready_gauge is not None:
            # Checks that did not run (they raised) keep their last value.
            for name, passed in {CHECKS_FAILED: True, **checks}.items():
                ready_gauge.labels(check=name).set(int(passed))
        return checks

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        checks = await checked()
        ready = all(checks.values())
        return JSONResponse(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status_code=200 if ready else 503,
        )

    async def metrics(_: Request) -> Response:
        if before_scrape is not None:
            before_scrape()
        if ready_gauge is not None:
            await checked()
        return Response(generate_latest(_registry()), media_type=CONTENT_TYPE_LATEST)

    return Starlette(
        routes=[
            Route("/healthz", healthz),
            Route("/readyz", readyz),
            Route("/metrics", metrics),
            *extra_routes,
        ]
    )


async def serve_probes(
    *,
    ready_check: ReadyCheck,
    host: str,
    port: int,
    extra_routes: Sequence[BaseRoute] = (),
    before_scrape: Callable[[], None] | None = None,
    ready_gauge: Gauge | None = None,
) -> uvicorn.Server:
    """Start the probe app on the running loop; returns the server (call ``should_exit``).

    The socket is bound here, so a busy port is a clear error instead of uvicorn
    exiting the whole process."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise MockadoError(f"http port {port}: cannot listen ({exc.strerror})") from exc
    sock.listen(128)
    sock.setblocking(False)
    config = uvicorn.Config(
        build_probe_app(
            ready_check=ready_check,
            extra_routes=extra_routes,
            before_scrape=before_scrape,
            ready_gauge=ready_gauge,
        ),
        log_level="warning",
        access_log=False,
        lifespan="off",
        # The client address is the socket's peer: no X-Forwarded-For (the console trusts it).
        proxy_headers=False,
    )
    server = uvicorn.Server(config)
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign] - the owner handles signals
    asyncio.get_running_loop().create_task(server.serve(sockets=[sock]))
    while not server.started:
        await asyncio.sleep(0.01)
    return server
