from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.core.metrics import COLLECTOR_DROPPED
from ext_proc_server.mapping.dedup import Deduplicator
from ext_proc_server.mapping.noise import NoiseNormalizer
from ext_proc_server.mapping.stubs import (
    BODY_DROPPED_HEADER,
    LOWEST_PRIORITY,
    TRUNCATED_HEADER,
    ScenarioTracker,
    build_mapping,
)

UUID = "3f2b8c1e-1111-4222-8333-444455556666"
JSON = (("content-type", "application/json"),)
ANY_OR_ABSENT = {"or": [{"matches": ".*"}, {"absent": True}]}


def _exchange(
    *,
    method: str = "GET",
    path: str = "/items",
    query: tuple[tuple[str, str], ...] = (),
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
    authority: str = "shop.svc:8080",
    response: HttpResponse | None = None,
    redactions: frozenset[str] = frozenset(),
    **request_flags: Any,
) -> Exchange:
    return Exchange(
        id="e",
        sanitized=True,
        namespace="shop",
        workload="web",
        captured_at_s=1700000000.5,
        redactions=redactions,
        request=HttpRequest(
            method=method,
            path=path,
            query=query,
            headers=headers,
            body=body,
            authority=authority,
            **request_flags,
        ),
        response=response or HttpResponse(status=200, headers=JSON, body=b'{"ok":true}'),
    )


def _build(exchange: Exchange, **config: Any) -> dict[str, Any] | None:
    cfg = CollectorConfig(**config)
    normalizer = NoiseNormalizer(cfg)
    dedup = Deduplicator(cfg, normalizer=normalizer)
    return build_mapping(
        exchange,
        dedup_hash=dedup.hash(exchange),
        config=cfg,
        normalizer=normalizer,
        scenarios=ScenarioTracker() if cfg.stateful_scenarios else None,
    )


def _json_post(payload: Any, **kw: Any) -> Exchange:
    return _exchange(method="POST", headers=JSON, body=json.dumps(payload).encode(), **kw)


def test_refuses_unsanitized_exchange() -> None:
    with pytest.raises(ValueError, match="not sanitized"):
        build_mapping(
            _exchange().replace(sanitized=False),
            dedup_hash="0" * 64,
            config=CollectorConfig(),
            normalizer=NoiseNormalizer(CollectorConfig()),
        )


def test_refuses_exchange_without_response() -> None:
    with pytest.raises(ValueError, match="no response"):
        build_mapping(
            _exchange().replace(response=None),
            dedup_hash="0" * 64,
            config=CollectorConfig(),
            normalizer=NoiseNormalizer(CollectorConfig()),
        )


def test_id_is_a_uuid_derived_from_the_hash() -> None:
    cfg = CollectorConfig()
    normalizer = NoiseNormalizer(cfg)
    one = build_mapping(_exchange(), dedup_hash="a" * 64, config=cfg, normalizer=normalizer)
    again = build_mapping(_exchange(), dedup_hash="a" * 64, config=cfg, normalizer=normalizer)
    other = build_mapping(_exchange(), dedup_hash="b" * 64, config=cfg, normalizer=normalizer)
    assert one and again and other
    assert one["id"] == one["uuid"] == again["id"]
    assert other["id"] != one["id"]
    assert str(uuid.UUID(one["id"])) == one["id"]


def test_basic_request_and_metadata() -> None:
    mapping = _build(_exchange(query=(("b", "2"), ("a", "1"))))
    assert mapping is not None
    request = mapping["request"]
    assert request["method"] == "GET"
    assert request["urlPath"] == "/items"
    assert request["host"] == {"equalTo": "shop.svc", "caseInsensitive": True}
    assert request["queryParameters"] == {"a": {"equalTo": "1"}, "b": {"equalTo": "2"}}
    assert "headers" not in request
    assert "bodyPatterns" not in request
    meta = mapping["metadata"]["mockado"]
    assert meta["namespace"] == "shop"
    assert meta["workload"] == "web"
    assert meta["captured_at_s"] == 1700000000.5
    assert meta["host"] == "shop.svc"
    assert meta["truncated"] is False
    assert len(meta["hash"]) == 64
    assert 1 <= mapping["priority"] <= LOWEST_PRIORITY


