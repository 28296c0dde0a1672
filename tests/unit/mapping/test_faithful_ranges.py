"""A 206's part with sanitized values gets no stub: its Content-Range would be off."""

from __future__ import annotations

from ext_proc_server.core.exchange import HttpResponse
from ext_proc_server.mapping import skip_reason
from tests.unit.mapping.mapping_helpers import make_exchange

PART = HttpResponse(
    status=206,
    headers=(("content-type", "text/csv"), ("content-range", "bytes 0-14/900")),
    body=b"SANITIZED_EMAIL",
)


def test_a_part_with_sanitized_values_gets_no_stub() -> None:
    for where in ("response.body", "response.body.json:/email"):
        exchange = make_exchange(response=PART, redactions=frozenset({where}))
        assert skip_reason(exchange) == "response_range_sanitized"


def test_a_part_served_as_it_came_or_a_sanitized_whole_keeps_its_stub() -> None:
    assert skip_reason(make_exchange(response=PART)) == ""
    headers = frozenset({"response.header.set-cookie", "request.body"})
    assert skip_reason(make_exchange(response=PART, redactions=headers)) == ""
    whole = PART.replace(status=200, headers=(("content-type", "text/csv"),))
    assert skip_reason(make_exchange(response=whole, redactions=frozenset({"response.body"}))) == ""
