"""Per-stream CPU of the ext_proc servicer against the floor's, in-process, side by side.

No sockets, no Envoy: each servicer's ``Process`` is driven with a stand-in context that
replays one stream's messages as Envoy 1.40 sends them in observability mode (serialized,
and parsed back as grpc.aio's deserializer does), so both pay the same parsing and
the difference is each servicer's own Python per stream. mockado's streams repeat
exchanges recorded first (the repeat fast path: no exchange is built, nothing is
submitted). Rounds alternate mockado and the floor; each figure is the lowest round.

``python -m bench.ext_proc_streams [ours|floor] [rounds]`` runs one side only, for
``valgrind --tool=callgrind`` (instruction counts: run it with rounds 0 and N and divide
the difference by N x STREAMS).
"""

from __future__ import annotations

import sys
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from bench.ext_proc_servers import FloorServicer, json_body
from ext_proc_server.capture import ExtProcServicer, protos
from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange
from ext_proc_server.mapping.repeats import RepeatIndex

STREAMS = 300
ROUNDS = 5
# The gRPC metadata the bench's Envoy sends with every stream.
METADATA = (
    ("x-forwarded-for", "192.0.2.2"),
    ("x-mockado-namespace", "local"),
    ("x-mockado-workload", "mockado-up"),
    ("x-envoy-internal", "true"),
)


def envoy_stream(n: int) -> list[bytes]:
    """The serialized messages of the bench's exchange ``n`` as Envoy sends them (taken
    from the bench's Envoy): attributes, eight request headers, each body in one chunk at
    its Content-Length followed by an empty end-of-stream chunk."""

    def headers(pairs: list[tuple[str, str]], end: bool = False) -> protos.HttpHeaders:
        values = [protos.HeaderValue(key=k, raw_value=v.encode()) for k, v in pairs]
        return protos.HttpHeaders(headers=protos.HeaderMap(headers=values), end_of_stream=end)

    def attributes(fields: dict[str, str]) -> dict[str, Any]:
        return {"envoy.filters.http.ext_proc": {"fields": {
            k: {"string_value": v} for k, v in fields.items()}}}  # fmt: skip

    request_id = f"ac033846-388c-4bf6-805f-{n:012d}"
    request, response = json_body(n), json_body(0)
    req = [(":authority", "orders.bench"), (":path", f"/api/rec/order{n}?page={n}"),
           (":method", "POST"), (":scheme", "http"), ("content-type", "application/json"),
           ("content-length", str(len(request))), ("x-forwarded-proto", "http"),
           ("x-request-id", request_id)]  # fmt: skip
    resp = [(":status", "200"), ("content-type", "application/json"),
            ("content-length", str(len(response))), ("x-envoy-upstream-service-time", "1")]  # fmt: skip
    request_attributes = {
        "xds.node.metadata.WORKLOAD_NAME": "mockado-up", "xds.node.metadata.NAMESPACE": "local",
        "xds.node.id": "mockado-local", "source.address": "127.0.0.1:42966",
        "request.id": request_id, "destination.address": "127.0.0.1:44397"}  # fmt: skip
    Request = protos.ProcessingRequest
    messages = [
        Request(request_headers=headers(req), attributes=attributes(request_attributes)),
        Request(request_body=protos.HttpBody(body=request)),
        Request(request_body=protos.HttpBody(end_of_stream=True)),
        Request(
            response_headers=headers(resp), attributes=attributes({"xds.cluster_name": "upstream"})
        ),
        Request(response_body=protos.HttpBody(body=response)),
        Request(response_body=protos.HttpBody(end_of_stream=True)),
    ]
    for message in messages:
        message.observability_mode = True
    return [message.SerializeToString() for message in messages]


class ReplayContext:
    """A ``grpc.aio.ServicerContext`` stand-in: ``read()`` parses the next serialized
    message (as grpc.aio's deserializer does), then EOF."""

    __slots__ = ("_messages", "_metadata", "_next")

    def __init__(self, messages: list[bytes], metadata: tuple[tuple[str, str], ...]) -> None:
        self._messages = messages
        self._metadata = metadata
        self._next = 0

    async def read(self) -> Any:
        if self._next == len(self._messages):
            import grpc

            return grpc.aio.EOF
        self._next += 1
        return protos.ProcessingRequest.FromString(self._messages[self._next - 1])

    async def write(self, message: Any) -> None:
        raise AssertionError("observability mode: nothing is written")

    def invocation_metadata(self) -> tuple[tuple[str, str], ...]:
        return self._metadata


def drive(servicer: Any, messages: list[bytes]) -> None:
    """Run one ``Process`` call to its end; it never suspends on a replayed stream."""
    call = servicer.Process(None, ReplayContext(messages, METADATA))
    try:
        call.send(None)
    except StopIteration:
        return
    raise RuntimeError("a replayed stream suspended")


def servicers() -> dict[str, Any]:
    """mockado's servicer with the bench's streams recorded (so they repeat), and the
    floor's."""
    config = CollectorConfig()
    repeats = RepeatIndex(config)
    submitted: list[Exchange] = []

    def submit(exchange: Exchange) -> bool:
        submitted.append(exchange)
        return True

    ours = ExtProcServicer(config=config, submit=submit, repeats=repeats)
    for n in range(STREAMS):
        drive(ours, envoy_stream(n))
    for exchange in submitted:
        repeats.remember(repeats.key_of(exchange), "recorded")
    submitted.clear()
    floor = FloorServicer(deque(maxlen=10_000), [0])
    return {"ours": (ours, lambda: not submitted), "floor": (floor, lambda: True)}


def cpu_us_per_stream(servicer: Any, streams: list[list[bytes]]) -> float:
    started = time.process_time()
    for messages in streams:
        drive(servicer, messages)
    return (time.process_time() - started) / len(streams) * 1e6


def stream_costs(rounds: int = ROUNDS) -> dict[str, float]:
    """-> ``ext_proc.stream_repeat_us`` (mockado, a repeat), ``ext_proc.stream_floor_us``
    (the floor, the same messages) and their ratio."""
    streams = [envoy_stream(n) for n in range(STREAMS)]
    sides = servicers()
    best: dict[str, float] = {}
    for _ in range(rounds):
        for name, (servicer, _check) in sides.items():
            cost = cpu_us_per_stream(servicer, streams)
            best[name] = min(best.get(name, cost), cost)
    for name, (_servicer, check) in sides.items():
        if not check():
            raise RuntimeError(f"bench: {name} did not handle the streams as repeats")
    return {
        "ext_proc.stream_repeat_us": round(best["ours"], 1),
        "ext_proc.stream_floor_us": round(best["floor"], 1),
        "ext_proc.stream_repeat_ratio_to_floor": round(best["ours"] / best["floor"], 2),
    }


def _one_side(name: str, rounds: int) -> None:
    streams = [envoy_stream(n) for n in range(STREAMS)]
    servicer, check = servicers()[name]
    run: Callable[[Any, list[list[bytes]]], float] = cpu_us_per_stream
    for _ in range(rounds):
        run(servicer, streams)
    assert check()


if __name__ == "__main__":
    if len(sys.argv) > 1:
        _one_side(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else ROUNDS)
    else:
        print(stream_costs())
