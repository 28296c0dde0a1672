"""A stdlib socket server run on a thread for the length of a ``with`` block."""

from __future__ import annotations

import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ThreadedServer(socketserver.ThreadingTCPServer):
    """A thread per connection; the port reusable at once between tests."""

    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def serving(server: socketserver.BaseServer) -> Iterator[int]:
    """Serve with ``server`` (bound to 127.0.0.1) until the block ends -> its port."""
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
