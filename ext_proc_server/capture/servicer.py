"""The ext_proc protocol loop: one gRPC stream per proxied HTTP exchange.

The loop reads the stream's ProcessingRequest messages, hands each to its phase
hook on a fresh :class:`~ext_proc_server.capture.assembler.StreamAssembler`
(:func:`~ext_proc_server.capture.phases.dispatch`), answers at once in blocking
mode (an empty CONTINUE), submits the assembled exchange and returns as soon as
nothing more is needed - the response ended, or the stream is not captured.
Returning closes the RPC; a server that only read until Envoy closed would hold
each stream for ``deferred_close_timeout``.

A stream waits for its answer at most so long (:mod:`~ext_proc_server.capture.answer_waits`):
a long poll, a blocking query, a slow request body or an answer whose body trickles would
otherwise hold its capture stream for its whole life, one of the few Envoy may open at a
time. An HTTP answer must begin within ``collector.answer_wait_s`` of the request headers
(else ``answer_late``) and end within as long again after its own headers
(``answer_body_late``). A gRPC call's answer is recorded only when it comes in headers
alone (an error, trailers-only); one with messages is decided at its headers, so a gRPC
call waits for its answer's headers ``collector.grpc_answer_wait_s`` (``grpc_answer_late``).
The proxied exchange is never touched: only its capture stream closes.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

import grpc

from ext_proc_server.capture import protos
from ext_proc_server.capture.answer_waits import AnswerWaits
from ext_proc_server.capture.assembler import StreamAssembler, StreamMeta, stream_meta
from ext_proc_server.capture.caller_identity import caller_check
from ext_proc_server.capture.filters import CaptureFilter
from ext_proc_server.capture.phases import (
    ANSWER_BODY_LATE,
    ANSWER_LATE,
    GRPC_ANSWER_LATE,
    INCOMPLETE,
    MALFORMED,
    Finished,
    hooks_of,
)
from ext_proc_server.capture.stream_metrics import StreamTally
from ext_proc_server.core.config import CollectorConfig, cluster_hosts
from ext_proc_server.core.exchange import Exchange
from ext_proc_server.core.stream_load import StreamLoad
from ext_proc_server.mapping.repeats import RepeatIndex

log = logging.getLogger(__name__)

_META_CACHE_SIZE = 1024
# Each message's phase hook on the stream's assembler (phases.dispatch, looked up once).
_ASSEMBLER_HOOKS = hooks_of(StreamAssembler)
_ON_REQUEST_HEADERS = _ASSEMBLER_HOOKS["request_headers"]
# ProcessingMode enum values (envoy.extensions.filters.http.ext_proc.v3).
# The end of a stream's messages, looked up once (a module attribute each time otherwise).
_EOF = grpc.aio.EOF
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


def continue_response(
    message: protos.ProcessingRequest, *, skip_rest: bool
) -> protos.ProcessingResponse | None:
    """The blocking-mode answer to ``message``: CONTINUE for its phase (and, after
    request headers of a stream not captured, ask Envoy to send nothing more)."""
    kind = message.WhichOneof("request")
    if skip_rest and kind == "request_headers":
        return _CONTINUE_AND_SKIP
    return _CONTINUE.get(kind or "")


class ExtProcServicer(protos.ExternalProcessorServicer):
    """``ExternalProcessor.Process``: every finished exchange goes to ``submit``
    (the capture pipeline's, which never blocks). ``repeats``: the repeat fast path's
    index (the pipeline's), so a repeat of a recorded exchange ends at its stream.
    ``load``: where the streams in progress are counted (shared with the pipeline, which
    yields to them; default: counted here only). The per-stream metrics reach Prometheus
    when :meth:`flush_metrics` is called (the server calls it on a timer, before a scrape
    it serves and on stop), with the repeats the index counted."""

    def __init__(
        self,
        *,
        config: CollectorConfig,
        submit: Callable[[Exchange], Any],
        repeats: RepeatIndex | None = None,
        load: StreamLoad | None = None,
    ) -> None:
        self._config = config
        self._filter = CaptureFilter(config)
        self._hosts = cluster_hosts(config)
        self._repeats = repeats
        self._submit = submit
        # Every stream of one sidecar sends the same metadata: read it once.
        self._metas: dict[tuple[Any, ...], StreamMeta] = {}
        self._last_metadata: tuple[Any, ...] | None = None
        self._last_meta = StreamMeta()
        # Streams in progress (on the event loop only), against the configured bound.
        self._load = load or StreamLoad(busy_above=config.pipeline_pause_streams)
        self._max_streams = config.max_concurrent_streams
        self._grpc_answer_wait_s = config.grpc_answer_wait_s
        self._answer_wait_s = config.answer_wait_s
        # Each stream's deadline for its answer (cancelled past it, decided late).
        self._waits = AnswerWaits()
        # Whose namespace a stream may capture for (None: no identity to check against).
        self._callers = caller_check(config)
        # Per-stream metrics, folded into Prometheus by flush_metrics.
        self._tally = StreamTally()

    # Every message of every stream runs this loop: it stays in one frame.
    # Long because a call per message (phases, blocking answers, deadlines) costs each one.
    async def Process(self, request_iterator: Any, context: grpc.aio.ServicerContext) -> None:
        if self._load.active >= self._max_streams:
            # Past collector.max_concurrent_streams: refused (each stream may hold two
            # bodies). Counted here, not by grpc.aio's maximum_concurrent_rpcs, which adds
            # a done-callback to every RPC (about 11k instructions per stream). Envoy counts
            # the refusal only while its exchange is in progress (failure_mode_allowed): in
            # observability mode most end before, so the collector counts each one.
            self._tally.dropped("stream_limit")
            await context.abort(grpc.StatusCode.RESOURCE_EXHAUSTED, "collector busy")
        started = time.perf_counter()
        metadata = context.invocation_metadata() or ()
        assembler = StreamAssembler(
            config=self._config,
            capture_filter=self._filter,
            meta=self._meta(metadata),
            hosts=self._hosts,
            repeats=self._repeats,
        )
        result: Finished | None = None
        hooks = _ASSEMBLER_HOOKS
        waits = self._waits
        # Observability mode is the filter's setting, the same on each message of a
        # stream: once one says so, the others are not asked (a protobuf field read each).
        observing = False
        # From the request headers on, the stream has a deadline (its task and slot in
        # waits) and what it is decided as if it passes: the answer late, or its body.
        task: asyncio.Task | None = None
        slot = 0
        late = ANSWER_LATE
        self._load.stream_started()
        try:
            while result is None:
                message = await context.read()
                if message is _EOF:
                    result = assembler.end_of_input()
                    if assembler.started:
                        log.debug("ext_proc: stream closed early (phase %s)", assembler.phase)
                    break
                try:
                    hook = hooks.get(message.WhichOneof("request"))
                    result = MALFORMED if hook is None else hook(assembler, message)
                    if task is not None:
                        if (
                            late is not ANSWER_BODY_LATE
                            and assembler.status is not None
                            and result is None
                        ):
                            # The answer began: its body has as long again to end.
                            late = ANSWER_BODY_LATE
                            waits.end(task, slot)
                            slot = waits.start(task, self._answer_wait_s)
                    elif hook is _ON_REQUEST_HEADERS and result is None:
                        # The stream's namespace is known from here on: is it its caller's?
                        if self._callers is not None:
                            result, assembler.namespace = self._callers.refusal(
                                metadata, context, assembler.namespace
                            )
                        if result is None and (task := waits.task()) is not None:
                            wait_s = self._answer_wait_s
                            if assembler.grpc_call():
                                late, wait_s = GRPC_ANSWER_LATE, self._grpc_answer_wait_s
                            slot = waits.start(task, wait_s)
                except Exception:
                    log.exception("ext_proc: assembling a stream failed")
                    result = Finished(drop_reason="internal_error")
                if not observing and not (observing := message.observability_mode):
                    skip_rest = result is not None and result.exchange is None
                    reply = continue_response(message, skip_rest=skip_rest)
                    if reply is not None:
                        await context.write(reply)
        except asyncio.CancelledError:
            if task is not None and waits.expired(task) and task.uncancel() == 0:
                # Its deadline passed (and nothing else cancelled it): decided now, the
                # capture stream closes while the exchange goes on.
                if result is None:
                    result = late
            else:
                # Envoy reset the stream or the server is shutting down. In blocking mode
                # Envoy may reset as soon as it has the last reply: a finished exchange
                # stays captured.
                if result is None:
                    result = INCOMPLETE
                    if assembler.started:
                        log.debug("ext_proc: stream reset (phase %s)", assembler.phase)
                raise
        except (grpc.RpcError, protos.DecodeError):
            # The stream broke, or a message was not a ProcessingRequest at all.
            if result is None:
                result = MALFORMED
        finally:
            if task is not None:
                waits.end(task, slot)
            self._load.stream_ended()
            self._account(assembler, result, started)

    def _meta(self, metadata: Any) -> StreamMeta:
        if not isinstance(metadata, tuple):
            metadata = tuple(metadata)
        if metadata == self._last_metadata:
            # The same sidecar as the last stream (compared, not hashed: fresh strings).
            return self._last_meta
        found = self._metas.get(metadata)
        if found is None:
            found = stream_meta(metadata, config=self._config)
            if len(self._metas) >= _META_CACHE_SIZE:
                self._metas.clear()
            self._metas[metadata] = found
        self._last_metadata, self._last_meta = metadata, found
        return found

    def flush_metrics(self) -> None:
        """Add the streams' tallies, and the repeats counted by the index, to the
        Prometheus metrics."""
        self._tally.flush()
        if self._repeats is not None:
            self._repeats.flush_metrics()

    def _account(self, assembler: StreamAssembler, result: Finished | None, started: float) -> None:
        tally = self._tally
        if not assembler.started:
            # Garbage before any request headers is no exchange, but it is counted.
            if result is not None and result.drop_reason not in ("", "incomplete"):
                tally.dropped(result.drop_reason)
            return
        tally.stream(time.perf_counter() - started, assembler.method, assembler.status)
        if result is None:
            return
        if result.exchange is not None:
            if result.exchange.truncated:
                tally.truncated()
            accepted = self._submit(result.exchange)
            if accepted and result.repeat_key is not None and self._repeats is not None:
                # Only an exchange the pipeline holds: a dropped one's key is not kept.
                self._repeats.hand_over(result.exchange, result.repeat_key)
        elif result.drop_reason:
            tally.dropped(result.drop_reason)
