"""An SQS send's answer gives the MD5s of the message sent: a send whose message had a value
sanitized gets no stub, and every other one's stub holds the message as recorded
(``tests/integration/test_replay_sqs_sends.py`` replays them against WireMock)."""

from __future__ import annotations

import hashlib
import json

from ext_proc_server.core.exchange import HttpResponse
from ext_proc_server.mapping import skip_reason
from ext_proc_server.mapping.sent_messages import attributes_md5
from tests.unit.mapping.mapping_helpers import build, make_exchange

SENT = '{"order": 7, "buyer": "maria.silva@example.com"}'
SANITIZED = '{"order": 7, "buyer": "SANITIZED_EMAIL"}'
JSON_SEND = (("x-amz-target", "AmazonSQS.SendMessage"),
             ("content-type", "application/x-amz-json-1.0"))  # fmt: skip
# moto's answer to an attribute "kind", a string "paid".
KIND_PAID_MD5 = "d3cea5cad2741d369c1de42c5913a1e4"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _send(message: str, *, answered_for: str, status: int = 200):
    body = json.dumps({"QueueUrl": "http://sqs/1/q", "MessageBody": message}).encode()
    answer = {"MD5OfMessageBody": _md5(answered_for), "MessageId": "m-1"} if status == 200 else {}
    response = HttpResponse(
        status=status, headers=(("content-type", "application/x-amz-json-1.0"),),
        body=json.dumps(answer or {"__type": "QueueDoesNotExist"}).encode(),
    )  # fmt: skip
    return make_exchange(method="POST", path="/", headers=JSON_SEND, body=body, response=response)


def test_a_send_whose_message_was_sanitized_gets_no_stub() -> None:
    assert skip_reason(_send(SANITIZED, answered_for=SENT)) == "request_message_sanitized"
    # Before it is sanitized, the answer is of the message as held.
    raw = _send(SENT, answered_for=SENT).replace(sanitized=False)
    assert skip_reason(raw) == ""


def test_a_send_answered_with_the_md5_of_its_message_holds_that_message() -> None:
    message = '{"order": 8, "event": "5b0f7c43-8d7e-4a2f-9c1e-2d6a0b9e4f11"}'
    mapping = build(_send(message, answered_for=message))
    assert mapping is not None
    patterns = mapping["request"]["bodyPatterns"]
    assert {"matchesJsonPath": {"expression": "$.MessageBody", "equalTo": message}} in patterns
    absent = {"matchesJsonPath": {"expression": "$.MessageAttributes", "absent": True}}
    assert absent in patterns


def test_an_answer_without_md5s_keeps_its_matchers() -> None:
    exchange = _send(SANITIZED, answered_for=SENT, status=400)
    assert skip_reason(exchange) == ""
    mapping = build(exchange)
    assert mapping is not None
    assert not any("matchesJsonPath" in p for p in mapping["request"]["bodyPatterns"])


def test_attributes_md5_is_sqs_own() -> None:
    assert attributes_md5({"kind": {"DataType": "String", "StringValue": "paid"}}) == KIND_PAID_MD5
    # Attributes in another order give the same MD5; an unreadable one gives none.
    two = {"b": {"DataType": "Number", "StringValue": "1"},
           "a": {"DataType": "Binary", "BinaryValue": "AAE="}}  # fmt: skip
    assert attributes_md5(two) == attributes_md5(dict(reversed(list(two.items()))))
    assert attributes_md5({"a": {"DataType": "String"}}) is None
