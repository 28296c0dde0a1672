"""An HTTP/1.1 upstream that answers each path with head bytes given as they go on the wire
(repeated headers, UTF-8 header values, digests, answers to HEAD), for replay tests that
compare what a client got from it with what it gets from a mock."""

from __future__ import annotations

import socketserver
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass

from tests.support.ext_proc_rig import collector_settings, counters, wait_for_stubs, wait_until
from tests.support.raw_capture import RawReply, capture_behind_envoy, raw_request
from tests.support.serving import ThreadedServer, serving

# A call as a service's client sent it: method, target, headers, body (None: no body).
RawCall = tuple[str, str, tuple[tuple[str, str], ...], bytes | None]


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


@contextmanager
def raw_upstream(answers: Mapping[str, RawAnswer]) -> Iterator[int]:
    """Serve ``answers`` (path -> answer) on a free port of 127.0.0.1 -> the port."""
    with serving(ThreadedServer(("127.0.0.1", 0), _handler(answers))) as port:
        yield port


def record_calls(
    envoy_factory, ext_proc_factory, redis_url: str, answers: Mapping[str, RawAnswer],
    calls: list[RawCall],
) -> list[dict]:  # fmt: skip
    """Each call sent through Envoy and ``mockado ext-proc`` (to ``redis_url``) to an upstream
    answering ``answers``, and answered as recorded -> the stubs, one per call."""
    collector = collector_settings(redis_url)
    with raw_upstream(answers) as port:
        ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, port)
        for method, target, headers, body in calls:
            got = raw_request(envoy.port, method, target, headers=headers, body=body)
            recorded = answers[target.split("?", 1)[0]]
            assert (got.status, got.body) == (recorded.status, recorded.body), target
        return wait_for_stubs(ext, len(calls), skipped={}, what="a stub per call")


# A call and what the upstream answers it: method, path, request headers, answer.
AnsweredCall = tuple[str, str, tuple[tuple[str, str], ...], RawAnswer]


def record_in_turn(
    envoy_factory, ext_proc_factory, redis_url: str, calls: list[AnsweredCall]
) -> tuple[float, list[dict]]:
    """Each call sent through Envoy and one ``mockado ext-proc`` (to ``redis_url``), its
    path answered as the call says, and decided (written, or a repeat) before the next one
    -> (the collector's repeats, the stubs written). A POST sends an empty body."""
    answers: dict[str, RawAnswer] = {}
    with raw_upstream(answers) as port:
        collector = collector_settings(redis_url)
        ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, port)
        for at, (method, path, headers, answer) in enumerate(calls, start=1):
            answers[path] = answer  # read by the upstream as each call comes
            body = b"" if method == "POST" else None
            got = raw_request(envoy.port, method, path, headers=headers, body=body)
            assert (got.status, got.body) == (answer.status, answer.body), path

            def decided(count: int = at) -> bool:
                repeats = ext.metric("collector_repeats_total", level="local")
                return len(ext.captured()) + repeats == count

            wait_until(decided, what=f"call {at} decided", explain=lambda: counters(ext))
        return ext.metric("collector_repeats_total", level="local"), ext.captured()


def served_answer(reply: RawReply, recorded: Iterable[RawAnswer]) -> RawAnswer | None:
    """The recording a mock served (status and body), or None for a clear miss; never
    another answer."""
    for answer in recorded:
        if (reply.status, reply.body) == (answer.status, answer.body):
            return answer
    assert reply.status == 404 and "matched-stub-id" not in reply.headers, reply
    return None
