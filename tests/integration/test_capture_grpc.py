"""gRPC answers with messages, through a real Envoy 1.40 and ``mockado ext-proc``.

Such an answer ends in trailers (``grpc-status``), which no WireMock stub can send, so it
never becomes a stub. The capture decides it at its response headers (a counted
``grpc_body`` drop) and closes its stream there: a server stream that never ends (a watch
or subscribe API) then holds none of the capture streams Envoy may open
(``control_plane.collector.max_requests``), which other exchanges would miss. A gRPC error
answered in headers alone (trailers-only) is still recorded (test_replay_grpc).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import grpc
import pytest

from tests.support.collector_streams import capture_streams_open, refused_captures
from tests.support.ext_proc_rig import (
    collector_settings,
    counters,
    envoy_for,
    make_config,
    wait_until,
)
from tests.support.grpc_upstream import grpc_upstream
from tests.support.processes import promised_port

pytestmark = pytest.mark.integration

SERVICE = "shop.Orders"
# As many endless server streams as Envoy may hold open to the collector.
STREAMS = 4
EVENT = b"\x0a\x05event"


def _watch(request: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
    while context.is_active():
        yield EVENT
        time.sleep(0.1)  # a watch: a few small events, never near the body limit


def _get(request: bytes, context: grpc.ServicerContext) -> bytes:
    return b"\x0a\x02ok"


@pytest.fixture
def grpc_port() -> Iterator[int]:
    """``Watch``: an endless server stream; ``Get``: one message; any other method: the
    server's trailers-only UNIMPLEMENTED."""
    handlers = {
        "Watch": grpc.unary_stream_rpc_method_handler(_watch),
        "Get": grpc.unary_unary_rpc_method_handler(_get),
    }
    with grpc_upstream(SERVICE, handlers, workers=STREAMS + 4) as port:
        yield port


