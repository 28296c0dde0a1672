from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import threading
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from redis.exceptions import ConnectionError as RedisConnectionError

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.errors import QueueError
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.core.metrics import COLLECTOR_DEDUPLICATION
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.mapping import build_mapping
from ext_proc_server.mapping.dedup import (
    Deduplicator,
    canonical_json,
    claim_batch,
    is_error_answer,
    matched_content_type,
    request_key_hash,
)
from ext_proc_server.mapping.noise import (
    HOLE_ANY,
    HOLE_NUMBER,
    HOLE_STRING,
    NoiseNormalizer,
    NormalizedBody,
    NormalizedRequest,
    Template,
    canonical_default,
)
from tests.unit.mapping.json_strategies import KEYS, LEAVES, json_or_planted, json_texts
from tests.unit.mapping.mapping_helpers import make_exchange

JSON = (("content-type", "application/json"),)


def _exchange(
    *,
    method: str = "POST",
    path: str = "/orders",
    query: tuple[tuple[str, str], ...] = (("a", "1"), ("b", "2")),
    body: Any = None,
    authority: str = "shop.svc",
    status: int = 200,
    response_body: bytes = b'{"ok":true}',
) -> Exchange:
    payload = {"item": "x", "qty": 2, "meta": {"source": "web"}} if body is None else body
    return Exchange(
        id="e",
        sanitized=True,
        request=HttpRequest(
            method=method,
            path=path,
            query=query,
            authority=authority,
            headers=JSON,
            body=json.dumps(payload).encode() if not isinstance(payload, bytes) else payload,
        ),
        response=HttpResponse(status=status, headers=JSON, body=response_body),
    )


def _dedup(**config: Any) -> Deduplicator:
    return Deduplicator(CollectorConfig(**config))


def _count(result: str) -> float:
    return COLLECTOR_DEDUPLICATION.labels(result=result)._value.get()


def test_hash_is_hex_sha256_and_stable() -> None:
    dedup = _dedup()
    first = dedup.hash(_exchange())
    assert len(first) == 64
    assert int(first, 16) >= 0
    assert dedup.hash(_exchange()) == first


def test_hash_ignores_query_order_key_order_and_method_case() -> None:
    dedup = _dedup()
    base = dedup.hash(_exchange())
    reordered = _exchange(
        method="post",
        query=(("b", "2"), ("a", "1")),
        body={"meta": {"source": "web"}, "qty": 2, "item": "x"},
    )
    assert dedup.hash(reordered) == base


def test_hash_ignores_noise_and_headers() -> None:
    dedup = _dedup()
    one = _exchange(
        query=(("a", "1"), ("b", "2"), ("_", "111")),
        body={
            "item": "x",
            "ts": 1700000000,
            "request_id": "r1",
            "id": "3f2b8c1e-1111-4222-8333-444455556666",
        },
    )
    one = one.replace(
        request=dataclasses.replace(
            one.request, headers=(*JSON, ("authorization", "Bearer one"), ("x-request-id", "a"))
        )
    )
    two = _exchange(
        query=(("b", "2"), ("a", "1"), ("_", "222")),
        body={
            "item": "x",
            "ts": 1700000999,
            "request_id": "r2",
            "id": "0b2b8c1e-1111-4222-8333-444455556667",
        },
    )
    two = two.replace(
        request=dataclasses.replace(
            two.request,
            headers=(*JSON, ("authorization", "Bearer other"), ("x-request-id", "zz")),
        )
    )
    assert dedup.hash(one) == dedup.hash(two)
    # Credentials sent or not: another request (mapping.chosen_by).
    anonymous = one.replace(request=dataclasses.replace(one.request, headers=JSON))
    assert dedup.hash(anonymous) != dedup.hash(one)


@pytest.mark.parametrize(
    "change",
    [
        {"query": (("a", "1"), ("b", "3"))},
        {"body": {"item": "y", "qty": 2, "meta": {"source": "web"}}},
        {"body": {"item": "x", "qty": 3, "meta": {"source": "web"}}},
        {"body": {"item": "x", "qty": 2, "meta": {"source": "app"}}},
        {"path": "/orders/1"},
        {"method": "PUT"},
        {"authority": "billing.svc"},
    ],
)
def test_hash_changes_with_stable_values(change: dict[str, Any]) -> None:
    dedup = _dedup()
    assert dedup.hash(_exchange(**change)) != dedup.hash(_exchange())


