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

import http.client

import httpx
import pytest

from tests.support.ext_proc_rig import (
    collector_settings,
    counters,
    envoy_for,
    make_config,
    wait_until,
)
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


def _send(port: int, method: str, target: str, body: bytes = b"") -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", "127.0.0.1")
        if method == "POST":
            conn.putheader("Content-Type", FORM)
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@pytest.fixture(scope="module")
def loaded(redis_server, envoy_factory, ext_proc_factory, wiremock) -> None:
    collector = collector_settings(redis_server.url)
    ext = ext_proc_factory(collector)
    with raw_upstream(ANSWERS) as port:
        envoy = envoy_for(
            envoy_factory, make_config(collector), upstream_port=port,
            ext_proc_port=ext.grpc_port, upstream_http2=False,
        )  # fmt: skip
        for method, target, body in RECORDED:
            assert _send(envoy.port, method, target, body)[0] == 200, target
        wait_until(
            lambda: len(ext.captured()) == len(RECORDED),
            what="the stubs",
            explain=lambda: counters(ext),
        )
    wiremock.reset()
    imported = httpx.post(
        f"{wiremock.url}/__admin/mappings/import", json={"mappings": ext.captured()}, timeout=30
    )
    assert imported.status_code == 200, imported.text


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
    status, served = _send(wiremock.port, method, target, body)
    recorded = ANSWERS[target.split("?", 1)[0]]
    assert (status, served) == (200, recorded.body) if answered else status == 404


def test_a_bare_name_and_an_empty_value_share_one_stub(loaded, wiremock) -> None:
    """The limit docs/mappings.md states: both are the empty value to WireMock."""
    for target in ("/feed?compact", "/feed?compact="):
        assert _send(wiremock.port, "GET", target) == (200, ANSWERS["/feed"].body), target
    for target in ("/feed", "/feed?compact=1", "/feed?compact&compact"):
        assert _send(wiremock.port, "GET", target)[0] == 404, target
