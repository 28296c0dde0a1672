"""A real HTTP upstream in a thread whose answer the test changes, and which counts the
calls it served (to tell a proxied call from one a mock answered)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.support.http_answers import answer


class SwitchUpstream:
    """``answer``: (status, JSON document) served for every GET; ``calls``: paths served."""

    def __init__(self, status: int, document: object) -> None:
        self.answer = (status, document)
        self.calls: list[str] = []
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                upstream.calls.append(self.path)
                status, document = upstream.answer
                body = json.dumps(document).encode()
                answer(self, status, body)

            def log_message(self, *_args: object) -> None:
                return None

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@contextmanager
def switch_upstream(status: int, document: object) -> Iterator[SwitchUpstream]:
    upstream = SwitchUpstream(status, document)
    thread = threading.Thread(target=upstream._server.serve_forever, daemon=True)
    thread.start()
    try:
        yield upstream
    finally:
        upstream._server.shutdown()
        upstream._server.server_close()
