"""The order of a form field's values, recorded through a real Envoy 1.40 and ``mockado
ext-proc`` and replayed by a real WireMock 3.13.2.

A form body (``application/x-www-form-urlencoded``) has the query's syntax, and a server
binds a field's values in the order sent: ``sort=name&sort=date`` to a list that sorts by
name first, ``sort=date&sort=name`` by date. WireMock's ``formParameters`` takes the
values in any order: both orders had one stub, and the one recorded last answered both.
"""

from __future__ import annotations

import pytest

from tests.support.raw_capture import import_into, raw_request
from tests.support.raw_upstream import RawAnswer, record_calls, served_answer

pytestmark = pytest.mark.integration

FORM = (("Content-Type", "application/x-www-form-urlencoded"),)
BY_NAME = RawAnswer(200, (("Content-Type", "application/json"),), b'{"ids":[2,1,3]}')
BY_DATE = RawAnswer(200, (("Content-Type", "application/json"),), b'{"ids":[3,2,1]}')
# One upstream per order: each answers the path one way.
RECORDINGS = (
    (b"q=milk&sort=name&sort=created+at", BY_NAME),
    (b"q=milk&sort=created+at&sort=name", BY_DATE),
)


@pytest.fixture(scope="module")
def loaded(redis_server, envoy_factory, ext_proc_factory, wiremock) -> None:
    stubs: list[dict] = []
    for body, answer in RECORDINGS:
        call = ("POST", "/search", FORM, body)
        stubs += record_calls(envoy_factory, ext_proc_factory, redis_server.url,
                              {"/search": answer}, [call])  # fmt: skip
    import_into(wiremock, stubs)


@pytest.mark.parametrize(
    ("body", "answer"),
    [
        (b"q=milk&sort=name&sort=created+at", BY_NAME),
        (b"q=milk&sort=created+at&sort=name", BY_DATE),
        (b"sort=created%20at&q=milk&sort=name", BY_DATE),
        (b"sort=name&page=2&q=milk&sort=created%20at", BY_NAME),
        (b"q=milk&sort=name", None),
    ],
    ids=["by-name", "by-date", "by-date-encoded", "by-name-among-others", "one-value"],
)
def test_each_order_gets_its_own_answer(loaded, wiremock, body: bytes, answer) -> None:
    reply = raw_request(wiremock.port, "POST", "/search", headers=FORM, body=body)
    assert served_answer(reply, (BY_NAME, BY_DATE)) == answer
