"""Answers chosen by what a canary's request carries beside its URL, through a live
WireMock 3.13.2: the port of a Service it called, the Origin a CORS answer echoes and what
a preflight asked for."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.integration.wiremock_stubs import (
    JSON_CT,
    answered,
    canary_call,
    load_stubs,
    recording,
    reply,
    stubs_of,
)

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("reverse", [False, True], ids=["captured-order", "reversed"])
def test_each_port_of_a_service_answers_only_its_own_requests(wm: Any, reverse: bool) -> None:
    """One Service answering ``GET /status`` on 8080 (the app) and 9090 (its admin): each
    recording answers its own port under every name of the Service, and neither answers
    the default port or a third one. A recording without a port answers every name without
    one (or with :80), as before; a loopback host's port is the local proxy's, so any."""
    recorded = [
        recording(method="GET", path="/status", host="api.shop:8080", response_body=reply("app")),
        recording(
            method="GET",
            path="/status",
            host="api.shop.svc.cluster.local:9090",
            response_body=reply("admin"),
        ),
        recording(method="GET", path="/index", host="web", response_body=reply("plain")),
        recording(method="GET", path="/index", host="web:8443", response_body=reply("8443")),
        recording(method="GET", path="/here", host="localhost:10000", response_body=reply("local")),
    ]
    mappings = stubs_of(recorded[::-1] if reverse else recorded)
    assert len(mappings) == len(recorded)
    load_stubs(wm.url, mappings)

    def answer(host: str, path: str = "/status") -> str | None:
        return answered(canary_call(wm.url, "GET", path, host=host))

    for name in ("api", "api.shop", "API.shop.svc", "api.shop.svc.cluster.local."):
        assert answer(f"{name}:8080") == "app", name
        assert answer(f"{name}:9090") == "admin", name
        assert answer(name) is None, name
        assert answer(f"{name}:7070") is None, name
    for name in ("web", "web:80", "web.shop", "web.shop.svc", "web.shop.svc.cluster.local"):
        assert answer(name, "/index") == "plain", name
    assert answer("web:8443", "/index") == "8443"
    assert answer("web.shop.svc.cluster.local:8443", "/index") == "8443"
    assert answer("web:8080", "/index") is None
    assert answer("web.other", "/index") is None
    assert answer(f"localhost:{wm.port}", "/here") == "local"


ORIGIN_A, ORIGIN_B = "https://a.example", "https://b.example"


def _cors(origin: str, **allowed: str) -> tuple[tuple[str, str], ...]:
    extra = tuple((f"access-control-allow-{k}", v) for k, v in allowed.items())
    return (*JSON_CT, ("Access-Control-Allow-Origin", origin), *extra)


def _cors_recordings() -> list[Any]:
    """Two origins' answers echoing each (one with a Vary that does not name Origin), an
    answer to any origin, and three preflights: two methods asked of /cart by one origin,
    one asked of /price answered for any origin."""
    a, b = ORIGIN_A, ORIGIN_B
    ask_post = (
        ("origin", a),
        ("access-control-request-method", "POST"),
        ("access-control-request-headers", "content-type,x-cart"),
    )
    return [
        recording(method="GET", path="/cart", headers=(("origin", a),),
                  response_headers=_cors(a), response_body=reply("cart-a")),
        recording(method="GET", path="/cart", headers=(("Origin", b),),
                  response_headers=(*_cors(b), ("vary", "Accept-Encoding")),
                  response_body=reply("cart-b")),
        recording(method="GET", path="/price", headers=(("origin", a),),
                  response_headers=_cors("*"), response_body=reply("price")),
        recording(method="OPTIONS", path="/cart", headers=ask_post, status=204,
                  response_headers=_cors(a, methods="POST", headers="content-type,x-cart")),
        recording(method="OPTIONS", path="/cart",
                  headers=(("origin", a), ("access-control-request-method", "PUT")),
                  status=204, response_headers=_cors(a, methods="PUT")),
        recording(method="OPTIONS", path="/price",
                  headers=(("origin", a), ("access-control-request-method", "GET"),
                           ("access-control-request-headers", "x-token")),
                  status=204, response_headers=_cors("*", methods="GET", headers="x-token")),
    ]  # fmt: skip


@pytest.mark.parametrize("reverse", [False, True], ids=["captured-order", "reversed"])
def test_a_cors_answer_answers_only_the_origin_and_preflight_it_was_recorded_for(
    wm: Any, reverse: bool
) -> None:
    """Servers echo the request's Origin in Access-Control-Allow-Origin, often without
    ``Vary: Origin``: served to another origin, the browser refuses the answer. Each such
    recording answers its own Origin (none: none), a ``*`` answer any; a preflight answers
    only the method and headers it asked for, which its Allow-Methods/-Headers echo."""
    recorded = _cors_recordings()
    mappings = stubs_of(recorded[::-1] if reverse else recorded)
    assert len(mappings) == len(recorded)
    load_stubs(wm.url, mappings)
    a, b = ORIGIN_A, ORIGIN_B

    def send(method: str, path: str, *pairs: tuple[str, str]) -> httpx.Response:
        return canary_call(wm.url, method, path, headers=dict(pairs))

    def preflight(path: str, origin: str, method: str, headers: str = "") -> httpx.Response:
        asked = (("Access-Control-Request-Headers", headers),) if headers else ()
        return send("OPTIONS", path, ("Origin", origin),
                    ("Access-Control-Request-Method", method), *asked)  # fmt: skip

    got_a = send("GET", "/cart", ("Origin", a))
    assert (answered(got_a), got_a.headers["access-control-allow-origin"]) == ("cart-a", a)
    assert answered(send("GET", "/cart", ("Origin", b))) == "cart-b"
    assert answered(send("GET", "/cart", ("Origin", "https://c.example"))) is None
    assert answered(send("GET", "/cart")) is None
    assert answered(send("GET", "/price", ("Origin", "https://c.example"))) == "price"
    assert answered(send("GET", "/price")) == "price"
    post = preflight("/cart", a, "POST", "content-type,x-cart")
    assert (post.status_code, post.headers["access-control-allow-methods"]) == (204, "POST")
    put = preflight("/cart", a, "PUT")
    assert (put.status_code, put.headers["access-control-allow-methods"]) == (204, "PUT")
    star = preflight("/price", "https://c.example", "GET", "x-token")
    assert (star.status_code, star.headers["access-control-allow-headers"]) == (204, "x-token")
    for miss in (
        preflight("/cart", a, "DELETE"),
        preflight("/cart", a, "POST", "x-other"),
        preflight("/cart", a, "PUT", "x-cart"),
        preflight("/cart", b, "POST", "content-type,x-cart"),
        preflight("/price", a, "GET", "x-other"),
        preflight("/price", a, "GET"),
    ):
        assert miss.status_code == 404 and "Request was not matched" in miss.text, miss.headers
