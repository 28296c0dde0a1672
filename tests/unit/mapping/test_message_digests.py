"""An SQS message's MD5OfBody, written again over the body the stub serves: the Java and
.NET SDKs refuse a message whose MD5 does not give its body."""

from __future__ import annotations

import hashlib
import json

from ext_proc_server.core.exchange import HttpResponse
from ext_proc_server.mapping.message_digests import with_message_digests
from tests.unit.mapping.mapping_helpers import build, make_exchange

ORIGINAL = '{"order": 7, "buyer": "maria.silva@example.com"}'
SERVED = '{"order": 7, "buyer": "SANITIZED_EMAIL"}'


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _received(body: str, md5: str) -> bytes:
    message = {"MessageId": "m-1", "ReceiptHandle": "r", "MD5OfBody": md5, "Body": body}
    return json.dumps({"Messages": [message]}).encode()


def test_a_sanitized_message_gets_the_md5_of_its_served_body() -> None:
    response = HttpResponse(
        status=200,
        headers=(("content-type", "application/x-amz-json-1.0"),),
        body=_received(SERVED, _md5(ORIGINAL)),
    )
    mapping = build(make_exchange(method="POST", response=response))
    assert mapping is not None
    served = json.loads(mapping["response"]["body"])["Messages"][0]
    assert served["MD5OfBody"] == _md5(SERVED) and served["Body"] == SERVED
    assert mapping["response"]["body"].encode() == _received(SERVED, _md5(SERVED))


def test_the_query_protocol_answer_too() -> None:
    escaped = SERVED.replace('"', "&quot;")
    xml = (
        "<ReceiveMessageResponse><ReceiveMessageResult><Message><MessageId>m-1</MessageId>"
        f"<MD5OfBody>{_md5(ORIGINAL)}</MD5OfBody><Body>{escaped}</Body></Message>"
        "</ReceiveMessageResult></ReceiveMessageResponse>"
    )
    served = with_message_digests(HttpResponse(status=200, body=xml.encode()))
    assert served.body == xml.replace(_md5(ORIGINAL), _md5(SERVED)).encode()


def test_a_message_served_as_it_came_keeps_its_answer() -> None:
    response = HttpResponse(status=200, body=_received(ORIGINAL, _md5(ORIGINAL)))
    assert with_message_digests(response) is response
    other = HttpResponse(status=200, body=b'{"MD5OfBody": "not a message"}')
    assert with_message_digests(other) is other
