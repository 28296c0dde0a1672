"""How many values a query parameter or form field holds, recorded through a real Envoy
1.40 and ``mockado ext-proc`` and replayed by a real WireMock 3.13.2.

``GET /items?id=1`` answers one item; ``?id=1&id=2`` (or ``?id=2&id=1``) asks for two,
and a framework that reads the last value (PHP) or every value (Spring's ``List``, Express)
answers otherwise. WireMock's plain ``equalTo`` takes a parameter given more values when
one of them matches: the recording of ``?id=1`` must not answer them. Extra parameters
(a cache-buster) and noise values still match, as before.

A bare name (``?flag``) and an empty value (``?flag=``) reach WireMock's matchers as the
same empty value, and the capture reads them so too: one stub answers both (a documented
limit, docs/mappings.md).
"""

from __future__ import annotations

import pytest

from tests.support.ext_proc_rig import (
    collector_settings,
    counters,
    wait_until,
)
from tests.support.raw_capture import RawReply, capture_behind_envoy, import_into, raw_request
from tests.support.raw_upstream import RawAnswer, raw_upstream

pytestmark = pytest.mark.integration

JSON = ("Content-Type", "application/json")
FORM = b"application/x-www-form-urlencoded"
ANSWERS = {
    "/items": RawAnswer(200, (JSON,), b'{"items":[{"id":1,"name":"caneca"}]}'),
    "/cart": RawAnswer(200, (JSON,), b'{"added":[1]}'),
    "/feed": RawAnswer(200, (JSON,), b'{"feed":"bare flag"}'),
}
# (method, target, form body)
RECORDED = [
    ("GET", "/items?id=1&_=1700000000123", b""),
    ("POST", "/cart", b"sku=1"),
    ("GET", "/feed?compact", b""),
]


def _send(port: int, method: str, target: str, body: bytes = b"") -> RawReply:
    """A GET, or a POST of a form."""
    if method != "POST":
        return raw_request(port, method, target)
    return raw_request(port, method, target, headers=(("Content-Type", FORM),), body=body)


@pytest.fixture(scope="module")
def loaded(redis_server, envoy_factory, ext_proc_factory, wiremock) -> None:
    collector = collector_settings(redis_server.url)
    with raw_upstream(ANSWERS) as port:
        ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, port)
        for method, target, body in RECORDED:
            assert _send(envoy.port, method, target, body).status == 200, target
        wait_until(
            lambda: len(ext.captured()) == len(RECORDED),
            what="the stubs",
            explain=lambda: counters(ext),
        )
    import_into(wiremock, ext.captured())


@pytest.mark.parametrize(
    ("method", "target", "body", "answered"),
    [
        ("GET", "/items?id=1", b"", True),
        ("GET", "/items?id=1&_=1700000999999", b"", True),  # noise: any value
        ("GET", "/items?lang=pt&id=1", b"", True),  # an extra parameter, as before
        ("GET", "/items?id=1&id=2", b"", False),
        ("GET", "/items?id=2&id=1", b"", False),
        ("GET", "/items?id=1&id=1", b"", False),
        ("GET", "/items?id=2", b"", False),
        ("POST", "/cart", b"sku=1", True),
        ("POST", "/cart", b"sku=1&sku=2", False),
        ("POST", "/cart", b"sku=2&sku=1", False),
    ],
)
def test_a_recorded_value_answers_only_requests_with_that_one_value(
    loaded, wiremock, method: str, target: str, body: bytes, answered: bool
) -> None:
    status, _headers, served = _send(wiremock.port, method, target, body)
    recorded = ANSWERS[target.split("?", 1)[0]]
    assert (status, served) == (200, recorded.body) if answered else status == 404


def test_a_bare_name_and_an_empty_value_share_one_stub(loaded, wiremock) -> None:
    """The limit docs/mappings.md states: both are the empty value to WireMock."""
    for target in ("/feed?compact", "/feed?compact="):
        served = _send(wiremock.port, "GET", target)
        assert (served.status, served.body) == (200, ANSWERS["/feed"].body), target
    for target in ("/feed", "/feed?compact=1", "/feed?compact&compact"):
        assert _send(wiremock.port, "GET", target).status == 404, target
