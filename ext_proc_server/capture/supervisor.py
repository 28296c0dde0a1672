"""``mockado ext-proc``: one capture server, or ``--workers N`` of them on one port.

With N > 1 the parent is worker 0: it listens on the gRPC port first, before it
spawns the N-1 other worker processes that share the port (SO_REUSEPORT), so a
connection made while they start is served, never refused. It restarts a worker that
dies, serves the probe port with every process's metrics added up
(PROMETHEUS_MULTIPROC_DIR), and is ready only once every worker listens.

Only the workers set SO_REUSEPORT: a run of one worker fails to listen on a port another
process holds, and cannot join the workers' port either. Linux lets a socket join a
SO_REUSEPORT group only from a process of the same user as the group's first, but any
process of that user: so the parent claims the port before worker 0 listens
(``grpc_options.claim_shared_port``) and holds the claim while it runs, and a second run
on the port fails at start as a run of one worker does.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import time
from typing import Any

from ext_proc_server.capture.grpc_options import claim_shared_port
from ext_proc_server.capture.server import (
    BIND_HOST,
    STOP_TIMEOUT_S,
    CaptureServer,
    redis_ready,
    run_until_signal,
    tune_gc,
)
from ext_proc_server.core.config import MockadoConfig
from ext_proc_server.core.cpus import MULTIPROC_ENV, multiprocess_metrics
from ext_proc_server.core.errors import ConfigError

log = logging.getLogger(__name__)

# How often the parent looks for a dead worker, and how long it waits to restart one.
WATCH_INTERVAL_S = 0.5
RESTART_DELAY_S = 1.0


def main(config: MockadoConfig, *, workers: int = 1) -> int:
    """Run the capture server (blocking). SIGTERM stops it gracefully; exit code 0."""
    if workers < 1:
        raise ConfigError("--workers: must be at least 1")
    if workers == 1:
        asyncio.run(run_until_signal(CaptureServer(config)))
        return 0
    if not os.environ.get(MULTIPROC_ENV):
        # The CLI sets it before prometheus_client is imported (core.cpus), so this
        # process's metrics are added up too; a caller that did not still gets the
        # spawned workers' metrics.
        log.warning(
            "%s was not set before start: worker 0's metrics are not aggregated", MULTIPROC_ENV
        )
    # Before any worker listens: another run's workers would let this one's join them.
    claim = claim_shared_port(BIND_HOST, config.collector.grpc_port)
    with claim, multiprocess_metrics(workers):
        return asyncio.run(Supervisor(config, workers=workers).run())


def _log_settings() -> tuple[str, str]:
    from ext_proc_server.core.logs import JsonFormatter

    root = logging.getLogger()
    json_format = any(isinstance(h.formatter, JsonFormatter) for h in root.handlers)
    return ("json" if json_format else "text", logging.getLevelName(root.level))


def _worker_main(
    config: MockadoConfig, index: int, log_format: str, log_level: str, listening: Any
) -> None:
    from ext_proc_server.core.logs import setup_logging

    setup_logging(component="ext-proc", log_format=log_format, level=log_level)
    server = CaptureServer(config, serve_http=False, worker_index=index, shares_port=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_until_signal(server, listening=listening))


class Supervisor:
    """N workers on one port: worker 0 in this process, listening first, the others
    spawned; the probe port and restarts here too."""

    def __init__(self, config: MockadoConfig, *, workers: int) -> None:
        self._config = config
        self._context = multiprocessing.get_context("spawn")
        self._log_settings = _log_settings()
        # Worker i >= 1 is child i - 1 and sets listening[i - 1].
        self._listening = [self._context.Event() for _ in range(workers - 1)]
        self._children: list[multiprocessing.process.BaseProcess] = []
        self._own_ready = asyncio.Event()
        self._own: CaptureServer | None = None
        self._redis: Any = None

    def _spawn(self, child: int) -> multiprocessing.process.BaseProcess:
        self._listening[child].clear()
        proc = self._context.Process(
            target=_worker_main,
            args=(self._config, child + 1, *self._log_settings, self._listening[child]),
            name=f"mockado-ext-proc-{child + 1}",
        )
        proc.start()
        return proc

    async def ready_check(self) -> dict[str, bool]:
        """Ready only once every worker listens."""
        checks = await redis_ready(self._redis)
        checks["workers"] = self._own_ready.is_set() and all(
            event.is_set() for event in self._listening
        )
        return checks

    async def run(self) -> int:
        """Listen (worker 0), spawn the other workers and serve the probes until SIGTERM
        or SIGINT; then stop them all."""
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        own = loop.create_task(self._serve_own(stop))
        started = loop.create_task(self._own_ready.wait())
        await asyncio.wait({own, started}, return_when=asyncio.FIRST_COMPLETED)
        if own.done():
            started.cancel()
            await own  # raises why worker 0 could not start
            return 0
        self._children = [self._spawn(i) for i in range(len(self._listening))]
        await self._supervise(stop)
        await own
        return 0

    async def _serve_own(self, stop: asyncio.Event) -> None:
        """Worker 0, on this process's event loop (its metrics go to the shared dir)."""
        server = self._own = CaptureServer(
            self._config, serve_http=False, worker_index=0, shares_port=True
        )
        tuned = asyncio.get_running_loop().create_task(tune_gc(self._own_ready))
        try:
            await server.run(stop=stop, ready=self._own_ready)
        finally:
            tuned.cancel()

    async def _supervise(self, stop: asyncio.Event) -> None:
        """The probe port and restarts, until ``stop``; then the children stop."""
        from ext_proc_server.core.metrics import COLLECTOR_READY
        from ext_proc_server.core.probes import serve_probes
        from ext_proc_server.core.redis_client import make_redis

        collector = self._config.collector
        self._redis = make_redis(
            collector.redis_url,
            pool_size=1,
            timeout_s=collector.redis_timeout_s,
            tls=collector.redis_tls,
        )
        probes = await serve_probes(
            ready_check=self.ready_check,
            host=BIND_HOST,
            port=collector.http_port,
            before_scrape=self._flush_own,
            ready_gauge=COLLECTOR_READY,
        )
        log.info(
            "ext_proc supervisor: %d workers, http port %d",
            len(self._children) + 1,
            collector.http_port,
        )
        await self._watch(stop)
        await self._stop_children()
        probes.should_exit = True
        with contextlib.suppress(Exception):
            await self._redis.aclose()

    def _flush_own(self) -> None:
        # Worker 0 shares this process: its counts are exact in a scrape, the other
        # workers' at most stream_metrics.FLUSH_EVERY_S old.
        if self._own is not None:
            self._own.flush_metrics()

    async def _watch(self, stop: asyncio.Event) -> None:
        """Restart a worker that exited, until ``stop`` is set."""
        from prometheus_client import multiprocess

        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=WATCH_INTERVAL_S)
            for i, child in enumerate(self._children):
                if not stop.is_set() and not child.is_alive():
                    log.error(
                        "ext_proc worker %d exited (code %s); restarting", i + 1, child.exitcode
                    )
                    if child.pid is not None:
                        multiprocess.mark_process_dead(child.pid)
                    await asyncio.sleep(RESTART_DELAY_S)
                    self._children[i] = self._spawn(i)

    async def _stop_children(self) -> None:
        """SIGTERM every worker (each shuts down gracefully); kill one still alive after
        its grace and drain time."""
        for child in self._children:
            if child.is_alive() and child.pid is not None:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(child.pid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_S
        for child in self._children:
            await asyncio.to_thread(child.join, max(0.1, deadline - time.monotonic()))
            if child.is_alive():
                child.kill()