def test_no_host_matcher_without_authority() -> None:
    mapping = _build(_exchange(authority=""))
    assert mapping is not None
    assert "host" not in mapping["request"]


def test_credentials_and_tracing_headers_are_never_matched() -> None:
    mapping = _build(
        _exchange(headers=(("authorization", "Bearer SANITIZED_JWT"), ("traceparent", "00-x")))
    )
    assert mapping is not None
    assert "headers" not in mapping["request"]


def test_dynamic_path_segments_use_a_pattern() -> None:
    mapping = _build(
        _exchange(
            path=f"/users/u.1/orders/{UUID}/file-{UUID}.pdf",
            redactions=frozenset({"request.path.1"}),
        )
    )
    assert mapping is not None
    assert "urlPath" not in mapping["request"]
    assert mapping["request"]["urlPathPattern"] == r"/users/[^/]+/orders/[^/]+/file\-[^/]+\.pdf"


def test_query_noise_and_sanitized_values_are_absent_tolerant() -> None:
    mapping = _build(
        _exchange(
            query=(
                ("q", "shoes"),
                ("cb", "99"),
                ("api_key", "SANITIZED_API_KEY"),
                ("ref", f"x-{UUID}"),
            ),
        )
    )
    assert mapping is not None
    assert mapping["request"]["queryParameters"] == {
        "api_key": ANY_OR_ABSENT,
        "cb": ANY_OR_ABSENT,
        "q": {"equalTo": "shoes"},
        "ref": {"matches": r"x\-.+"},
    }


def test_repeated_query_names_need_exactly_those_values() -> None:
    mapping = _build(_exchange(query=(("tag", "b"), ("tag", "a"))))
    assert mapping is not None
    assert mapping["request"]["queryParameters"]["tag"] == {
        "hasExactly": [{"equalTo": "a"}, {"equalTo": "b"}]
    }


def test_json_body_matcher_with_numbers_arrays_nested_and_placeholders() -> None:
    payload = {
        "qty": 2,
        "price": 10.25,
        "big": 12345678901234567890,
        "ok": False,
        "tags": ["a", "b"],
        "lines": [{"sku": "A", "updated_at": 1700000000}],
        "nonce": "n-1",
        "id": UUID,
        "card": "SANITIZED_CARD",
        "note": f"ref-{UUID}",
        "literal": "${json-unit.any-string}",
    }
    mapping = _build(_json_post(payload))
    assert mapping is not None
    [matcher] = mapping["request"]["bodyPatterns"]
    assert matcher["ignoreExtraElements"] is True
    assert matcher["ignoreArrayOrder"] is True
    assert matcher["equalToJson"] == {
        "qty": 2,
        "price": 10.25,
        "big": 12345678901234567890,
        "ok": False,
        "tags": ["a", "b"],
        "lines": [{"sku": "A", "updated_at": "${json-unit.any-number}"}],
        "nonce": "${json-unit.ignore-element}",
        "id": "${json-unit.any-string}",
        "card": "${json-unit.ignore-element}",
        "note": "${json-unit.regex}ref\\-.+",
        "literal": "${json-unit.regex}\\$\\{json\\-unit\\.any\\-string\\}",
    }
    assert "enablePlaceholders" not in matcher


def test_json_without_arrays_does_not_ignore_array_order() -> None:
    mapping = _build(_json_post({"a": {"b": 1}}))
    assert mapping is not None
    assert "ignoreArrayOrder" not in mapping["request"]["bodyPatterns"][0]


def test_form_body_uses_form_parameters() -> None:
    mapping = _build(
        _exchange(
            method="POST",
            headers=(("content-type", "application/x-www-form-urlencoded"),),
            body=b"user=bob&password=SANITIZED_PASSWORD&_csrf=tok",
        )
    )
    assert mapping is not None
    assert mapping["request"]["formParameters"] == {
        "_csrf": ANY_OR_ABSENT,
        "password": ANY_OR_ABSENT,
        "user": {"equalTo": "bob"},
    }
    assert "bodyPatterns" not in mapping["request"]


