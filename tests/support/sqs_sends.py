"""SQS sends whose answers give the MD5 of the message sent, recorded and replayed by real
clients: boto3 (SQS's JSON protocol) and form posts in SQS's query protocol.

A send's answer carries ``MD5OfMessageBody`` (and ``MD5OfMessageAttributes``,
``MD5OfMessageSystemAttributes``) of the request's message, and the AWS SDKs for Java and
.NET compute them over what they sent and throw when they differ. :func:`disagreement`
makes that check: the body's MD5 as the Java SDK computes it (hex of the UTF-8 body), every
other MD5 as the real server answers the same request.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import re
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from ext_proc_server.mapping.sent_messages import digest_template, send_matcher
from tests.support.boto_workload import EMAIL, REGION

QUEUE = "orders-sends"
EVENT_ID = "5b0f7c43-8d7e-4a2f-9c1e-2d6a0b9e4f11"
OTHER_EVENT_ID = "a4c1e2f3-0b9d-4c8e-8f7a-6b5d4c3b2a19"
ATTRIBUTES = {"kind": {"DataType": "String", "StringValue": "paid"}}
QUERY_VERSION = "2012-11-05"


@dataclass(frozen=True)
class Endpoint:
    """Where sends go: the URL and the access key a query-protocol send is signed with, and
    a boto3 SQS client for it (JSON protocol)."""

    url: str
    access_key: str
    sqs: Any


@dataclass(frozen=True)
class Send:
    """One send: its messages (batch entry Id, or "" for SendMessage -> body and
    attributes) and how to make it against an endpoint."""

    messages: dict[str, tuple[str, dict[str, Any]]]
    call: Callable[[str, Endpoint], httpx.Response | dict[str, Any]]


def _json_send(
    body: str, attributes: dict[str, Any] | None = None, system: dict[str, Any] | None = None
) -> Send:
    """``system``: its system attributes (a trace header)."""

    def call(queue_url: str, endpoint: Endpoint) -> dict[str, Any]:
        extra = {"MessageAttributes": attributes} if attributes else {}
        if system:
            extra["MessageSystemAttributes"] = system
        return endpoint.sqs.send_message(QueueUrl=queue_url, MessageBody=body, **extra)

    return Send({"": (body, attributes or {})}, call)


def _json_batch(
    entries: dict[str, str],
    attributes: dict[str, Any] | None = None,
    system: dict[str, Any] | None = None,
) -> Send:
    """A batch; ``attributes`` and ``system`` (system attributes): the first entry's."""

    def call(queue_url: str, endpoint: Endpoint) -> dict[str, Any]:
        sent = [{"Id": key, "MessageBody": body} for key, body in entries.items()]
        if attributes:
            sent[0]["MessageAttributes"] = attributes
        if system:
            sent[0]["MessageSystemAttributes"] = system
        return endpoint.sqs.send_message_batch(QueueUrl=queue_url, Entries=sent)

    return Send({key: (body, {}) for key, body in entries.items()}, call)


def _query_post(endpoint: Endpoint, fields: list[tuple[str, str]] | str) -> httpx.Response:
    """A form post in SQS's query protocol, SigV4-signed as an SDK signs it (``fields``:
    the form's pairs, or its text as sent)."""
    form = fields if isinstance(fields, str) else urllib.parse.urlencode(fields)
    headers = {"content-type": "application/x-www-form-urlencoded; charset=utf-8"}
    signed = AWSRequest("POST", f"{endpoint.url}/", data=form, headers=headers)
    credentials = Credentials(endpoint.access_key, f"{endpoint.access_key}-secret")
    SigV4Auth(credentials, "sqs", REGION).add_auth(signed)
    return httpx.post(
        f"{endpoint.url}/", content=form.encode(), headers=dict(signed.headers.items()), timeout=10
    )


def _attribute_fields(
    prefix: str, attributes: dict[str, Any], kind: str = "MessageAttribute"
) -> list[tuple[str, str]]:
    """The form fields of ``attributes`` (``kind``: "MessageSystemAttribute" for system
    attributes)."""
    fields = []
    for n, (name, value) in enumerate(attributes.items(), start=1):
        given = f"{prefix}{kind}.{n}.Value."
        fields += [(f"{prefix}{kind}.{n}.Name", name),
                   (f"{given}DataType", value["DataType"])]  # fmt: skip
        if "BinaryValue" in value:
            fields.append((f"{given}BinaryValue", base64.b64encode(value["BinaryValue"]).decode()))
        else:
            fields.append((f"{given}StringValue", value["StringValue"]))
    return fields


def _query_send(
    body: str, attributes: dict[str, Any] | None = None, system: dict[str, Any] | None = None
) -> Send:
    def call(queue_url: str, endpoint: Endpoint) -> httpx.Response:
        fields = [("Action", "SendMessage"), ("Version", QUERY_VERSION),
                  ("QueueUrl", queue_url), ("MessageBody", body)]  # fmt: skip
        fields += _attribute_fields("", attributes or {})
        fields += _attribute_fields("", system or {}, "MessageSystemAttribute")
        return _query_post(endpoint, fields)

    return Send({"": (body, attributes or {})}, call)


