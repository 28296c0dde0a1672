"""One HTTP/1.1 request sent on a raw socket, its answer read on a thread as it comes:
for answers that take long or never end (long polls, trickling bodies, event streams),
where a test looks at what the client got so far."""

from __future__ import annotations

import socket
import threading


class ReadOnThread:
    """``request`` sent to 127.0.0.1:``port``; every byte of the answer kept in ``data``,
    read on a thread until the connection ends (``failed``: why, if it failed)."""

    def __init__(self, port: int, request: bytes, *, timeout_s: float) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout_s)
        self.sock.sendall(request)
        self.data = bytearray()
        self.failed: Exception | None = None
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            while chunk := self.sock.recv(65536):
                self.data += chunk
        except OSError as exc:
            self.failed = exc

    def body_so_far(self) -> tuple[bytes, bool]:
        """(the body's complete chunks received so far, framing removed; whether its last
        chunk came). A body that is not chunked: all of it so far, ended with the
        connection."""
        head, _, rest = bytes(self.data).partition(b"\r\n\r\n")
        if b"chunked" not in head.lower():
            return rest, not self.thread.is_alive()
        body = bytearray()
        while rest:
            size_line, sep, rest = rest.partition(b"\r\n")
            if not sep or len(rest) < int(size_line, 16) + 2:
                break
            size = int(size_line, 16)
            if size == 0:
                return bytes(body), True
            body += rest[:size]
            rest = rest[size + 2 :]
        return bytes(body), False

    def close(self) -> None:
        self.sock.close()
        self.thread.join(10)
