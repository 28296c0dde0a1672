"""The launcher's ``mockado-sqs-send`` request matcher, as the launcher evaluates it
(``MockadoWireMock.SqsDigests``), to tell when a miss is that matcher's alone.

A stub answering an SQS send with MD5s computed at serve time carries the matcher: it
matches a send only when each MD5 its answer gives can be computed over the request's
message (mapping.sent_messages). The launcher reads the raw body; the report keeps only
the sanitized one. So each miss's raw body is read here once, before sanitizing, into
:class:`SendReadings`: per protocol, per batch entry (its Id kept as a keyed hash, never
as it was), whether its body's and its attributes' MD5s can be computed and, if not, why
(a fixed phrase, never a value). A body the launcher may read otherwise (cut by the
webhook's limit, in another charset, JSON that Python and Jackson may read apart, a
malformed UTF-8 escape in a form) is "cannot tell".
"""

from __future__ import annotations

import hashlib
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

PROTOCOLS = ("json", "form")
WHICH = ("body", "attributes")
_ENTRY = "SendMessageBatchRequestEntry."
_FORM_ENTRY_ID = re.compile(re.escape(_ENTRY) + r"([0-9]+)\.Id")
_FORM_ATTRIBUTE = re.compile(
    r"MessageAttribute\.([0-9]+)\.(Name|Value\.(?:DataType|StringValue|BinaryValue))"
)
# java.util.Base64's basic decoder: the alphabet, padding optional, never one char left.
_BASE64 = re.compile(r"[A-Za-z0-9+/]*")
# java.net.URLDecoder parses "%xy" with Integer.parseInt(xy, 16): "+1" reads as 1.
_ESCAPE = re.compile(r"%(\+[0-9A-Fa-f]|[0-9A-Fa-f]{2})")
# Keyed per process: an entry Id is compared by this hash and never kept as it was.
_ID_KEY = secrets.token_bytes(16)

# Why an MD5 cannot be computed ("" when it can; None: cannot tell).
Reason = str | None
NO_ENTRY = "no batch entry with that Id"


def _hashed(entry: str) -> str:
    return hashlib.blake2b(entry.encode("utf-8", "surrogatepass"), key=_ID_KEY).hexdigest()


@dataclass(frozen=True, slots=True)
class Reading:
    """One protocol's reading of a body: why no message is read at all ("" when one is),
    and each message's reasons, by its hashed entry Id ("" for the send's own)."""

    unreadable: Reason = ""
    messages: dict[str, tuple[Reason, Reason]] = field(default_factory=dict)

    def reason(self, entry: str, which: str) -> Reason:
        if self.unreadable != "":
            return self.unreadable
        found = self.messages.get(_hashed(entry) if entry else "")
        if found is None:
            return NO_ENTRY
        return found[WHICH.index(which)]


@dataclass(frozen=True, slots=True)
class SendReadings:
    """A miss's body as each protocol of the launcher reads it (see the module doc)."""

    readings: dict[str, Reading]

    def reason(self, protocol: str, entry: str, which: str) -> Reason:
        if protocol not in self.readings or which not in WHICH:
            return f"no {which} MD5 in the {protocol or 'unnamed'} protocol"
        return self.readings[protocol].reason(entry, which)


def read_sends(body: bytes, *, content_type_header: str, truncated: bool) -> SendReadings | None:
    """A raw miss body -> its readings, or None when the launcher may read it otherwise."""
    charset = re.search(r"(?i);\s*charset=\"?([^\";\s]+)", content_type_header)
    if truncated or (charset and charset.group(1).lower() not in ("utf-8", "utf8")):
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return SendReadings({"json": _json_reading(text), "form": _form_reading(text)})


def guard_reasons(readings: SendReadings | None, parameters: Any) -> list[tuple[str, str, Reason]]:
    """Each MD5 a stub's ``mockado-sqs-send`` parameters want that the launcher would not
    compute: (entry Id as the stub names it, "body" or "attributes", why or None)."""
    if not isinstance(parameters, Mapping):
        return [("", "body", None)]
    protocol = parameters.get("protocol", "")
    out: list[tuple[str, str, Reason]] = []
    for key, which in (("messages", "body"), ("attributes", "attributes")):
        entries = parameters.get(key) or []
        for entry in entries if isinstance(entries, list) else [None]:
            name = _java_string(entry)
            if name is None or not isinstance(protocol, str):
                out.append(("", which, None))
                continue
            reason = None if readings is None else readings.reason(protocol, name, which)
            if reason != "":
                out.append((name, which, reason))
    return out


