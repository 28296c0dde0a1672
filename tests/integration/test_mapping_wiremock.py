"""Generated mappings against a live WireMock 3.13.2: canary variants of a
recorded request get the recorded response; different stable values do not."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import pytest
from redis import asyncio as aioredis

from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.mapping import (
    claim_batch,
    skip_reason,
)
from ext_proc_server.mapping.stubs import TRUNCATED_HEADER
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

UUID_A = "3f2b8c1e-1111-4222-8333-444455556666"
UUID_B = "9a8b7c6d-2222-4333-8444-555566667777"
FORM_CT = (("content-type", "application/x-www-form-urlencoded"),)


CANARY_HEADERS = {
    "Authorization": "Bearer canary-own-token",
    "Cookie": "sid=canary-session",
    "x-request-id": "canary-req-1",
    "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
}


def _variant_recordings() -> list[Any]:
    return [
        recording(
            method="POST",
            path="/orders",
            query=(("store", "12"), ("_", "1700000000000"), ("lang", "en")),
            headers=(*JSON_CT, ("authorization", "SANITIZED_JWT"), ("x-request-id", "r-1")),
            body=json.dumps(
                {
                    "item": "shoe",
                    "qty": 2,
                    "price": 19.5,
                    "tags": ["red", "sale"],
                    "customer": {"email": "SANITIZED_EMAIL", "tier": "gold"},
                    "requestId": "abc",
                    "created_at": 1700000000,
                    "client_ts": "2024-05-01T10:00:00Z",
                    "nonce": "n-1",
                    "card": "SANITIZED_CARD",
                }
            ).encode(),
            redactions=frozenset({"request.body.json:/card", "request.header.authorization"}),
            status=201,
            response_body=reply("order"),
        ),
        recording(
            method="GET",
            path=f"/orders/{UUID_A}",
            query=(("expand", "lines"), ("api_key", "SANITIZED_API_KEY")),
            redactions=frozenset({"request.query.api_key"}),
            response_body=reply("order-by-id"),
        ),
        recording(
            method="GET",
            path="/users/SANITIZED_EMAIL/profile",
            redactions=frozenset({"request.path.1"}),
            response_body=reply("profile"),
        ),
        recording(
            method="POST",
            path="/login",
            headers=FORM_CT,
            body=b"user=bob&password=SANITIZED_PASSWORD&_csrf=abc",
            redactions=frozenset({"request.body.form.password"}),
            response_body=reply("login"),
        ),
        recording(
            method="POST",
            path="/soap",
            headers=(("content-type", "text/xml"),),
            body=f"<req><id>{UUID_A}</id><op>get</op></req>".encode(),
            response_body=reply("soap"),
        ),
        recording(
            method="GET",
            path="/tags",
            query=(("t", "a"), ("t", "b")),
            response_body=reply("tags"),
        ),
    ]


ORDER = {
    "nonce": "n-99",
    "card": "5555444433332222",
    "client_ts": "2025-01-02T03:04:05.678+01:00",
    "created_at": 1800000000,
    "requestId": "zzz",
    "customer": {"tier": "gold", "email": "canary@example.org"},
    "tags": ["red", "sale"],
    "price": 19.50,
    "qty": 2,
    "item": "shoe",
}
PARAMS = [("lang", "en"), ("_", "1800000000000"), ("store", "12")]


XML_CT = {"Content-Type": "text/xml"}


def _soap(request_id: str, op: str) -> bytes:
    return f"<req><id>{request_id}</id><op>{op}</op></req>".encode()


def _canary_variants(url: str) -> list[tuple[str, Any]]:
    """Requests a canary may send for each recording: each must get that recording."""
    order, params = ORDER, PARAMS

    def post_order(**kw: Any) -> Any:  # with the canary's own token, as its client sends
        return canary_call(url, "POST", "/orders", headers=CANARY_HEADERS, **kw)

    return [
        ("order", post_order(params=params, json_body=order)),
        ("order", post_order(params=params[::2], json_body=order)),
        ("order", post_order(params=params, json_body={**order, "card": 4111})),
        ("order", post_order(params=params, json_body={**order, "new_field": 1})),
        (
            "order-by-id",
            canary_call(
                url,
                "GET",
                f"/orders/{UUID_B}",
                params=[("api_key", "canary-key"), ("expand", "lines")],
            ),
        ),
        ("order-by-id", canary_call(url, "GET", f"/orders/{UUID_B}", params=[("expand", "lines")])),
        (
            "profile",
            canary_call(url, "GET", "/users/someone@example.org/profile", headers=CANARY_HEADERS),
        ),
        (
            "login",
            canary_call(
                url,
                "POST",
                "/login",
                content=b"_csrf=zz&password=hunter2&user=bob",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ),
        ),
        (
            "soap",
            canary_call(url, "POST", "/soap", content=_soap(UUID_B, "get"), headers=XML_CT),
        ),
        ("tags", canary_call(url, "GET", "/tags", params=[("t", "a"), ("x", "1"), ("t", "b")])),
        (
            "order-by-id",
            canary_call(
                url, "GET", f"/orders/{UUID_B}", host="SHOP.svc", params=[("expand", "lines")]
            ),
        ),
    ]


def _wrong_requests(url: str) -> list[Any]:
    """Near misses of the recordings: none may get a recorded answer."""
    order, params = ORDER, PARAMS
    return [
        # Recorded with a token: a request without one is refused by the service.
        canary_call(url, "POST", "/orders", params=params, json_body=order),
        canary_call(
            url, "POST", "/orders", params=[("store", "13"), ("lang", "en")], json_body=order
        ),
        canary_call(url, "POST", "/orders", params=params, json_body={**order, "qty": 3}),
        canary_call(
            url,
            "POST",
            "/orders",
            params=params,
            json_body={**order, "customer": {"tier": "silver"}},
        ),
        canary_call(url, "POST", "/orders", params=params, json_body={**order, "tags": ["red"]}),
        # Items in another order, or one more: a list may mean its order, and its length.
        canary_call(
            url, "POST", "/orders", params=params, json_body={**order, "tags": ["sale", "red"]}
        ),
        canary_call(
            url, "POST", "/orders", params=params, json_body={**order, "tags": ["red", "sale", "x"]}
        ),
        canary_call(url, "GET", f"/orders/{UUID_B}", params=[("expand", "none")]),
        canary_call(url, "GET", "/orders/x/y"),
        canary_call(url, "GET", "/users/a/b/profile"),
        canary_call(
            url,
            "POST",
            "/login",
            content=b"user=eve&password=x",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        canary_call(
            url, "POST", "/soap", content=f"<req><id>{UUID_B}</id><op>put</op></req>".encode()
        ),
        canary_call(url, "GET", "/tags", params=[("t", "a")]),
        # Another order of its values may ask for another answer (a sort): mapping.query_order.
        canary_call(url, "GET", "/tags", params=[("t", "b"), ("t", "a")]),
        canary_call(url, "GET", "/tags", params=[("t", "a"), ("t", "b"), ("t", "c")]),
        canary_call(
            url, "GET", f"/orders/{UUID_B}", host="billing.svc", params=[("expand", "lines")]
        ),
    ]


def test_canary_variants_match_and_wrong_requests_do_not(wm: Any) -> None:
    recorded = _variant_recordings()
    mappings = stubs_of(recorded)
    assert len(mappings) == len(recorded)
    load_stubs(wm.url, mappings)
    canaries = _canary_variants(wm.url)
    for expected, resp in canaries:
        assert answered(resp) == expected, (expected, resp.status_code, resp.text[:300])
    assert canaries[0][1].status_code == 201
    for resp in _wrong_requests(wm.url):
        assert answered(resp) is None, resp.text[:300]


@pytest.mark.parametrize("reverse", [False, True], ids=["captured-order", "reversed"])
def test_cross_host_isolation_and_overlapping_queries(wm: Any, reverse: bool) -> None:
    recorded = [
        recording(method="GET", path="/status", host="payments.svc", response_body=reply("pay")),
        recording(method="GET", path="/status", host="billing.svc", response_body=reply("bill")),
        recording(
            method="GET",
            path="/search",
            query=(("q", "x"), ("page", "2")),
            response_body=reply("p2"),
        ),
        recording(method="GET", path="/search", query=(("q", "x"),), response_body=reply("p1")),
        recording(
            method="POST",
            path="/find",
            headers=JSON_CT,
            body=b'{"q":"x","limit":5}',
            response_body=reply("lim"),
        ),
        recording(
            method="POST",
            path="/find",
            headers=JSON_CT,
            body=b'{"q":"x"}',
            response_body=reply("nolim"),
        ),
    ]
    # Without priorities the stub added last wins ties: try both orders.
    load_stubs(wm.url, stubs_of(recorded[::-1] if reverse else recorded))
    url = wm.url
    assert answered(canary_call(url, "GET", "/status", host="payments.svc")) == "pay"
    assert answered(canary_call(url, "GET", "/status", host="billing.svc:80")) == "bill"
    assert answered(canary_call(url, "GET", "/status", host="billing.svc:9000")) is None
    assert answered(canary_call(url, "GET", "/status", host="other.svc")) is None
    assert answered(canary_call(url, "GET", "/search", params=[("page", "2"), ("q", "x")])) == "p2"
    assert answered(canary_call(url, "GET", "/search", params=[("q", "x")])) == "p1"
    assert answered(canary_call(url, "POST", "/find", json_body={"limit": 5, "q": "x"})) == "lim"
    assert answered(canary_call(url, "POST", "/find", json_body={"q": "x"})) == "nolim"


def test_stateful_scenario_replays_responses_in_order(wm: Any) -> None:
    recorded = [
        recording(
            method="GET",
            path="/cart",
            query=(("cb", str(n)),),
            response_body=json.dumps({"recorded": tag, "at": f"2024-05-0{n}T00:00:00Z"}).encode(),
        )
        for n, tag in enumerate(["empty", "one", "one", "two"], start=1)
    ]
    mappings = stubs_of(recorded, stateful_scenarios=True)
    assert len(mappings) == 3
    load_stubs(wm.url, mappings)
    seen = [answered(canary_call(wm.url, "GET", "/cart", params=[("cb", "x")])) for _ in range(5)]
    assert seen == ["empty", "one", "two", "empty", "one"]


def test_response_shapes_and_remove_by_metadata(wm: Any) -> None:
    recorded = [
        recording(
            method="GET",
            path="/big",
            response_body=b'{"recorded": "big", "items": [1, 2',
            response_truncated=True,
        ),
        recording(
            method="GET",
            path="/blob",
            response_headers=(("content-type", "application/octet-stream"),),
            response_body=b"\x89PNG\x00\xff",
        ),
        recording(
            method="GET",
            path="/cookie",
            response_headers=(
                *JSON_CT,
                ("set-cookie", "sid=SANITIZED_COOKIE"),
                ("set-cookie", "theme=dark"),
                ("content-length", "999"),
            ),
            response_body=reply("cookie"),
        ),
    ]
    other = recording(method="GET", path="/other", response_body=reply("other"))
    other = other.replace(namespace="payments")
    load_stubs(wm.url, [*stubs_of(recorded, truncated_responses="mark"), *stubs_of([other])])
    url = wm.url
    big = canary_call(url, "GET", "/big")
    assert big.headers[TRUNCATED_HEADER] == "true"
    assert big.text == '{"recorded": "big", "items": [1, 2'
    blob = canary_call(url, "GET", "/blob")
    assert blob.content == b"\x89PNG\x00\xff"
    cookie = canary_call(url, "GET", "/cookie")
    assert cookie.headers.get_list("set-cookie") == ["sid=SANITIZED_COOKIE", "theme=dark"]
    assert cookie.json() == {"recorded": "cookie"}

    resp = httpx.post(
        f"{url}/__admin/mappings/remove-by-metadata",
        json={"matchesJsonPath": {"expression": "$.mockado.namespace", "equalTo": "shop"}},
        timeout=10,
    )
    assert resp.status_code == 200
    remaining = wm.mappings()
    assert [m["metadata"]["mockado"]["namespace"] for m in remaining] == ["payments"]
    assert answered(canary_call(url, "GET", "/other")) == "other"


def test_claim_batch_three_replicas_claim_each_hash_once(redis_server: Any) -> None:
    keys = RedisKeys(queue="test-mapping-claims")
    hashes = [base64.b16encode(bytes([i]) * 8).decode().lower() for i in range(50)]
    stubs = [(f"stub-{h}", False) for h in hashes]

    async def run() -> list[list[bool]]:
        clients = [aioredis.Redis.from_url(redis_server.url) for _ in range(3)]
        try:
            return await asyncio.gather(
                *(claim_batch(c, keys=keys, hashes=hashes, ttl_s=30, stubs=stubs) for c in clients)
            )
        finally:
            for client in clients:
                await client.aclose()

    results = asyncio.run(run())
    for index in range(len(hashes)):
        assert sum(result[index] for result in results) == 1


@pytest.mark.parametrize("reverse", [False, True], ids=["captured-order", "reversed"])
def test_a_response_that_varies_answers_only_the_request_headers_it_was_recorded_for(
    wm: Any, reverse: bool
) -> None:
    """``Vary`` names the request headers that chose the response: each recording answers
    its own values (a sanitized one: any value, but sent), another value gets a clear miss,
    never the other representation. Accept-Encoding is not matched (bodies are stored
    decoded)."""
    vary = (*JSON_CT, ("vary", "Accept, Accept-Encoding"))
    vary_user = (*JSON_CT, ("Vary", "accept-encoding"), ("vary", "authorization"))
    recorded = [
        recording(
            method="GET",
            path="/catalog",
            headers=(("accept", "application/json"), ("accept-encoding", "gzip")),
            response_headers=vary,
            response_body=reply("json"),
        ),
        recording(
            method="GET",
            path="/catalog",
            headers=(("Accept", "text/html"),),
            response_headers=vary,
            response_body=reply("html"),
        ),
        recording(
            method="GET", path="/me", response_headers=vary_user, response_body=reply("anon")
        ),
        recording(
            method="GET",
            path="/me",
            headers=(("authorization", "Bearer SANITIZED_JWT"),),
            redactions=frozenset({"request.header.authorization"}),
            response_headers=vary_user,
            response_body=reply("user"),
        ),
    ]
    mappings = stubs_of(recorded[::-1] if reverse else recorded)
    assert len(mappings) == 4
    load_stubs(wm.url, mappings)
    url = wm.url

    def answer(path: str, **headers: str) -> str | None:
        return answered(canary_call(url, "GET", path, headers=headers))

    assert answer("/catalog", Accept="application/json", **{"Accept-Encoding": "br"}) == "json"
    assert answer("/catalog", Accept="text/html") == "html"
    assert answer("/catalog", Accept="application/xml") is None
    assert answer("/me") == "anon"
    assert answer("/me", Authorization="Bearer another-token") == "user"


@pytest.mark.parametrize("reverse", [False, True], ids=["captured-order", "reversed"])
def test_a_304_or_206_answers_only_the_conditional_or_range_request_it_was_recorded_for(
    wm: Any, reverse: bool
) -> None:
    """A 304 (nothing in its body) and a 206 (part of one) answer a conditional and a range
    request: served to a plain request they would be wrong. Each matches its request's
    conditional or range headers exactly; the plain request keeps its 200, and a request
    with another ETag or range gets that full 200, as a server may answer."""
    recorded = [
        recording(method="GET", path="/logo", response_body=reply("full")),
        recording(
            method="GET",
            path="/logo",
            headers=(("if-none-match", '"v1"'),),
            status=304,
            response_headers=(("etag", '"v1"'),),
        ),
        recording(
            method="GET",
            path="/logo",
            headers=(("range", "bytes=0-3"),),
            status=206,
            response_headers=(("content-range", "bytes 0-3/20"),),
            response_body=b'{"re',
        ),
    ]
    load_stubs(wm.url, stubs_of(recorded[::-1] if reverse else recorded))

    def send(**headers: str) -> httpx.Response:
        return canary_call(wm.url, "GET", "/logo", headers=headers)

    assert answered(send()) == "full"
    not_modified = send(**{"If-None-Match": '"v1"'})
    assert (not_modified.status_code, not_modified.content) == (304, b"")
    assert answered(send(**{"If-None-Match": '"v2"'})) == "full"
    part = send(Range="bytes=0-3")
    assert (part.status_code, part.content) == (206, b'{"re')
    assert answered(send(Range="bytes=4-7")) == "full"


@pytest.mark.parametrize("reverse", [False, True], ids=["captured-order", "reversed"])
def test_a_401_answers_only_requests_without_credentials(wm: Any, reverse: bool) -> None:
    """A 401 to a request without credentials is its own stub, matched to requests without
    any; a 401 to one that carried a (sanitized) token gets no stub: an expired token's
    answer would otherwise replace the 200 every canary with a good token should get."""
    recorded = [
        recording(
            method="GET",
            path="/account",
            headers=(("authorization", "Bearer SANITIZED_JWT"),),
            redactions=frozenset({"request.header.authorization"}),
            response_body=reply("account"),
        ),
        recording(method="GET", path="/account", status=401, response_body=reply("login first")),
    ]
    expired = recording(
        method="GET",
        path="/account",
        headers=(("authorization", "Bearer SANITIZED_JWT"),),
        redactions=frozenset({"request.header.authorization"}),
        status=401,
        response_body=reply("token expired"),
    )
    assert skip_reason(expired) == "response_credentials_refused"
    load_stubs(wm.url, stubs_of(recorded[::-1] if reverse else recorded))
    with_token = canary_call(wm.url, "GET", "/account", headers={"Authorization": "Bearer canary"})
    assert (with_token.status_code, answered(with_token)) == (200, "account")
    without = canary_call(wm.url, "GET", "/account")
    assert (without.status_code, answered(without)) == (401, "login first")