def test_text_body_equal_or_pattern() -> None:
    plain = _build(_exchange(method="POST", headers=(("content-type", "text/plain"),), body=b"hi"))
    assert plain is not None
    assert plain["request"]["bodyPatterns"] == [{"equalTo": "hi"}]
    xml = _build(
        _exchange(
            method="POST",
            headers=(("content-type", "application/xml"),),
            body=f"<r id='{UUID}'>x</r>".encode(),
        )
    )
    assert xml is not None
    assert xml["request"]["bodyPatterns"] == [
        {"matches": "(?s)\\<r\\ id\\=\\'.+?\\'\\>x\\<\\/r\\>"}
    ]


@pytest.mark.parametrize("flags", [{"body_truncated": True}, {"body_dropped": True}])
def test_truncated_or_dropped_request_body_has_no_body_matcher(flags: dict[str, bool]) -> None:
    mapping = _build(_json_post({"a": 1}, **flags))
    assert mapping is not None
    assert "bodyPatterns" not in mapping["request"]
    assert "formParameters" not in mapping["request"]


def test_truncated_response_marked() -> None:
    response = HttpResponse(status=200, headers=JSON, body=b'{"a": [1, 2', body_truncated=True)
    mapping = _build(_exchange(response=response))
    assert mapping is not None
    assert mapping["response"]["headers"][TRUNCATED_HEADER] == "true"
    assert mapping["response"]["body"] == '{"a": [1, 2'
    assert mapping["metadata"]["mockado"]["truncated"] is True


def test_truncated_response_skipped_and_counted() -> None:
    counter = COLLECTOR_DROPPED.labels(reason="truncated_response")
    before = counter._value.get()
    response = HttpResponse(status=200, body=b"abc", body_truncated=True)
    assert _build(_exchange(response=response), truncated_responses="skip") is None
    assert counter._value.get() == before + 1


def test_response_headers_filtered_and_multi_valued() -> None:
    response = HttpResponse(
        status=201,
        headers=(
            (":status", "201"),
            ("Content-Type", "application/json"),
            ("Content-Length", "11"),
            ("Content-Encoding", "gzip"),
            ("Transfer-Encoding", "chunked"),
            ("Connection", "keep-alive"),
            ("Date", "Mon"),
            ("x-envoy-upstream-service-time", "3"),
            ("Set-Cookie", "sid=SANITIZED_COOKIE"),
            ("set-cookie", "theme=dark"),
            ("X-Custom", "v"),
        ),
        body=b'{"id": 1}',
    )
    mapping = _build(_exchange(response=response))
    assert mapping is not None
    assert mapping["response"] == {
        "status": 201,
        "headers": {
            "Content-Type": "application/json",
            "Set-Cookie": ["sid=SANITIZED_COOKIE", "theme=dark"],
            "X-Custom": "v",
        },
        "jsonBody": {"id": 1},
    }


def test_response_body_kinds() -> None:
    text = _build(_exchange(response=HttpResponse(status=200, body=b"hello")))
    binary = _build(_exchange(response=HttpResponse(status=200, body=b"\x89PNG\xff")))
    dropped = _build(_exchange(response=HttpResponse(status=200, body=b"", body_dropped=True)))
    scalar = _build(_exchange(response=HttpResponse(status=200, headers=JSON, body=b'"s"')))
    assert text and binary and dropped and scalar
    assert text["response"]["body"] == "hello"
    assert base64.b64decode(binary["response"]["base64Body"]) == b"\x89PNG\xff"
    assert dropped["response"]["headers"] == {BODY_DROPPED_HEADER: "true"}
    assert not {"body", "jsonBody", "base64Body"} & dropped["response"].keys()
    assert scalar["response"]["body"] == '"s"'