def test_hash_ignores_host_case_and_the_default_port() -> None:
    dedup = _dedup()
    plain = dedup.hash(_exchange())
    assert dedup.hash(_exchange(authority="Shop.svc")) == plain
    assert dedup.hash(_exchange(authority="shop.svc:80")) == plain
    # The key a call without a port always had (its stub's id follows it).
    normalized = NoiseNormalizer(CollectorConfig()).normalize_request(_exchange())
    want = _reference_key(normalized, body_limit_bytes=CollectorConfig().dedup_body_limit)
    assert dedup.keys(_exchange(authority="shop.svc:80")).stub_hash == want


def test_each_port_of_a_service_has_its_own_key() -> None:
    """A Service answering one path on two ports (app and admin) records both, each its
    own stub; a loopback host's port is the local proxy's and is left out."""
    dedup = _dedup()
    on_8080 = dedup.hash(_exchange(authority="shop.svc:8080"))
    assert on_8080 == dedup.hash(_exchange(authority="SHOP.svc.cluster.local:8080"))
    others = {dedup.hash(_exchange(authority=a)) for a in ("shop.svc:9090", "shop.svc")}
    assert len({on_8080, *others}) == 3
    local = dedup.hash(_exchange(authority="localhost:10000"))
    assert local == dedup.hash(_exchange(authority="localhost:8080"))
    assert local == dedup.hash(_exchange(authority="localhost"))


def test_a_cors_answer_is_keyed_by_the_origin_it_answered() -> None:
    """An Allow-Origin naming an origin was chosen by the request's Origin; a preflight's
    answer by the method and headers asked for too. Without a CORS answer, or with
    ``*`` outside a preflight, the key is the one it always was."""
    dedup = _dedup()

    def key(allow_origin: str | None, method: str = "GET", **headers: str) -> str:
        exchange = _exchange(method=method)
        assert exchange.response is not None
        cors = (("access-control-allow-origin", allow_origin),) if allow_origin else ()
        exchange = exchange.replace(
            request=exchange.request.replace(headers=(*exchange.request.headers,
                                                      *headers.items())),
            response=exchange.response.replace(headers=(*exchange.response.headers, *cors)),
        )  # fmt: skip
        return dedup.keys(exchange).stub_hash

    plain = key(None)
    assert key(None, origin="https://a.example") == plain
    assert key("*", origin="https://a.example") == plain
    a = key("https://a.example", origin="https://a.example")
    b = key("https://b.example", origin="https://b.example")
    assert len({plain, a, b}) == 3
    asked = {"access-control-request-method": "POST"}
    preflight = key("*", "OPTIONS", **asked)
    assert preflight != key(None, "OPTIONS", **asked) == key(None, "OPTIONS")
    assert preflight != key("*", "OPTIONS", **{"access-control-request-method": "PUT"})


def test_hash_counts_body_up_to_dedup_body_limit() -> None:
    dedup = _dedup(dedup_body_limit=40)
    long_a = {"a": "x" * 100 + "1"}
    long_b = {"a": "x" * 100 + "2"}
    assert dedup.hash(_exchange(body=long_a)) == dedup.hash(_exchange(body=long_b))
    assert _dedup().hash(_exchange(body=long_a)) != _dedup().hash(_exchange(body=long_b))


def test_hash_refuses_unsanitized() -> None:
    with pytest.raises(ValueError, match="not sanitized"):
        _dedup().hash(_exchange().replace(sanitized=False))


def test_stateful_hash_includes_the_response_but_not_its_noise() -> None:
    dedup = _dedup(stateful_scenarios=True)
    a = dedup.hash(_exchange(response_body=b'{"n":1,"at":"2024-05-01T00:00:00Z"}'))
    a_again = dedup.hash(_exchange(response_body=b'{"n":1,"at":"2024-06-01T00:00:00Z"}'))
    b = dedup.hash(_exchange(response_body=b'{"n":2,"at":"2024-05-01T00:00:00Z"}'))
    assert a == a_again
    assert a != b
    assert _dedup().hash(_exchange(response_body=b'{"ok":false}')) == _dedup().hash(_exchange())


def test_a_changed_response_shape_is_a_new_key_for_the_same_stub() -> None:
    dedup = _dedup()
    key, stub, _ = dedup.key_parts(_exchange(response_body=b'{"n":1,"items":[1,2]}'))
    same = dedup.key_parts(_exchange(response_body=b'{"n":7,"items":[3],"trace_id":"x"}'))
    retyped = dedup.key_parts(_exchange(response_body=b'{"n":"1","items":[1,2]}'))
    added = dedup.key_parts(_exchange(response_body=b'{"n":1,"items":[1,2],"more":true}'))
    status = dedup.key_parts(_exchange(status=503, response_body=b'{"n":1,"items":[1,2]}'))
    assert same[:2] == (key, stub)  # values, list length and noise fields are not shape
    for changed in (retyped, added, status):
        assert changed[0] != key and changed[1] == stub


