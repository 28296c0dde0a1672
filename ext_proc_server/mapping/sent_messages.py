"""An SQS send, whose answer gives the MD5s of the message sent: its stub computes them over
the message it answers, or answers the recorded message alone.

SQS answers ``SendMessage`` with ``MD5OfMessageBody`` (and ``MD5OfMessageAttributes``,
``MD5OfMessageSystemAttributes``) of the request's message, and ``SendMessageBatch`` with
each entry's, by its ``Id``: in JSON to a client of the JSON protocol (``X-Amz-Target:
AmazonSQS.SendMessage``), in XML to one of the query protocol (``Action=SendMessage`` in a
form). The AWS SDKs for Java and .NET compute them over what they sent and throw when they
differ. Stock WireMock's templating has no digest helper; mockado's launcher
(``control_plane/wiremock/MockadoWireMock.java``) adds one. So:

* A send whose answer gives only MD5s of bodies and message attributes (no system
  attributes), each entry's ``Id`` a plain one, gets a stub computing them at serve time
  (:func:`answering_sends`): matched as mockado matches any request (the body with its noise
  and sanitized values as any value), plus the same attribute names and batch entries; its
  answer is a template calling the launcher's ``mockadoSqsMd5`` helper where each MD5 was,
  and it carries the launcher's ``mockado-sqs-send`` request matcher, so that it matches
  only a send the helper computes them for, and never on stock WireMock (a miss there,
  never another message's MD5s).
* Any other send whose answer's MD5s do not give its message as sanitized (a value of the
  body or an attribute was replaced) gets no stub: ``request_message_sanitized``
  (:func:`answer_served`).
* Every other send's stub matches the message's fields the MD5s cover as recorded
  (:func:`pinned`): the body (``equalTo``, noise included), the attributes and system
  attributes exactly or absent, a batch entry's ``Id``; in a form, no attribute or batch
  entry the recording did not send. Another message is a clear miss. Those fields are part
  of its dedup key (:func:`pinned_message_key`): two such sends differing only in noise
  are two stubs, each answering its own message.
* A send whose stub computes its MD5s, and whose message the sanitizer left as it was
  (:func:`answer_agrees`), gets a second stub (:func:`exact_repeats`): pinned as above,
  answering the recorded MD5s, one priority step after the first. The launcher answers from
  the first; stock WireMock, where the first never matches, answers that message's exact
  repeats from the second (the recorded MD5s are right for that message alone).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import html
import json
import re
import uuid
from collections.abc import Iterator
from typing import Any

from ext_proc_server.core.exchange import Exchange, HttpMessage, HttpRequest, query_pairs
from ext_proc_server.mapping.java_regex import java_regex_escape
from ext_proc_server.mapping.moments_from_now import TEMPLATE_TRANSFORMER, literal, templated

_TARGETS = {"amazonsqs.sendmessage": False, "amazonsqs.sendmessagebatch": True}
_ACTIONS = {b"Action=SendMessage&": False, b"Action=SendMessageBatch&": True}
_FORM = "application/x-www-form-urlencoded"
_BATCH_ENTRY = "SendMessageBatchRequestEntry."
# The fields of a message in a form, after its entry's prefix: the ones its MD5s cover.
_FORM_FIELD = re.compile(r"(?:Id|MessageBody|Message(?:System)?Attribute\.[0-9]+\.[\w.]+)")
_FORM_ATTRIBUTE = re.compile(r"(Message(?:System)?Attribute)\.([0-9]+)\.(Name|Value\.\w+)")
_FORM_ENTRY = re.compile(rf"{re.escape(_BATCH_ENTRY)}([0-9]+)\.(.+)")
_ENTRY_REGEX = java_regex_escape(_BATCH_ENTRY)
_JSON_ATTRIBUTES = ("MessageAttributes", "MessageSystemAttributes")
_FORM_ATTRIBUTES = {"MessageAttribute": "MessageAttributes",
                    "MessageSystemAttribute": "MessageSystemAttributes"}  # fmt: skip
_DIGESTS = {"MessageAttributes": "MD5OfMessageAttributes",
            "MessageSystemAttributes": "MD5OfMessageSystemAttributes"}  # fmt: skip
_XML_RESULT = re.compile(r"<(SendMessageResult|SendMessageBatchResultEntry)>(.*?)</\1>", re.DOTALL)
_XML_FIELD = re.compile(r"<(Id|MD5Of\w+)>([^<]*)</\1>")
# The launcher's request matcher and template helper (MockadoWireMock.SqsDigests).
SEND_MATCHER = "mockado-sqs-send"
_HELPER = "mockadoSqsMd5"
# The MD5s the launcher computes, as its helper names them.
_COMPUTED = {"MD5OfMessageBody": "body", "MD5OfMessageAttributes": "attributes"}
# An entry Id as SQS allows it (so it goes in a template as a literal as it is).
_PLAIN_ID = re.compile(r"[A-Za-z0-9_-]{1,80}")
_XML_DIGEST = re.compile(r"<(MD5Of\w+)>([^<]*)</\1>")
_IGNORED = "${json-unit.ignore}"
# What a send's stub answering its exact repeats adds to its first stub's key and id.
_EXACT_REPEATS = "sqs-send-exact-repeats"
# A message: (its entry's Id, "" for SendMessage; its fields as the JSON protocol names them).
Message = tuple[str, dict[str, Any]]


def _send_kind(request: HttpRequest) -> tuple[str, bool] | None:
    """("json" or "form", whether a batch) for an SQS send with a body, else None."""
    if not request.body or request.method != "POST":
        return None
    target = request.header("x-amz-target")
    if target is not None:
        batch = _TARGETS.get(target.strip().lower())
        return None if batch is None else ("json", batch)
    if request.content_type != _FORM:
        return None
    body = request.body + b"&"
    for action, batch in _ACTIONS.items():
        if body.startswith(action) or b"&" + action in body:
            return "form", batch
    return None


def _json_messages(body: bytes, *, batch: bool) -> list[tuple[str, Message]]:
    """(JSONPath of each message, the message)."""
    try:
        document = json.loads(body)
    except ValueError:
        return []
    if not isinstance(document, dict):
        return []
    if not batch:
        return [("$", ("", document))]
    entries = document.get("Entries")
    return [
        (f"$.Entries[{n}]", (str(entry.get("Id", "")), entry))
        for n, entry in enumerate(entries if isinstance(entries, list) else ())
        if isinstance(entry, dict)
    ]


def _form_fields(body: bytes) -> tuple[tuple[str, str], ...]:
    try:
        return query_pairs(body.decode("utf-8"))
    except UnicodeDecodeError:
        return ()


def _form_messages(fields: tuple[tuple[str, str], ...], *, batch: bool) -> list[Message]:
    """Each message of a form, its fields as the JSON protocol names them."""
    by_entry: dict[str, list[tuple[str, str]]] = {}
    for name, value in fields:
        if batch:
            entry = _FORM_ENTRY.fullmatch(name)
            if entry is not None:
                by_entry.setdefault(entry.group(1), []).append((entry.group(2), value))
        else:
            by_entry.setdefault("", []).append((name, value))
    out = []
    for parts in by_entry.values():
        message: dict[str, Any] = {}
        numbered: dict[tuple[str, str], dict[str, str]] = {}
        for name, value in parts:
            attribute = _FORM_ATTRIBUTE.fullmatch(name)
            if attribute is not None:
                kind, number, field = attribute.groups()
                numbered.setdefault((kind, number), {})[field.removeprefix("Value.")] = value
            elif name in ("Id", "MessageBody"):
                message[name] = value
        for (kind, _number), given in numbered.items():
            name = given.pop("Name", "")
            message.setdefault(_FORM_ATTRIBUTES[kind], {})[name] = given
        out.append((str(message.get("Id", "")), message))
    return out


def _messages(request: HttpRequest, kind: tuple[str, bool]) -> list[Message]:
    if kind[0] == "json":
        return [message for _path, message in _json_messages(request.body, batch=kind[1])]
    return _form_messages(_form_fields(request.body), batch=kind[1])


def _answered(response: HttpMessage) -> dict[str, dict[str, str]]:
    """Each message's MD5s in a send's answer: its entry's Id ("" for SendMessage) ->
    field -> MD5. Empty for an answer without any (an error)."""
    if b"MD5OfMessage" not in response.body:
        return {}
    try:
        text = response.body.decode("utf-8")
    except UnicodeDecodeError:
        return {}
    if not text.lstrip().startswith("{"):
        out = {}
        for result in _XML_RESULT.finditer(text):
            fields = {k: html.unescape(v) for k, v in _XML_FIELD.findall(result.group(2))}
            out[fields.pop("Id", "")] = fields
        return out
    try:
        document = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(document, dict):
        return {}
    results = document.get("Successful")
    if not isinstance(results, list):
        return {"": _digests_of(document)}
    if not all(isinstance(r, dict) for r in results):
        return {}  # (no batch answer SQS gives: none of it is read)
    return {str(r.get("Id", "")): _digests_of(r) for r in results}


def _digests_of(result: dict[str, Any]) -> dict[str, str]:
    return {k: v for k, v in result.items() if k.startswith("MD5Of") and isinstance(v, str)}


def _sized(data: bytes) -> bytes:
    return len(data).to_bytes(4, "big") + data


def attributes_md5(attributes: Any) -> str | None:
    """The MD5 of message attributes as SQS and its SDKs compute it (each attribute in name
    order: its name, type and value, each after its length, the value after its transport
    type, 1 for a string, 2 for binary); None for attributes it cannot read."""
    if not isinstance(attributes, dict):
        return None
    digest = hashlib.md5(usedforsecurity=False)
    for name in sorted(attributes):
        value = attributes[name]
        if not isinstance(value, dict) or not isinstance(value.get("DataType"), str):
            return None
        if isinstance(value.get("StringValue"), str):
            transport, data = b"\x01", value["StringValue"].encode("utf-8")
        elif isinstance(value.get("BinaryValue"), str):
            try:
                transport, data = b"\x02", base64.b64decode(value["BinaryValue"], validate=True)
            except binascii.Error:
                return None
        else:
            return None
        digest.update(_sized(name.encode("utf-8")) + _sized(value["DataType"].encode("utf-8")))
        digest.update(transport + _sized(data))
    return digest.hexdigest()


def _expected(message: dict[str, Any]) -> dict[str, str | None]:
    body = message.get("MessageBody")
    out: dict[str, str | None] = {
        "MD5OfMessageBody": hashlib.md5(body.encode("utf-8"), usedforsecurity=False).hexdigest()
        if isinstance(body, str)
        else None
    }
    for field, digest in _DIGESTS.items():
        if field in message:
            out[digest] = attributes_md5(message[field])
    return out


def answer_agrees(exchange: Exchange) -> bool:
    """Whether every MD5 an SQS send's answer gives is of the message as the exchange holds
    it (True for any other exchange): False once a value of the message was sanitized."""
    response, kind = exchange.response, _send_kind(exchange.request)
    if response is None or kind is None:
        return True  # (the request first: most are no send, and answers may be large)
    answered = _answered(response)
    if not answered:
        return True
    for key, message in _messages(exchange.request, kind):
        digests = answered.get(key)
        if digests is None:
            continue  # a failed batch entry: nothing of it is answered
        expected = _expected(message)
        if any(expected.get(field) != value for field, value in digests.items()):
            return False
    return True


def pinned(request: dict[str, Any], exchange: Exchange) -> dict[str, Any]:
    """The stub's request pattern ``request`` (changed in place and returned) holding an SQS
    send whose answer gives its MD5s to the fields they cover, as recorded."""
    kind = _send_kind(exchange.request)
    if kind is None or exchange.response is None or not _answered(exchange.response):
        return request
    if kind[0] == "json":
        patterns = request.setdefault("bodyPatterns", [])
        for path, (_key, message) in _json_messages(exchange.request.body, batch=kind[1]):
            patterns.extend(_json_pins(path, message, batch=kind[1]))
        return request
    fields = _form_fields(exchange.request.body)
    held = [(name, value) for name, value in fields if message_form_field(name, batch=kind[1])]
    parameters = request.setdefault("formParameters", {})
    for name, value in held:
        parameters[name] = {"hasExactly": [{"equalTo": value} if value else {"matches": "^$"}]}
    request.setdefault("bodyPatterns", []).append(
        {"doesNotMatch": _unsent_fields(fields, batch=kind[1])}
    )
    return request


def _json_pins(path: str, message: dict[str, Any], *, batch: bool) -> Iterator[dict[str, Any]]:
    names = ("Id", "MessageBody") if batch else ("MessageBody",)
    for name in names:
        value = message.get(name)
        if isinstance(value, str):
            yield {"matchesJsonPath": {"expression": f"{path}.{name}", "equalTo": value}}
    for name in _JSON_ATTRIBUTES:
        expression = f"{path}.{name}"
        if name in message:
            # Exactly: an attribute more or less is another MD5.
            yield {"matchesJsonPath": {"expression": expression, "equalToJson": message[name]}}
        else:
            yield {"matchesJsonPath": {"expression": expression, "absent": True}}


def message_form_field(name: str, *, batch: bool) -> bool:
    """Whether a form field is one the MD5s cover (or pairs them with their entry)."""
    if batch:
        entry = _FORM_ENTRY.fullmatch(name)
        return entry is not None and _FORM_FIELD.fullmatch(entry.group(2)) is not None
    return name != "Id" and _FORM_FIELD.fullmatch(name) is not None


def _unsent_fields(fields: tuple[tuple[str, str], ...], *, batch: bool) -> str:
    """A regex of a form (whole, as WireMock matches) with an attribute or a batch entry the
    recording did not send."""
    sent = sorted({name for name, _ in fields if message_form_field(name, batch=batch)})
    known = "|".join(java_regex_escape(name) for name in sent) or "(?!)"
    attribute = rf"(?!(?:{known})=)(?:{_ENTRY_REGEX}[0-9]+\.)?Message(?:System)?Attribute\."
    if not batch:
        return rf"(?:|[\s\S]*&)(?:{attribute})[\s\S]*"
    entries = sorted({m.group(1) for n, _ in fields if (m := _FORM_ENTRY.fullmatch(n))})
    numbers = "|".join(entries) or "(?!)"
    entry = rf"(?!{_ENTRY_REGEX}(?:{numbers})\.){_ENTRY_REGEX}"
    return rf"(?:|[\s\S]*&)(?:{attribute}|{entry})[\s\S]*"


def pinned_message_key(exchange: Exchange) -> bytes | None:
    """The fields a pinned send's stub holds as recorded (:func:`pinned`), as canonical JSON
    for its dedup key, or None for any other exchange (no send answered with MD5s, or one
    whose stub computes them: its key stays the request's as matched). Two pinned sends
    differing only in noise are two messages, each its own stub."""
    kind = _send_kind(exchange.request)
    response = exchange.response
    if kind is None or response is None or not _answered(response):
        return None
    if _computed_digests(exchange) is not None:
        # (Not its answer templated, which costs twice as much: one the launcher computes
        # is one a template holds, unless it cannot be read, which SQS never answers.)
        return None
    held: list[Any]
    if kind[0] == "json":
        names = ("Id", "MessageBody", *_JSON_ATTRIBUTES)
        held = [
            [path, {name: message[name] for name in names if name in message}]
            for path, (_key, message) in _json_messages(exchange.request.body, batch=kind[1])
        ]
    else:
        fields = _form_fields(exchange.request.body)
        held = sorted([n, v] for n, v in fields if message_form_field(n, batch=kind[1]))
    return json.dumps(held, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode(
        "utf-8", "surrogatepass"
    )


# -- MD5s computed at serve time ----------------------------------------------


def _computed_digests(exchange: Exchange) -> dict[str, list[str]] | None:
    """Each answered message's MD5s the launcher computes over the message it answers (entry
    Id, "" for SendMessage -> "body", "attributes"), or None when the exchange is no send
    answered with MD5s, or its answer gives one the launcher does not compute."""
    response, kind = exchange.response, _send_kind(exchange.request)
    if response is None or kind is None:
        return None
    answered = _answered(response)
    messages = _messages(exchange.request, kind)
    by_key = dict(messages)
    if not answered or len(by_key) != len(messages):
        return None  # (an entry Id twice: which one an answer is of is not known)
    if any("MessageSystemAttributes" in message for message in by_key.values()):
        return None  # its MD5 is answered as recorded only (pinned)
    out: dict[str, list[str]] = {}
    for key, digests in answered.items():
        message = by_key.get(key)
        if message is None or (kind[1] and not _PLAIN_ID.fullmatch(key)):
            return None
        wanted = [_COMPUTED.get(field, "") for field in digests]
        if "" in wanted or not isinstance(message.get("MessageBody"), str):
            return None
        if "attributes" in wanted and attributes_md5(message.get("MessageAttributes")) is None:
            return None
        out[key] = wanted
    return out


def answer_served(exchange: Exchange) -> bool:
    """Whether a stub can give the MD5s an SQS send's answer gives (True for any other
    exchange): computed at serve time, or as recorded when they are of its message as
    held (:func:`answer_agrees`)."""
    if exchange.response is None or _send_kind(exchange.request) is None:
        return True  # no send: asked of every exchange, so told once, not by each check
    return _computed_digests(exchange) is not None or answer_agrees(exchange)


def digest_template(protocol: str, key: str, which: str) -> str:
    """The launcher's call that computes, at serve time, the MD5 ``which`` ("body" or
    "attributes") of the message ``key`` (a batch entry's Id, "" for SendMessage)."""
    return f"{{{{{_HELPER} request.body '{protocol}' '{key}' '{which}'}}}}"


def send_matcher(protocol: str, messages: list[str], attributes: list[str]) -> dict[str, Any]:
    """The launcher's guard: a send whose ``messages`` it can read, and ``attributes`` of
    those with attributes, so that every MD5 the answer names can be computed."""
    return {
        "name": SEND_MATCHER,
        "parameters": {"protocol": protocol, "messages": messages, "attributes": attributes},
    }


def _template(text: str, spans: list[tuple[int, int, str]]) -> str:
    """``text`` as a template: each span's text replaced by its mustache, the rest literal."""
    out, at = [], 0
    for start, end, mustache in sorted(spans):
        out += [literal(text[at:start]), mustache]
        at = end
    return "".join(out) + literal(text[at:])


def _xml_answer(text: str, computed: dict[str, list[str]]) -> str | None:
    spans = []
    for result in _XML_RESULT.finditer(text):
        fields = dict(_XML_FIELD.findall(result.group(2)))
        key = html.unescape(fields.get("Id", ""))
        for found in _XML_DIGEST.finditer(result.group(2)):
            which = _COMPUTED.get(found.group(1), "")
            if which not in computed.get(key, ()):
                return None
            start = result.start(2) + found.start(2)
            spans.append((start, start + len(found.group(2)), digest_template("form", key, which)))
    return _template(text, spans)


def _json_answer(text: str, computed: dict[str, list[str]]) -> str | None:
    """The JSON answer written again, compactly, each MD5 computed at serve time."""
    document = json.loads(text)
    results = document.get("Successful") if "Successful" in document else [document]
    tokens: dict[str, str] = {}
    for result in results if isinstance(results, list) else ():
        key = str(result.get("Id", "")) if "Successful" in document else ""
        for field in [f for f in result if f.startswith("MD5Of")]:
            which = _COMPUTED.get(field, "")
            if which not in computed.get(key, ()):
                return None
            token = f"mockado-sqs-md5-{len(tokens)}-{uuid.uuid4().hex}"
            tokens[token] = digest_template("json", key, which)
            result[field] = token
    written = json.dumps(document, separators=(",", ":"), ensure_ascii=False)
    spans = []
    for token, mustache in tokens.items():
        start = written.find(token)
        spans.append((start, start + len(token), mustache))
    return _template(written, spans)


def _served_answer(exchange: Exchange, computed: dict[str, list[str]]) -> str | None:
    """The send's answer as a template computing each of its MD5s, or None when it cannot
    be read."""
    assert exchange.response is not None
    try:
        text = exchange.response.body.decode("utf-8")
        if text.lstrip().startswith("{"):
            return _json_answer(text, computed)
        return _xml_answer(text, computed)
    except (UnicodeDecodeError, ValueError, AttributeError):
        return None


def _served_computing(exchange: Exchange) -> tuple[dict[str, list[str]], str] | None:
    """(the MD5s the launcher computes, the answer as a template computing them) for a send
    whose stub computes them, else None."""
    computed = _computed_digests(exchange)
    served = None if computed is None else _served_answer(exchange, computed)
    return None if computed is None or served is None else (computed, served)


def answering_sends(
    request: dict[str, Any], definition: dict[str, Any], exchange: Exchange
) -> tuple[dict[str, Any], dict[str, Any]]:
    """A stub's request pattern and ``response`` (``stubs.response_definition``) for an
    exchange: for an SQS send whose answer gives MD5s, computing them at serve time where
    the launcher can (``request`` changed in place, the response a templated copy), else
    pinned to the recorded message (:func:`pinned`); any other exchange's as they are."""
    computing = _served_computing(exchange)
    if computing is None or "base64Body" in definition:
        return pinned(request, exchange), definition
    computed, served = computing
    kind = _send_kind(exchange.request)
    assert kind is not None
    request["customMatcher"] = send_matcher(
        kind[0],
        sorted(computed),
        sorted(k for k, wanted in computed.items() if "attributes" in wanted),
    )
    _held_to_entries(request, exchange, kind)
    if TEMPLATE_TRANSFORMER in (definition.get("transformers") or ()):
        return request, {**definition, "body": served}
    return request, templated(definition, headers={}, body=served)


def _held_to_entries(request: dict[str, Any], exchange: Exchange, kind: tuple[str, bool]) -> None:
    """Holds ``request`` to the send's attribute names and batch entries (by Id), which say
    which MD5s its answer gives; the values may be any the rest of the pattern takes."""
    if kind[0] == "json":
        patterns = request.setdefault("bodyPatterns", [])
        held = _json_messages(exchange.request.body, batch=kind[1])
        for path, (key, message) in held:
            if kind[1]:
                patterns.append({"matchesJsonPath": {"expression": f"{path}.Id", "equalTo": key}})
            expression = f"{path}.MessageAttributes"
            if "MessageAttributes" in message:
                names = {name: _IGNORED for name in message["MessageAttributes"]}
                patterns.append(
                    {"matchesJsonPath": {"expression": expression, "equalToJson": names}}
                )
            else:
                patterns.append({"matchesJsonPath": {"expression": expression, "absent": True}})
            absent = {"expression": f"{path}.MessageSystemAttributes", "absent": True}
            patterns.append({"matchesJsonPath": absent})
        return  # (the entries' number: held by the array lengths' schema, matchers)
    fields = _form_fields(exchange.request.body)
    parameters = request.setdefault("formParameters", {})
    for name, value in fields:
        if message_form_field(name, batch=kind[1]) and name.endswith((".Id", ".Name")):
            parameters[name] = {"hasExactly": [{"equalTo": value}]}
    request.setdefault("bodyPatterns", []).append(
        {"doesNotMatch": _unsent_fields(fields, batch=kind[1])}
    )


# -- exact repeats, where the launcher does not serve --------------------------


def computes_digests(mapping: dict[str, Any]) -> bool:
    """Whether a stub computes a send's MD5s at serve time: the launcher's matcher guards it."""
    matcher = mapping.get("request", {}).get("customMatcher")
    return isinstance(matcher, dict) and matcher.get("name") == SEND_MATCHER


def exact_repeats(
    request: dict[str, Any], definition: dict[str, Any], exchange: Exchange
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """For a send whose stub computes its MD5s: the request pattern and ``response`` of the
    stub answering its exact repeats with the recorded MD5s (``request``: the exchange's
    usual pattern, changed in place; ``definition``: its recorded response, not templated),
    or None when its message was sanitized: the recorded MD5s are not of the message the
    stub would match then."""
    if not answer_agrees(exchange):
        return None
    return pinned(request, exchange), definition


def exact_repeats_hash(stub_hash: str) -> str:
    """The key (and, as for any stub, the id's source) of the stub answering exact repeats,
    from its first stub's: one per first stub, replaced with it."""
    return hashlib.sha256(f"{stub_hash}:{_EXACT_REPEATS}".encode()).hexdigest()
