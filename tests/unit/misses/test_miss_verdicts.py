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


SEND_GUARD = {"name": "mockado-sqs-send",
              "parameters": {"protocol": "json", "messages": [""], "attributes": [""]}}  # fmt: skip
UNREADABLE_SEND = json.dumps({"MessageBody": "restock", "MessageAttributes": {
    "trace": {"DataType": "Binary", "BinaryValue": "not base64!"}}})  # fmt: skip


def test_an_unknown_custom_matcher_is_unchecked():
    parts = {"customMatcher": {"name": "someone-elses", "parameters": {}}}
    assert differences(parts, body="{}") == [
        {"kind": "unchecked", "name": "someone-elses", "detail": "cannot tell (customMatcher)"}]  # fmt: skip


def test_the_sqs_send_matcher_on_a_body_cut_by_the_webhook_is_unchecked():
    # The launcher read the whole body; the report has only its first 4,096 characters.
    cut = (UNREADABLE_SEND[:-2] + ', "Pad": "' + "x" * 5000)[:4096]
    unchecked = {"kind": "unchecked", "name": "mockado-sqs-send",
                 "detail": "cannot tell (the message)"}  # fmt: skip
    assert differences({"customMatcher": SEND_GUARD}, body=cut) == [unchecked] * 2


def test_the_sqs_send_matcher_on_an_unreadable_attribute_is_the_difference():
    assert differences({"customMatcher": SEND_GUARD}, body=UNREADABLE_SEND) == [
        {"kind": "body", "name": "mockado-sqs-send",
         "detail": "no attributes MD5 for the message: a binary attribute value not base64"}]  # fmt: skip


def test_a_miss_keeps_no_batch_entry_id_as_sent():
    event = {"shard": "default", "method": "POST", "host": "sqs.local", "url": "/",
             "headers": {}, "body": json.dumps({"Entries": [{"Id": "order-4111111111111111"}]})}  # fmt: skip
    miss = describe_miss(parse_miss_event(json.dumps(event).encode(), now_s=1.0),
                         sanitizer=miss_sanitizer(CONFIG), normalizer=NoiseNormalizer(CONFIG))  # fmt: skip
    assert miss.sqs_sends is not None
    assert "4111111111111111" not in repr(miss.sqs_sends)
    assert miss.sqs_sends.reason("json", "order-4111111111111111", "body") == "no MessageBody"