def test_lru_check_and_add_and_eviction() -> None:
    dedup = _dedup(dedup_cache_size=2)
    before = _count("duplicate")
    assert dedup.is_new_locally("a")
    assert not dedup.is_new_locally("a")
    assert _count("duplicate") == before + 1
    assert dedup.is_new_locally("b")
    dedup.is_new_locally("a")  # refresh a: b is now the oldest
    assert dedup.is_new_locally("c")
    assert not dedup.is_new_locally("a")
    assert dedup.is_new_locally("b")
    dedup.forget(["b"])
    assert dedup.is_new_locally("b")


def test_lru_disabled_with_size_zero() -> None:
    dedup = _dedup(dedup_cache_size=0)
    assert dedup.is_new_locally("a")
    assert dedup.is_new_locally("a")


def test_lru_under_threads_admits_each_hash_exactly_once() -> None:
    dedup = _dedup(dedup_cache_size=10_000)
    hashes = [f"h{i}" for i in range(500)]
    wins: list[str] = []
    wins_lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker() -> None:
        barrier.wait()
        mine = [h for h in hashes if dedup.is_new_locally(h)]
        with wins_lock:
            wins.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(wins) == sorted(hashes)
    assert len(dedup) == 500


def test_lru_bounded_under_threads() -> None:
    dedup = _dedup(dedup_cache_size=50)

    def worker(offset: int) -> None:
        for i in range(300):
            dedup.is_new_locally(f"{offset}-{i}")

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(dedup) == 50


class _FailingRedis:
    """A Redis whose scripts fail, as a connection error does."""

    def register_script(self, _script: str):
        async def run(**_args: object) -> list[int]:
            raise RedisConnectionError("down")

        return run


def test_claim_batch_empty_and_errors() -> None:
    keys = RedisKeys(queue="q")
    assert asyncio.run(claim_batch(_FailingRedis(), keys=keys, hashes=[], ttl_s=1, stubs=[])) == []  # type: ignore[arg-type]
    with pytest.raises(QueueError, match="dedup claim of 1 hashes"):
        asyncio.run(
            claim_batch(_FailingRedis(), keys=keys, hashes=["h"], ttl_s=1, stubs=[("s", False)])  # type: ignore[arg-type]
        )
    with pytest.raises(ValueError, match="one stub per hash"):
        asyncio.run(claim_batch(_FailingRedis(), keys=keys, hashes=["h"], ttl_s=1, stubs=[]))  # type: ignore[arg-type]


_HOLES = st.sampled_from(
    [HOLE_ANY, HOLE_STRING, HOLE_NUMBER, Template(("order-", HOLE_ANY, ".pdf\x00é"))]
)
_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    _HOLES,
)
_TREES = st.recursive(
    _SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=30,
)


@settings(max_examples=500, deadline=None)
@given(_TREES)
def test_the_canonical_json_is_the_text_json_writes(tree: Any) -> None:
    # Dedup keys and stub ids follow these bytes: they must not change.
    want = json.dumps(
        tree, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=canonical_default
    ).encode()
    assert canonical_json(tree) == want


def test_canonical_json_refuses_a_lone_surrogate_as_before() -> None:
    with pytest.raises(UnicodeEncodeError):
        canonical_json({"a": "\ud800"})


def _canonical_as_first_written(value: Any) -> bytes:
    # json wherever orjson's text holds one of the float forms, else orjson.
    try:
        out = orjson.dumps(
            value,
            default=canonical_default,
            option=orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS,
        )
    except TypeError:
        out = None
    if out is None or any(form in out for form in (b"e+", b"e-", b"0.0000")):
        return json.dumps(
            value, default=canonical_default, sort_keys=True, separators=(",", ":"),
            ensure_ascii=False,
        ).encode()  # fmt: skip
    return out


@settings(max_examples=400, deadline=None)
@given(st.recursive(st.one_of(LEAVES, st.sampled_from([HOLE_ANY, HOLE_NUMBER, Template(("a-", HOLE_ANY))])), lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=4)), max_leaves=30))  # fmt: skip
def test_canonical_json_is_the_text_it_always_was(value: Any) -> None:
    try:
        expected = _canonical_as_first_written(value)
    except UnicodeEncodeError:
        with pytest.raises(UnicodeEncodeError):
            canonical_json(value)
        return
    assert canonical_json(value) == expected


