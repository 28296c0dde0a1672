"""A query string WireMock's Jetty answers 500 (a ``%`` not followed by two hex digits) is
marked by the capture, which still has it as sent, and gets no stub; the query it holds is
decoded, where ``50%`` and ``50%25`` read alike."""

from __future__ import annotations

import pytest

from ext_proc_server.core.metrics import STUB_SKIP_REASONS
from ext_proc_server.mapping.faithful import REFUSED_QUERY, query_refused, skip_reason
from tests.unit.capture.stream_helpers import req_headers, resp_headers, run

# As WireMock 3.13.2 answered each (tests/integration/test_refused_queries.py): 500.
REFUSED = ["q=50%", "q=%zz", "q=%2", "%u0041=1", "a=1&q=%", "q=%%41"]
# Read by WireMock (a match or a miss, never its 500); %00 is decoded in a query.
READ = ["q=50%25", "q=%41%42", "q=a%00b", "q=%C3%A9", "q=a+b", "q="]


def _exchange(query: str, extra=()):
    done = run(
        [req_headers(path=f"/search?{query}", eos=True, extra=extra), resp_headers(eos=True)]
    )
    assert done.exchange is not None
    return done.exchange


@pytest.mark.parametrize("query", REFUSED)
def test_a_query_jetty_refuses_is_marked_and_gets_no_stub(query):
    assert query_refused(query)
    exchange = _exchange(query)
    assert exchange.request.headers[0] == REFUSED_QUERY
    assert REFUSED_QUERY not in exchange.request.headers[1:]
    assert skip_reason(exchange) == "request_query_undecodable"
    assert skip_reason(exchange.replace(sanitized=True)) == "request_query_undecodable"
    assert "request_query_undecodable" in STUB_SKIP_REASONS


@pytest.mark.parametrize("query", READ)
def test_a_query_jetty_reads_is_not_marked(query):
    assert not query_refused(query)
    exchange = _exchange(query)
    assert REFUSED_QUERY not in exchange.request.headers
    assert skip_reason(exchange) == ""


def test_the_decoded_query_cannot_tell_a_bare_percent_from_an_escaped_one():
    """Why the mark is made from the query as sent: decoded, both are "50%"."""
    bare, escaped = _exchange("q=50%"), _exchange("q=50%25")
    assert bare.request.query == escaped.request.query == (("q", "50%"),)
    assert skip_reason(bare) == "request_query_undecodable"
    assert skip_reason(escaped) == ""


def test_a_refused_query_beside_a_header_not_utf8_is_told_by_its_query():
    exchange = _exchange("q=50%", extra=(("x-name", b"caf\xe9"),))
    assert exchange.request.headers[0] == REFUSED_QUERY
    assert skip_reason(exchange) == "request_query_undecodable"
