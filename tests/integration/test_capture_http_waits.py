"""Plain HTTP answers that come late or trickle, through a real Envoy 1.40 and
``mockado ext-proc``.

A long poll (``GET /events?wait=30``, a blocking query) sends no response headers while
it waits, and an answer whose headers come at once may send its body a few bytes at a
time for minutes (never reaching the body limit). Each held one of the capture streams
Envoy may open (``control_plane.collector.max_requests``) for its whole life, and with as
many of them as that bound, every other exchange went uncaptured. The collector now
decides an answer that has not begun ``collector.answer_wait_s`` after its request
(``answer_late``) or whose body has not ended as long after its headers
(``answer_body_late``); the clients get their answers untouched.
"""

from __future__ import annotations

import re
import socketserver
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
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

pytestmark = pytest.mark.integration

# Long polls and trickling answers, as many as Envoy may hold capture streams open.
POLLS = 2
TRICKLES = 2
STREAMS = POLLS + TRICKLES
ANSWER_WAIT_S = 2.0
POLL_ANSWER = b'{"events":[]}'
PIECE = b" "
JSON = b'{"status":"ok"}'


class _Handler(socketserver.StreamRequestHandler):
    """``/poll``: no answer until released; ``/trickle``: headers at once, then a byte
    every 0.1 s until released, then ``JSON``; ``/json/*``: ``JSON`` at once."""

    def handle(self) -> None:
        line = self.rfile.readline()
        while self.rfile.readline() not in (b"\r\n", b""):
            pass
        path = line.split(b" ")[1]
        released: threading.Event = self.server.released  # type: ignore[attr-defined]
        try:
            if path.startswith(b"/poll"):
                released.wait(60)
                self._whole(POLL_ANSWER)
            elif path.startswith(b"/trickle"):
                self.wfile.write(
                    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                    b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                )
                while not released.wait(0.1):
                    self.wfile.write(b"1\r\n" + PIECE + b"\r\n")
                    self.wfile.flush()
                self.wfile.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(JSON), JSON))
            else:
                self._whole(JSON)
            self.wfile.flush()
        except OSError:
            return  # the client went away

    def _whole(self, body: bytes) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}"
        self.wfile.write(head.encode() + b"\r\nConnection: close\r\n\r\n" + body)


@contextmanager
def slow_upstream() -> Iterator[ThreadedServer]:
    server = ThreadedServer(("127.0.0.1", 0), _Handler)
    server.released = threading.Event()  # type: ignore[attr-defined]
    with serving(server):
        try:
            yield server
        finally:
            server.released.set()  # type: ignore[attr-defined]


class SlowCall(ReadOnThread):
    """One GET through Envoy read on a thread to its end; keeps every byte received."""

    def __init__(self, port: int, target: str) -> None:
        request = f"GET {target} HTTP/1.1\r\nHost: slow.test\r\nConnection: close\r\n\r\n"
        super().__init__(port, request.encode(), timeout_s=60)

    def body(self) -> bytes:
        """The body received whole, chunk framing removed (b"" until it ends)."""
        body, ended = self.body_so_far()
        return body if ended else b""


def assert_answered_whole(upstream, polls: list[SlowCall], trickles: list[SlowCall]) -> None:
    """Let the slow answers end: each client gets its whole answer, every byte sent."""
    trickled = [len(call.data) for call in trickles]
    upstream.released.set()
    for call in polls + trickles:
        call.thread.join(10)
    assert [(c.body(), c.failed) for c in polls] == [(POLL_ANSWER, None)] * len(polls)
    for call, before in zip(trickles, trickled, strict=True):
        body = call.body()
        assert call.failed is None and body.endswith(JSON), body
        # Every byte the upstream sent, none lost after the capture stream closed.
        assert body == PIECE * (len(body) - len(JSON)) + JSON
        assert len(call.data) > before


@pytest.mark.parametrize("capture_mode", ["observability", "blocking"])
def test_long_polls_and_trickling_answers_free_their_capture_streams(
    capture_mode, redis_server, envoy_factory, ext_proc_factory
) -> None:
    collector = collector_settings(redis_server.url, answer_wait_s=ANSWER_WAIT_S)
    ext = ext_proc_factory(collector)
    config = make_config(collector, control_plane={"collector": {"max_requests": STREAMS}})
    with slow_upstream() as upstream, ExitStack() as open_calls:
        envoy = envoy_for(
            envoy_factory, config, upstream_port=upstream.server_address[1],
            ext_proc_port=ext.grpc_port, upstream_http2=False, capture_mode=capture_mode,
        )  # fmt: skip
        polls = [SlowCall(envoy.port, f"/poll/{n}?wait=30") for n in range(POLLS)]
        trickles = [SlowCall(envoy.port, f"/trickle/{n}") for n in range(TRICKLES)]
        for call in polls + trickles:
            open_calls.callback(call.close)
        wait_until(
            lambda: (
                ext.metric("collector_dropped_total", reason="answer_late") == POLLS
                and ext.metric("collector_dropped_total", reason="answer_body_late") == TRICKLES
                and capture_streams_open(envoy.admin_url) == 0
            ),
            what="every slow answer decided while it still comes, its capture stream closed",
            explain=lambda: f"{counters(ext)}; open: {capture_streams_open(envoy.admin_url)}",
        )
        assert all(call.thread.is_alive() and not call.body() for call in polls + trickles)
        # Beside them, while they go on: ordinary exchanges, each recorded.
        paths = [f"/json/{n}" for n in range(5)]

        def recorded() -> list[str]:
            return sorted(m["request"]["urlPath"] for m in ext.captured())

        def call_until_recorded() -> bool:
            # In blocking mode a busy box can pass Envoy's 200 ms message timeout, and that
            # capture ends incomplete (counted): such a call is made again.
            for path in sorted(set(paths) - set(recorded())):
                reply = raw_request(envoy.port, "GET", path, host="slow.test")
                assert (reply.status, reply.body) == (200, JSON)
            time.sleep(0.5)
            return recorded() == paths

        wait_until(
            call_until_recorded,
            what="the ordinary exchanges recorded",
            explain=lambda: counters(ext),
        )
        assert refused_captures(envoy.admin_url) == 0
        if capture_mode == "observability":
            # Envoy saw each capture stream the collector ended early close, not fail.
            ext_proc = httpx.get(f"{envoy.admin_url}/stats?filter=ext_proc", timeout=5).text
            assert "streams_failed: 0" in ext_proc, ext_proc
            closed = re.search(r"server_half_closed: (\d+)", ext_proc)
            assert closed is not None and int(closed.group(1)) >= STREAMS, ext_proc
        # The slow answers were never touched: each client gets its whole answer.
        assert_answered_whole(upstream, polls, trickles)
    assert ext.metric("collector_dropped_total", reason="answer_late") == POLLS
    assert ext.metric("collector_dropped_total", reason="answer_body_late") == TRICKLES
    assert recorded() == paths  # the slow answers decided late were never recorded
    envoy.process.stop()
    assert ext.process.stop(timeout_s=20) == 0
