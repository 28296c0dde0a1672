"""JSON request numbers a double does not hold, recorded through a real Envoy 1.40 and
``mockado ext-proc`` and replayed by a real WireMock 3.13.2.

A payment service reading amounts as decimals (Java's BigDecimal, Python's Decimal)
refuses ``10.000000000000000001`` (more places than a currency has) and takes ``10``. Read
as a double, the recorded amount is ``10.0``, and WireMock compares JSON numbers by their
decimal value: a stub expecting ``10.0`` answered the valid ``10`` (and ``10.00``) with
the refusal, and missed the request it was recorded from. Such a body is matched as its
text; a number a double holds is matched by value, as before.
"""

from __future__ import annotations

import pytest

from tests.support.raw_capture import RawReply, import_into, raw_request
from tests.support.raw_upstream import RawAnswer, record_calls, served_answer

pytestmark = pytest.mark.integration

JSON = ("Content-Type", "application/json")
ANSWERS = {
    "/transfers/quote": RawAnswer(422, (JSON,), b'{"error":"amount: at most 2 decimal places"}'),
    "/rates": RawAnswer(200, (JSON,), b'{"fee":0.35}'),
    "/ledger/entries": RawAnswer(201, (JSON,), b'{"entry":"e-1"}'),
}
# (path, body) as the service's clients sent them.
RECORDED = [
    ("/transfers/quote", b'{"amount":10.000000000000000001,"to":"acct-9"}'),
    ("/rates", b'{"amount":10.5,"to":"acct-9"}'),
    # An id past a double, as an integer: exact, as before.
    ("/ledger/entries", b'{"account":12345678901234567891,"amount":7}'),
]


@pytest.fixture(scope="module")
def loaded(redis_server, envoy_factory, ext_proc_factory, wiremock) -> None:
    calls = [("POST", path, (JSON,), body) for path, body in RECORDED]
    import_into(wiremock, record_calls(envoy_factory, ext_proc_factory, redis_server.url,
                                       ANSWERS, calls))  # fmt: skip


def _answered(reply: RawReply, path: str) -> bool:
    """The recording of ``path``, or a clear miss; never another answer."""
    return served_answer(reply, [ANSWERS[path]]) is not None


@pytest.mark.parametrize(
    ("path", "body", "answered"),
    [
        ("/transfers/quote", b'{"amount":10.000000000000000001,"to":"acct-9"}', True),
        ("/transfers/quote", b'{"amount":10,"to":"acct-9"}', False),
        ("/transfers/quote", b'{"amount":10.00,"to":"acct-9"}', False),
        ("/transfers/quote", b'{"amount":10.000000000000000002,"to":"acct-9"}', False),
        ("/rates", b'{"amount":10.5,"to":"acct-9"}', True),
        ("/rates", b'{"to":"acct-9","amount":10.50}', True),  # by value, in any key order
        ("/rates", b'{"amount":10.6,"to":"acct-9"}', False),
        ("/ledger/entries", b'{"account":12345678901234567891,"amount":7}', True),
        ("/ledger/entries", b'{"account":12345678901234567890,"amount":7}', False),
    ],
)
def test_a_number_matches_only_its_own_decimal_value(
    loaded, wiremock, path: str, body: bytes, answered: bool
) -> None:
    reply = raw_request(wiremock.port, "POST", path, headers=(JSON,), body=body)
    assert _answered(reply, path) is answered
