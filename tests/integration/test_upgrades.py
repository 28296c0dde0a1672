"""WebSockets through every Envoy mockado configures, with the capture filter in place.

A real WebSocket echo server (the ``websockets`` library) behind a real Envoy 1.40 running
the rendered bootstraps: the local proxy of `mockado up` in both capture modes, with the
collector up, slow and dead, and the sidecar-style example (an HCM configured like an
Istio sidecar's). The handshake, frames both ways, a long-lived connection and the close
all pass, and the capture filter never sees the upgrade: a stub cannot switch protocols,
so the collector never gets the exchange.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import h2.config
import h2.connection
import h2.events
import httpx
import pytest
from websockets.sync.client import connect
from websockets.sync.server import Server, ServerConnection, serve

from control_plane.render import render_sidecar_envoy
from ext_proc_server.capture import protos
from tests.support import slow_collector
from tests.support.ext_proc_rig import (
    collector_settings,
    counters,
    envoy_for,
    make_config,
    wait_until,
)
from tests.support.ext_proc_streams import send_streams
from tests.support.processes import promised_port

pytestmark = pytest.mark.integration

PUSH = "push"
SERVER_PUSH = "pushed by the server"
PLAIN_PATH = "/plain"
# Envoy holds a finished capture stream this long here (the default is 5 s), so that the
# pause below outlasts it and blocking mode's message_timeout (0.2 s): a capture stream
# tied to the connection would have ended or timed out by then.
HOLD = {"collector": {"deferred_close_timeout_s": 1.0}}
LONG_LIVED_PAUSE_S = 1.5


def _echo(ws: ServerConnection) -> None:
    for message in ws:
        ws.send(SERVER_PUSH if message == PUSH else message)


def _plain_answer(connection: ServerConnection, request):
    """A plain GET (no upgrade) gets an ordinary 200: the same Envoy still captures it."""
    if request.path == PLAIN_PATH:
        return connection.respond(200, "plain\n")
    return None


@pytest.fixture(scope="module")
def ws_upstream() -> Iterator[int]:
    # Port 0: the kernel's pick is bound at once, so no other program can take it first.
    server: Server = serve(_echo, "127.0.0.1", 0, process_request=_plain_answer)
    port = server.socket.getsockname()[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield port
    server.shutdown()
    thread.join(timeout=5)


def _stat(admin_url: str, name: str) -> int:
    text = httpx.get(f"{admin_url}/stats", params={"filter": re.escape(name)}, timeout=5).text
    found = re.search(rf"^\S*{re.escape(name)}: (\d+)$", text, re.MULTILINE)
    return int(found.group(1)) if found else 0


@dataclass
class Session:
    echoed: str
    binary: bytes
    pushed: str
    long_lived: str
    large_ok: bool
    close_code: int | None


def _websocket_session(url: str) -> Session:
    """Text and binary frames both ways, a frame the server sends on its own, a large one,
    one after a pause, then a clean close."""
    large = "x" * 200_000
    with connect(url, open_timeout=10, close_timeout=10) as ws:
        ws.send("hello")
        echoed = ws.recv(timeout=10)
        ws.send(b"\x00\xffbin")
        binary = ws.recv(timeout=10)
        ws.send(PUSH)
        pushed = ws.recv(timeout=10)
        ws.send(large)
        large_ok = ws.recv(timeout=10) == large
        time.sleep(LONG_LIVED_PAUSE_S)
        ws.send("still there")
        long_lived = ws.recv(timeout=10)
        ws.close(code=1000, reason="done")
        close_code = ws.close_code
    return Session(echoed, binary, pushed, long_lived, large_ok, close_code)


def _assert_session_passed(session: Session) -> None:
    assert session.echoed == "hello"
    assert session.binary == b"\x00\xffbin"
    assert session.pushed == SERVER_PUSH
    assert session.large_ok
    assert session.long_lived == "still there"
    assert session.close_code == 1000


@pytest.fixture
def collector_port(
    request, redis_server, ext_proc_factory, tmp_path, logs_dir, clean_env, process_registry
) -> Iterator[int]:
    """The gRPC port of a collector that is up, slow (each message read 0.2 s late) or dead
    (``request.param``)."""
    settings = collector_settings(redis_server.url)
    if request.param == "dead":
        yield promised_port()  # nothing listens there
        return
    if request.param == "slow":
        ext = slow_collector.start(
            settings,
            work=tmp_path,
            log_path=logs_dir / f"ext-proc-slow-{settings['grpc_port']}.log",
            env=clean_env,
            started=process_registry.add,
        )
    else:
        ext = ext_proc_factory(settings)
    yield ext.grpc_port
    ext.process.stop()


@pytest.mark.parametrize("collector_port", ["up", "slow", "dead"], indirect=True)
@pytest.mark.parametrize("capture_mode", ["observability", "blocking"])
def test_websocket_passes_the_local_proxy_untouched_by_capture(
    capture_mode: str,
    collector_port: int,
    redis_server,
    ws_upstream: int,
    envoy_factory: Callable,
) -> None:
    config = make_config(collector_settings(redis_server.url), control_plane=HOLD)
    envoy = envoy_for(
        envoy_factory,
        config,
        upstream_port=ws_upstream,
        ext_proc_port=collector_port,
        upstream_http2=False,
        capture_mode=capture_mode,
    )
    session = _websocket_session(f"ws://127.0.0.1:{envoy.port}/chat")
    _assert_session_passed(session)
    assert _stat(envoy.admin_url, "mockado_ingress.downstream_cx_upgrades_total") == 1
    # The capture filter skipped the upgrade: no stream, so nothing waited on the collector.
    assert _stat(envoy.admin_url, "ext_proc.mockado.streams_started") == 0
    assert _stat(envoy.admin_url, "ext_proc.mockado.message_timeouts") == 0
    # The filter is live: the next plain request opens a capture stream.
    assert httpx.get(f"{envoy.url}{PLAIN_PATH}", timeout=10).status_code == 200
    wait_until(
        lambda: _stat(envoy.admin_url, "ext_proc.mockado.streams_started") == 1,
        what="a capture stream for the plain request",
    )
    envoy.process.stop()


@dataclass
class _SidecarCollector:
    grpc_port: int
    metrics_url: str

    def requests_total(self) -> int:
        text = httpx.get(self.metrics_url, timeout=5).text
        return int(
            sum(
                float(v)
                for v in re.findall(
                    r"^collector_requests_total\{[^}]*\} (\S+)$", text, re.MULTILINE
                )
            )
        )


def test_websocket_passes_the_sidecar_example_and_never_reaches_the_collector(
    redis_server, ws_upstream: int, envoy_factory: Callable, ext_proc_factory
) -> None:
    settings = collector_settings(redis_server.url)
    ext = ext_proc_factory(settings)
    collector = _SidecarCollector(ext.grpc_port, f"http://127.0.0.1:{ext.http_port}/metrics")
    config = make_config(settings, control_plane=HOLD)

    def render(listen_port: int, admin_port: int) -> str:
        return render_sidecar_envoy(
            config, listen_host="127.0.0.1", listen_port=listen_port, admin_port=admin_port,
            app_port=ws_upstream, collector_host="127.0.0.1", collector_port=ext.grpc_port,
        )  # fmt: skip

    envoy = envoy_factory(render)
    _assert_session_passed(_websocket_session(f"ws://127.0.0.1:{envoy.port}/chat"))
    # No exchange for the upgrade: neither a capture nor a drop, so never a stub.
    assert collector.requests_total() == 0
    assert httpx.get(f"{envoy.url}{PLAIN_PATH}", timeout=10).status_code == 200
    wait_until(lambda: collector.requests_total() == 1, what="the plain request captured")
    envoy.process.stop()
    ext.process.stop()


def _client_frame(payload: bytes) -> bytes:
    """One masked text frame (RFC 6455 5.2), as a client sends it; payload under 126 bytes."""
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x81, 0x80 | len(payload)]) + mask + masked


def _h2_websocket_echo(port: int, payload: bytes) -> tuple[str, bytes]:
    """A WebSocket over HTTP/2 (RFC 8441 extended CONNECT): the response status and the
    first frame the server sent back."""
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        status, received = "", b""
        stream_id = None
        while not received:
            data = sock.recv(65536)
            assert data, f"connection closed (status {status!r})"
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.RemoteSettingsChanged) and stream_id is None:
                    stream_id = conn.get_next_available_stream_id()
                    conn.send_headers(stream_id, [
                        (":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "http"),
                        (":path", "/chat"), (":authority", f"127.0.0.1:{port}"),
                        ("sec-websocket-version", "13"),
                        # Envoy adds no key when it makes this an HTTP/1.1 Upgrade, and an
                        # RFC 6455 server requires one (without it: 400).
                        ("sec-websocket-key", base64.b64encode(os.urandom(16)).decode()),
                    ])  # fmt: skip
                elif isinstance(event, h2.events.ResponseReceived):
                    status = dict(event.headers).get(b":status", b"").decode()
                    if status == "200":
                        conn.send_data(stream_id, _client_frame(payload))
                    else:
                        return status, b""
                elif isinstance(event, h2.events.DataReceived):
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    received += event.data
                elif isinstance(event, h2.events.StreamReset):
                    return status or "reset", b""
            sock.sendall(conn.data_to_send())
        conn.close_connection()
        sock.sendall(conn.data_to_send())
    return status, received


def test_http2_websocket_reaches_an_http1_upstream_uncaptured(
    redis_server, ws_upstream: int, envoy_factory: Callable, ext_proc_factory
) -> None:
    settings = collector_settings(redis_server.url)
    ext = ext_proc_factory(settings)
    config = make_config(settings, control_plane=HOLD)
    envoy = envoy_for(
        envoy_factory, config, upstream_port=ws_upstream, ext_proc_port=ext.grpc_port,
        upstream_http2=False, capture_mode="blocking",
    )  # fmt: skip
    status, frame = _h2_websocket_echo(envoy.port, b"over h2")
    assert status == "200"
    # The server's unmasked text frame echoing the payload.
    assert frame == bytes([0x81, len(b"over h2")]) + b"over h2"
    assert _stat(envoy.admin_url, "ext_proc.mockado.streams_started") == 0
    envoy.process.stop()
    ext.process.stop()


def _headers(
    pairs: list[tuple[str, str]], *, response: bool, end: bool
) -> protos.ProcessingRequest:
    headers = protos.HttpHeaders(
        headers=protos.HeaderMap(
            headers=[protos.HeaderValue(key=k, raw_value=v.encode()) for k, v in pairs]
        ),
        end_of_stream=end,
    )
    if response:
        return protos.ProcessingRequest(response_headers=headers, observability_mode=True)
    return protos.ProcessingRequest(request_headers=headers, observability_mode=True)


def _body(data: bytes, *, response: bool, end: bool) -> protos.ProcessingRequest:
    body = protos.HttpBody(body=data, end_of_stream=end)
    if response:
        return protos.ProcessingRequest(response_body=body, observability_mode=True)
    return protos.ProcessingRequest(request_body=body, observability_mode=True)


def _request_headers(path: str, *, upgrade: bool) -> protos.ProcessingRequest:
    request = [(":method", "GET"), (":path", path), (":authority", "chat.example"),
               (":scheme", "http"), ("x-request-id", os.urandom(8).hex())]  # fmt: skip
    if upgrade:
        request += [("connection", "upgrade"), ("upgrade", "websocket")]
    return _headers(request, response=False, end=False)


def _response_headers(status: str) -> protos.ProcessingRequest:
    return _headers([(":status", status), ("content-type", "text/plain")], response=True, end=False)


def test_a_101_that_reaches_the_collector_is_never_recorded(redis_server, ext_proc_factory) -> None:
    ext = ext_proc_factory(collector_settings(redis_server.url))
    # Each stream as far as an Envoy that does not skip upgrades sends it before the
    # collector decides and hangs up (the bodies of a 101 would be WebSocket frames).
    streams = [
        [_request_headers("/chat", upgrade=True)],
        # A 101 to a request without an upgrade header: still no protocol a stub can speak.
        [
            _request_headers("/chat", upgrade=False),
            _body(_client_frame(b"hello"), response=False, end=True),
            _response_headers("101"),
        ],
        [
            _request_headers("/control", upgrade=False),
            _body(b"", response=False, end=True),
            _response_headers("200"),
            _body(b"control", response=True, end=True),
        ],
    ]
    asyncio.run(send_streams(ext.grpc_port, streams))
    wait_until(
        lambda: len(ext.captured()) == 1,
        what="the control exchange recorded",
        explain=lambda: counters(ext),
    )
    wait_until(
        lambda: ext.metric("collector_dropped_total", reason="upgrade") == 2,
        what="both 101 exchanges dropped as upgrades",
    )
    (mapping,) = ext.captured()
    assert mapping["response"]["status"] == 200
    ext.process.stop()
