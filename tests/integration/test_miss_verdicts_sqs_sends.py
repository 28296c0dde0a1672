"""The miss report's verdict on the launcher's ``mockado-sqs-send`` matcher agrees with the
launcher's: each stub (as mapping.sent_messages writes one for a send answered with computed
MD5s) is loaded into mockado's launcher and each send posted to it; the send matches there
exactly when the report finds no difference, and misses there exactly when the report names
one. A send the rest of the stub takes and only the matcher refuses is named as the
matcher's difference, with why its MD5 cannot be computed."""

from __future__ import annotations

import base64
import json
import urllib.parse
import uuid

import httpx
import pytest

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.mapping.noise import NoiseNormalizer
from ext_proc_server.misses import closest_stub, describe_miss, miss_sanitizer, parse_miss_event

pytestmark = pytest.mark.integration

SANITIZER, NORMALIZER = miss_sanitizer(CollectorConfig()), NoiseNormalizer(CollectorConfig())
SEND_MATCHER = "mockado-sqs-send"
JSON = {"content-type": "application/x-amz-json-1.0"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
TEXT = {"content-type": "text/plain"}
TRACE = base64.b64encode(b"\x00\xfetrace").decode()
ATTRIBUTES = {"kind": {"DataType": "String", "StringValue": "restock"},
              "trace": {"DataType": "Binary", "BinaryValue": TRACE}}  # fmt: skip
QUEUE = "http://sqs.local/000000000000/orders"


def guard(protocol: str, entries: list[str], attributes: list[str] | None = None) -> dict:
    wanted = {"protocol": protocol, "messages": entries,
              "attributes": entries if attributes is None else attributes}  # fmt: skip
    return {"customMatcher": {"name": SEND_MATCHER, "parameters": wanted}}


def send(**message: object) -> str:
    return json.dumps({"QueueUrl": QUEUE, "MessageBody": "restock aisle 7",
                       "MessageAttributes": ATTRIBUTES, **message})  # fmt: skip


def batch(*entries: dict) -> str:
    return json.dumps({"QueueUrl": QUEUE, "Entries": list(entries)})


def entry(key: str, **message: object) -> dict:
    return {"Id": key, "MessageBody": "restock aisle 7", "MessageAttributes": ATTRIBUTES,
            **message}  # fmt: skip


def form(*fields: tuple[str, str], entries: int = 1) -> str:
    out = [("Action", "SendMessageBatch"), ("QueueUrl", QUEUE)]
    for n in range(1, entries + 1):
        prefix = f"SendMessageBatchRequestEntry.{n}."
        out += [(f"{prefix}Id", f"e{n}"), (f"{prefix}MessageBody", "restock aisle 7"),
                (f"{prefix}MessageAttribute.1.Name", "kind"),
                (f"{prefix}MessageAttribute.1.Value.DataType", "String"),
                (f"{prefix}MessageAttribute.1.Value.StringValue", "restock")]  # fmt: skip
    return urllib.parse.urlencode(out + list(fields))


E1 = "SendMessageBatchRequestEntry.1."
UNREADABLE = {"trace": {"DataType": "Binary", "BinaryValue": "not base64!"}}
# (the stub's request parts, the request's headers and body), each pair one case.
CASES = [
    # SQS's JSON protocol: SendMessage.
    (guard("json", [""]), JSON, send()),
    (guard("json", [""]), JSON, send(MessageAttributes=UNREADABLE)),
    (guard("json", [""]), JSON, send(MessageAttributes={})),
    (guard("json", [""]), JSON, send(MessageAttributes={"kind": {"StringValue": "x"}})),
    (guard("json", [""]), JSON, send(MessageAttributes={"kind": {"DataType": "String"}})),
    (guard("json", [""], []), JSON, send(MessageAttributes={})),
    (guard("json", [""]), JSON, send(MessageBody=7)),
    (guard("json", [""]), JSON, send(MessageAttributes={"t": {"DataType": "Binary",
                                                              "BinaryValue": "QQ"}})),
    (guard("json", [""]), JSON, send(MessageAttributes={"t": {"DataType": "Binary",
                                                              "BinaryValue": "QQ="}})),
    (guard("json", [""]), JSON, "MessageBody=restock"),
    (guard("json", [""]), JSON, "[1, 2]"),
    # SendMessageBatch: each entry by its Id.
    (guard("json", ["a", "b"]), JSON, batch(entry("a"), entry("b"))),
    (guard("json", ["a", "b"]), JSON, batch(entry("a"))),
    (guard("json", ["a", "b"]), JSON, batch(entry("a"), entry("b", MessageAttributes=UNREADABLE))),
    (guard("json", ["a", "b"], ["a"]), JSON, batch(entry("a"), entry("b", MessageAttributes={}))),
    (guard("json", ["a"]), JSON, batch(entry("a"), entry("a", MessageAttributes=UNREADABLE))),
    (guard("json", ["a"]), JSON, batch(entry("a", MessageAttributes=UNREADABLE), entry("a"))),
    # SQS's query protocol: a form.
    (guard("form", ["e1", "e2"]), FORM, form(entries=2)),
    (guard("form", ["e1", "e3"]), FORM, form(entries=2)),
    (guard("form", ["e1"]), FORM, form((f"{E1}MessageAttribute.2.Value.DataType", "String"),
                                       (f"{E1}MessageAttribute.2.Value.StringValue", "x"))),
    (guard("form", ["e1"]), FORM, form((f"{E1}MessageAttribute.2.Name", "kind"),
                                       (f"{E1}MessageAttribute.2.Value.DataType", "String"),
                                       (f"{E1}MessageAttribute.2.Value.StringValue", "x"))),
    (guard("form", ["e1"]), FORM, form((f"{E1}MessageAttribute.2.Name", "bin"),
                                       (f"{E1}MessageAttribute.2.Value.DataType", "Binary"),
                                       (f"{E1}MessageAttribute.2.Value.BinaryValue", TRACE))),
    (guard("form", ["e1"]), FORM, form(("Action", "SendMessageBatch"))),
    # (WireMock itself fails a form-typed request it cannot decode: sent as text.)
    (guard("form", ["e1"]), TEXT, form() + "&DelaySeconds=%zz"),
    (guard("form", ["e1"]), TEXT, form() + "&DelaySeconds=%+5"),
    (guard("form", [""], []), FORM, "Action=SendMessage&MessageBody=restock&&"),
    (guard("form", [""], []), FORM, "Action=SendMessage&MessageBody=restock&&&x=1&&"),
    # A protocol the launcher does not know, and a matcher wanting no MD5 at all.
    (guard("xml", [""]), JSON, send()),
    (guard("json", [], []), JSON, "not JSON"),
]  # fmt: skip


def report_differences(parts: dict, headers: dict, body: str, path: str) -> list[dict]:
    event = {"shard": "default", "method": "POST", "host": "sqs.local", "url": path,
             "headers": headers, "body": body}  # fmt: skip
    miss = describe_miss(parse_miss_event(json.dumps(event).encode(), now_s=1.0),
                         sanitizer=SANITIZER, normalizer=NORMALIZER)  # fmt: skip
    stub = {"id": "s", "request": {"method": "POST", "urlPath": path, **parts}}
    found = closest_stub(miss, [stub])
    assert found is not None
    return [d.as_dict() for d in found.differences]


def verdict(differences: list[dict]) -> str:
    if not differences:
        return "matches"
    return "cannot tell" if all(d["kind"] == "unchecked" for d in differences) else "differs"


@pytest.fixture(scope="module")
def launcher(wiremock_factory):
    return wiremock_factory(indexed=True)


def test_the_report_agrees_with_the_launcher_on_its_sqs_send_matcher(launcher) -> None:
    run = uuid.uuid4().hex[:8]
    disagreements, verdicts = [], []
    with httpx.Client(timeout=10) as client:
        for n, (parts, headers, body) in enumerate(CASES):
            path = f"/sqs/{run}/{n}"
            stub = {"request": {"method": "POST", "urlPath": path, **parts},
                    "response": {"status": 200, "body": "stub"}}  # fmt: skip
            client.post(f"{launcher.url}/__admin/mappings", json=stub).raise_for_status()
            answer = client.post(f"{launcher.url}{path}", headers=headers, content=body.encode())
            assert answer.status_code in (200, 404), answer.text
            launchers = "matches" if answer.status_code == 200 else "differs"
            differences = report_differences(parts, headers, body, path)
            verdicts.append(launchers)
            if verdict(differences) != launchers:
                disagreements.append((n, launchers, differences))
    assert disagreements == []
    assert verdicts.count("matches") >= 5 and verdicts.count("differs") >= 10


def test_a_miss_the_matcher_alone_refuses_is_named_with_why() -> None:
    body = send(MessageAttributes=UNREADABLE)
    differences = report_differences(guard("json", [""]), JSON, body, "/sqs")
    assert differences == [{"kind": "body", "name": SEND_MATCHER,
                            "detail": "no attributes MD5 for the message: "
                                      "a binary attribute value not base64"}]  # fmt: skip
    differences = report_differences(guard("form", ["e1", "e3"]), FORM, form(), "/sqs")
    assert differences == [
        {"kind": "body", "name": SEND_MATCHER, "detail": f"no {which} MD5 for entry e3: "
                                                         "no batch entry with that Id"}
        for which in ("body", "attributes")
    ]  # fmt: skip