def _reference_key(normalized: NormalizedRequest, *, body_limit_bytes: int) -> str:
    """The dedup key of the documented canonical form: json.dumps of the head, then of the
    body (text bodies as their text), computed without orjson."""

    def dump(value: Any) -> bytes:
        return json.dumps(
            value, default=canonical_default, sort_keys=True, separators=(",", ":"),
            ensure_ascii=False,
        ).encode()  # fmt: skip

    def pairs(items: Any) -> list[list[Any]]:
        return [[name, value] for name, value in items if value is not HOLE_ANY]

    body = normalized.body
    head = [normalized.method, normalized.host, list(normalized.segments)]
    if body.kind == "json":
        text = dump(body.value)
    elif body.kind == "form":
        text = dump(pairs(body.value))
    elif body.kind == "text":
        text = (body.value.token() if isinstance(body.value, Template) else body.value).encode()
    else:
        text = str(body.value).encode("ascii") if body.kind == "binary" else b""
    digest = hashlib.sha256(dump([*head, pairs(normalized.query), body.kind]))
    digest.update(b"\x00")
    digest.update(text[:body_limit_bytes])
    content_type = matched_content_type(body.kind, normalized.content_type)
    if content_type is not None:  # not the usual type of its body (a JSON scalar's)
        digest.update(b"\x00content-type\x00" + content_type.encode())
    return digest.hexdigest()


# Numbers json writes with an exponent or as a non-finite constant, written as a client
# might (1e400 reads as infinity, an integer past 64 bits is exact only to json).
_ODD_NUMBERS = st.sampled_from(
    ["1e400", "-1e400", "0.5e309", "1e16", "1e-5", "0.00001", "2.5e-7", "1E22", "-0.0",
     "9.999999999999999e-05", "0.0001", "9999999999999998.0", "18446744073709551616",
     "-9223372036854775809", "123456789012345678901234567890.5", "1e-400"]
)  # fmt: skip


@settings(max_examples=400, deadline=None)
@given(
    json_or_planted(
        lambda odd, text, key: f'{{"{key}": {odd}, "d": {text}, "l": [{odd}, 1.5]}}',
        _ODD_NUMBERS,
        json_texts(),
        st.sampled_from(["n", "request_id", "created_at"]),
    ),
    st.sampled_from([40, 4096]),
)
def test_the_dedup_key_is_the_documented_canonical_form(text: str, limit: int) -> None:
    # Stub ids follow these keys: whichever way they are written, never a different byte.
    exchange = _exchange(body=text.encode())
    normalized = NoiseNormalizer(CollectorConfig()).normalize_request(exchange)
    want = _reference_key(normalized, body_limit_bytes=limit)
    assert request_key_hash(normalized, body_limit_bytes=limit) == want
    if normalized.body.kind == "json" and not normalized.body.exponent_floats:
        # The orjson text taken then is the one the earlier rule took too.
        assert canonical_json(normalized.body.value, plain_floats=True) == (
            _canonical_as_first_written(normalized.body.value)
        )


def test_a_non_finite_number_is_never_written_as_null() -> None:
    inf, nan = float("inf"), float("nan")
    assert canonical_json({"a": inf}) == b'{"a":Infinity}'
    assert canonical_json([-inf, nan]) == b"[-Infinity,NaN]"
    assert len({canonical_json({"a": v}) for v in (inf, -inf, nan, None)}) == 4


def test_a_body_past_a_double_has_its_own_key_and_an_exact_text_matcher() -> None:
    dedup = _dedup()
    keys = {
        body: dedup.hash(_exchange(body=body))
        for body in (b'{"a":1e400}', b'{"a":-1e400}', b'{"a":null}', b'{"a": 1e400}')
    }
    assert len(set(keys.values())) == 4
    exchange = _exchange(body=b'{"a":1e400}')
    normalized = dedup.normalizer.normalize_request(exchange)
    assert normalized.body == NormalizedBody("text", '{"a":1e400}')
    # The stub answers only this text: never {"a":null}, which WireMock's JSON matcher
    # would have been given for infinity.
    mapping = build_mapping(
        exchange, dedup_hash=keys[b'{"a":1e400}'], config=CollectorConfig(),
        normalizer=dedup.normalizer, normalized=normalized,
    )  # fmt: skip
    assert mapping is not None
    assert mapping["request"]["bodyPatterns"] == [{"equalTo": '{"a":1e400}'}]
    # Under a noise field the value is a hole: the body stays JSON.
    noisy = dedup.normalizer.normalize_request(_exchange(body=b'{"request_id":1e400,"b":1}'))
    assert noisy.body.kind == "json"
    assert noisy.body.value == {"request_id": HOLE_ANY, "b": 1}


