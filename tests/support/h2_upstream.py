"""An HTTP/2 (prior knowledge) upstream whose every answer ends in trailers: what a
non-gRPC HTTP/2 server sends after a body (a checksum, a server timing)."""

from __future__ import annotations

import socket
import socketserver
from collections.abc import Iterator
from contextlib import contextmanager

import h2.config
import h2.connection
import h2.events

from tests.support.serving import ThreadedServer, serving

BODY = b'{"report":"ready"}'
TRAILERS = (("x-checksum", "sha256=9a0e"),)


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        sock: socket.socket = self.request
        conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=False))
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        while data := sock.recv(65536):
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.DataReceived):
                    conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
                elif isinstance(event, h2.events.StreamEnded):
                    sid = event.stream_id
                    conn.send_headers(
                        sid, [(":status", "200"), ("content-type", "application/json")]
                    )
                    conn.send_data(sid, BODY)
                    conn.send_headers(sid, list(TRAILERS), end_stream=True)
            sock.sendall(conn.data_to_send())


@contextmanager
def h2_trailers_upstream() -> Iterator[int]:
    """-> its port; every request is answered BODY, then TRAILERS."""
    with serving(ThreadedServer(("127.0.0.1", 0), _Handler)) as port:
        yield port
