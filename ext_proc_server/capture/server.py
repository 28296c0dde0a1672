"""The Envoy ext_proc capture server: ``mockado ext-proc``.

One gRPC stream per proxied HTTP exchange. The handler reads the stream's
messages, answers them at once in blocking mode (an empty CONTINUE), hands the
assembled exchange to the pipeline and returns as soon as nothing more is
needed - the response ended, or the stream is not captured. Returning closes
the RPC; a server that only read until Envoy closed would hold each stream for
``deferred_close_timeout``.

Beside it: the gRPC health service on the same port and the probe app
(/healthz, /readyz, /metrics) on ``collector.http_port``. ``--workers N`` runs N
processes on one port (SO_REUSEPORT); the parent serves the probe port and
aggregates the workers' metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import multiprocessing
import os
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_health.v1.health import aio as health_aio

from ext_proc_server.capture import protos
from ext_proc_server.capture.assembler import INCOMPLETE, Finished, StreamAssembler, stream_meta
from ext_proc_server.capture.filters import CaptureFilter
from ext_proc_server.core import metrics
from ext_proc_server.core.config import (
    COLLECTOR_STREAMS_PER_CONNECTION,
    MIB,
    CollectorConfig,
    MockadoConfig,
)
from ext_proc_server.core.errors import ConfigError
from ext_proc_server.core.exchange import Exchange
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.pipeline.buffer import CapturePipeline, Stages, default_stages

log = logging.getLogger(__name__)

# Envoy sends body chunks of up to about 1 MiB; gRPC's default cap is 4 MiB.
MAX_RECEIVE_MESSAGE_BYTES = 16 * MIB
SHUTDOWN_GRACE_S = 5.0
DRAIN_TIMEOUT_S = 5.0
BIND_HOST = "0.0.0.0"
# Hidden debug knob for the fail-open tests: sleep this long per message.
DEBUG_DELAY_ENV = "MOCKADO_DEBUG_DELAY_S"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
# gc.set_threshold once serving (defaults: 700, 10, 10).
GC_THRESHOLDS = (20_000, 20, 20)
_GC_TASKS: set[asyncio.Future[None]] = set()

# ProcessingMode enum values (envoy.extensions.filters.http.ext_proc.v3).
_BODY_NONE = 0
_HEADER_SKIP = 2

_CONTINUE = {
    "request_headers": protos.ProcessingResponse(request_headers=protos.HeadersResponse()),
    "response_headers": protos.ProcessingResponse(response_headers=protos.HeadersResponse()),
    "request_body": protos.ProcessingResponse(request_body=protos.BodyResponse()),
    "response_body": protos.ProcessingResponse(response_body=protos.BodyResponse()),
    "request_trailers": protos.ProcessingResponse(request_trailers=protos.TrailersResponse()),
    "response_trailers": protos.ProcessingResponse(response_trailers=protos.TrailersResponse()),
}
# Blocking mode, stream not captured: continue, and ask Envoy to send nothing more
# (honoured when the filter allows mode_override; the RPC closes right after anyway).
_CONTINUE_AND_SKIP = protos.ProcessingResponse(
    request_headers=protos.HeadersResponse(),
    mode_override={
        "request_body_mode": _BODY_NONE,
        "response_body_mode": _BODY_NONE,
        "response_header_mode": _HEADER_SKIP,
        "request_trailer_mode": _HEADER_SKIP,
        "response_trailer_mode": _HEADER_SKIP,
    },
)


def _continue_response(kind: str | None, *, skip_rest: bool) -> protos.ProcessingResponse | None:
    if skip_rest and kind == "request_headers":
        return _CONTINUE_AND_SKIP
    return _CONTINUE.get(kind or "")


class ExtProcServicer(protos.ExternalProcessorServicer):
    def __init__(
        self,
        *,
        config: CollectorConfig,
        submit: Callable[[Exchange], Any],
        debug_delay_s: float = 0.0,
    ) -> None:
        self._config = config
        self._filter = CaptureFilter(config)
        self._submit = submit
        self._delay_s = debug_delay_s
        self._requests: dict[tuple[str, str], Any] = {}
        self._drops: dict[str, Any] = {}
        self._duration = metrics.COLLECTOR_REQUEST_DURATION
        self._truncated = metrics.COLLECTOR_TRUNCATED

    async def Process(self, request_iterator: Any, context: grpc.aio.ServicerContext) -> None:
        started = time.perf_counter()
        assembler = StreamAssembler(
            config=self._config,
            capture_filter=self._filter,
            meta=stream_meta(context.invocation_metadata() or (), config=self._config),
        )
        result: Finished | None = None
        try:
            while result is None:
                message = await context.read()
                if message is grpc.aio.EOF:
                    result = assembler.end_of_input()
                    if assembler.started:
                        log.debug("ext_proc: stream closed early (phase %s)", assembler.phase)
                    break
                if self._delay_s:
                    await asyncio.sleep(self._delay_s)
                try:
                    result = assembler.feed(message)
                except Exception:
                    log.exception("ext_proc: assembling a stream failed")
                    result = Finished(drop_reason="internal_error")
                if not message.observability_mode:
                    reply = _continue_response(
                        message.WhichOneof("request"),
                        skip_rest=result is not None and result.exchange is None,
                    )
                    if reply is not None:
                        await context.write(reply)
        except asyncio.CancelledError:
            # Envoy reset the stream or the server is shutting down. In blocking mode Envoy
            # may reset as soon as it has the last reply: a finished exchange stays captured.
            if result is None:
                result = INCOMPLETE
                if assembler.started:
                    log.debug("ext_proc: stream reset (phase %s)", assembler.phase)
            raise
        except (grpc.RpcError, protos.DecodeError):
            # The stream broke, or a message was not a ProcessingRequest at all.
            if result is None:
                result = Finished(drop_reason="malformed")
        finally:
            self._account(assembler, result, started)

    def _account(self, assembler: StreamAssembler, result: Finished | None, started: float) -> None:
        if not assembler.started:
            # Garbage before any request headers is no exchange, but it is counted.
            if result is not None and result.drop_reason not in ("", "incomplete"):
                metrics.COLLECTOR_DROPPED.labels(reason=result.drop_reason).inc()
            return
        self._duration.observe(time.perf_counter() - started)
        key = (metrics.method_label(assembler.method), metrics.status_label(assembler.status))
        counter = self._requests.get(key)
        if counter is None:
            counter = self._requests[key] = metrics.COLLECTOR_REQUESTS.labels(*key)
        counter.inc()
        if result is None:
            return
        if result.exchange is not None:
            if result.exchange.truncated:
                self._truncated.inc()
            self._submit(result.exchange)
        elif result.drop_reason:
            drop = self._drops.get(result.drop_reason)
            if drop is None:
                drop = self._drops[result.drop_reason] = metrics.COLLECTOR_DROPPED.labels(
                    reason=result.drop_reason
                )
            drop.inc()


def _server_options(config: CollectorConfig) -> list[tuple[str, Any]]:
    return [
        ("grpc.max_receive_message_length", MAX_RECEIVE_MESSAGE_BYTES),
        ("grpc.so_reuseport", 1),
        # Envoy pings idle collector connections (keepalive); don't answer with GOAWAY.
        ("grpc.keepalive_permit_without_calls", 1),
        ("grpc.http2.min_recv_ping_interval_without_data_ms", 5_000),
        ("grpc.http2.max_ping_strikes", 0),
        # See COLLECTOR_STREAMS_PER_CONNECTION: with one connection, one worker got every
        # stream. Envoy keeps to that limit; the server allows twice as many because it
        # frees a finished stream's slot a little after Envoy does, and a stream refused
        # in that gap counts as a failed connection in Envoy.
        ("grpc.max_concurrent_streams", 2 * COLLECTOR_STREAMS_PER_CONNECTION),
    ]


def _server_credentials(config: CollectorConfig) -> grpc.ServerCredentials | None:
    tls = config.tls
    if not tls.enabled:
        return None
    if not (tls.cert_file and tls.key_file):
        raise ConfigError("collector.tls: cert_file and key_file are required when enabled")
    try:
        key = Path(tls.key_file).read_bytes()
        cert = Path(tls.cert_file).read_bytes()
        client_ca = Path(tls.client_ca_file).read_bytes() if tls.client_ca_file else None
    except OSError as exc:
        raise ConfigError(
            f"collector.tls: cannot read a certificate file ({exc.strerror})"
        ) from exc
    return grpc.ssl_server_credentials(
        [(key, cert)], root_certificates=client_ca, require_client_auth=client_ca is not None
    )


def _debug_delay_s() -> float:
    raw = os.environ.get(DEBUG_DELAY_ENV, "")
    try:
        return max(0.0, float(raw)) if raw else 0.0
    except ValueError:
        return 0.0


async def _redis_ready(redis: Any) -> dict[str, bool]:
    try:
        return {"redis": bool(await redis.ping())}
    except Exception:
        return {"redis": False}


async def serve(
    config: MockadoConfig,
    *,
    ready: asyncio.Event | None = None,
    stop: asyncio.Event | None = None,
    serve_http: bool = True,
    stages: Stages | None = None,
    on_exchange: Callable[[Exchange], None] | None = None,
    worker_index: int = 0,
) -> None:
    """Run one capture server until ``stop`` is set (or the task is cancelled), then
    shut down gracefully: stop accepting, let streams finish, flush the buffer.

    ``stages`` replaces the sanitize/dedup/mapping/Redis steps and ``on_exchange``
    sees every assembled exchange first: both are for in-process tests.
    """
    from ext_proc_server.core.probes import serve_probes
    from ext_proc_server.core.redis_client import make_redis

    collector = config.collector
    stop = stop or asyncio.Event()
    redis = make_redis(
        collector.redis_url,
        pool_size=collector.redis_pool_size,
        timeout_s=collector.redis_timeout_s,
        tls=collector.redis_tls,
    )
    keys = RedisKeys(queue=collector.redis_queue)
    pipeline = CapturePipeline(
        collector, stages=stages or default_stages(collector, redis=redis, keys=keys)
    )

    submit: Callable[[Exchange], Any] = pipeline.submit
    if on_exchange is not None:

        def submit(exchange: Exchange) -> Any:
            on_exchange(exchange)
            return pipeline.submit(exchange)

    server = grpc.aio.server(
        options=_server_options(collector),
        maximum_concurrent_rpcs=collector.max_concurrent_streams,
    )
    protos.add_servicer_to_server(
        ExtProcServicer(config=collector, submit=submit, debug_delay_s=_debug_delay_s()), server
    )
    health = health_aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health, server)
    await health.set(protos.SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)

    address = f"{BIND_HOST}:{collector.grpc_port}"
    credentials = _server_credentials(collector)
    try:
        port = (
            server.add_secure_port(address, credentials)
            if credentials
            else server.add_insecure_port(address)
        )
    except RuntimeError as exc:
        raise ConfigError(f"collector.grpc_port: cannot listen on {collector.grpc_port}") from exc
    await server.start()
    pipeline.start()
    probes = None
    if serve_http:
        probes = await serve_probes(
            ready_check=lambda: _redis_ready(redis), host=BIND_HOST, port=collector.http_port
        )
    log.info(
        "ext_proc server %d started: grpc port %d (%s), http port %s",
        worker_index,
        port,
        "tls" if credentials else "plaintext",
        collector.http_port if serve_http else "served by the parent",
    )
    if ready is not None:
        ready.set()
    try:
        await stop.wait()
    finally:
        await _shutdown(server=server, health=health, pipeline=pipeline, probes=probes)
        with contextlib.suppress(Exception):
            await redis.aclose()
        log.info("ext_proc server %d stopped", worker_index)


async def _shutdown(
    *, server: grpc.aio.Server, health: Any, pipeline: CapturePipeline, probes: Any
) -> None:
    await health.enter_graceful_shutdown()
    # Stop accepting streams; running ones get SHUTDOWN_GRACE_S to finish.
    await server.stop(grace=SHUTDOWN_GRACE_S)
    await pipeline.stop(drain_timeout_s=DRAIN_TIMEOUT_S)
    if probes is not None:
        probes.should_exit = True


async def _serve_until_signal(
    config: MockadoConfig, *, serve_http: bool, worker_index: int, listening: Any = None
) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    ready = asyncio.Event()
    loop.call_soon(_tune_gc_when, ready)
    signalled = (
        # Tell the supervisor this worker accepts streams (its /readyz waits for all).
        loop.create_task(_signal_when(ready, listening)) if listening is not None else None
    )
    await serve(config, ready=ready, stop=stop, serve_http=serve_http, worker_index=worker_index)
    if signalled is not None:
        signalled.cancel()


async def _signal_when(ready: asyncio.Event, listening: Any) -> None:
    await ready.wait()
    listening.set()


def _tune_gc_when(ready: asyncio.Event) -> None:
    """Once started: move the start-up heap (modules, config, gRPC) out of the
    collector's reach and collect young objects less often. Each exchange makes
    thousands of short-lived objects (JSON trees); with the defaults the cyclic GC
    ran every few exchanges and re-scanned the whole start-up heap on full passes."""

    async def wait_then_tune() -> None:
        await ready.wait()
        gc.collect()
        gc.freeze()
        gc.set_threshold(*GC_THRESHOLDS)

    _GC_TASKS.add(asyncio.ensure_future(wait_then_tune()))


def main(config: MockadoConfig, *, workers: int = 1) -> int:
    """Run the capture server (blocking). SIGTERM stops it gracefully; exit code 0."""
    if workers < 1:
        raise ConfigError("--workers: must be at least 1")
    if workers == 1:
        asyncio.run(_serve_until_signal(config, serve_http=True, worker_index=0))
        return 0
    return _supervise(config, workers=workers)


# -- several worker processes on one port -------------------------------------------


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
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(
            _serve_until_signal(config, serve_http=False, worker_index=index, listening=listening)
        )


def _supervise(config: MockadoConfig, *, workers: int) -> int:
    # Children are spawned (fresh interpreters), so they import prometheus_client with
    # PROMETHEUS_MULTIPROC_DIR set and write their metrics there; the parent aggregates.
    metrics_dir = tempfile.mkdtemp(prefix="mockado-ext-proc-metrics-")
    previous = os.environ.get(MULTIPROC_ENV)
    os.environ[MULTIPROC_ENV] = metrics_dir
    try:
        return asyncio.run(_supervise_async(config, workers=workers))
    finally:
        if previous is None:
            os.environ.pop(MULTIPROC_ENV, None)
        else:
            os.environ[MULTIPROC_ENV] = previous
        shutil.rmtree(metrics_dir, ignore_errors=True)


async def _supervise_async(config: MockadoConfig, *, workers: int) -> int:
    from prometheus_client import multiprocess

    from ext_proc_server.core.probes import serve_probes
    from ext_proc_server.core.redis_client import make_redis

    collector = config.collector
    context = multiprocessing.get_context("spawn")
    log_format, log_level = _log_settings()

    listening = [context.Event() for _ in range(workers)]

    def spawn(index: int) -> multiprocessing.process.BaseProcess:
        listening[index].clear()
        proc = context.Process(
            target=_worker_main,
            args=(config, index, log_format, log_level, listening[index]),
            name=f"mockado-ext-proc-{index}",
        )
        proc.start()
        return proc

    async def ready_check() -> dict[str, bool]:
        # Ready only once every worker listens, so Envoy never meets a refused port.
        checks = await _redis_ready(redis)
        checks["workers"] = all(event.is_set() for event in listening)
        return checks

    children = [spawn(i) for i in range(workers)]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    redis = make_redis(
        collector.redis_url,
        pool_size=1,
        timeout_s=collector.redis_timeout_s,
        tls=collector.redis_tls,
    )
    probes = await serve_probes(ready_check=ready_check, host=BIND_HOST, port=collector.http_port)
    log.info("ext_proc supervisor: %d workers, http port %d", workers, collector.http_port)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=0.5)
        for i, child in enumerate(children):
            if not stop.is_set() and not child.is_alive():
                log.error("ext_proc worker %d exited (code %s); restarting", i, child.exitcode)
                if child.pid is not None:
                    multiprocess.mark_process_dead(child.pid)
                await asyncio.sleep(1.0)
                children[i] = spawn(i)
    for child in children:
        if child.is_alive() and child.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child.pid, signal.SIGTERM)
    deadline = time.monotonic() + SHUTDOWN_GRACE_S + DRAIN_TIMEOUT_S + 5
    for child in children:
        await asyncio.to_thread(child.join, max(0.1, deadline - time.monotonic()))
        if child.is_alive():
            child.kill()
    probes.should_exit = True
    with contextlib.suppress(Exception):
        await redis.aclose()
    return 0
