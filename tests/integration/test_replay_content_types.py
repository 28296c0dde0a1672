"""One JSON body sent with two Content-Types, recorded through a real Envoy 1.40 and
``mockado ext-proc`` and replayed by a real WireMock 3.13.2.

A stub matches a request body's Content-Type as recorded, ignoring case. One client sends
``application/json``, another ``application/json; charset=utf-8`` (Spring's
RestTemplate, older OkHttp): both got one dedup key, so only the first was recorded and
the second client got a miss. Each type its matcher tells apart now is a stub of its own;
one that differs only in case is a duplicate.
"""

from __future__ import annotations

import pytest

from tests.support.ext_proc_rig import collector_settings, wait_for_stubs, wait_until
from tests.support.raw_capture import capture_behind_envoy, import_into, raw_request
from tests.support.raw_upstream import RawAnswer, raw_upstream

pytestmark = pytest.mark.integration

BODY = b'{"item":"milk","qty":2}'
CREATED = RawAnswer(201, (("Content-Type", "application/json"),), b'{"id":7}')
SENT = ("application/json", "application/json; charset=utf-8", "Application/JSON")


@pytest.fixture(scope="module")
def loaded(redis_server, envoy_factory, ext_proc_factory, wiremock) -> None:
    collector = collector_settings(redis_server.url)
    with raw_upstream({"/orders": CREATED}) as port:
        ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, port)

        def decided() -> int:
            duplicates = ext.metric("collector_deduplication_operations_total", result="duplicate")
            return len(ext.captured()) + int(duplicates)

        for sent, content_type in enumerate(SENT, start=1):
            got = raw_request(
                envoy.port, "POST", "/orders", headers=(("Content-Type", content_type),), body=BODY
            )
            assert got.status == CREATED.status
            # One at a time: each is a stub or a duplicate before the next is sent.
            wait_until(lambda sent=sent: decided() == sent, what=f"request {sent} decided")
        stubs = wait_for_stubs(ext, 2, skipped={}, what="a stub per Content-Type matched")
    import_into(wiremock, stubs)


@pytest.mark.parametrize(
    ("content_type", "served"),
    [
        ("application/json", True),
        ("application/json; charset=utf-8", True),
        ("APPLICATION/JSON; CHARSET=UTF-8", True),
        ("application/json;charset=utf-8", False),  # another text: another stub's
        ("text/plain", False),
    ],
    ids=["plain", "charset", "charset-any-case", "charset-unspaced", "text"],
)
def test_each_content_type_recorded_is_served(loaded, wiremock, content_type, served) -> None:
    reply = raw_request(
        wiremock.port, "POST", "/orders", headers=(("Content-Type", content_type),), body=BODY
    )
    if served:
        assert (reply.status, reply.body) == (CREATED.status, CREATED.body)
    else:
        assert reply.status == 404 and "matched-stub-id" not in reply.headers, reply
