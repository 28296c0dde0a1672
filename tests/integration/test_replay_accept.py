"""A response chosen by ``Accept`` without ``Vary``, recorded through a real Envoy 1.40 and
``mockado ext-proc`` and replayed by a real WireMock 3.13.2.

Spring MVC with ``jackson-dataformat-xml`` on its classpath answers ``GET /orders/7`` in
JSON for ``Accept: application/json`` and in XML for ``Accept: application/xml``, naming
neither in ``Vary``: both recordings had one request pattern, and the one recorded last
answered both. Each representation now answers the requests that list its type; one that
lists neither (none, ``*/*``: Spring picks XML first there, another server JSON) gets a
clear miss.
"""

from __future__ import annotations

import pytest

from tests.support.raw_capture import RawReply, import_into, raw_request
from tests.support.raw_upstream import RawAnswer, record_calls, served_answer

pytestmark = pytest.mark.integration

AS_JSON = RawAnswer(200, (("Content-Type", "application/json"),), b'{"id":7,"item":"milk"}')
AS_XML = RawAnswer(
    200,
    (("Content-Type", "application/xml;charset=UTF-8"),),
    b"<Order><id>7</id><item>milk</item></Order>",
)
# What the service answers each Accept (one upstream per recording: one path, one answer).
RECORDINGS = (("application/json", AS_JSON), ("application/xml", AS_XML))


@pytest.fixture(scope="module")
def loaded(redis_server, envoy_factory, ext_proc_factory, wiremock) -> None:
    stubs: list[dict] = []
    for accept, answer in RECORDINGS:
        call = ("GET", "/orders/7", (("Accept", accept),), None)
        stubs += record_calls(envoy_factory, ext_proc_factory, redis_server.url,
                              {"/orders/7": answer}, [call])  # fmt: skip
    import_into(wiremock, stubs)


def _answer(reply: RawReply) -> RawAnswer | None:
    return served_answer(reply, (AS_JSON, AS_XML))


@pytest.mark.parametrize(
    ("accept", "answer"),
    [
        ("application/json", AS_JSON),
        ("application/xml", AS_XML),
        ("application/json, text/plain, */*", AS_JSON),
        ("text/html, Application/XML;q=0.9", AS_XML),
        (None, None),
        ("*/*", None),
        ("text/html", None),
    ],
    ids=["json", "xml", "axios", "xml-among-others", "none", "any", "another"],
)
def test_each_representation_answers_its_accept(loaded, wiremock, accept, answer) -> None:
    headers = (("Accept", accept),) if accept is not None else ()
    reply = raw_request(wiremock.port, "GET", "/orders/7", headers=headers)
    assert _answer(reply) == answer
