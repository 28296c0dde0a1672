"""An HTTP/1.1 upstream that answers each path with head bytes given as they go on the wire
(repeated headers, UTF-8 header values, digests, answers to HEAD), for replay tests that
compare what a client got from it with what it gets from a mock."""

from __future__ import annotations

import socketserver
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tests.support.serving import serving

if TYPE_CHECKING:
    from tests.support.raw_capture import RawReply


@dataclass(frozen=True)
class RawAnswer:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes = b""

    def wire(self, method: str) -> bytes:
        """The answer's bytes: header values written as UTF-8 (a lone surrogate escape,
        ``"\\udce9"``, as the one byte it stands for: text in another charset),
        Content-Length from the body (a HEAD answer has the length and no body)."""
        lines = [f"HTTP/1.1 {self.status} X", *(f"{k}: {v}" for k, v in self.headers)]
        if self.status not in (204, 304):
            lines.append(f"Content-Length: {len(self.body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("utf-8", "surrogateescape")
        return head if method == "HEAD" else head + self.body


def _handler(answers: Mapping[str, RawAnswer]) -> type[socketserver.StreamRequestHandler]:
    class Handler(socketserver.StreamRequestHandler):
        def handle(self) -> None:
            while line := self.rfile.readline():
                method, target, _ = line.decode("latin-1").split(" ", 2)
                length = 0
                while (header := self.rfile.readline()) not in (b"\r\n", b""):
                    name, _, value = header.decode("latin-1").partition(":")
                    if name.strip().lower() == "content-length":
                        length = int(value)
                self.rfile.read(length)
                self.wfile.write(answers[target.split("?", 1)[0]].wire(method))
                self.wfile.flush()

    return Handler


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


@contextmanager
def raw_upstream(answers: Mapping[str, RawAnswer]) -> Iterator[int]:
    """Serve ``answers`` (path -> answer) on a free port of 127.0.0.1 -> the port."""
    with serving(_Server(("127.0.0.1", 0), _handler(answers))) as port:
        yield port


def served_answer(reply: RawReply, recorded: Iterable[RawAnswer]) -> RawAnswer | None:
    """The recording a mock served (status and body), or None for a clear miss; never
    another answer."""
    for answer in recorded:
        if (reply.status, reply.body) == (answer.status, answer.body):
            return answer
    assert reply.status == 404 and "matched-stub-id" not in reply.headers, reply
    return None
