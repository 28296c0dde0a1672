"""HTTP/2 requests that end in trailers, through a real Envoy 1.40 and ``mockado ext-proc``,
replayed by a real WireMock 3.13.2.

A request's last frame may be trailers (a checksum sent after the body), so its body
never says it ended. The rendered filter sends trailers to the capture: that is how it
sees such a request end. The exchange is then recorded whole, not counted as a request
cut short, and its stub answers the same request (trailers and all) as the upstream did.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.support.ext_proc_rig import (
    collector_settings,
    counters,
    envoy_for,
    make_config,
    wait_for_stubs,
)
from tests.support.h2_requests import h2_request
from tests.support.h2_upstream import BODY as UPSTREAM_BODY
from tests.support.h2_upstream import h2_trailers_upstream
from tests.support.raw_capture import import_into
from tests.support.serving import serving

pytestmark = pytest.mark.integration

BODY = b'{"order":"A-17","items":[1,2,3]}'
TRAILERS = (("x-checksum", "sha256=4f1c"),)


class _Orders(BaseHTTPRequestHandler):
    """Answers a POST with the number of body bytes it read (chunked or not)."""

    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        if self.headers.get("content-length"):
            body = self.rfile.read(int(self.headers["content-length"]))
        else:
            body = b""
            while size := int(self.rfile.readline().split(b";")[0], 16):
                body += self.rfile.read(size + 2)[:-2]
            while self.rfile.readline() not in (b"\r\n", b""):
                pass  # the trailers, if Envoy forwarded them
        answer = b'{"accepted":%d}' % len(body)
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def orders_upstream() -> Iterator[int]:
    with serving(ThreadingHTTPServer(("127.0.0.1", 0), _Orders)) as port:
        yield port


def chunked_with_trailers(port: int, path: str, body: bytes) -> bytes:
    """The same request over HTTP/1.1 (as the mock router sends it): chunked, then the
    trailers -> every byte of the answer."""
    trailer = "".join(f"{k}: {v}\r\n" for k, v in TRAILERS).encode()
    request = (
        f"POST {path} HTTP/1.1\r\nHost: orders.test\r\nContent-Type: application/json\r\n"
        f"Transfer-Encoding: chunked\r\nTrailer: x-checksum\r\nConnection: close\r\n\r\n"
    ).encode() + b"%x\r\n%s\r\n0\r\n%s\r\n" % (len(body), body, trailer)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(request)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


@pytest.mark.parametrize("capture_mode", ["observability", "blocking"])
@pytest.mark.parametrize("with_length", [False, True], ids=["streamed", "content-length"])
def test_an_http2_request_ending_in_trailers_is_recorded_whole_and_replays(
    with_length, capture_mode, redis_server, envoy_factory, ext_proc_factory, wiremock
) -> None:
    collector = collector_settings(redis_server.url)
    ext = ext_proc_factory(collector)
    headers = (("content-type", "application/json"),)
    if with_length:
        headers += (("content-length", str(len(BODY))),)
    with orders_upstream() as port:
        envoy = envoy_for(
            envoy_factory, make_config(collector), upstream_port=port,
            ext_proc_port=ext.grpc_port, upstream_http2=False, capture_mode=capture_mode,
        )  # fmt: skip
        reply = h2_request(
            envoy.port, "POST", "/v1/orders", authority="orders.test",
            headers=headers, body=BODY, trailers=TRAILERS,
        )  # fmt: skip
        assert (reply.status, reply.body) == (201, b'{"accepted":%d}' % len(BODY))
        (stub,) = wait_for_stubs(ext, 1, skipped={}, what="the request's stub")
    assert ext.metric("collector_stubs_skipped_total", reason="request_truncated") == 0
    assert ext.metric("collector_dropped_total", reason="malformed") == 0, counters(ext)
    assert stub["request"]["urlPath"] == "/v1/orders"
    import_into(wiremock, [stub])
    replayed = chunked_with_trailers(wiremock.port, "/v1/orders", BODY)
    assert replayed.startswith(b"HTTP/1.1 201"), replayed[:200]
    assert replayed.endswith(b'{"accepted":%d}' % len(BODY))
    # Another body is another request: a clear miss, not this answer.
    assert chunked_with_trailers(wiremock.port, "/v1/orders", b'{"order":"B-2"}').startswith(
        b"HTTP/1.1 404"
    )
    envoy.process.stop()
    assert ext.process.stop(timeout_s=20) == 0


def test_an_http2_response_ending_in_trailers_is_decided_there_and_gets_no_stub(
    redis_server, envoy_factory, ext_proc_factory
) -> None:
    """No stub can send trailers; the capture sees them arrive, so the exchange is decided
    as it ends (a counted ``response_trailers`` skip), not held until Envoy closes it."""
    collector = collector_settings(redis_server.url)
    ext = ext_proc_factory(collector)
    with h2_trailers_upstream() as port:
        envoy = envoy_for(
            envoy_factory, make_config(collector), upstream_port=port,
            ext_proc_port=ext.grpc_port, upstream_http2=True,
        )  # fmt: skip
        reply = h2_request(envoy.port, "GET", "/v1/report", authority="reports.test")
        assert (reply.status, reply.body) == (200, UPSTREAM_BODY)
        wait_for_stubs(ext, 0, skipped={"response_trailers": 1}, what="the trailers skip")
    assert ext.metric("collector_dropped_total", reason="incomplete") == 0, counters(ext)
    envoy.process.stop()
    assert ext.process.stop(timeout_s=20) == 0
