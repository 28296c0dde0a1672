"""An SQS send's answer gives the MD5s of the message sent: its stub computes them at serve
time (mockado's launcher), or, for MD5s the launcher does not compute (system attributes),
holds the message as recorded, and a send whose message had a value sanitized gets no stub
(``tests/integration/test_replay_sqs_sends.py`` replays them against WireMock)."""

from __future__ import annotations

import hashlib
import json

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import HttpResponse
from ext_proc_server.mapping import Deduplicator, NoiseNormalizer, skip_reason
from ext_proc_server.mapping.sent_messages import (
    attributes_md5,
    computes_digests,
    exact_repeats_hash,
    pinned_message_key,
)
from ext_proc_server.mapping.stubs import exact_repeats_mapping, mapping_id
from tests.unit.mapping.mapping_helpers import build, make_exchange

SENT = '{"order": 7, "buyer": "maria.silva@example.com"}'
SANITIZED = '{"order": 7, "buyer": "SANITIZED_EMAIL"}'
JSON_SEND = (("x-amz-target", "AmazonSQS.SendMessage"),
             ("content-type", "application/x-amz-json-1.0"))  # fmt: skip
# moto's answer to an attribute "kind", a string "paid".
KIND_PAID_MD5 = "d3cea5cad2741d369c1de42c5913a1e4"
# The launcher's matcher (MockadoWireMock.SqsDigests), as a stub names it.
SEND_MATCHER = "mockado-sqs-send"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


# Two event ids: noise, each message's own.
EVENTS = ("5b0f7c43-8d7e-4a2f-9c1e-2d6a0b9e4f11", "a4c1e2f3-0b9d-4c8e-8f7a-6b5d4c3b2a19")
TRACE = {"AWSTraceHeader": {"DataType": "String", "StringValue": "Root=1-5759e988"}}


def _send(message: str, *, answered_for: str, status: int = 200, system: bool = False):
    sent: dict = {"QueueUrl": "http://sqs/1/q", "MessageBody": message}
    answer = {"MD5OfMessageBody": _md5(answered_for), "MessageId": "m-1"} if status == 200 else {}
    if system:
        sent["MessageSystemAttributes"] = TRACE
        if answer:
            answer["MD5OfMessageSystemAttributes"] = attributes_md5(TRACE)
    response = HttpResponse(
        status=status, headers=(("content-type", "application/x-amz-json-1.0"),),
        body=json.dumps(answer or {"__type": "QueueDoesNotExist"}).encode(),
    )  # fmt: skip
    body = json.dumps(sent).encode()
    return make_exchange(method="POST", path="/", headers=JSON_SEND, body=body, response=response)


def test_a_send_whose_message_was_sanitized_gets_a_stub_computing_its_md5s() -> None:
    exchange = _send(SANITIZED, answered_for=SENT)
    assert skip_reason(exchange) == ""
    mapping = build(exchange)
    assert mapping is not None
    request, response = mapping["request"], mapping["response"]
    assert request["customMatcher"] == {
        "name": SEND_MATCHER,
        "parameters": {"protocol": "json", "messages": [""], "attributes": []},
    }
    # No MD5 of the recorded message is served: the launcher computes it over the request.
    assert _md5(SENT) not in json.dumps(mapping)
    assert json.loads(response["body"].replace("{{", "<").replace("}}", ">")) == {
        "MD5OfMessageBody": "<mockadoSqsMd5 request.body 'json' '' 'body'>",
        "MessageId": "m-1",
    }
    assert response["transformers"] == ["response-template"]
    patterns = request["bodyPatterns"]
    assert not any(p.get("matchesJsonPath", {}).get("equalTo") == SANITIZED for p in patterns)
    absent = {"matchesJsonPath": {"expression": "$.MessageAttributes", "absent": True}}
    assert absent in patterns


def test_a_send_with_system_attributes_sanitized_gets_no_stub() -> None:
    # The launcher does not compute the system attributes' MD5: only the recorded one is.
    exchange = _send(SANITIZED, answered_for=SENT, system=True)
    assert skip_reason(exchange) == "request_message_sanitized"
    # Before it is sanitized, the answer is of the message as held.
    raw = _send(SENT, answered_for=SENT, system=True).replace(sanitized=False)
    assert skip_reason(raw) == ""