def _query_batch(entries: dict[str, tuple[str, dict[str, Any]]]) -> Send:
    def call(queue_url: str, endpoint: Endpoint) -> httpx.Response:
        fields = [("Action", "SendMessageBatch"), ("Version", QUERY_VERSION),
                  ("QueueUrl", queue_url)]  # fmt: skip
        for n, (key, (body, attributes)) in enumerate(entries.items(), start=1):
            prefix = f"SendMessageBatchRequestEntry.{n}."
            fields += [(f"{prefix}Id", key), (f"{prefix}MessageBody", body)]
            fields += _attribute_fields(prefix, attributes)
        return _query_post(endpoint, fields)

    return Send(entries, call)


def unescaped_send(body: str) -> Send:
    """A query-protocol send whose form holds ``body`` as it is, a "%" not escaped, as a
    form written by hand may: the server reads the "%" as it came."""

    def call(queue_url: str, endpoint: Endpoint) -> httpx.Response:
        head = [("Action", "SendMessage"), ("Version", QUERY_VERSION), ("QueueUrl", queue_url)]
        return _query_post(endpoint, f"{urllib.parse.urlencode(head)}&MessageBody={body}")

    return Send({"": (body, {})}, call)


def recorded_sends() -> dict[str, Send]:
    """The sends recorded, each answered by the real server (names: protocol and kind)."""
    plain = f'{{"order": 8, "event": "{EVENT_ID}"}}'
    return {
        "json plain": _json_send(plain, ATTRIBUTES),
        "json sanitized": _json_send(f'{{"order": 7, "buyer": "{EMAIL}"}}'),
        "json batch": _json_batch({"a": "first", "b": f"second {EVENT_ID}"}),
        "query plain": _query_send(f"hello {EVENT_ID}", ATTRIBUTES),
        "query sanitized": _query_send(f"call {EMAIL} back"),
        "query batch": _query_batch({"a": ("first", ATTRIBUTES), "b": (EVENT_ID, {})}),
    }


def canary_sends() -> dict[str, Send]:
    """The recorded sends again, and others a canary makes to the same stubs: another
    event id, another address, another body, one more attribute."""
    other = {**ATTRIBUTES, "tier": {"DataType": "String", "StringValue": "gold"}}
    return {
        **recorded_sends(),
        "json another event": _json_send(
            f'{{"order": 8, "event": "{OTHER_EVENT_ID}"}}', ATTRIBUTES
        ),
        "json another address": _json_send('{"order": 7, "buyer": "joao.souza@example.org"}'),
        "json another body": _json_send('{"order": 9, "status": "late"}', ATTRIBUTES),
        "json one more attribute": _json_send(f'{{"order": 8, "event": "{EVENT_ID}"}}', other),
        "json batch another event": _json_batch({"a": "first", "b": f"second {OTHER_EVENT_ID}"}),
        "query another event": _query_send(f"hello {OTHER_EVENT_ID}", ATTRIBUTES),
        "query another address": _query_send("call joao.souza@example.org back"),
        "query one more attribute": _query_send(f"hello {EVENT_ID}", other),
        "query batch one more attribute": _query_batch(
            {"a": ("first", other), "b": (EVENT_ID, {})}
        ),
        "query batch another event": _query_batch(
            {"a": ("first", ATTRIBUTES), "b": (OTHER_EVENT_ID, {})}
        ),
    }


# A binary attribute (a trace context's bytes): its MD5 covers the decoded bytes.
TRACE = {"DataType": "Binary", "BinaryValue": bytes([0, 1, 2, 254, 255]) + b"trace"}


def fresh_sends() -> dict[str, Send]:
    """Sends as an app makes them, each call with new noise in its bodies (an event id, a
    timestamp), some with a binary attribute; the same names each call. Recorded once, a
    canary's replay sends other bodies."""
    event, at = str(uuid.uuid4()), datetime.datetime.now(datetime.UTC).isoformat()
    attributes = {**ATTRIBUTES, "trace": TRACE}
    document = f'{{"order": 8, "event": "{event}", "at": "{at}"}}'
    return {
        "json fresh": _json_send(document, attributes),
        "json batch fresh": _json_batch(
            {"a": document, "b": f"second {event}"}, {**ATTRIBUTES, "trace": TRACE}
        ),
        "query fresh": _query_send(f"hello {event} at {at}", attributes),
        "query batch fresh": _query_batch(
            {"a": (f"first {event}", attributes), "b": (str(uuid.uuid4()), {})}
        ),
    }


def trace_header() -> dict[str, Any]:
    """An X-Ray trace header (system attributes), as an instrumented app sends it with the
    messages of one trace."""
    root = f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}"
    value = f"{root};Parent={uuid.uuid4().hex[:16]};Sampled=1"
    return {"AWSTraceHeader": {"DataType": "String", "StringValue": value}}


