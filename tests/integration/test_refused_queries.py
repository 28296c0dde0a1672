"""A query string with a ``%`` not followed by two hex digits (``?q=50%``, ``?q=%zz``),
recorded through a real Envoy 1.40 and ``mockado ext-proc`` and replayed against a real
WireMock 3.13.2 (mockado's launcher and stock).

Envoy passes such a query on as sent, and the upstream answers it; WireMock's Jetty answers
500 to it before any stub is looked at, so no stub written for it could ever answer. And
the capture holds the query decoded, where ``50%`` and ``50%25`` read alike: a stub written
for ``?q=50%`` would answer ``?q=50%25``, another request, with the recorded answer. Such a
request gets no stub (``request_query_undecodable``, counted)."""

from __future__ import annotations

import json
import re
import socketserver
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from ext_proc_server.mapping.catch_all import catch_all_mapping
from tests.support.ext_proc_rig import collector_settings, wait_for_stubs
from tests.support.raw_capture import capture_behind_envoy, import_into, raw_request
from tests.support.serving import ThreadedServer, serving

pytestmark = pytest.mark.integration

# Bad escapes, each answered by the upstream; then a query escaped right (another value).
REFUSED = ["/search?q=50%", "/search?q=%zz", "/search?%u0041=1"]
ESCAPED = "/search?q=caneca%25"
# A strict upstream: a bad escape is a 400, a good query a result.
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
REFUSED_ANSWER = (400, b'{"error":"malformed query"}')
ESCAPED_ANSWER = (200, b'{"results":3}')


class _Strict(socketserver.StreamRequestHandler):
    """Answers each request by its target as sent; keeps the targets it saw."""

    seen: list[str]

    def handle(self) -> None:
        while line := self.rfile.readline():
            target = line.decode("latin-1").split(" ", 2)[1]
            while self.rfile.readline() not in (b"\r\n", b""):
                pass
            self.seen.append(target)
            status, body = REFUSED_ANSWER if _BAD_ESCAPE.search(target) else ESCAPED_ANSWER
            head = f"HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n"
            self.wfile.write(f"{head}content-length: {len(body)}\r\n\r\n".encode() + body)
            self.wfile.flush()


@contextmanager
def _strict_upstream() -> Iterator[tuple[int, list[str]]]:
    seen: list[str] = []
    handler = type("Handler", (_Strict,), {"seen": seen})
    with serving(ThreadedServer(("127.0.0.1", 0), handler)) as port:
        yield port, seen


@pytest.fixture(scope="module")
def recorded(redis_server, envoy_factory, ext_proc_factory) -> list[dict]:
    """The stubs written for REFUSED and ESCAPED, sent through Envoy, once the collector
    counted each skip."""
    with _strict_upstream() as (port, seen):
        collector = collector_settings(redis_server.url)
        ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, port)
        for target in [*REFUSED, ESCAPED]:
            got = raw_request(envoy.port, "GET", target)
            expected = ESCAPED_ANSWER if target == ESCAPED else REFUSED_ANSWER
            assert (got.status, got.body) == expected, target
        # Envoy passed each query on as sent: no normalizing, no refusal.
        assert seen[-len(REFUSED) - 1 :] == [*REFUSED, ESCAPED], seen
        return wait_for_stubs(
            ext,
            1,
            skipped={"request_query_undecodable": len(REFUSED)},
            what="one stub, the bad escapes skipped",
        )


@pytest.mark.parametrize("indexed", [True, False], ids=["launcher", "stock"])
def test_a_query_with_a_bad_escape_gets_no_stub_and_its_decoded_twin_misses(
    recorded, wiremock_factory, indexed
):
    assert [s["request"].get("urlPath") for s in recorded] == ["/search"]
    wiremock = wiremock_factory(indexed=indexed)
    import_into(wiremock, [*recorded, catch_all_mapping(shard="queries")])
    # The escaped query is answered as recorded.
    got = raw_request(wiremock.port, "GET", ESCAPED)
    assert (got.status, got.body) == ESCAPED_ANSWER
    # WireMock answers 500 to a bad escape whatever its stubs (the catch-all included).
    for target in REFUSED:
        refused = raw_request(wiremock.port, "GET", target)
        assert refused.status == 500 and "matched-stub-id" not in refused.headers, target
    # "50%25" decodes as "50%" did: a clear miss, never the answer recorded for "50%".
    missed = raw_request(wiremock.port, "GET", "/search?q=50%25")
    assert missed.status == 404, missed
    assert json.loads(missed.body)["error"] == "no recording matched"
