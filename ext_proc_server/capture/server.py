"""One capture process: the ext_proc gRPC server and everything around it.

On one port: the ext_proc service (:class:`~ext_proc_server.capture.servicer.ExtProcServicer`)
and the gRPC health service. Beside it, unless a supervisor serves them: the probe
app (/healthz, /readyz, /metrics) on ``collector.http_port``. Finished exchanges
go to an :class:`ExchangeSink`, by default the capture pipeline (sanitize, dedup,
mapping, Redis). Shutdown is graceful: stop accepting, let streams finish, flush
the sink.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Sequence
from typing import Any, Protocol

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio

from ext_proc_server.capture import protos
from ext_proc_server.capture.grpc_calls import open_streams_reader, server_ids
from ext_proc_server.capture.grpc_options import server_credentials, server_options
from ext_proc_server.capture.servicer import ExtProcServicer
from ext_proc_server.capture.stream_metrics import FLUSH_EVERY_S, flush_every
from ext_proc_server.core.config import CollectorConfig, MockadoConfig
from ext_proc_server.core.errors import ConfigError
from ext_proc_server.core.exchange import Exchange
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.core.stream_load import StreamLoad
from ext_proc_server.pipeline import CapturePipeline, default_stages

log = logging.getLogger(__name__)

SHUTDOWN_GRACE_S = 5.0
# How long a stopping server keeps writing what it accepted to Redis: long enough to ride
# out a slow or briefly hung Redis (a failover takes 10-20 s), not forever (a dead one).
# The rendered pod's grace period follows it (control_plane.render.kubernetes).
DRAIN_TIMEOUT_S = 25.0
# The most a capture process takes to stop after SIGTERM: its streams' grace, the drain,
# and a little to exit. Whatever stops one (the supervisor, `mockado up`) waits this long
# before it kills it, or what the drain was writing is lost.
STOP_TIMEOUT_S = SHUTDOWN_GRACE_S + DRAIN_TIMEOUT_S + 5.0
BIND_HOST = "0.0.0.0"
# gc.set_threshold once serving (defaults: 700, 10, 10).
GC_THRESHOLDS = (20_000, 20, 20)


class ExchangeSink(Protocol):
    """Where a capture server hands finished exchanges (``CapturePipeline`` is one)."""

    def submit(self, exchange: Exchange) -> bool:
        """Take an exchange; never blocks. False when it was dropped."""
        ...

    def start(self) -> None: ...

    # Optional: ``repeats``, the sink's RepeatIndex (the repeat fast path), so a stream
    # ends a repeat of a recorded exchange itself (the capture pipeline has one).

    async def stop(self, *, drain_timeout_s: float) -> None:
        """Stop taking exchanges and flush what is held for up to ``drain_timeout_s``."""
        ...


def default_sink(
    collector: CollectorConfig, *, redis: Any, load: StreamLoad | None = None
) -> CapturePipeline:
    """The capture pipeline: sanitize, dedup, mapping, then the Redis queue. ``load``:
    the servicer's streams in progress, which the pipeline's CPU stages yield to."""
    keys = RedisKeys(queue=collector.redis_queue)
    stages = default_stages(collector, redis=redis, keys=keys)
    return CapturePipeline(collector, stages=stages, load=load)


async def redis_ready(redis: Any) -> dict[str, bool]:
    """The /readyz check: Redis answers a PING."""
    try:
        return {"redis": bool(await redis.ping())}
    except Exception:
        return {"redis": False}


class CaptureServer:
    """One capture server: gRPC (ext_proc + health), probes, the sink's lifecycle.

    Built anywhere; ``start``/``stop`` (or ``run``) on the event loop that serves it.

    * ``sink``: where finished exchanges go. Default: :func:`default_sink` on this
      server's Redis client. Pass one to route exchanges elsewhere (it is started and
      stopped with the server).
    * ``interceptors``: ``grpc.aio.ServerInterceptor`` objects around every RPC
      (authentication, tracing, fault injection).
    * ``serve_http``: serve the probe app; False when a supervisor serves it.
    * ``shares_port``: one of the workers of a ``--workers N`` run, which share the gRPC
      port; otherwise listening where another process listens fails.
    * ``metrics_every_s``: how often the streams' tallied metrics reach Prometheus (also
      before each scrape of the probe app, and on stop).
    """

    def __init__(
        self,
        config: MockadoConfig,
        *,
        sink: ExchangeSink | None = None,
        interceptors: Sequence[grpc.aio.ServerInterceptor] = (),
        serve_http: bool = True,
        worker_index: int = 0,
        shares_port: bool = False,
        metrics_every_s: float = FLUSH_EVERY_S,
    ) -> None:
        self._collector = config.collector
        self._shares_port = shares_port
        self._metrics_every_s = metrics_every_s
        self._sink = sink
        self._interceptors = tuple(interceptors)
        self._serve_http = serve_http
        self._worker_index = worker_index
        self._redis: Any = None
        self._grpc: grpc.aio.Server | None = None
        self._health: health_aio.HealthServicer | None = None
        self._probes: Any = None
        self._servicer: ExtProcServicer | None = None
        self._flusher: asyncio.Task[None] | None = None
        self._sink_started = False
        self.grpc_port = 0

    async def start(self) -> None:
        """Listen on ``collector.grpc_port`` (and the probe port), start the sink."""
        from ext_proc_server.core.metrics import COLLECTOR_READY
        from ext_proc_server.core.probes import serve_probes
        from ext_proc_server.core.redis_client import make_redis

        collector = self._collector
        self._redis = redis = make_redis(
            collector.redis_url,
            pool_size=collector.redis_pool_size,
            timeout_s=collector.redis_timeout_s,
            tls=collector.redis_tls,
        )
        # Counted by the servicer, read by the default sink: the streams go first.
        load = StreamLoad(busy_above=collector.pipeline_pause_streams)
        sink = self._sink = self._sink or default_sink(collector, redis=redis, load=load)
        server = self._grpc_server(sink, load)
        self._health = health = health_aio.HealthServicer()
        health_pb2_grpc.add_HealthServicer_to_server(health, server)
        await health.set(protos.SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
        credentials = server_credentials(collector)
        self.grpc_port = self._listen(server, credentials)
        await server.start()
        self._grpc = server
        self._flusher = asyncio.get_running_loop().create_task(
            flush_every(self.flush_metrics, self._metrics_every_s)
        )
        sink.start()
        self._sink_started = True
        if self._serve_http:
            self._probes = await serve_probes(
                ready_check=lambda: redis_ready(redis),
                host=BIND_HOST,
                port=collector.http_port,
                before_scrape=self.flush_metrics,
                ready_gauge=COLLECTOR_READY,
            )
        log.info(
            "ext_proc server %d started: grpc port %d (%s), http port %s",
            self._worker_index,
            self.grpc_port,
            "tls" if credentials else "plaintext",
            collector.http_port if self._serve_http else "served by the parent",
        )

    def _grpc_server(self, sink: ExchangeSink, load: StreamLoad) -> grpc.aio.Server:
        # No maximum_concurrent_rpcs: the servicer bounds its streams itself, cheaper.
        before = server_ids()
        server = grpc.aio.server(
            options=server_options(self._collector, shares_port=self._shares_port),
            interceptors=self._interceptors or None,
        )
        # Streams waiting in gRPC to be handed over count for the pipeline's pause too.
        reader = open_streams_reader(before)
        if reader is not None:
            load.watch_open_streams(reader)
        # The sink's repeat index (the capture pipeline's) lets a stream end a repeat itself.
        repeats = getattr(sink, "repeats", None)
        servicer = self._servicer = ExtProcServicer(
            config=self._collector, submit=sink.submit, repeats=repeats, load=load
        )
        protos.add_servicer_to_server(servicer, server)
        return server

    def _listen(self, server: grpc.aio.Server, credentials: grpc.ServerCredentials | None) -> int:
        port = self._collector.grpc_port
        address = f"{BIND_HOST}:{port}"
        try:
            if credentials is not None:
                return server.add_secure_port(address, credentials)
            return server.add_insecure_port(address)
        except RuntimeError as exc:
            raise ConfigError(f"collector.grpc_port: cannot listen on {port}") from exc

    async def stop(self) -> None:
        """Stop accepting streams; running ones get SHUTDOWN_GRACE_S to finish, then the
        sink flushes for DRAIN_TIMEOUT_S."""
        if self._health is not None:
            await self._health.enter_graceful_shutdown()
        if self._grpc is not None:
            await self._grpc.stop(grace=SHUTDOWN_GRACE_S)
        if self._sink is not None and self._sink_started:
            await self._sink.stop(drain_timeout_s=DRAIN_TIMEOUT_S)
        if self._flusher is not None:
            self._flusher.cancel()
        # Every stream has ended: its counts reach the metrics (a worker's files) now.
        self.flush_metrics()
        if self._probes is not None:
            self._probes.should_exit = True
        if self._redis is not None:
            with contextlib.suppress(Exception):
                await self._redis.aclose()
        log.info("ext_proc server %d stopped", self._worker_index)

    def flush_metrics(self) -> None:
        """Add the streams' metrics tallied since the last call to Prometheus."""
        if self._servicer is not None:
            self._servicer.flush_metrics()

    async def run(self, *, stop: asyncio.Event, ready: asyncio.Event | None = None) -> None:
        """Start, set ``ready``, serve until ``stop`` is set (or the task is cancelled),
        then stop gracefully."""
        try:
            await self.start()  # a failed start stops what it had started
            if ready is not None:
                ready.set()
            await stop.wait()
        finally:
            await self.stop()


