"""A matcher the miss report cannot evaluate as WireMock does is named as unchecked, never
taken as matching."""

from __future__ import annotations

import json

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.mapping.noise import NoiseNormalizer
from ext_proc_server.misses import closest_stub, describe_miss, miss_sanitizer, parse_miss_event

CONFIG = CollectorConfig()


def differences(parts: dict, *, body: str = "", headers: dict | None = None) -> list[dict]:
    event = {"shard": "default", "method": "POST", "host": "api.shop.local", "url": "/x",
             "headers": headers or {}, "body": body}  # fmt: skip
    miss = describe_miss(parse_miss_event(json.dumps(event).encode(), now_s=1.0),
                         sanitizer=miss_sanitizer(CONFIG), normalizer=NoiseNormalizer(CONFIG))  # fmt: skip
    found = closest_stub(
        miss, [{"id": "s", "request": {"method": "POST", "urlPath": "/x", **parts}}]
    )
    assert found is not None
    return [d.as_dict() for d in found.differences]


def test_an_unknown_body_matcher_is_unchecked():
    parts = {"bodyPatterns": [{"matchesXPath": "//order"}]}
    assert differences(parts, body="<order/>", headers={"content-type": "text/xml"}) == [
        {"kind": "unchecked", "name": "body", "detail": "cannot tell (matchesXPath)"}]  # fmt: skip


def test_a_java_only_regex_is_unchecked():
    parts = {"headers": {"X-Mode": {"matches": r"\p{Lu}+"}}}
    assert differences(parts, headers={"x-mode": "fast"}) == [
        {"kind": "unchecked", "name": "x-mode", "detail": "cannot tell (matches)"}]  # fmt: skip


def test_a_json_path_mockado_does_not_write_is_unchecked():
    parts = {"bodyPatterns": [{"matchesJsonPath": "$..MessageBody"}]}
    body = json.dumps({"MessageBody": "restock"})
    assert differences(parts, body=body, headers={"content-type": "application/json"}) == [
        {"kind": "unchecked", "name": "body", "detail": "cannot tell (matchesJsonPath)"}]  # fmt: skip


def test_an_unchecked_matcher_weighs_nothing():
    parts = {"bodyPatterns": [{"matchesXPath": "//order"}]}
    event = {"shard": "default", "method": "POST", "host": "api.shop.local", "url": "/x",
             "headers": {}, "body": "<order/>"}  # fmt: skip
    miss = describe_miss(parse_miss_event(json.dumps(event).encode(), now_s=1.0),
                         sanitizer=miss_sanitizer(CONFIG), normalizer=NoiseNormalizer(CONFIG))  # fmt: skip
    found = closest_stub(
        miss, [{"id": "s", "request": {"method": "POST", "urlPath": "/x", **parts}}]
    )
    assert found is not None and found.score == 0 and len(found.differences) == 1
