"""A media type the request refuses (``q=0``), recorded through a real Envoy 1.40 and
``mockado ext-proc`` and replayed by a real WireMock 3.13.2.

Spring MVC answers ``GET /orders/7`` in JSON for ``Accept: application/json``, without
``Vary``; its stub matched an ``Accept`` that lists JSON, and took
``application/xml, application/json;q=0`` as listing it: a client that refuses JSON got
JSON, where the service answers XML (or 406). A zero weight now refuses the type.
"""

from __future__ import annotations

import pytest

from tests.support.raw_capture import import_into, raw_request
from tests.support.raw_upstream import RawAnswer, record_calls, served_answer

pytestmark = pytest.mark.integration

AS_JSON = RawAnswer(200, (("Content-Type", "application/json"),), b'{"id":7,"item":"milk"}')


@pytest.fixture(scope="module")
def loaded(redis_server, envoy_factory, ext_proc_factory, wiremock) -> None:
    call = ("GET", "/orders/7", (("Accept", "application/json"),), None)
    stubs = record_calls(envoy_factory, ext_proc_factory, redis_server.url,
                         {"/orders/7": AS_JSON}, [call])  # fmt: skip
    import_into(wiremock, stubs)


@pytest.mark.parametrize(
    ("accept", "answer"),
    [
        ("application/json", AS_JSON),
        ("application/xml, application/json;q=0.5", AS_JSON),
        ("application/xml, application/json;q=0", None),
        ("application/json; Q=0.000, */*;q=0.1", None),
        ("application/json;charset=utf-8;q=0", None),
    ],
    ids=["listed", "weighted", "refused", "refused-zeros", "refused-after-parameter"],
)
def test_a_refused_type_is_not_served(loaded, wiremock, accept, answer) -> None:
    reply = raw_request(wiremock.port, "GET", "/orders/7", headers=(("Accept", accept),))
    assert served_answer(reply, (AS_JSON,)) == answer