class Watcher:
    """One ``Watch`` call read on a thread; counts the events received."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.call = channel.unary_stream(f"/{SERVICE}/Watch")(b"", timeout=120)
        self.received = 0
        self.failed: grpc.RpcError | None = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for message in self.call:
                assert message == EVENT
                self.received += 1
        except grpc.RpcError as exc:
            if exc.code() != grpc.StatusCode.CANCELLED:
                self.failed = exc

    def close(self) -> None:
        self.call.cancel()
        self.thread.join(10)


def call_until_decided(ext, call, decided, *, what: str) -> int:
    """Make ``call`` once the collector has nothing else to decide, and wait until it
    decided its capture (``decided``) -> the times it was made again.

    One at a time: a burst on a loaded box can outrun the collector (its first exchange
    alone takes it 0.1 s and more to prepare) and fill Envoy's few capture streams by
    itself. A capture Envoy gave up on first (past its 200 ms message timeout in blocking
    mode, past its deferred close when the collector is starved; counted incomplete) is
    made again."""
    for again in range(5):
        before = ext.metric("collector_dropped_total", reason="incomplete")
        call()
        wait_until(
            lambda before=before: (
                decided() or ext.metric("collector_dropped_total", reason="incomplete") > before
            ),
            what=what,
            explain=lambda: counters(ext),
        )
        if decided():
            return again
    raise AssertionError(f"{what}: given up by Envoy 5 times: {counters(ext)}")


def record_missing_calls(ext, channel: grpc.Channel) -> int:
    """Call five methods the upstream does not have (trailers-only UNIMPLEMENTED), each
    until recorded -> the calls made again (see call_until_decided)."""

    def recorded() -> list[str]:
        return sorted(m["request"]["urlPath"] for m in ext.captured())

    again = 0
    for n in range(5):

        def missing(n: int = n) -> None:
            with pytest.raises(grpc.RpcError) as refused:
                channel.unary_unary(f"/{SERVICE}/Missing{n}")(b"", timeout=5)
            assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED

        again += call_until_decided(
            ext, missing, lambda n=n: f"/{SERVICE}/Missing{n}" in recorded(),
            what=f"the trailers-only answer {n} recorded",
        )  # fmt: skip
    assert recorded() == [f"/{SERVICE}/Missing{n}" for n in range(5)]
    return again


@pytest.mark.parametrize("capture_mode", ["observability", "blocking"])
def test_endless_grpc_server_streams_hold_no_capture_stream(
    capture_mode, redis_server, grpc_port, envoy_factory, ext_proc_factory
) -> None:
    collector = collector_settings(redis_server.url)
    ext = ext_proc_factory(collector)
    config = make_config(collector, control_plane={"collector": {"max_requests": STREAMS}})
    envoy = envoy_for(
        envoy_factory, config, upstream_port=grpc_port, ext_proc_port=ext.grpc_port,
        upstream_http2=True, capture_mode=capture_mode,
    )  # fmt: skip
    channel = grpc.insecure_channel(f"127.0.0.1:{envoy.port}")
    watchers = [Watcher(channel) for _ in range(STREAMS)]

    def dropped(reason: str) -> float:
        return ext.metric("collector_dropped_total", reason=reason)

    try:
        wait_until(lambda: all(w.received > 3 for w in watchers), what="the watches flowing")
        # Each watch decided at its answer's headers (or given up by Envoy in blocking mode
        # on a loaded box): while they flow, none holds a capture stream.
        wait_until(
            lambda: (
                dropped("grpc_body") + dropped("incomplete") == STREAMS
                and capture_streams_open(envoy.admin_url) == 0
            ),
            what="every watch decided, its capture stream closed",
            explain=lambda: f"{counters(ext)}; open: {capture_streams_open(envoy.admin_url)}",
        )
        watches_given_up = dropped("incomplete")

        def get() -> None:
            assert channel.unary_unary(f"/{SERVICE}/Get")(b"", timeout=5) == b"\x0a\x02ok"

        again = call_until_decided(
            ext, get, lambda: dropped("grpc_body") + watches_given_up == STREAMS + 1,
            what="the answer with a message decided",
        )  # fmt: skip

        # Trailers-only errors beside the open watches: each recorded, none refused capture.
        again += record_missing_calls(ext, channel)
        assert refused_captures(envoy.admin_url) == 0
        marks = [w.received for w in watchers]
        wait_until(
            lambda: all(w.received > mark + 3 for w, mark in zip(watchers, marks, strict=True)),
            what="the watches still flowing",
        )
        assert [w.failed for w in watchers] == [None] * STREAMS
        assert capture_streams_open(envoy.admin_url) == 0
    finally:
        for watcher in watchers:
            watcher.close()
        channel.close()
    # Nothing given up on but what was made again (or a watch, in blocking mode).
    assert dropped("incomplete") == watches_given_up + again
    envoy.process.stop()
    assert ext.process.stop(timeout_s=20) == 0


def test_envoy_own_grpc_error_is_never_recorded(
    redis_server, envoy_factory, ext_proc_factory
) -> None:
    """An upstream nobody listens on: Envoy answers the call itself, UNAVAILABLE in headers
    alone. A stub of it would answer every later call so, and no success of a call with
    messages would ever replace it: counted as Envoy's own answer, never recorded."""
    collector = collector_settings(redis_server.url)
    ext = ext_proc_factory(collector)
    envoy = envoy_for(
        envoy_factory, make_config(collector), upstream_port=promised_port(),
        ext_proc_port=ext.grpc_port, upstream_http2=True,
    )  # fmt: skip
    with (
        grpc.insecure_channel(f"127.0.0.1:{envoy.port}") as channel,
        pytest.raises(grpc.RpcError) as failed,
    ):
        channel.unary_unary(f"/{SERVICE}/Get")(b"", timeout=5)
    assert failed.value.code() == grpc.StatusCode.UNAVAILABLE
    wait_until(
        lambda: bool(
            ext.captured() or ext.metric("collector_dropped_total", reason="envoy_local_reply")
        ),
        what="Envoy's own answer decided",
        explain=lambda: counters(ext),
    )
    assert ext.captured() == []
    assert ext.metric("collector_dropped_total", reason="envoy_local_reply") == 1
    envoy.process.stop()
    assert ext.process.stop(timeout_s=20) == 0
