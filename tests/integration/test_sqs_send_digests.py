"""mockado's launcher computes an SQS send's MD5s over the request it answers (the template
helper ``mockadoSqsMd5``), and its matcher ``mockado-sqs-send`` takes only a send whose MD5s
it computes; checked against the MD5s as SQS documents them (``attributes_md5``, the body's
UTF-8 bytes), which ``test_replay_sqs_sends.py`` checks against moto."""

from __future__ import annotations

import base64
import concurrent.futures
import hashlib
import json
import urllib.parse

import httpx
import pytest

from ext_proc_server.mapping.sent_messages import attributes_md5
from tests.support.raw_capture import import_into
from tests.support.sqs_sends import digests_stub

pytestmark = pytest.mark.integration

BODY = '{"note": "olá, 世界", "at": "2026-12-06T15:20:18Z"}'
ATTRIBUTES = {
    "kind": {"DataType": "String", "StringValue": "paid"},
    "trace": {"DataType": "Binary", "BinaryValue": base64.b64encode(b"\x00\xfe\xfftrace").decode()},
    "n": {"DataType": "Number.int", "StringValue": "7"},
}


def _form(prefix: str, body: str, attributes: dict) -> list[tuple[str, str]]:
    fields = [(f"{prefix}MessageBody", body)]
    for n, (name, value) in enumerate(attributes.items(), start=1):
        kind = "BinaryValue" if "BinaryValue" in value else "StringValue"
        fields += [(f"{prefix}MessageAttribute.{n}.Name", name),
                   (f"{prefix}MessageAttribute.{n}.Value.DataType", value["DataType"]),
                   (f"{prefix}MessageAttribute.{n}.Value.{kind}", value[kind])]  # fmt: skip
    return fields


@pytest.fixture(scope="module")
def launcher(wiremock_factory):
    server = wiremock_factory(indexed=True)
    import_into(
        server, [digests_stub("/json", "json", [""]), digests_stub("/form", "form", ["b-2"])]
    )
    return server


def test_the_launcher_computes_the_md5s_sqs_documents(launcher) -> None:
    expected = f"{hashlib.md5(BODY.encode()).hexdigest()} {attributes_md5(ATTRIBUTES)}"
    sent = json.dumps({"QueueUrl": "q", "MessageBody": BODY, "MessageAttributes": ATTRIBUTES})
    got = httpx.post(f"{launcher.url}/json", content=sent.encode(), timeout=10)
    assert (got.status_code, got.text) == (200, expected)
    # A batch in a form: the entry by its Id, wherever it is in the form.
    fields = [("Action", "SendMessageBatch"), ("SendMessageBatchRequestEntry.1.Id", "a")]
    fields += _form("SendMessageBatchRequestEntry.1.", "first", {})
    fields += [("SendMessageBatchRequestEntry.2.Id", "b-2")]
    fields += _form("SendMessageBatchRequestEntry.2.", BODY, ATTRIBUTES)
    form = urllib.parse.urlencode(fields)
    headers = {"content-type": "application/x-www-form-urlencoded"}
    got = httpx.post(f"{launcher.url}/form", content=form, headers=headers, timeout=10)
    assert (got.status_code, got.text) == (200, expected)


def test_a_send_whose_md5s_cannot_be_computed_is_not_matched(launcher) -> None:
    headers = {"content-type": "application/x-www-form-urlencoded"}
    unreadable = {"trace": {"DataType": "Binary", "BinaryValue": "not base64!"}}
    # A batch without the entry "b-2" the answer gives the MD5s of.
    other_entry = [("SendMessageBatchRequestEntry.1.Id", "a"),
                   *_form("SendMessageBatchRequestEntry.1.", BODY, ATTRIBUTES)]  # fmt: skip
    cases = [
        ("/json", json.dumps({"MessageBody": BODY})),  # no attributes to give the MD5 of
        ("/json", json.dumps({"MessageBody": BODY, "MessageAttributes": unreadable})),
        ("/json", "not json"),
        ("/form", urllib.parse.urlencode(other_entry)),
    ]
    computable = json.dumps({"MessageBody": BODY, "MessageAttributes": ATTRIBUTES})
    statuses = [
        httpx.post(f"{launcher.url}{path}", content=body, headers=headers, timeout=10).status_code
        for path, body in [("/json", computable), *cases]
    ]
    assert statuses == [200] + [404] * len(cases)


def test_each_of_many_concurrent_sends_is_answered_with_its_own_md5s(launcher) -> None:
    # The launcher keeps each request's parse under that request's id until it is answered:
    # sends served at once on WireMock's threads must never see another one's.
    def one(n: int) -> bool:
        message = f"{BODY} #{n}"
        attributes = {**ATTRIBUTES, "n": {"DataType": "Number", "StringValue": str(n)}}
        sent = json.dumps({"MessageBody": message, "MessageAttributes": attributes})
        got = httpx.post(f"{launcher.url}/json", content=sent.encode(), timeout=30)
        expected = f"{hashlib.md5(message.encode()).hexdigest()} {attributes_md5(attributes)}"
        return (got.status_code, got.text) == (200, expected)

    with concurrent.futures.ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(one, range(400)))
    assert answers.count(True) == len(answers)
