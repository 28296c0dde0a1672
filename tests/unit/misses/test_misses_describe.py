"""A miss is sanitized, reduced to its template, and compared with recorded stubs."""

from __future__ import annotations

import json

import pytest

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.mapping import build_mapping
from ext_proc_server.mapping.dedup import Deduplicator
from ext_proc_server.mapping.noise import NoiseNormalizer
from ext_proc_server.misses import (
    InvalidMissEvent,
    closest_stub,
    describe_miss,
    miss_sanitizer,
    parse_miss_event,
)
from tests.unit.mapping.mapping_helpers import make_exchange

CONFIG = CollectorConfig()
DEDUP = Deduplicator(CONFIG)
SANITIZER = miss_sanitizer(CONFIG)
NORMALIZER = NoiseNormalizer(CONFIG)


def miss(method: str, url: str, *, body: str = "", headers: dict | None = None, **extra):
    event = {"shard": "default", "method": method, "host": "api.shop.local", "url": url,
             "headers": headers or {}, "body": body, **extra}  # fmt: skip
    raw = parse_miss_event(json.dumps(event).encode(), now_s=1.0)
    return describe_miss(raw, sanitizer=SANITIZER, normalizer=NORMALIZER)


def stub(method: str, url_kind: str, url: str, **request) -> dict:
    return {"id": f"{method} {url}", "request": {"method": method, url_kind: url, **request}}


@pytest.mark.parametrize(
    ("url", "template"),
    [
        ("/api/users/42/orders", "/api/users/{id}/orders"),
        ("/api/orders/3f2b8c1e-8d7a-4b7e-9a51-0c1d2e3f4a5b", "/api/orders/{id}"),
        ("/api/orders/ORD-2024-0001", "/api/orders/{id}"),
        ("/api/people/joana.silva@exemplo.com.br", "/api/people/{id}"),
        ("/api/v1/health", "/api/v1/health"),
    ],
)
def test_ids_numbers_and_sanitized_values_collapse(url: str, template: str):
    assert miss("GET", url).path == template


def test_query_keys_are_kept_and_values_dropped():
    one = miss("GET", "/search?q=shoes&page=2&email=joana.silva@exemplo.com.br")
    other = miss("GET", "/search?page=9&q=hats&email=ana@exemplo.com")
    assert one.query_keys == ("email", "page", "q")
    assert one.miss_id == other.miss_id
    assert "joana" not in json.dumps(one.query)


def test_the_closest_stub_and_what_differs():
    stubs = [
        stub("GET", "urlPath", "/api/users/1"),
        stub(
            "GET",
            "urlPathPattern",
            "/api/users/[^/]+/orders",
            queryParameters={
                "status": {"equalTo": "open"},
                "trace": {"or": [{"matches": ".*"}, {"absent": True}]},
            },
        ),
        stub(
            "POST",
            "urlPath",
            "/api/orders",
            bodyPatterns=[
                {
                    "equalToJson": {"item": "book", "qty": "${json-unit.any-number}"},
                    "ignoreExtraElements": True,
                }
            ],
        ),
        {
            "id": "catch",
            "request": {"method": "ANY", "urlPattern": ".*"},
            "metadata": {"mockado": {"catch_all": True}},
        },
    ]
    found = closest_stub(miss("GET", "/api/users/7/orders?status=closed"), stubs)
    assert found is not None and found.stub_id == "GET /api/users/[^/]+/orders"
    assert [(d.kind, d.name) for d in found.differences] == [("query key", "status")]

    found = closest_stub(miss("DELETE", "/api/users/1"), stubs)
    assert found is not None and found.stub_id == "GET /api/users/1"
    assert [d.kind for d in found.differences] == ["method"]

    body = json.dumps({"item": "pen", "qty": 3})
    found = closest_stub(
        miss("POST", "/api/orders", body=body, headers={"Content-Type": "application/json"}),
        stubs,
    )
    assert found is not None and found.stub_id == "POST /api/orders"
    assert [(d.kind, d.name) for d in found.differences] == [("body field", "/item")]
    assert "pen" not in json.dumps(found.as_dict())


@pytest.mark.parametrize("path", ["/api/items", "/api/users/42/orders", "/api/a.b(c)/list"])
def test_a_stub_held_to_its_query_order_has_no_path_difference(path: str):
    """An ordered query's stub matches the raw URL (``urlPattern``, mapping.query_order):
    the other order is a miss whose closest stub is that one, its path no difference."""
    exchange = make_exchange(
        path=path, query=(("sort", "name"), ("sort", "date")), authority="api.shop.local"
    )
    key, normalized = DEDUP.hash_normalized(exchange)
    recorded = build_mapping(
        exchange, dedup_hash=key, config=CONFIG, normalizer=DEDUP.normalizer,
        normalized=normalized,
    )  # fmt: skip
    assert recorded is not None and "urlPattern" in recorded["request"]
    # One segment off: a path difference (6), where the recorded stub's order is none.
    other_path = stub("GET", "urlPath", f"{path}/x", host={"equalTo": "api.shop.local"})
    found = closest_stub(miss("GET", f"{path}?sort=date&sort=name"), [other_path, recorded])
    assert found is not None and found.stub_id == recorded["id"]
    assert not [d for d in found.differences if d.kind.startswith("path")], found.differences


def test_only_the_catch_all_means_no_closest_stub():
    catch_all = {"request": {"method": "ANY"}, "metadata": {"mockado": {"catch_all": True}}}
    assert closest_stub(miss("GET", "/x"), [catch_all]) is None


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"[1]",
        b'{"shard": "a", "method": "GET", "host": "h"}',
        b'{"shard": "a", "method": "GET", "host": "h", "url": "no-slash"}',
    ],
)
def test_what_is_not_a_miss_event_is_refused(raw: bytes):
    with pytest.raises(InvalidMissEvent):
        parse_miss_event(raw)


def test_a_miss_on_another_port_of_a_service_says_so_and_is_its_own_miss():
    """WireMock's port is Host's (80 when none): a stub recorded on 9090 is not what a
    call to 8080 missed, and the report says which port; the default port keeps its id."""
    stubs = [stub("GET", "urlPath", "/status", port=9090), stub("GET", "urlPath", "/other")]
    on_8080 = miss("GET", "/status", port=8080)
    found = closest_stub(on_8080, stubs)
    assert found is not None and found.stub_id == "GET /status"
    assert [(d.kind, d.detail) for d in found.differences] == [
        ("port", "port 8080, the stub wants 9090")
    ]
    assert closest_stub(miss("GET", "/status", port=9090), stubs).differences == ()
    assert on_8080.destination == "api.shop.local:8080"
    assert miss("GET", "/status", port=80).miss_id == miss("GET", "/status").miss_id
    assert on_8080.miss_id != miss("GET", "/status", port=9090).miss_id
    # Not a port: not said.
    for bad in ("8080", True, 70000, -1):
        assert miss("GET", "/status", port=bad).port == 0
