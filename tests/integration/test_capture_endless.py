"""Responses that do not end (server-sent events, a log tail, a slow download) through a
real Envoy 1.40 and ``mockado ext-proc``.

Envoy holds one capture stream per proxied exchange, and its circuit breaker on the
collector cluster (``control_plane.collector.max_requests``) refuses new ones past the
bound: capture of every other exchange is then skipped, counted only by Envoy. So the
capture ends a stream as soon as nothing more of the response would be kept (past the
body limit; the exchange then gets no stub, a counted ``response_truncated`` skip),
while the client keeps receiving the upstream's bytes untouched.
"""

from __future__ import annotations

import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import pytest

from tests.support.collector_streams import capture_streams_open, refused_captures
from tests.support.ext_proc_rig import (
    collector_settings,
    counters,
    envoy_for,
    make_config,
    wait_until,
)
from tests.support.raw_capture import raw_request
from tests.support.raw_reader import ReadOnThread
from tests.support.serving import ThreadedServer, serving
from tests.support.skip_records import skip_record

pytestmark = pytest.mark.integration

# As many endless streams as Envoy may hold open to the collector.
STREAMS = 4
BODY_LIMIT_BYTES = 8 * 1024
EVENT_BYTES = 512
JSON = b'{"status":"ok"}'


def event(n: int) -> bytes:
    """The n-th event, EVENT_BYTES long, numbered so a gap or a repeat shows."""
    head = f"id: {n:08d}\ndata: ".encode()
    return head + b"e" * (EVENT_BYTES - len(head) - 2) + b"\n\n"


class _Handler(socketserver.StreamRequestHandler):
    def handle(self) -> None:
        line = self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b""):
            pass
        if line.split(b" ")[1].startswith(b"/json/"):
            head = (
                f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(JSON)}"
            )
            self.wfile.write(head.encode() + b"\r\nConnection: close\r\n\r\n" + JSON)
            return
        self.wfile.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"
        )
        n = 0
        try:
            while not self.server.stopping.is_set():  # type: ignore[attr-defined]
                payload = event(n)
                self.wfile.write(b"%x\r\n%s\r\n" % (len(payload), payload))
                self.wfile.flush()
                n += 1
                time.sleep(0.01)
        except OSError:
            return  # the client went away


@contextmanager
def events_upstream() -> Iterator[int]:
    """``/events``: an endless text/event-stream; ``/json/*``: a small JSON answer."""
    server = ThreadedServer(("127.0.0.1", 0), _Handler)
    server.stopping = threading.Event()  # type: ignore[attr-defined]
    with serving(server) as port:
        try:
            yield port
        finally:
            server.stopping.set()  # type: ignore[attr-defined]


class EventStream(ReadOnThread):
    """A client reading ``/events`` through Envoy on a thread; keeps every body byte."""

    def __init__(self, port: int) -> None:
        request = b"GET /events HTTP/1.1\r\nHost: events.test\r\nAccept: text/event-stream\r\n\r\n"
        super().__init__(port, request, timeout_s=10)

    def events(self) -> list[bytes]:
        """The complete events received so far, chunk framing removed."""
        body, _ = self.body_so_far()
        return [e + b"\n\n" for e in body.split(b"\n\n")[:-1]]


def assert_still_flowing(streams: list[EventStream]) -> None:
    """The clients still get every event, in order, none lost or repeated."""
    marks = [len(s.data) for s in streams]
    wait_until(
        lambda: all(
            len(s.data) > mark + 4 * BODY_LIMIT_BYTES
            for s, mark in zip(streams, marks, strict=True)
        ),
        what="the event streams still flowing",
    )
    for stream in streams:
        assert stream.failed is None
        received = stream.events()
        assert received == [event(n) for n in range(len(received))]


@pytest.mark.parametrize("capture_mode", ["observability", "blocking"])
def test_endless_responses_do_not_hold_capture_from_other_traffic(
    capture_mode, redis_server, envoy_factory, ext_proc_factory
) -> None:
    collector = collector_settings(redis_server.url, body_limit_bytes=BODY_LIMIT_BYTES)
    ext = ext_proc_factory(collector)
    config = make_config(collector, control_plane={"collector": {"max_requests": STREAMS}})
    with events_upstream() as port, ExitStack() as open_streams:
        envoy = envoy_for(
            envoy_factory,
            config,
            upstream_port=port,
            ext_proc_port=ext.grpc_port,
            upstream_http2=False,
            capture_mode=capture_mode,
        )
        streams = [EventStream(envoy.port) for _ in range(STREAMS)]
        for stream in streams:
            open_streams.callback(stream.close)
        # Every stream well past the body limit: each exchange is decided, none stubbed.
        wait_until(
            lambda: all(len(s.data) > 4 * BODY_LIMIT_BYTES for s in streams),
            what="the event streams flowing",
        )
        # Decided, and Envoy has seen each capture stream end: the requests below find
        # every slot free.
        wait_until(
            lambda: (
                ext.metric("collector_stubs_skipped_total", reason="response_truncated") == STREAMS
                and capture_streams_open(envoy.admin_url) == 0
            ),
            what="each endless response counted as truncated, its capture stream closed",
            explain=lambda: f"{counters(ext)}; open: {capture_streams_open(envoy.admin_url)}",
        )
        # The streams are still open, and other traffic is captured beside them.
        for n in range(5):
            reply = raw_request(envoy.port, "GET", f"/json/{n}")
            assert (reply.status, reply.body) == (200, JSON)
        wait_until(
            lambda: (
                sorted(m["request"]["urlPath"] for m in ext.captured())
                == [f"/json/{n}" for n in range(5)]
            ),
            what="the other exchanges captured",
            explain=lambda: counters(ext),
        )
        # Envoy refused no capture stream.
        assert refused_captures(envoy.admin_url) == 0
        assert_still_flowing(streams)
    counts, recent = skip_record(redis_server.url, collector["redis_queue"], host="events.test")
    assert counts == {"response_truncated": STREAMS}
    assert recent == ["response_truncated GET /events"]  # one entry per request
    envoy.process.stop()
    assert ext.process.stop(timeout_s=20) == 0