def traced_sends(trace: dict[str, Any]) -> dict[str, Send]:
    """Sends of one trace (a job's run): ``trace`` among their system attributes, and new
    noise in their bodies each call. Their answers give MD5s the launcher does not compute
    (real SQS gives the system attributes' too), so their stubs hold each message as
    recorded."""
    event, at = str(uuid.uuid4()), datetime.datetime.now(datetime.UTC).isoformat()
    document = f'{{"order": 8, "event": "{event}", "at": "{at}"}}'
    return {
        "json traced": _json_send(document, ATTRIBUTES, trace),
        "json batch traced": _json_batch({"a": document, "b": f"second {event}"}, None, trace),
        "query traced": _query_send(f"hello {event} at {at}", ATTRIBUTES, trace),
    }


def fresh_canary_sends() -> dict[str, Send]:
    """:func:`fresh_sends` again (other noise), and sends no recording gives the MD5s of:
    one more batch entry, one attribute less."""
    event = str(uuid.uuid4())
    document = f'{{"order": 8, "event": "{event}", "at": "2026-01-02T03:04:05+00:00"}}'
    return {
        **fresh_sends(),
        "json batch one more entry": _json_batch(
            {"a": document, "b": f"second {event}", "c": "third"}, {**ATTRIBUTES, "trace": TRACE}
        ),
        "query one attribute less": _query_send(f"hello {event} at now", ATTRIBUTES),
    }


_XML_ENTRY = re.compile(r"<(SendMessageResult|SendMessageBatchResultEntry)>(.*?)</\1>", re.DOTALL)
_XML_FIELD = re.compile(r"<(Id|MD5Of\w+)>([^<]*)</\1>")


def answered_md5s(answer: httpx.Response | dict[str, Any]) -> dict[str, dict[str, str]] | None:
    """Each message's MD5s in a send's answer (entry Id, "" for SendMessage -> field ->
    MD5), or None when no stub gave it (WireMock's miss) or it is an error."""
    if isinstance(answer, httpx.Response):
        if answer.status_code != 200:
            return None
        out: dict[str, dict[str, str]] = {}
        for found in _XML_ENTRY.finditer(answer.text):
            fields = dict(_XML_FIELD.findall(found.group(2)))
            out[fields.pop("Id", "")] = fields
        return out
    entries = answer.get("Successful")
    if entries is None:
        return {"": {k: v for k, v in answer.items() if k.startswith("MD5Of")}}
    return {e["Id"]: {k: v for k, v in e.items() if k.startswith("MD5Of")} for e in entries}


def make(send: Send, queue_url: str, endpoint: Endpoint) -> dict[str, dict[str, str]] | None:
    """``send`` made -> its MD5s, or None for a miss or an error."""
    try:
        return answered_md5s(send.call(queue_url, endpoint))
    except ClientError:
        return None


def tally(
    sends: dict[str, Send], queue_url: str, mock: Endpoint, server: Endpoint
) -> dict[str, list[str]]:
    """Each send made against the mock and the real server -> its names by verdict: "right"
    (answered, every MD5 as the server answers it and the body's as a client computes
    it), "wrong" (answered otherwise; with why) or "miss"."""
    out: dict[str, list[str]] = {"right": [], "wrong": [], "miss": []}
    for name, send in sends.items():
        got = make(send, queue_url, mock)
        if got is None:
            out["miss"].append(name)
            continue
        problem = disagreement(send, got, make(send, queue_url, server))
        out["wrong" if problem else "right"].append(f"{name}: {problem}" if problem else name)
    return out


def disagreement(
    send: Send, answered: dict[str, dict[str, str]], truth: dict[str, dict[str, str]]
) -> str:
    """Why a client checking ``answered`` against what it sent would throw ("" when it
    would not): a body whose MD5 is not the answer's (as the Java SDK computes it), or an
    MD5 the real server (``truth``) answers otherwise."""
    problems = []
    for key, (body, _attributes) in send.messages.items():
        got = answered.get(key, {})
        body_md5 = hashlib.md5(body.encode("utf-8"), usedforsecurity=False).hexdigest()
        if got.get("MD5OfMessageBody") != body_md5:
            problems.append(f"{key or 'message'}: MD5OfMessageBody {got.get('MD5OfMessageBody')}")
        if got != truth.get(key):
            problems.append(f"{key or 'message'}: {got} where the server answers {truth.get(key)}")
    return "; ".join(problems)


def digests_stub(path: str, protocol: str, entries: list[str], *, separator: str = " ") -> dict:
    """A stub at ``path`` answering each of ``entries``' body and attributes MD5s, as the
    launcher computes them over the send it answers, joined by ``separator``."""
    md5s = separator.join(
        digest_template(protocol, key, which) for key in entries for which in ("body", "attributes")
    )
    return {
        "request": {"method": "POST", "urlPath": path,
                    "customMatcher": send_matcher(protocol, entries, entries)},
        "response": {"status": 200, "body": md5s, "transformers": ["response-template"]},
    }  # fmt: skip