def test_a_vary_keeps_each_representation_apart_and_no_other_key_moves() -> None:
    """The request headers a response varies on join the request's key (and so its stub
    id): JSON and HTML answers to one URL are two stubs. Without a Vary, or with one on
    Accept-Encoding or ``*`` only, every key is the one it was."""
    cfg = CollectorConfig()
    dedup = Deduplicator(cfg, normalizer=NoiseNormalizer(cfg))

    def keys(vary: str | None, accept: str | None):
        response = HttpResponse(
            status=200,
            headers=(*JSON, *((("Vary", vary),) if vary is not None else ())),
            body=b'{"a": 1}',
        )
        headers = (("accept", accept),) if accept is not None else ()
        return dedup.keys(make_exchange(headers=headers, response=response))

    plain = keys(None, "text/html")  # lists not the answer's type (accepts: below)
    for vary in ("Accept-Encoding", "*", " , accept-encoding"):
        same = keys(vary, "text/html")
        assert (same.dedup_hash, same.stub_hash) == (plain.dedup_hash, plain.stub_hash)
    json_one, html, absent = (keys("Accept", a) for a in ("application/json", "text/html", None))
    ids = {k.stub_hash or k.dedup_hash for k in (plain, json_one, html, absent)}
    assert len(ids) == 4


def test_an_accept_listing_the_answers_type_joins_the_key_and_no_other_key_moves() -> None:
    """Without Vary, an Accept that lists the answer's media type keeps the JSON and the
    XML answer of one URL apart (mapping.accepts); any Accept listing it gives one key.
    None, ``*/*`` or one that lists another type keeps the key it had."""
    cfg = CollectorConfig()
    dedup = Deduplicator(cfg, normalizer=NoiseNormalizer(cfg))

    def request_key(accept: str | None, content_type: str) -> str:
        response = HttpResponse(
            status=200, headers=(("Content-Type", content_type),), body=b"<a>1</a>"
        )
        headers = (("Accept", accept),) if accept is not None else ()
        return dedup.key_parts(make_exchange(headers=headers, response=response))[0]

    plain = request_key(None, "application/json")
    for accept in ("*/*", "text/html", "application/*"):
        assert request_key(accept, "application/json") == plain
    as_json = request_key("application/json", "application/json")
    assert as_json == request_key("application/json, text/plain, */*", "application/json")
    assert as_json == request_key("Application/JSON;q=0.9", "application/json; charset=utf-8")
    as_xml = request_key("application/xml", "application/xml;charset=UTF-8")
    assert len({plain, as_json, as_xml}) == 3


def test_a_success_back_after_an_error_answer_is_new_and_nothing_else_comes_back() -> None:
    """200, a 503 for a while, the 200 again: the 200 replaces the 503's stub. Then the
    503 again is a duplicate (an error never takes a stub back), and two success shapes
    of one stub are each new once, as before."""
    dedup = Deduplicator(CollectorConfig())
    steps = [
        ("ok", False), ("err", True), ("err", True), ("ok", False), ("ok", False),
        ("err", True), ("ok", False), ("ok2", False), ("ok", False),
    ]  # fmt: skip
    assert [dedup.is_new_locally(h, "stub", error) for h, error in steps] == [
        True, True, False, True, False, False, False, True, False,
    ]  # fmt: skip
    # Without a stub key (or with errors only), a seen hash is a duplicate, as before.
    assert [dedup.is_new_locally(h) for h in ("a", "a")] == [True, False]
    assert is_error_answer(503) and is_error_answer(429) and is_error_answer(408)
    assert not (is_error_answer(404) or is_error_answer(401) or is_error_answer(200))


def test_a_multipart_upload_keys_by_its_parts_not_its_boundary() -> None:
    """Each call draws a boundary: the same upload is one stub; another file is another."""
    cfg = CollectorConfig()
    dedup = Deduplicator(cfg, normalizer=NoiseNormalizer(cfg))

    def upload(boundary: str, content: bytes) -> str:
        body = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"\r\n\r\n'.encode()
            + content
            + f"\r\n--{boundary}--\r\n".encode()
        )
        header = ("content-type", f"multipart/form-data; boundary={boundary}")
        return dedup.hash(make_exchange(method="POST", headers=(header,), body=body))

    assert upload("a1", b"sku,qty") == upload("----b2", b"sku,qty")
    assert upload("a1", b"sku,qty") != upload("a1", b"sku,qtd")
