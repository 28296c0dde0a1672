"""The miss report's verdict on each matcher mockado writes agrees with real WireMock's:
each stub is loaded into a WireMock and each request sent to it; the request matches there
exactly when the report finds no difference with the stub, and differs there exactly
when the report names one. "Cannot tell" would be a verdict missing: none is allowed."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.mapping.noise import NoiseNormalizer
from ext_proc_server.misses import closest_stub, describe_miss, miss_sanitizer, parse_miss_event

pytestmark = pytest.mark.integration

CONFIG = CollectorConfig()
SANITIZER, NORMALIZER = miss_sanitizer(CONFIG), NoiseNormalizer(CONFIG)
JSON = {"content-type": "application/json"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
TEXT = {"content-type": "text/plain"}
ATTRIBUTES = {"kind": {"DataType": "String", "StringValue": "restock"}}
SEND = {"QueueUrl": "http://sqs.local/000000000000/orders", "MessageBody": "restock aisle 7",
        "MessageAttributes": ATTRIBUTES}  # fmt: skip
BATCH = {"QueueUrl": SEND["QueueUrl"], "Entries": [{"Id": "m1", "MessageBody": "restock aisle 7"}]}
# As mapping.sent_messages pins an SQS send (JSON protocol, then a batch, then the form).
SQS_PINS = [
    {"matchesJsonPath": {"expression": "$.MessageBody", "equalTo": "restock aisle 7"}},
    {"matchesJsonPath": {"expression": "$.MessageAttributes", "equalToJson": ATTRIBUTES}},
    {"matchesJsonPath": {"expression": "$.MessageSystemAttributes", "absent": True}},
]
BATCH_PINS = [
    {"matchesJsonPath": {"expression": "$.Entries[0].Id", "equalTo": "m1"}},
    {"matchesJsonPath": {"expression": "$.Entries[0].MessageBody", "equalTo": "restock aisle 7"}},
    {"matchesJsonPath": {"expression": "$.Entries[0].MessageAttributes", "absent": True}},
]
UNSENT = (
    r"(?:|[\s\S]*&)(?:(?!(?:MessageBody)=)(?:Entry[0-9]+\.)?Message(?:System)?Attribute\.)[\s\S]*"
)
FORM_PINS = {"formParameters": {"MessageBody": {"hasExactly": [{"equalTo": "restock aisle 7"}]},
                                "DelaySeconds": {"hasExactly": [{"matches": "^$"}]}},
             "bodyPatterns": [{"doesNotMatch": UNSENT}]}  # fmt: skip
ORDER = {"item": "book", "qty": 2, "tags": ["a", "b"], "at": "${json-unit.any-string}",
         "n": "${json-unit.any-number}", "skip": "${json-unit.ignore}"}  # fmt: skip
ORDER_JSON = [{"equalToJson": ORDER, "ignoreExtraElements": True},
              {"matchesJsonSchema": {"properties": {"tags": {"minItems": 2, "maxItems": 2}}},
               "schemaVersion": "V202012"}]  # fmt: skip


def order(**changes: object) -> str:
    base = {"item": "book", "qty": 2, "tags": ["a", "b"], "at": "noon", "n": 3, "skip": [1]}
    return json.dumps({**base, **changes})


# (the stub's request parts, the request: headers, query, body), each pair one case.
CASES = [
    # SQS's JSON protocol: the pinned message body, its attributes, none of another kind.
    (dict(bodyPatterns=SQS_PINS), JSON, "", json.dumps(SEND)),
    (dict(bodyPatterns=SQS_PINS), JSON, "", json.dumps({**SEND, "MessageBody": "restock aisle 9"})),
    (dict(bodyPatterns=SQS_PINS), JSON, "", json.dumps({k: v for k, v in SEND.items()
                                                        if k != "MessageBody"})),
    (dict(bodyPatterns=SQS_PINS), JSON, "", json.dumps({**SEND, "MessageAttributes": {}})),
    (dict(bodyPatterns=SQS_PINS), JSON, "", json.dumps({**SEND, "MessageSystemAttributes": {
        "AWSTraceHeader": {"DataType": "String", "StringValue": "t"}}})),
    (dict(bodyPatterns=SQS_PINS), JSON, "", "MessageBody=restock"),
    (dict(bodyPatterns=BATCH_PINS), JSON, "", json.dumps(BATCH)),
    (dict(bodyPatterns=BATCH_PINS), JSON, "", json.dumps(
        {**BATCH, "Entries": [{"Id": "m1", "MessageBody": "restock aisle 9"}]})),
    (dict(bodyPatterns=BATCH_PINS), JSON, "", json.dumps({**BATCH, "Entries": []})),
    # SQS's query protocol: form fields exactly, and no attribute the recording did not send.
    (FORM_PINS, FORM, "", "Action=SendMessage&MessageBody=restock+aisle+7&DelaySeconds="),
    (FORM_PINS, FORM, "", "Action=SendMessage&MessageBody=restock+aisle+9&DelaySeconds="),
    (FORM_PINS, FORM, "", "Action=SendMessage&MessageBody=restock+aisle+7&DelaySeconds=5"),
    (FORM_PINS, FORM, "", "Action=SendMessage&MessageBody=restock+aisle+7"),
    (FORM_PINS, FORM, "", "Action=SendMessage&MessageBody=restock+aisle+7&DelaySeconds="
                          "&MessageAttribute.1.Name=kind"),
    (FORM_PINS, FORM, "", "MessageBody=restock+aisle+7&MessageBody=x&DelaySeconds="),
    # JSON bodies: equalToJson with extra elements ignored, array lengths held by a schema.
    (dict(bodyPatterns=ORDER_JSON), JSON, "", order()),
    (dict(bodyPatterns=ORDER_JSON), JSON, "", order(extra=True)),
    (dict(bodyPatterns=ORDER_JSON), JSON, "", order(qty=3)),
    (dict(bodyPatterns=ORDER_JSON), JSON, "", order(qty=2.0)),
    (dict(bodyPatterns=ORDER_JSON), JSON, "", order(tags=["a", "b", "c"])),
    (dict(bodyPatterns=ORDER_JSON[:1]), JSON, "", order(tags=["a", "b", "c"])),
    (dict(bodyPatterns=ORDER_JSON[:1]), JSON, "", order(tags=["a"])),
    (dict(bodyPatterns=ORDER_JSON), JSON, "", order(at=5)),
    (dict(bodyPatterns=ORDER_JSON), JSON, "", order(n="3")),
    (dict(bodyPatterns=ORDER_JSON), JSON, "", order(n=True)),
    (dict(bodyPatterns=ORDER_JSON), JSON, "", order(skip=None)),
    (dict(bodyPatterns=ORDER_JSON), JSON, "", "item=book"),
    # Text and binary bodies, and none.
    (dict(bodyPatterns=[{"equalTo": "ping 1"}]), TEXT, "", "ping 1"),
    (dict(bodyPatterns=[{"equalTo": "ping 1"}]), TEXT, "", "ping 2"),
    (dict(bodyPatterns=[{"matches": "(?s)ping [0-9]+\nend"}]), TEXT, "", "ping 12\nend"),
    (dict(bodyPatterns=[{"matches": "ping [0-9]+.end"}]), TEXT, "", "ping 12\nend"),
    (dict(bodyPatterns=[{"matches": "(?s)ping [0-9]+\nend"}]), TEXT, "", "ping x\nend"),
    (dict(bodyPatterns=[{"binaryEqualTo": "cGluZyAx"}]), TEXT, "", "ping 1"),
    (dict(bodyPatterns=[{"binaryEqualTo": "cGluZyAx"}]), TEXT, "", "ping 2"),
    (dict(bodyPatterns=[{"absent": True}]), {}, "", ""),
    (dict(bodyPatterns=[{"absent": True}]), TEXT, "", "ping"),
    # Headers and query parameters.
    (dict(headers={"Accept": {"equalTo": "Application/JSON", "caseInsensitive": True}}),
     {"accept": "application/json"}, "", ""),
    (dict(headers={"Accept": {"equalTo": "application/json", "caseInsensitive": True}}),
     {"accept": "text/xml"}, "", ""),
    (dict(headers={"Accept": {"matches": r"(?i)(?:.*,)?[ \t]*text/csv[ \t]*(?:[;,].*)?"}}),
     {"accept": "text/html, TEXT/CSV;q=0.5"}, "", ""),
    (dict(headers={"Accept": {"matches": r"(?i)(?:.*,)?[ \t]*text/csv[ \t]*(?:[;,].*)?"}}),
     {"accept": "text/html"}, "", ""),
    (dict(headers={"X-Mode": {"absent": True}}), {}, "", ""),
    (dict(headers={"X-Mode": {"absent": True}}), {"x-mode": "fast"}, "", ""),
    (dict(headers={"X-Mode": {"or": [{"matches": ".*"}, {"absent": True}]}}), {}, "", ""),
    (dict(headers={"X-Mode": {"or": [{"matches": ".*"}, {"absent": True}]}}),
     {"x-mode": "fast"}, "", ""),
    (dict(queryParameters={"page": {"hasExactly": [{"equalTo": "2"}, {"matches": ".*"}]}}),
     {}, "page=2&page=9", ""),
    (dict(queryParameters={"page": {"hasExactly": [{"equalTo": "2"}, {"matches": ".*"}]}}),
     {}, "page=2", ""),
    (dict(queryParameters={"page": {"hasExactly": [{"equalTo": "2"}]}}), {}, "page=3", ""),
    (dict(queryParameters={"page": {"hasExactly": [{"matches": "^$"}, {"equalTo": "2"}]}}),
     {}, "page=&page=2", ""),
    (dict(queryParameters={"page": {"absent": True}}), {}, "page=2", ""),
    (dict(queryParameters={"page": {"equalTo": "2"}}), {}, "", ""),
]  # fmt: skip


def report_verdict(parts: dict, headers: dict, query: str, body: str, path: str) -> tuple:
    url = path + (f"?{query}" if query else "")
    event = {"shard": "default", "method": "POST", "host": "api.shop.local", "url": url,
             "headers": headers, "body": body}  # fmt: skip
    miss = describe_miss(parse_miss_event(json.dumps(event).encode(), now_s=1.0),
                         sanitizer=SANITIZER, normalizer=NORMALIZER)  # fmt: skip
    found = closest_stub(miss, [{"id": "s", "request": {"method": "POST", "urlPath": path,
                                                        **parts}}])  # fmt: skip
    assert found is not None
    differences = [d.as_dict() for d in found.differences]
    if not differences:
        return "matches", differences
    if all(d["kind"] == "unchecked" for d in differences):
        return "cannot tell", differences
    return "differs", differences


def test_the_report_agrees_with_wiremock_on_every_matcher_mockado_writes(wiremock_factory):
    wiremock = wiremock_factory()
    run = uuid.uuid4().hex[:8]
    disagreements, verdicts = [], []
    with httpx.Client(timeout=10) as client:
        for n, (parts, headers, query, body) in enumerate(CASES):
            path = f"/verdict/{run}/{n}"
            stub = {"request": {"method": "POST", "urlPath": path, **parts},
                    "response": {"status": 200, "body": "stub"}}  # fmt: skip
            client.post(f"{wiremock.url}/__admin/mappings", json=stub).raise_for_status()
            answer = client.post(f"{wiremock.url}{path}", params=query or None,
                                 headers=headers, content=body.encode())  # fmt: skip
            assert answer.status_code in (200, 404), answer.text
            wiremocks = "matches" if answer.status_code == 200 else "differs"
            ours, differences = report_verdict(parts, headers, query, body, path)
            verdicts.append(wiremocks)
            if ours != wiremocks:
                disagreements.append((n, wiremocks, ours, differences))
    assert disagreements == []
    assert "matches" in verdicts and "differs" in verdicts


def test_a_changed_sqs_message_body_is_named_as_the_difference():
    body = json.dumps({**SEND, "MessageBody": "restock aisle 9"})
    ours, differences = report_verdict(dict(bodyPatterns=SQS_PINS), JSON, "", body, "/")
    assert ours == "differs"
    assert differences == [{"kind": "body field", "name": "/MessageBody",
                            "detail": "a different value"}]  # fmt: skip
