"""The repeat fast path tells apart the requests their stubs tell apart, through a real
Envoy 1.40 and ``mockado ext-proc``, replayed by a real WireMock 3.13.2.

A call with a token recorded first, then the same call without one (the same public
answer): the anonymous call is no repeat of it and records its own stub, so an anonymous
client is answered, not missed. A list without ``Prefer`` recorded first, then with
``Prefer: count=exact`` (the same rows, a total in ``Content-Range``): the second records
its own stub, so a client that asked for the count gets it, not the first's ``*``.
"""

from __future__ import annotations

import pytest

from tests.support.raw_capture import RawReply, import_into, raw_request
from tests.support.raw_upstream import RawAnswer, record_in_turn

pytestmark = pytest.mark.integration

JSON = ("Content-Type", "application/json")
TOKEN = (("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwcm9kIn0.c2ln"),)
CANARY_TOKEN = (("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2ln"),)
CATALOG = RawAnswer(200, (JSON,), b'{"items":["caneca","prato"]}')
ROWS = b'[{"id":1,"task":"buy milk"},{"id":2,"task":"call ana"}]'
NO_COUNT = RawAnswer(200, (JSON, ("Content-Range", "0-1/*")), ROWS)
COUNTED = RawAnswer(200, (JSON, ("Content-Range", "0-1/2")), ROWS)
COUNT = (("Prefer", "count=exact"),)
# (path, request headers, what the upstream answers it), in the order they are sent.
CALLS = [
    ("/catalog", TOKEN, CATALOG),
    ("/catalog", (), CATALOG),
    ("/todos", (), NO_COUNT),
    ("/todos", COUNT, COUNTED),
]


@pytest.fixture(scope="module")
def recorded(redis_server, envoy_factory, ext_proc_factory, wiremock) -> dict[str, float]:
    calls = [("GET", path, headers, answer) for path, headers, answer in CALLS]
    repeats, stubs = record_in_turn(envoy_factory, ext_proc_factory, redis_server.url, calls)
    import_into(wiremock, stubs)
    return {"repeats": repeats, "stubs": len(stubs)}


def test_each_call_that_chooses_another_stub_records_one(recorded) -> None:
    assert recorded == {"repeats": 0, "stubs": len(CALLS)}


def _answer(reply: RawReply) -> tuple[int, bytes, bytes | None]:
    return reply.status, reply.body, reply.headers.get("content-range")


@pytest.mark.parametrize(
    ("path", "headers", "answer"),
    [
        ("/catalog", (), CATALOG),  # was a clear miss: the token's call was its repeat
        ("/catalog", CANARY_TOKEN, CATALOG),
        ("/todos", (), NO_COUNT),
        ("/todos", COUNT, COUNTED),  # was the first's 0-1/*
    ],
    ids=["anonymous", "token", "no-prefer", "count-exact"],
)
def test_each_call_is_answered_by_its_own_recording(
    recorded, wiremock, path: str, headers: tuple, answer: RawAnswer
) -> None:
    reply = raw_request(wiremock.port, "GET", path, headers=headers)
    content_range = dict((k.lower(), v) for k, v in answer.headers).get("content-range")
    expected = (answer.status, answer.body, content_range and content_range.encode())
    assert _answer(reply) == expected
