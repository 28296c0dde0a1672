"""Generated mappings against a live WireMock 3.13.2: canary variants of a
recorded request get the recorded response; different stable values do not."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from redis import asyncio as aioredis

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.mapping import (
    Deduplicator,
    NoiseNormalizer,
    ScenarioTracker,
    build_mapping,
    claim_batch,
    skip_reason,
)
from ext_proc_server.mapping.stubs import TRUNCATED_HEADER

pytestmark = pytest.mark.integration

UUID_A = "3f2b8c1e-1111-4222-8333-444455556666"
UUID_B = "9a8b7c6d-2222-4333-8444-555566667777"
JSON_CT = (("content-type", "application/json"),)
FORM_CT = (("content-type", "application/x-www-form-urlencoded"),)


def _exchange(
    *,
    method: str,
    path: str,
    host: str = "shop.svc",
    query: tuple[tuple[str, str], ...] = (),
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
    status: int = 200,
    response_body: bytes = b"",
    response_headers: tuple[tuple[str, str], ...] = JSON_CT,
    redactions: frozenset[str] = frozenset(),
    response_truncated: bool = False,
) -> Exchange:
    return Exchange(
        id="x",
        sanitized=True,
        namespace="shop",
        workload="web",
        redactions=redactions,
        request=HttpRequest(
            method=method,
            path=path,
            query=query,
            headers=headers,
            body=body,
            authority=f"{host}:8080",
        ),
        response=HttpResponse(
            status=status,
            headers=response_headers,
            body=response_body,
            body_truncated=response_truncated,
        ),
    )


def _reply(tag: str) -> bytes:
    return json.dumps({"recorded": tag}).encode()


def _mappings(exchanges: list[Exchange], **config: Any) -> list[dict[str, Any]]:
    cfg = CollectorConfig(**config)
    normalizer = NoiseNormalizer(cfg)
    dedup = Deduplicator(cfg, normalizer=normalizer)
    tracker = ScenarioTracker()
    out = []
    for exchange in exchanges:
        dedup_hash = dedup.hash(exchange)
        if not dedup.is_new_locally(dedup_hash):
            continue
        mapping = build_mapping(
            exchange, dedup_hash=dedup_hash, config=cfg, normalizer=normalizer, scenarios=tracker
        )
        assert mapping is not None
        out.append(mapping)
    return out


def _import(url: str, mappings: list[dict[str, Any]]) -> None:
    resp = httpx.post(
        f"{url}/__admin/mappings/import",
        json={
            "mappings": mappings,
            "importOptions": {"duplicatePolicy": "OVERWRITE", "deleteAllNotInImport": False},
        },
        timeout=30,
    )
    assert resp.status_code == 200, resp.text


@pytest.fixture
def wm(wiremock: Any) -> Iterator[Any]:
    wiremock.reset()
    yield wiremock
    wiremock.reset()


def _send(
    url: str,
    method: str,
    path: str,
    *,
    host: str = "shop.svc",
    params: list[tuple[str, str]] | None = None,
    json_body: Any = None,
    content: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    all_headers = {"Host": host, **(headers or {})}
    if json_body is not None:
        content = json.dumps(json_body).encode()
        all_headers.setdefault("Content-Type", "application/json")
    # A fresh connection per call: Jetty may keep a connection's first Host casing.
    return httpx.request(
        method, url + path, params=params, content=content, headers=all_headers, timeout=10
    )


def _recorded(resp: httpx.Response) -> str | None:
    if resp.status_code == 404 and "Request was not matched" in resp.text:
        return None
    return resp.json().get("recorded")


CANARY_HEADERS = {
    "Authorization": "Bearer canary-own-token",
    "Cookie": "sid=canary-session",
    "x-request-id": "canary-req-1",
    "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
}


def _variant_recordings() -> list[Any]:
    return [
        _exchange(
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
            response_body=_reply("order"),
        ),
        _exchange(
            method="GET",
            path=f"/orders/{UUID_A}",
            query=(("expand", "lines"), ("api_key", "SANITIZED_API_KEY")),
            redactions=frozenset({"request.query.api_key"}),
            response_body=_reply("order-by-id"),
        ),
        _exchange(
            method="GET",
            path="/users/SANITIZED_EMAIL/profile",
            redactions=frozenset({"request.path.1"}),
            response_body=_reply("profile"),
        ),
        _exchange(
            method="POST",
            path="/login",
            headers=FORM_CT,
            body=b"user=bob&password=SANITIZED_PASSWORD&_csrf=abc",
            redactions=frozenset({"request.body.form.password"}),
            response_body=_reply("login"),
        ),
        _exchange(
            method="POST",
            path="/soap",
            headers=(("content-type", "text/xml"),),
            body=f"<req><id>{UUID_A}</id><op>get</op></req>".encode(),
            response_body=_reply("soap"),
        ),
        _exchange(
            method="GET",
            path="/tags",
            query=(("t", "a"), ("t", "b")),
            response_body=_reply("tags"),
        ),
    ]


ORDER = {
    "nonce": "n-99",
    "card": "5555444433332222",
    "client_ts": "2025-01-02T03:04:05.678+01:00",
    "created_at": 1800000000,
    "requestId": "zzz",
    "customer": {"tier": "gold", "email": "canary@example.org"},
    "tags": ["sale", "red"],
    "price": 19.50,
    "qty": 2,
    "item": "shoe",
}
PARAMS = [("lang", "en"), ("_", "1800000000000"), ("store", "12")]


def _canary_variants(url: str) -> list[tuple[str, Any]]:
    """Requests a canary may send for each recording: each must get that recording."""
    order, params = ORDER, PARAMS
    return [
        (
            "order",
            _send(url, "POST", "/orders", params=params, json_body=order, headers=CANARY_HEADERS),
        ),
        ("order", _send(url, "POST", "/orders", params=params[::2], json_body=order)),
        ("order", _send(url, "POST", "/orders", params=params, json_body={**order, "card": 4111})),
        (
            "order",
            _send(url, "POST", "/orders", params=params, json_body={**order, "new_field": 1}),
        ),
        (
            "order-by-id",
            _send(
                url,
                "GET",
                f"/orders/{UUID_B}",
                params=[("api_key", "canary-key"), ("expand", "lines")],
            ),
        ),
        ("order-by-id", _send(url, "GET", f"/orders/{UUID_B}", params=[("expand", "lines")])),
        (
            "profile",
            _send(url, "GET", "/users/someone@example.org/profile", headers=CANARY_HEADERS),
        ),
        (
            "login",
            _send(
                url,
                "POST",
                "/login",
                content=b"_csrf=zz&password=hunter2&user=bob",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            ),
        ),
        (
            "soap",
            _send(
                url, "POST", "/soap", content=f"<req><id>{UUID_B}</id><op>get</op></req>".encode()
            ),
        ),
        ("tags", _send(url, "GET", "/tags", params=[("t", "b"), ("t", "a")])),
        (
            "order-by-id",
            _send(url, "GET", f"/orders/{UUID_B}", host="SHOP.svc", params=[("expand", "lines")]),
        ),
    ]


def _wrong_requests(url: str) -> list[Any]:
    """Near misses of the recordings: none may get a recorded answer."""
    order, params = ORDER, PARAMS
    return [
        _send(url, "POST", "/orders", params=[("store", "13"), ("lang", "en")], json_body=order),
        _send(url, "POST", "/orders", params=params, json_body={**order, "qty": 3}),
        _send(
            url,
            "POST",
            "/orders",
            params=params,
            json_body={**order, "customer": {"tier": "silver"}},
        ),
        _send(url, "POST", "/orders", params=params, json_body={**order, "tags": ["red"]}),
        _send(url, "GET", f"/orders/{UUID_B}", params=[("expand", "none")]),
        _send(url, "GET", "/orders/x/y"),
        _send(url, "GET", "/users/a/b/profile"),
        _send(
            url,
            "POST",
            "/login",
            content=b"user=eve&password=x",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ),
        _send(url, "POST", "/soap", content=f"<req><id>{UUID_B}</id><op>put</op></req>".encode()),
        _send(url, "GET", "/tags", params=[("t", "a")]),
        _send(url, "GET", "/tags", params=[("t", "a"), ("t", "b"), ("t", "c")]),
        _send(url, "GET", f"/orders/{UUID_B}", host="billing.svc", params=[("expand", "lines")]),
    ]


def test_canary_variants_match_and_wrong_requests_do_not(wm: Any) -> None:
    recorded = _variant_recordings()
    mappings = _mappings(recorded)
    assert len(mappings) == len(recorded)
    _import(wm.url, mappings)
    canaries = _canary_variants(wm.url)
    for expected, resp in canaries:
        assert _recorded(resp) == expected, (expected, resp.status_code, resp.text[:300])
    assert canaries[0][1].status_code == 201
    for resp in _wrong_requests(wm.url):
        assert _recorded(resp) is None, resp.text[:300]


@pytest.mark.parametrize("reverse", [False, True], ids=["captured-order", "reversed"])
def test_cross_host_isolation_and_overlapping_queries(wm: Any, reverse: bool) -> None:
    recorded = [
        _exchange(method="GET", path="/status", host="payments.svc", response_body=_reply("pay")),
        _exchange(method="GET", path="/status", host="billing.svc", response_body=_reply("bill")),
        _exchange(
            method="GET",
            path="/search",
            query=(("q", "x"), ("page", "2")),
            response_body=_reply("p2"),
        ),
        _exchange(method="GET", path="/search", query=(("q", "x"),), response_body=_reply("p1")),
        _exchange(
            method="POST",
            path="/find",
            headers=JSON_CT,
            body=b'{"q":"x","limit":5}',
            response_body=_reply("lim"),
        ),
        _exchange(
            method="POST",
            path="/find",
            headers=JSON_CT,
            body=b'{"q":"x"}',
            response_body=_reply("nolim"),
        ),
    ]
    # Without priorities the stub added last wins ties: try both orders.
    _import(wm.url, _mappings(recorded[::-1] if reverse else recorded))
    url = wm.url
    assert _recorded(_send(url, "GET", "/status", host="payments.svc")) == "pay"
    assert _recorded(_send(url, "GET", "/status", host="billing.svc:9000")) == "bill"
    assert _recorded(_send(url, "GET", "/status", host="other.svc")) is None
    assert _recorded(_send(url, "GET", "/search", params=[("page", "2"), ("q", "x")])) == "p2"
    assert _recorded(_send(url, "GET", "/search", params=[("q", "x")])) == "p1"
    assert _recorded(_send(url, "POST", "/find", json_body={"limit": 5, "q": "x"})) == "lim"
    assert _recorded(_send(url, "POST", "/find", json_body={"q": "x"})) == "nolim"


def test_stateful_scenario_replays_responses_in_order(wm: Any) -> None:
    recorded = [
        _exchange(
            method="GET",
            path="/cart",
            query=(("cb", str(n)),),
            response_body=json.dumps({"recorded": tag, "at": f"2024-05-0{n}T00:00:00Z"}).encode(),
        )
        for n, tag in enumerate(["empty", "one", "one", "two"], start=1)
    ]
    mappings = _mappings(recorded, stateful_scenarios=True)
    assert len(mappings) == 3
    _import(wm.url, mappings)
    seen = [_recorded(_send(wm.url, "GET", "/cart", params=[("cb", "x")])) for _ in range(5)]
    assert seen == ["empty", "one", "two", "empty", "one"]


def test_response_shapes_and_remove_by_metadata(wm: Any) -> None:
    recorded = [
        _exchange(
            method="GET",
            path="/big",
            response_body=b'{"recorded": "big", "items": [1, 2',
            response_truncated=True,
        ),
        _exchange(
            method="GET",
            path="/blob",
            response_headers=(("content-type", "application/octet-stream"),),
            response_body=b"\x89PNG\x00\xff",
        ),
        _exchange(
            method="GET",
            path="/cookie",
            response_headers=(
                *JSON_CT,
                ("set-cookie", "sid=SANITIZED_COOKIE"),
                ("set-cookie", "theme=dark"),
                ("content-length", "999"),
            ),
            response_body=_reply("cookie"),
        ),
    ]
    other = _exchange(method="GET", path="/other", response_body=_reply("other"))
    other = other.replace(namespace="payments")
    _import(wm.url, [*_mappings(recorded, truncated_responses="mark"), *_mappings([other])])
    url = wm.url
    big = _send(url, "GET", "/big")
    assert big.headers[TRUNCATED_HEADER] == "true"
    assert big.text == '{"recorded": "big", "items": [1, 2'
    blob = _send(url, "GET", "/blob")
    assert blob.content == b"\x89PNG\x00\xff"
    cookie = _send(url, "GET", "/cookie")
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
    assert _recorded(_send(url, "GET", "/other")) == "other"


def test_claim_batch_three_replicas_claim_each_hash_once(redis_server: Any) -> None:
    keys = RedisKeys(queue="test-mapping-claims")
    hashes = [base64.b16encode(bytes([i]) * 8).decode().lower() for i in range(50)]

    async def run() -> list[list[bool]]:
        clients = [aioredis.Redis.from_url(redis_server.url) for _ in range(3)]
        try:
            return await asyncio.gather(
                *(claim_batch(c, keys=keys, hashes=hashes, ttl_s=30) for c in clients)
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
        _exchange(
            method="GET",
            path="/catalog",
            headers=(("accept", "application/json"), ("accept-encoding", "gzip")),
            response_headers=vary,
            response_body=_reply("json"),
        ),
        _exchange(
            method="GET",
            path="/catalog",
            headers=(("Accept", "text/html"),),
            response_headers=vary,
            response_body=_reply("html"),
        ),
        _exchange(
            method="GET", path="/me", response_headers=vary_user, response_body=_reply("anon")
        ),
        _exchange(
            method="GET",
            path="/me",
            headers=(("authorization", "Bearer SANITIZED_JWT"),),
            redactions=frozenset({"request.header.authorization"}),
            response_headers=vary_user,
            response_body=_reply("user"),
        ),
    ]
    mappings = _mappings(recorded[::-1] if reverse else recorded)
    assert len(mappings) == 4
    _import(wm.url, mappings)
    url = wm.url

    def answer(path: str, **headers: str) -> str | None:
        return _recorded(_send(url, "GET", path, headers=headers))

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
        _exchange(method="GET", path="/logo", response_body=_reply("full")),
        _exchange(
            method="GET",
            path="/logo",
            headers=(("if-none-match", '"v1"'),),
            status=304,
            response_headers=(("etag", '"v1"'),),
        ),
        _exchange(
            method="GET",
            path="/logo",
            headers=(("range", "bytes=0-3"),),
            status=206,
            response_headers=(("content-range", "bytes 0-3/20"),),
            response_body=b'{"re',
        ),
    ]
    _import(wm.url, _mappings(recorded[::-1] if reverse else recorded))

    def send(**headers: str) -> httpx.Response:
        return _send(wm.url, "GET", "/logo", headers=headers)

    assert _recorded(send()) == "full"
    not_modified = send(**{"If-None-Match": '"v1"'})
    assert (not_modified.status_code, not_modified.content) == (304, b"")
    assert _recorded(send(**{"If-None-Match": '"v2"'})) == "full"
    part = send(Range="bytes=0-3")
    assert (part.status_code, part.content) == (206, b'{"re')
    assert _recorded(send(Range="bytes=4-7")) == "full"


@pytest.mark.parametrize("reverse", [False, True], ids=["captured-order", "reversed"])
def test_a_401_answers_only_requests_without_credentials(wm: Any, reverse: bool) -> None:
    """A 401 to a request without credentials is its own stub, matched to requests without
    any; a 401 to one that carried a (sanitized) token gets no stub: an expired token's
    answer would otherwise replace the 200 every canary with a good token should get."""
    recorded = [
        _exchange(
            method="GET",
            path="/account",
            headers=(("authorization", "Bearer SANITIZED_JWT"),),
            redactions=frozenset({"request.header.authorization"}),
            response_body=_reply("account"),
        ),
        _exchange(method="GET", path="/account", status=401, response_body=_reply("login first")),
    ]
    expired = _exchange(
        method="GET",
        path="/account",
        headers=(("authorization", "Bearer SANITIZED_JWT"),),
        redactions=frozenset({"request.header.authorization"}),
        status=401,
        response_body=_reply("token expired"),
    )
    assert skip_reason(expired) == "response_credentials_refused"
    _import(wm.url, _mappings(recorded[::-1] if reverse else recorded))
    with_token = _send(wm.url, "GET", "/account", headers={"Authorization": "Bearer canary"})
    assert (with_token.status_code, _recorded(with_token)) == (200, "account")
    without = _send(wm.url, "GET", "/account")
    assert (without.status_code, _recorded(without)) == (401, "login first")
