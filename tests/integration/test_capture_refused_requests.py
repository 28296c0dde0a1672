"""Request heads Envoy refuses, and answers Envoy gives itself, through a real Envoy 1.40
and ``mockado ext-proc``: what the client gets, what reaches the capture, what is counted.

A head Envoy's codec refuses (NUL or another control byte in a value, two different
``Content-Length``, more than 60 KiB or 100 headers) never reaches the upstream nor the
capture's request phase: only Envoy's own 4xx goes through the filter, and the capture
counts the stream (``reason="envoy_local_reply"``) without writing anything. Nor does a
4xx Envoy gives itself once the request reached the capture (a chunked body its codec
refuses halfway): a stub of it would answer for the upstream. A value with
obs-text (a byte past ASCII that is not UTF-8) is valid HTTP: proxied, and its exchange a
counted ``request_header_undecodable`` skip. An upstream that resets before answering
gets the client Envoy's 503, recorded like any answer: an error answer.
"""

from __future__ import annotations

import socket
import struct
import threading

import pytest

from tests.support.ext_proc_rig import collector_settings, counters, wait_until
from tests.support.metrics_text import scrape, total
from tests.support.raw_capture import capture_behind_envoy
from tests.support.raw_upstream import RawAnswer, raw_upstream

pytestmark = pytest.mark.integration

ANSWER = RawAnswer(200, (("Content-Type", "application/json"),), b'{"ok":true}')
HEAD = b"GET /ok HTTP/1.1\r\nHost: refused.test\r\n"
REFUSED = {
    "a NUL in a value": (HEAD + b"X-Note: a\x00b\r\n", 400),
    "a control byte in a value": (HEAD + b"X-Note: a\x01b\r\n", 400),
    "two Content-Length": (
        b"POST /ok HTTP/1.1\r\nHost: refused.test\r\nContent-Length: 2\r\nContent-Length: 3\r\n",
        400,
    ),
    "70 KiB of headers": (
        HEAD + b"".join(b"X-H%d: %s\r\n" % (n, b"v" * 1000) for n in range(70)),
        431,
    ),
    "150 headers": (HEAD + b"".join(b"X-H%d: v\r\n" % n for n in range(150)), 431),
}


def exchange(port: int, head: bytes, body: bytes = b"") -> bytes:
    """Send ``head`` (without its blank line) and ``body`` as given -> every byte back."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + b"Connection: close\r\n\r\n" + body)
        reply = b""
        while chunk := sock.recv(65536):
            reply += chunk
    return reply


def status_of(reply: bytes) -> int:
    return int(reply.split(b" ", 2)[1])


def test_heads_envoy_refuses_are_counted_and_never_captured(
    redis_server, envoy_factory, ext_proc_factory
) -> None:
    collector = collector_settings(redis_server.url)
    with raw_upstream({"/ok": ANSWER}) as port:
        ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, port)
        for what, (head, status) in REFUSED.items():
            assert status_of(exchange(envoy.port, head, b"{}")) == status, what
        wait_until(
            lambda: (
                ext.metric("collector_dropped_total", reason="envoy_local_reply") == len(REFUSED)
            ),
            what="each refused head counted",
            explain=lambda: counters(ext),
        )
        # obs-text is valid HTTP: proxied untouched, its exchange a counted skip.
        reply = exchange(envoy.port, HEAD + b"X-Customer: Jo\xe3o\r\n")
        assert status_of(reply) == 200 and reply.endswith(ANSWER.body)
        wait_until(
            lambda: (
                ext.metric("collector_stubs_skipped_total", reason="request_header_undecodable")
                == 1
            ),
            what="the obs-text skip",
            explain=lambda: counters(ext),
        )
    samples = scrape(f"http://127.0.0.1:{ext.http_port}/metrics")
    # Only the obs-text exchange was an exchange: the refused ones never started one.
    assert total(samples, "collector_requests_total") == 1
    assert total(samples, "collector_dropped_total") == len(REFUSED)
    assert ext.captured() == []
    envoy.process.stop()
    assert ext.process.stop(timeout_s=20) == 0


def test_a_body_envoy_refuses_halfway_is_envoy_own_answer_never_recorded(
    redis_server, envoy_factory, ext_proc_factory
) -> None:
    collector = collector_settings(redis_server.url)
    with raw_upstream({"/ok": ANSWER}) as port:
        ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, port)
        head = b"POST /ok HTTP/1.1\r\nHost: refused.test\r\nTransfer-Encoding: chunked\r\n"
        with socket.create_connection(("127.0.0.1", envoy.port), timeout=10) as sock:
            # Its head goes through (and reaches the capture) before the codec reads on.
            sock.sendall(head + b"\r\n5\r\nabcde\r\nnot-a-size\r\n")
            reply = sock.recv(65536)
        assert status_of(reply) == 400
        wait_until(
            lambda: ext.metric("collector_dropped_total", reason="envoy_local_reply") == 1,
            what="Envoy's own 400 counted",
            explain=lambda: counters(ext),
        )
    samples = scrape(f"http://127.0.0.1:{ext.http_port}/metrics")
    # The request reached the capture (an exchange seen), and nothing was written of it.
    assert total(samples, "collector_requests_total") == 1
    assert total(samples, "collector_stubs_skipped_total") == 0
    assert total(samples, "collector_dropped_total") == 1
    assert ext.captured() == []
    envoy.process.stop()
    assert ext.process.stop(timeout_s=20) == 0


def test_an_upstream_reset_before_answering_is_recorded_as_an_error_answer(
    redis_server, envoy_factory, ext_proc_factory
) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.1)
    port = listener.getsockname()[1]
    stop = threading.Event()

    def reset_each() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.recv(65536)
            # Linger 0: the close is a reset.
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()

    thread = threading.Thread(target=reset_each, daemon=True)
    thread.start()
    collector = collector_settings(redis_server.url)
    try:
        ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, port)
        reply = exchange(envoy.port, b"GET /flaky HTTP/1.1\r\nHost: flaky.test\r\n")
        assert status_of(reply) == 503 and b"upstream connect error" in reply
        wait_until(
            lambda: len(ext.captured()) == 1, what="the 503 recorded", explain=lambda: counters(ext)
        )
    finally:
        stop.set()
        thread.join(10)
        listener.close()
    (mapping,) = ext.captured()
    assert (mapping["request"]["urlPath"], mapping["response"]["status"]) == ("/flaky", 503)
    envoy.process.stop()
    assert ext.process.stop(timeout_s=20) == 0
