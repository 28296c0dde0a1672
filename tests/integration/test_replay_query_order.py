"""The order of a query parameter's values, recorded through a real Envoy 1.40 and
``mockado ext-proc`` and replayed by a real WireMock 3.13.2.

``?sort=name&sort=date`` sorts by name first and ``?sort=date&sort=name`` by date: two
answers. WireMock's ``hasExactly`` takes the values in any order, so one recording answered
both. Each order now answers itself, with other parameters around it and each value in any
of its encodings; fewer values, or another value, get a clear miss.
"""

from __future__ import annotations

import pytest

from tests.support.raw_capture import RawReply, import_into, raw_request
from tests.support.raw_upstream import RawAnswer, record_calls, served_answer

pytestmark = pytest.mark.integration

JSON = ("Content-Type", "application/json")
BY_NAME = RawAnswer(200, (JSON,), b'{"items":["ana","bob"],"by":"name,date"}')
BY_DATE = RawAnswer(200, (JSON,), b'{"items":["bob","ana"],"by":"date,name"}')
TAGGED = RawAnswer(200, (JSON,), b'{"items":["caneca"],"tags":"a b,c;d"}')
# (target, what the service answers it): one upstream per recording.
RECORDINGS = (
    ("/search?sort=name&sort=date", "/search", BY_NAME),
    ("/search?sort=date&sort=name", "/search", BY_DATE),
    ("/tagged?tag=a+b&tag=c%3Bd", "/tagged", TAGGED),
)


@pytest.fixture(scope="module")
def loaded(redis_server, envoy_factory, ext_proc_factory, wiremock) -> None:
    stubs: list[dict] = []
    for target, path, answer in RECORDINGS:
        stubs += record_calls(envoy_factory, ext_proc_factory, redis_server.url,
                              {path: answer}, [("GET", target, (), None)])  # fmt: skip
    import_into(wiremock, stubs)


def _answer(reply: RawReply) -> RawAnswer | None:
    return served_answer(reply, (BY_NAME, BY_DATE, TAGGED))


@pytest.mark.parametrize(
    ("target", "answer"),
    [
        ("/search?sort=name&sort=date", BY_NAME),
        ("/search?sort=date&sort=name", BY_DATE),
        ("/search?page=2&sort=name&q=x&sort=date&size=5", BY_NAME),
        ("/search?sort=date&page=2&sort=name", BY_DATE),
        ("/search?sort=name", None),
        ("/search?sort=name&sort=size", None),
        ("/tagged?tag=a+b&tag=c%3Bd", TAGGED),
        ("/tagged?tag=a%20b&tag=c;d", TAGGED),
        ("/tagged?tag=c%3Bd&tag=a+b", None),
    ],
    ids=[
        "name-first", "date-first", "name-first-among-others", "date-first-among-others",
        "one-value", "another-value", "tagged", "tagged-encoded-otherwise", "tagged-reversed",
    ],
)  # fmt: skip
def test_each_order_of_a_parameters_values_answers_itself(loaded, wiremock, target, answer):
    assert _answer(raw_request(wiremock.port, "GET", target)) == answer
