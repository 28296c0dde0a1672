"""gRPC calls whose server answers late, through a real Envoy 1.40 and ``mockado ext-proc``.

A long poll (or a server stream that sends nothing until its first message) sends no
response headers for as long as it waits. Its capture stream cannot end at the answer's
headers then, and every such call would hold one of the capture streams Envoy may open
(``control_plane.collector.max_requests``) for its whole life, so the exchanges beside it
went uncaptured. The collector decides a gRPC call whose answer has not begun within
``collector.grpc_answer_wait_s`` (``collector_dropped_total{reason="grpc_answer_late"}``):
an answer with messages is never recorded anyway, and a trailers-only error that comes
sooner is still recorded.
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

pytestmark = pytest.mark.integration

SERVICE = "shop.Inbox"
# As many long polls as Envoy may hold capture streams open.
STREAMS = 4
EVENT = b"\x0a\x04mail"
ANSWER_WAIT_S = 2.0


class Inbox:
    """``Poll``: a long poll, no headers until ``release()`` (then one message);
    ``Late``: a trailers-only NOT_FOUND after 0.2 s; any other method: UNIMPLEMENTED."""

    def __init__(self) -> None:
        self.released = threading.Event()

    def poll(self, request: bytes, context: grpc.ServicerContext) -> Iterator[bytes]:
        while not self.released.wait(0.05):
            if not context.is_active():
                return
        yield EVENT

    def late(self, request: bytes, context: grpc.ServicerContext) -> bytes:
        time.sleep(0.2)
        context.abort(grpc.StatusCode.NOT_FOUND, "no such mailbox")


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    inbox = Inbox()
    handlers = {
        "Poll": grpc.unary_stream_rpc_method_handler(inbox.poll),
        "Late": grpc.unary_unary_rpc_method_handler(inbox.late),
    }
    with grpc_upstream(SERVICE, handlers, workers=STREAMS + 4) as port:
        yield inbox, port
        inbox.released.set()


class Poller:
    """One ``Poll`` call read on a thread."""

    def __init__(self, channel: grpc.Channel) -> None:
        self.call = channel.unary_stream(f"/{SERVICE}/Poll")(b"", timeout=120)
        self.received: list[bytes] = []
        self.failed: grpc.RpcError | None = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            self.received.extend(self.call)
        except grpc.RpcError as exc:
            self.failed = exc


@pytest.mark.parametrize("capture_mode", ["observability", "blocking"])
def test_long_polls_free_their_capture_streams_and_errors_beside_them_are_recorded(
    capture_mode, redis_server, inbox, envoy_factory, ext_proc_factory
) -> None:
    server, port = inbox
    collector = collector_settings(redis_server.url, grpc_answer_wait_s=ANSWER_WAIT_S)
    ext = ext_proc_factory(collector)
    config = make_config(collector, control_plane={"collector": {"max_requests": STREAMS}})
    envoy = envoy_for(
        envoy_factory, config, upstream_port=port, ext_proc_port=ext.grpc_port,
        upstream_http2=True, capture_mode=capture_mode,
    )  # fmt: skip
    channel = grpc.insecure_channel(f"127.0.0.1:{envoy.port}")
    pollers = [Poller(channel) for _ in range(STREAMS)]
    try:
        wait_until(
            lambda: (
                ext.metric("collector_dropped_total", reason="grpc_answer_late") == STREAMS
                and capture_streams_open(envoy.admin_url) == 0
            ),
            what="every long poll decided while it still waits, its capture stream closed",
            explain=lambda: f"{counters(ext)}; open: {capture_streams_open(envoy.admin_url)}",
        )
        assert all(p.thread.is_alive() and not p.received for p in pollers)
        # Beside the waiting polls: trailers-only errors, one of them a little late.
        paths = {f"/{SERVICE}/Missing{n}" for n in range(3)} | {f"/{SERVICE}/Late"}

        def recorded() -> set[str]:
            return {m["request"]["urlPath"] for m in ext.captured()}

        def call_until_recorded() -> bool:
            # In blocking mode a busy box can pass Envoy's 200 ms message timeout, and that
            # capture ends incomplete (counted): such a call is made again.
            for path in sorted(paths - recorded()):
                with pytest.raises(grpc.RpcError) as refused:
                    channel.unary_unary(path)(b"", timeout=10)
                assert refused.value.code() in (
                    grpc.StatusCode.UNIMPLEMENTED,
                    grpc.StatusCode.NOT_FOUND,
                )
            time.sleep(0.5)
            return recorded() == paths

        # Well within the rendered route's 30 s timeout, which would end the polls too.
        wait_until(
            call_until_recorded,
            what="the trailers-only answers recorded",
            explain=lambda: counters(ext),
        )
        assert refused_captures(envoy.admin_url) == 0
        # The polls' traffic was never touched: each gets its message once there is one.
        server.released.set()
        for poller in pollers:
            poller.thread.join(10)
        assert [(p.received, p.failed) for p in pollers] == [([EVENT], None)] * STREAMS
    finally:
        server.released.set()
        channel.close()
    assert ext.metric("collector_dropped_total", reason="grpc_answer_late") == STREAMS
    envoy.process.stop()
    assert ext.process.stop(timeout_s=20) == 0