def test_a_send_with_system_attributes_holds_its_message() -> None:
    message = '{"order": 8, "event": "5b0f7c43-8d7e-4a2f-9c1e-2d6a0b9e4f11"}'
    mapping = build(_send(message, answered_for=message, system=True))
    assert mapping is not None
    assert "customMatcher" not in mapping["request"]
    patterns = mapping["request"]["bodyPatterns"]
    assert {"matchesJsonPath": {"expression": "$.MessageBody", "equalTo": message}} in patterns
    exact = {"matchesJsonPath": {"expression": "$.MessageSystemAttributes", "equalToJson": TRACE}}
    assert exact in patterns


def _form_batch(ids: tuple[str, str]):
    form = ("Action=SendMessageBatch&QueueUrl=http%3A%2F%2Fsqs%2F1%2Fq"
            f"&SendMessageBatchRequestEntry.1.Id={ids[0]}&SendMessageBatchRequestEntry.1.MessageBody=same"
            "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Name=kind"
            "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.DataType=String"
            "&SendMessageBatchRequestEntry.1.MessageAttribute.1.Value.StringValue=paid"
            f"&SendMessageBatchRequestEntry.2.Id={ids[1]}&SendMessageBatchRequestEntry.2.MessageBody=same")  # fmt: skip
    entries = "".join(
        f"<SendMessageBatchResultEntry><Id>{key}</Id><MessageId>m-{key}</MessageId>"
        f"<MD5OfMessageBody>{_md5('same')}</MD5OfMessageBody>{extra}"
        "</SendMessageBatchResultEntry>"
        for key, extra in ((ids[0], f"<MD5OfMessageAttributes>{KIND_PAID_MD5}</MD5OfMessageAttributes>"),
                           (ids[1], ""))
    )  # fmt: skip
    answer = ("<SendMessageBatchResponse><SendMessageBatchResult>"
              f"{entries}</SendMessageBatchResult></SendMessageBatchResponse>")  # fmt: skip
    response = HttpResponse(status=200, headers=(("content-type", "text/xml"),),
                            body=answer.encode())  # fmt: skip
    form_type = (("content-type", "application/x-www-form-urlencoded"),)
    return make_exchange(method="POST", path="/", headers=form_type, body=form.encode(),
                         response=response)  # fmt: skip


def test_a_batch_answer_computes_each_entry_md5_by_its_id() -> None:
    mapping = build(_form_batch(("a-1", "b_2")))
    assert mapping is not None
    body = mapping["response"]["body"]
    # Two entries with the same body: each MD5 is of its own entry's message, by its Id.
    assert body.count("{{mockadoSqsMd5 request.body 'form' 'a-1' 'body'}}") == 1
    assert body.count("{{mockadoSqsMd5 request.body 'form' 'b_2' 'body'}}") == 1
    assert body.count("{{mockadoSqsMd5 request.body 'form' 'a-1' 'attributes'}}") == 1
    assert _md5("same") not in body and "<Id>a-1</Id>" in body
    request = mapping["request"]
    assert request["customMatcher"]["parameters"] == {
        "protocol": "form", "messages": ["a-1", "b_2"], "attributes": ["a-1"]
    }  # fmt: skip
    # The entries and the attribute names say which MD5s the answer gives: held as sent.
    parameters = request["formParameters"]
    assert parameters["SendMessageBatchRequestEntry.2.Id"] == {"hasExactly": [{"equalTo": "b_2"}]}
    name = parameters["SendMessageBatchRequestEntry.1.MessageAttribute.1.Name"]
    assert name == {"hasExactly": [{"equalTo": "kind"}]}
    assert any("doesNotMatch" in p for p in request["bodyPatterns"])
    # An entry Id SQS would refuse, which a template could not hold as it is: pinned.
    mapping = build(_form_batch(("a'1", "b")))
    assert mapping is not None
    assert "customMatcher" not in mapping["request"]
    assert _md5("same") in mapping["response"]["body"]
    body = mapping["request"]["formParameters"]["SendMessageBatchRequestEntry.1.MessageBody"]
    assert body == {"hasExactly": [{"equalTo": "same"}]}


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


# -- exact repeats where the launcher does not serve ---------------------------------------