async def serve(
    config: MockadoConfig,
    *,
    ready: asyncio.Event | None = None,
    stop: asyncio.Event | None = None,
    serve_http: bool = True,
    worker_index: int = 0,
) -> None:
    """Run one capture server with the default sink until ``stop`` is set."""
    server = CaptureServer(config, serve_http=serve_http, worker_index=worker_index)
    await server.run(stop=stop or asyncio.Event(), ready=ready)


async def run_until_signal(server: CaptureServer, *, listening: Any = None) -> None:
    """Run ``server`` as this process's one job: until SIGTERM or SIGINT, with the
    garbage collector tuned once it serves. ``listening`` (a multiprocessing Event)
    is set once the server accepts streams, for a supervisor's /readyz."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    ready = asyncio.Event()
    tuned = loop.create_task(tune_gc(ready))
    signalled = loop.create_task(_signal_when(ready, listening)) if listening is not None else None
    await server.run(stop=stop, ready=ready)
    tuned.cancel()
    if signalled is not None:
        signalled.cancel()


async def _signal_when(ready: asyncio.Event, listening: Any) -> None:
    await ready.wait()
    listening.set()


async def tune_gc(ready: asyncio.Event) -> None:
    """Once ``ready``: move the start-up heap (modules, config, gRPC) out of the
    collector's reach and collect young objects less often. Each exchange makes
    thousands of short-lived objects (JSON trees); with the defaults the cyclic GC
    ran every few exchanges and re-scanned the whole start-up heap on full passes."""
    await ready.wait()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