def _java_string(value: Any) -> str | None:
    """String.valueOf of a JSON parameter, where Python writes it the same."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, (str, int)) else None


def _json_reading(text: str) -> Reading:
    try:
        document = json.loads(text, parse_constant=_not_standard)
    except ValueError:
        # Jackson reads comments, single quotes and trailing text that Python does not.
        return Reading(unreadable=None if text.lstrip()[:1] in ("{", "/", "\ufeff") else "not JSON")
    if not isinstance(document, dict):
        return Reading(unreadable="not a JSON object")
    messages = {"": _reasons(document)}
    entries = document.get("Entries")
    for entry in entries if isinstance(entries, list) else []:
        if isinstance(entry, dict) and isinstance(entry.get("Id"), str):
            messages.setdefault(_hashed(entry["Id"]), _reasons(entry))  # the first one
    return Reading(messages=messages)


def _not_standard(constant: str) -> Any:
    raise ValueError(constant)


def _form_reading(text: str) -> Reading:
    fields = _form_fields(text)
    if not isinstance(fields, dict):
        return Reading(unreadable=fields)
    messages: dict[str, tuple[Reason, Reason]] = {"": _reasons(_form_message(fields, ""))}
    for name, value in fields.items():
        number = _FORM_ENTRY_ID.fullmatch(name)
        if number:
            found = _reasons(_form_message(fields, f"{_ENTRY}{number.group(1)}."))
            key = _hashed(value)
            # Several entries with one Id: the launcher takes one of them, which is not known.
            before = messages.setdefault(key, found)
            messages[key] = (_same(before[0], found[0]), _same(before[1], found[1]))
    return Reading(messages=messages)


def _same(one: Reason, other: Reason) -> Reason:
    return one if one == other else None


def _form_fields(text: str) -> dict[str, str] | Reason:
    """The form's fields as the launcher decodes them, or why there are none."""
    pairs = text.split("&")
    if "&" in text:  # String.split drops the trailing empty strings of a text it splits
        while pairs and pairs[-1] == "":
            pairs.pop()
    fields: dict[str, str] = {}
    uncertain = False
    for pair in pairs:
        name, equals, value = pair.partition("=")
        decoded = (_url_decoded(name), _url_decoded(value) if equals else "")
        if False in decoded:
            return "a form field not URL-encoded"
        if None in decoded:
            uncertain = True  # its name may be another field's: never "twice" for it
            continue
        if decoded[0] in fields:
            return "a form field twice"
        fields[str(decoded[0])] = str(decoded[1])
    return None if uncertain else fields


def _url_decoded(part: str) -> str | bool | None:
    """URLDecoder.decode(part, UTF-8): False when it throws, None when its text may
    differ from Python's (a malformed UTF-8 sequence)."""
    out, at = bytearray(), 0
    while at < len(part):
        char = part[at]
        if char == "%":
            escape = _ESCAPE.match(part, at)
            if escape is None:
                return False
            out.append(int(escape.group(1), 16))
            at += 3
        else:
            out += (" " if char == "+" else char).encode("utf-8", "surrogatepass")
            at += 1
    try:
        return out.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _form_message(fields: dict[str, str], prefix: str) -> dict[str, Any] | str:
    message: dict[str, Any] = {}
    numbered: dict[str, dict[str, str]] = {}
    for key, value in fields.items():
        if not key.startswith(prefix):
            continue
        name = key[len(prefix) :]
        attribute = _FORM_ATTRIBUTE.fullmatch(name)
        if name == "MessageBody":
            message[name] = value
        elif attribute:
            part = attribute.group(2).replace("Value.", "")
            numbered.setdefault(attribute.group(1), {})[part] = value
    if numbered:
        attributes: dict[str, Any] = {}
        for given in numbered.values():
            name = given.pop("Name", None)
            if name is None:
                return "an attribute without a name"
            if name in attributes:
                return "an attribute name twice"
            attributes[name] = given
        message["MessageAttributes"] = attributes
    return message


def _reasons(message: dict[str, Any] | str) -> tuple[Reason, Reason]:
    """(why no body MD5, why no attributes MD5) of a message, "" where there is one."""
    if isinstance(message, str):
        return message, message
    body = "" if isinstance(message.get("MessageBody"), str) else "no MessageBody"
    return body, _attributes_reason(message.get("MessageAttributes"))


def _attributes_reason(attributes: Any) -> Reason:
    if not isinstance(attributes, dict) or not attributes:
        return "no message attributes"
    for value in attributes.values():
        if not isinstance(value, dict) or not isinstance(value.get("DataType"), str):
            return "an attribute without a data type"
        if isinstance(value.get("StringValue"), str):
            continue
        binary = value.get("BinaryValue")
        if not isinstance(binary, str):
            return "an attribute without a value"
        if not _java_base64(binary):
            return "a binary attribute value not base64"
    return ""


def _java_base64(text: str) -> bool:
    core = text.rstrip("=")
    padding = len(text) - len(core)
    if not _BASE64.fullmatch(core):
        return False
    if padding == 0:
        return len(core) % 4 != 1
    return (padding, len(core) % 4) in ((1, 3), (2, 2))