def _beside(exchange, **config):
    """(the send's stub, the stub answering its exact repeats or None), as the pipeline
    builds them."""
    cfg = CollectorConfig(**config)
    normalizer = NoiseNormalizer(cfg)
    stub_hash = Deduplicator(cfg, normalizer=normalizer).keys(exchange).stub_hash
    mapping = build(exchange, **config)
    assert mapping is not None
    twin = exact_repeats_mapping(exchange, mapping, stub_hash=stub_hash, normalizer=normalizer)
    return mapping, twin, stub_hash


def test_a_send_computing_its_md5s_gets_a_stub_of_the_recorded_ones_beside_it() -> None:
    message = '{"order": 8, "event": "5b0f7c43-8d7e-4a2f-9c1e-2d6a0b9e4f11"}'
    mapping, twin, stub_hash = _beside(_send(message, answered_for=message))
    assert twin is not None and computes_digests(mapping) and not computes_digests(twin)
    assert twin["id"] == mapping_id(exact_repeats_hash(stub_hash)) != mapping["id"]
    # Tried after the stub computing the MD5s: the launcher answers from that one.
    assert twin["priority"] == mapping["priority"] + 1
    # The recorded message exactly, answered with its own MD5s, as recorded.
    pinned_body = {"matchesJsonPath": {"expression": "$.MessageBody", "equalTo": message}}
    assert pinned_body in twin["request"]["bodyPatterns"]
    assert json.loads(twin["response"]["body"])["MD5OfMessageBody"] == _md5(message)
    assert "transformers" not in twin["response"]
    assert twin["metadata"]["mockado"]["hash"] == exact_repeats_hash(stub_hash)


def test_no_exact_repeats_stub_where_the_recorded_md5s_are_not_the_matched_message() -> None:
    # Sanitized: the recorded MD5s are of the address, the stub would match its pseudonym.
    assert _beside(_send(SANITIZED, answered_for=SENT))[1] is None
    # Pinned already (system attributes), and an answer without MD5s.
    assert _beside(_send(SENT, answered_for=SENT, system=True))[1] is None
    assert _beside(_send(SENT, answered_for=SENT, status=400))[1] is None
    # A scenario's stub: a later answer of the same send waits for its state.
    assert _beside(_send(SENT, answered_for=SENT), stateful_scenarios=True)[1] is None


def _traced(event: str, *, system: bool = True):
    message = f'{{"order": 8, "event": "{event}"}}'
    return _send(message, answered_for=message, system=system)


def test_pinned_sends_differing_in_noise_are_each_their_own_stub() -> None:
    dedup = Deduplicator(CollectorConfig())
    first, again = _traced(EVENTS[0]), _traced(EVENTS[0])
    other = _traced(EVENTS[1])
    # Each stub holds its message, noise included: another event id is another stub.
    assert dedup.keys(first) == dedup.keys(again)
    assert dedup.keys(first).stub_hash != dedup.keys(other).stub_hash
    assert dedup.keys(first).dedup_hash != dedup.keys(other).dedup_hash
    # A send whose stub computes its MD5s answers any such message: one stub, one key.
    computed = [dedup.keys(_traced(event, system=False)) for event in EVENTS]
    assert computed[0].dedup_hash == computed[1].dedup_hash
    assert computed[0].stub_hash == computed[1].stub_hash
    assert pinned_message_key(_traced(EVENTS[0], system=False)) is None


def test_a_pinned_form_send_keys_the_fields_its_stub_holds() -> None:
    dedup = Deduplicator(CollectorConfig())
    recorded = _form_batch(("a'1", "b"))
    assert "customMatcher" not in (build(recorded) or {})["request"]
    body = recorded.request.body
    # The same batch with another queue URL (not a message field): its key moves as before.
    held = pinned_message_key(recorded)
    moved = recorded.request.replace(body=body.replace(b"sqs%2F1", b"sqs%2F2"))
    assert held is not None and pinned_message_key(recorded.replace(request=moved)) == held
    # Bodies differing only in noise (an event id): each its own message, its own stub.
    first, second = (
        recorded.replace(request=recorded.request.replace(body=body.replace(b"=same", b"=" + e)))
        for e in (EVENTS[0].encode(), EVENTS[1].encode())
    )
    assert pinned_message_key(first) != pinned_message_key(second)
    assert dedup.keys(first).stub_hash != dedup.keys(second).stub_hash
