"""An event stream resumed from the last event a client read, recorded through a real
Envoy 1.40 and ``mockado ext-proc`` and replayed by a real WireMock 3.13.2.

An EventSource client that lost its connection reconnects with ``Last-Event-ID``, and the
server sends the events after it. The stub of the first connection matched any request to
the path: it served the whole stream again to the reconnection, and the client read every
event twice (a notification shown twice, a payment counted twice). A reconnection now gets
the events recorded after its own id, or a clear miss.
"""

from __future__ import annotations

import pytest

from tests.support.raw_capture import import_into, raw_request
from tests.support.raw_upstream import RawAnswer, record_calls, served_answer

pytestmark = pytest.mark.integration

SSE = (("Content-Type", "text/event-stream"), ("Cache-Control", "no-cache"))
FIRST = RawAnswer(200, SSE, b"retry: 1000\n\nid: 1\ndata: paid 10\n\nid: 2\ndata: paid 20\n\n")
AFTER_2 = RawAnswer(200, SSE, b"id: 3\ndata: paid 30\n\n")
LISTEN = (("Accept", "text/event-stream"),)
RESUME_2 = (*LISTEN, ("Last-Event-ID", "2"))
# One upstream per connection: each answers the path one way.
RECORDINGS = ((LISTEN, FIRST), (RESUME_2, AFTER_2))


@pytest.fixture(scope="module")
def loaded(redis_server, envoy_factory, ext_proc_factory, wiremock) -> None:
    stubs: list[dict] = []
    for headers, answer in RECORDINGS:
        call = ("GET", "/payments/events", headers, None)
        stubs += record_calls(envoy_factory, ext_proc_factory, redis_server.url,
                              {"/payments/events": answer}, [call])  # fmt: skip
    import_into(wiremock, stubs)


@pytest.mark.parametrize(
    ("headers", "answer"),
    [(LISTEN, FIRST), (RESUME_2, AFTER_2), ((*LISTEN, ("Last-Event-ID", "3")), None)],
    ids=["first-connection", "resumed", "resumed-later"],
)
def test_a_reconnection_never_reads_the_events_again(loaded, wiremock, headers, answer) -> None:
    reply = raw_request(wiremock.port, "GET", "/payments/events", headers=headers)
    assert served_answer(reply, (FIRST, AFTER_2)) == answer
