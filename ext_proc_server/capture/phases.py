"""The six phases of an ext_proc stream, and how a message reaches its phase.

Envoy sends, per proxied HTTP exchange, ProcessingRequest messages for request
headers, request body chunks, request trailers, response headers, response body
chunks and response trailers. A :class:`PhaseHandler` has one hook per phase;
:func:`dispatch` hands each message to its hook. The servicer owns the gRPC loop
and calls ``dispatch``; the stream assembler implements the hooks.

Each hook answers, after its message, whether the stream is finished:

* ``None``: keep reading.
* ``Finished(exchange=...)``: the response ended; capture this exchange.
* ``Finished(drop_reason=...)``: stop now and capture nothing (a
  ``collector_dropped_total`` reason: filtered, not_sampled, upgrade, grpc_body,
  envoy_local_reply, malformed, incomplete; the servicer's answer_late,
  answer_body_late and grpc_answer_late).
* ``Finished(repeat=True)``: the response ended and the exchange repeats one already
  recorded (the repeat fast path, :mod:`ext_proc_server.mapping.repeats`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ext_proc_server.capture.protos import ProcessingRequest
from ext_proc_server.core.exchange import Exchange


@dataclass(frozen=True, slots=True)
class Finished:
    exchange: Exchange | None = None
    drop_reason: str = ""
    # A repeat of a recorded exchange (the fast path): nothing more to capture.
    repeat: bool = False
    # The exchange's repeat key (a mapping.repeats.RepeatKey), when the stream computed it.
    repeat_key: Any = None


MALFORMED = Finished(drop_reason="malformed")
INCOMPLETE = Finished(drop_reason="incomplete")
UPGRADE = Finished(drop_reason="upgrade")
GRPC_BODY = Finished(drop_reason="grpc_body")
ENVOY_LOCAL_REPLY = Finished(drop_reason="envoy_local_reply")
# Past the stream's wait (collector.answer_wait_s, grpc_answer_wait_s): the answer had not
# begun, or its body had not ended. The capture stream closes; the exchange goes on.
ANSWER_LATE = Finished(drop_reason="answer_late")
ANSWER_BODY_LATE = Finished(drop_reason="answer_body_late")
GRPC_ANSWER_LATE = Finished(drop_reason="grpc_answer_late")
REPEAT = Finished(repeat=True)


class PhaseHandler(Protocol):
    """One hook per phase; each gets the whole message (request headers also carry
    Envoy's attributes)."""

    def on_request_headers(self, message: ProcessingRequest) -> Finished | None: ...
    def on_request_body(self, message: ProcessingRequest) -> Finished | None: ...
    def on_request_trailers(self, message: ProcessingRequest) -> Finished | None: ...
    def on_response_headers(self, message: ProcessingRequest) -> Finished | None: ...
    def on_response_body(self, message: ProcessingRequest) -> Finished | None: ...
    def on_response_trailers(self, message: ProcessingRequest) -> Finished | None: ...

    def end_of_input(self) -> Finished:
        """The stream closed before a hook said it was finished."""
        ...


# ProcessingRequest's ``request`` oneof -> the hook for that phase.
_HOOKS = {
    "request_headers": "on_request_headers",
    "request_body": "on_request_body",
    "request_trailers": "on_request_trailers",
    "response_headers": "on_response_headers",
    "response_body": "on_response_body",
    "response_trailers": "on_response_trailers",
}


Hook = Callable[[Any, ProcessingRequest], "Finished | None"]


def hooks_of(handler_type: type) -> dict[str, Hook]:
    """A handler class's hooks by phase, as plain functions of (handler, message): a loop
    that handles many streams looks a message's hook up once, with no bound method."""
    return {kind: getattr(handler_type, name) for kind, name in _HOOKS.items()}


def dispatch(handler: PhaseHandler, message: ProcessingRequest) -> Finished | None:
    """Hand ``message`` to its phase's hook; a message of no known phase is malformed."""
    hook = _HOOKS.get(message.WhichOneof("request") or "")
    if hook is None:
        return MALFORMED
    result: Finished | None = getattr(handler, hook)(message)
    return result
