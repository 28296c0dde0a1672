"""One HTTP/2 (prior knowledge) request with the ``h2`` library, trailers included: what
http.client and httpx cannot send."""

from __future__ import annotations

import socket
from typing import NamedTuple

import h2.config
import h2.connection
import h2.events


class H2Reply(NamedTuple):
    status: int
    headers: dict[str, str]
    body: bytes


def h2_request(
    port: int,
    method: str,
    path: str,
    *,
    authority: str,
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
    trailers: tuple[tuple[str, str], ...] = (),
) -> H2Reply:
    """``method path`` on a new connection to 127.0.0.1:``port``; the body in one DATA frame,
    then ``trailers`` (a HEADERS frame ending the stream) when given."""
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        conn.initiate_connection()
        pseudo = [
            (":method", method),
            (":path", path),
            (":authority", authority),
            (":scheme", "http"),
        ]
        conn.send_headers(1, [*pseudo, *headers], end_stream=not body and not trailers)
        if body:
            conn.send_data(1, body, end_stream=not trailers)
        if trailers:
            conn.send_headers(1, list(trailers), end_stream=True)
        sock.sendall(conn.data_to_send())
        status, got, received = 0, {}, b""
        ended = False
        while not ended:
            data = sock.recv(65536)
            assert data, f"connection closed (status {status})"
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    got = {k.decode(): v.decode() for k, v in event.headers}
                    status = int(got[":status"])
                elif isinstance(event, h2.events.DataReceived):
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                    received += event.data
                elif isinstance(event, h2.events.StreamEnded | h2.events.StreamReset):
                    ended = True
            sock.sendall(conn.data_to_send())
        conn.close_connection()
        sock.sendall(conn.data_to_send())
    return H2Reply(status, got, received)
