from __future__ import annotations

import asyncio
import socket
from pathlib import Path
from typing import Any

import grpc
import h2.config
import h2.connection
import h2.errors
import h2.events
import pytest

from ext_proc_server.capture import server_credentials, server_options
from ext_proc_server.capture.grpc_options import RotatingCertificates
from ext_proc_server.core.config import (
    COLLECTOR_STREAMS_PER_CONNECTION,
    CollectorConfig,
    TLSServer,
)
from ext_proc_server.core.errors import ConfigError
from tests.support.secret_volume import publish
from tests.support.tls_ca import make_ca


def _held_server(release: asyncio.Event) -> grpc.aio.Server:
    """A server with the capture server's options whose one method holds every stream
    until ``release``: a servicer that has not ended them (stopped, or behind)."""

    async def held(_requests: Any, _context: grpc.aio.ServicerContext) -> None:
        await release.wait()

    server = grpc.aio.server(options=server_options(CollectorConfig()))
    handler = grpc.stream_stream_rpc_method_handler(held)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("test.Held", {"Call": handler}),)
    )
    return server


def _answered_pings(sock: socket.socket, conn: h2.connection.H2Connection, pings: int) -> dict:
    """Read until the server has answered ``pings`` PINGs, each sent once the one before
    is answered: by then it has parsed whatever came before the first and written what
    it answered. Its stream resets meanwhile, by error code."""
    resets: dict[int, int] = {}
    conn.ping(b"answered")
    sock.sendall(conn.data_to_send())
    while pings:
        data = sock.recv(65536)
        assert data, "the server closed the connection"
        for event in conn.receive_data(data):
            if isinstance(event, h2.events.StreamReset):
                resets[event.error_code] = resets.get(event.error_code, 0) + 1
            elif isinstance(event, h2.events.PingAckReceived):
                pings -= 1
                if pings:
                    conn.ping(b"answered")
        sock.sendall(conn.data_to_send())
    return resets


def _refusals_of_a_backlog(port: int, rounds: int, *, settled: bool) -> dict[int, int]:
    """What a stalled collector reads on one HTTP/2 connection when it runs again: Envoy
    opened COLLECTOR_STREAMS_PER_CONNECTION streams, reset them once held too long, opened
    as many again, ``rounds`` times, the last round still open. On a connection
    ``settled`` before the stall (both sides' SETTINGS acknowledged), or one opened during
    it (the streams right behind the preface). The server's resets of the open streams, by
    error code."""
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    headers = [
        (":method", "POST"), (":scheme", "http"), (":path", "/test.Held/Call"),
        (":authority", "collector"), ("content-type", "application/grpc"), ("te", "trailers"),
    ]  # fmt: skip
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        if settled:
            assert _answered_pings(sock, conn, 2) == {}
        stream_id = 1
        for round_ in range(rounds):
            opened = range(stream_id, stream_id + 2 * COLLECTOR_STREAMS_PER_CONNECTION, 2)
            for n in opened:
                conn.send_headers(n, headers)
            if round_ < rounds - 1:
                for n in opened:
                    conn.reset_stream(n, h2.errors.ErrorCodes.INTERNAL_ERROR)
            stream_id = opened.stop
        return _answered_pings(sock, conn, 2)


@pytest.mark.parametrize("settled", [True, False], ids=["open-connection", "new-connection"])
def test_the_collector_refuses_no_stream_envoy_has_let_go_of(settled: bool) -> None:
    # Envoy keeps to COLLECTOR_STREAMS_PER_CONNECTION and frees a slot when it resets a
    # stream it held too long; the server frees it once the servicer has ended the stream.
    # After a stall, far more streams than Envoy's limit are open on the server's side of
    # one connection, and a refusal counts as a failed connection in Envoy (three in a
    # row eject the collector).

    async def go() -> dict[int, int]:
        release = asyncio.Event()
        server = _held_server(release)
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        try:
            return await asyncio.to_thread(_refusals_of_a_backlog, port, 4, settled=settled)
        finally:
            release.set()
            await server.stop(None)

    assert asyncio.run(go()) == {}


def test_rotated_certificate_files_are_read_again_only_when_they_agree(tmp_path: Path) -> None:
    old, new = make_ca(tmp_path / "old"), make_ca(tmp_path / "new")
    mount = tmp_path / "tls"
    publish(
        mount, {"tls.crt": old.server_cert.read_bytes(), "tls.key": old.server_key.read_bytes()}
    )
    certificates = RotatingCertificates(str(mount / "tls.crt"), str(mount / "tls.key"), None)
    assert certificates.fetch() is None  # as read at start
    # A rotation caught halfway (the new certificate beside the old key): not taken.
    publish(
        mount, {"tls.crt": new.server_cert.read_bytes(), "tls.key": old.server_key.read_bytes()}
    )
    assert certificates.fetch() is None
    publish(
        mount, {"tls.crt": new.server_cert.read_bytes(), "tls.key": new.server_key.read_bytes()}
    )
    assert isinstance(certificates.fetch(), grpc.ServerCertificateConfiguration)
    assert certificates.fetch() is None  # taken once


def test_tls_credentials_follow_the_files(tmp_path: Path) -> None:
    ca = make_ca(tmp_path / "ca")
    tls = TLSServer(enabled=True, cert_file=str(ca.server_cert), key_file=str(ca.server_key))
    assert isinstance(server_credentials(CollectorConfig(tls=tls)), grpc.ServerCredentials)
    missing = TLSServer(enabled=True, cert_file=str(tmp_path / "none"), key_file="k")
    with pytest.raises(ConfigError, match=r"collector\.tls"):
        server_credentials(CollectorConfig(tls=missing))
