"""The repeat fast path tells apart the operations, accounts, languages and resumed event
streams their stubs tell apart, through a real Envoy 1.40 and ``mockado ext-proc`` (one
collector: its in-process repeats), replayed by a real WireMock 3.13.2.

Each pair of calls has answers of one status, type and JSON shape: an order read, then
cancelled by ``POST`` with ``X-HTTP-Method-Override``; one Stripe Connect account's balance,
then another's (``Stripe-Account``); a greeting in English, then in Portuguese
(``Accept-Language``, answered with ``Content-Language``); an event stream, then its
reconnection (``Last-Event-ID``). The second call of each pair is no repeat of the first
and records its own stub; sent again, it is a repeat of itself.
"""

from __future__ import annotations

import pytest

from tests.support.raw_capture import RawReply, import_into, raw_request
from tests.support.raw_upstream import RawAnswer, record_in_turn

pytestmark = pytest.mark.integration

JSON = ("Content-Type", "application/json")
EVENTS = ("Content-Type", "text/event-stream")
PAID = RawAnswer(200, (JSON,), b'{"id":7,"status":"paid"}')
CANCELLED = RawAnswer(200, (JSON,), b'{"id":7,"status":"cancelled"}')
BALANCE_A = RawAnswer(200, (JSON,), b'{"available":[{"amount":1200,"currency":"usd"}]}')
BALANCE_B = RawAnswer(200, (JSON,), b'{"available":[{"amount":75,"currency":"usd"}]}')
HELLO = RawAnswer(200, (JSON, ("Content-Language", "en")), b'{"greeting":"Hello"}')
OLA = RawAnswer(200, (JSON, ("Content-Language", "pt-BR")), '{"greeting":"Olá"}'.encode())
FIRST_EVENTS = RawAnswer(200, (EVENTS,), b"id: 1\ndata: created\n\nid: 2\ndata: paid\n\n")
RESUMED_EVENTS = RawAnswer(200, (EVENTS,), b"id: 3\ndata: shipped\n\n")
READ = (("X-HTTP-Method-Override", "GET"),)
CANCEL = (("X-HTTP-Method-Override", "PATCH"),)
ACCOUNT_A = (("Stripe-Account", "acct_1A"),)
ACCOUNT_B = (("Stripe-Account", "acct_1B"),)
ENGLISH = (("Accept-Language", "en"),)
PORTUGUESE = (("Accept-Language", "pt-BR"),)
RESUMED = (("Last-Event-ID", "2"),)
# (method, path, request headers, what the upstream answers it), in the order they are
# sent: each pair's second call twice.
PAIRS = {
    "operation": (("POST", "/orders/7", READ, PAID), ("POST", "/orders/7", CANCEL, CANCELLED)),
    "account": (("GET", "/v1/balance", ACCOUNT_A, BALANCE_A),
                ("GET", "/v1/balance", ACCOUNT_B, BALANCE_B)),
    "language": (("GET", "/greeting", ENGLISH, HELLO), ("GET", "/greeting", PORTUGUESE, OLA)),
    "event-stream": (("GET", "/events", (), FIRST_EVENTS),
                     ("GET", "/events", RESUMED, RESUMED_EVENTS)),
}  # fmt: skip
CALLS = [call for first, second in PAIRS.values() for call in (first, second, second)]


@pytest.fixture(scope="module")
def recorded(redis_server, envoy_factory, ext_proc_factory, wiremock) -> dict[str, float]:
    repeats, stubs = record_in_turn(envoy_factory, ext_proc_factory, redis_server.url, CALLS)
    import_into(wiremock, stubs)
    return {"repeats": repeats, "stubs": len(stubs)}


def test_each_call_choosing_another_stub_records_one_and_its_repeat_none(recorded) -> None:
    # Was 8 repeats and 4 stubs: each pair's second call repeated its first.
    assert recorded == {"repeats": len(PAIRS), "stubs": 2 * len(PAIRS)}


def _answer(reply: RawReply) -> tuple[int, bytes]:
    return reply.status, reply.body


@pytest.mark.parametrize(
    ("method", "path", "headers", "answer"),
    [call for pair in PAIRS.values() for call in pair],
    ids=[f"{name}-{n}" for name in PAIRS for n in ("first", "second")],
)
def test_each_call_is_answered_by_its_own_recording(
    recorded, wiremock, method: str, path: str, headers: tuple, answer: RawAnswer
) -> None:
    body = b"" if method == "POST" else None
    reply = raw_request(wiremock.port, method, path, headers=headers, body=body)
    assert _answer(reply) == (answer.status, answer.body)
