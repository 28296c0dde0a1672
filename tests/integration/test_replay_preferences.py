"""A request's ``Prefer`` (RFC 7240), recorded through a real Envoy 1.40 and ``mockado
ext-proc`` and replayed by a real WireMock 3.13.2.

PostgREST answers ``POST /todos`` with the created row for ``Prefer: return=representation``
and with nothing for ``return=minimal``, naming neither in ``Vary``: both recordings had
one stub, and a client that asked for the row got the empty answer (or one that asked for
nothing, a row). Each preference now answers only itself; a request that states none
(PostgREST's default is minimal, another server's may differ) gets a clear miss.
"""

from __future__ import annotations

import pytest

from tests.support.raw_capture import RawReply, import_into, raw_request
from tests.support.raw_upstream import RawAnswer, record_calls, served_answer

pytestmark = pytest.mark.integration

JSON = ("Content-Type", "application/json")
TODO = b'{"task":"buy milk","done":false}'
ROW = RawAnswer(
    201,
    (
        ("Content-Type", "application/json; charset=utf-8"),
        ("Preference-Applied", "return=representation"),
    ),
    b'[{"id":7,"task":"buy milk","done":false}]',
)
NOTHING = RawAnswer(201, (("Preference-Applied", "return=minimal"),), b"")
REPRESENTATION = (("Prefer", "return=representation"),)
MINIMAL = (("Prefer", "return=minimal"),)
# Two upstreams: what the service answers each preference (one path answers one way).
UPSTREAMS = ((REPRESENTATION, ROW), (MINIMAL, NOTHING))


@pytest.fixture(scope="module")
def loaded(redis_server, envoy_factory, ext_proc_factory, wiremock) -> None:
    stubs: list[dict] = []
    for prefer, answer in UPSTREAMS:
        call = ("POST", "/todos", (JSON, *prefer), TODO)
        stubs += record_calls(envoy_factory, ext_proc_factory, redis_server.url,
                              {"/todos": answer}, [call])  # fmt: skip
    import_into(wiremock, stubs)


def _answer(reply: RawReply) -> RawAnswer | None:
    return served_answer(reply, (ROW, NOTHING))


@pytest.mark.parametrize(
    ("prefer", "answer"),
    [(REPRESENTATION, ROW), (MINIMAL, NOTHING), ((), None), ((("Prefer", "count=exact"),), None)],
    ids=["representation", "minimal", "none", "another"],
)
def test_each_preference_gets_its_own_answer(loaded, wiremock, prefer: tuple, answer) -> None:
    reply = raw_request(wiremock.port, "POST", "/todos", headers=(JSON, *prefer), body=TODO)
    assert _answer(reply) == answer