def test_more_specific_stubs_get_a_lower_priority_number() -> None:
    page1 = _build(_exchange(path="/search", query=(("q", "x"),)))
    page2 = _build(_exchange(path="/search", query=(("q", "x"), ("page", "2"))))
    small = _build(_json_post({"a": 1}))
    bigger = _build(_json_post({"a": 1, "b": 2}))
    only_noise = _build(_json_post({"a": 1, "nonce": "z"}))
    assert page1 and page2 and small and bigger and only_noise
    assert page2["priority"] < page1["priority"]
    assert bigger["priority"] < small["priority"]
    assert only_noise["priority"] == small["priority"]


def test_stateful_scenarios_replay_in_order() -> None:
    cfg = CollectorConfig(stateful_scenarios=True)
    normalizer = NoiseNormalizer(cfg)
    dedup = Deduplicator(cfg, normalizer=normalizer)
    tracker = ScenarioTracker()
    mappings = []
    for body in (b'{"n":1}', b'{"n":2}', b'{"n":1}', b'{"n":3}'):
        exchange = _exchange(response=HttpResponse(status=200, headers=JSON, body=body))
        mappings.append(
            build_mapping(
                exchange,
                dedup_hash=dedup.hash(exchange),
                config=cfg,
                normalizer=normalizer,
                scenarios=tracker,
            )
        )
    first, second, first_again, third = mappings
    assert first and second and first_again and third
    assert first["id"] == first_again["id"]
    assert len({first["id"], second["id"], third["id"]}) == 3
    assert first["scenarioName"] == second["scenarioName"] == third["scenarioName"]
    assert "requiredScenarioState" not in first
    assert first["newScenarioState"] == "state-2"
    assert second["requiredScenarioState"] == "state-2"
    assert second["newScenarioState"] == "state-3"
    assert third["requiredScenarioState"] == "state-3"
    assert second["priority"] < first["priority"]


def test_scenario_tracker_limit() -> None:
    tracker = ScenarioTracker(max_states=2)
    assert tracker.position("k", "a") == 1
    assert tracker.position("k", "b") == 2
    assert tracker.position("k", "c") is None
    assert tracker.position("k", "a") == 1
    assert tracker.position("other", "c") == 1


def test_mapping_is_json_serializable() -> None:
    mapping = _build(_json_post({"a": [1, {"b": UUID}]}, query=(("x", "1"),)))
    assert json.loads(json.dumps(mapping)) == mapping


def test_json_walk_matches_the_separate_passes() -> None:
    from ext_proc_server.mapping.noise import (
        HOLE_ANY,
        HOLE_NUMBER,
        HOLE_STRING,
        Template,
        has_array,
        iter_leaves,
    )
    from ext_proc_server.mapping.stubs import _json_expected, _JsonWalk, _leaf_weight

    trees = [
        {"a": 1, "b": "x", "c": None, "d": True, "e": 1.5},
        {"a": [HOLE_ANY, HOLE_STRING, HOLE_NUMBER], "t": Template(("o-", HOLE_ANY))},
        {"lit": "${json-unit.any-string}", "nested": {"deep": [{"k": []}], "empty": {}}},
        [1, "two", {"three": HOLE_NUMBER}],
        {},
    ]
    for tree in trees:
        walk = _JsonWalk()
        assert walk.expected(tree) == _json_expected(tree)
        assert walk.weight == sum(_leaf_weight(leaf) for leaf in iter_leaves(tree))
        assert walk.has_array == has_array(tree)


def test_mapping_from_a_shared_normalization_is_the_same() -> None:
    config = CollectorConfig()
    normalizer = NoiseNormalizer(config)
    body = json.dumps({"id": UUID, "name": "n", "items": [1, 2]}).encode()
    exchange = _exchange(
        method="POST", path=f"/orders/{UUID}", query=(("q", "1"),), headers=JSON, body=body
    )
    dedup = Deduplicator(config, normalizer=normalizer)
    key, normalized = dedup.hash_normalized(exchange)
    assert key == dedup.hash(exchange)
    shared = build_mapping(
        exchange, dedup_hash=key, config=config, normalizer=normalizer, normalized=normalized
    )
    alone = build_mapping(exchange, dedup_hash=key, config=config, normalizer=normalizer)
    assert shared == alone
