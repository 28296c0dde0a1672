"""Binary bodies: kept only when nothing personal can be in what is kept.

Images lose their metadata (``images``); formats whose text we cannot read are never
kept; any other binary is read every way its text could be written (each byte a
character, UTF-8, UTF-16 without its zero bytes, and for protobuf and gRPC every
length-delimited field) and kept only if no detector finds anything. A binary body
cannot be edited in place, so a finding drops it.
"""

from __future__ import annotations

import contextlib
import re
from typing import NamedTuple

from ext_proc_server.sanitize import base64_json, media
from ext_proc_server.sanitize.fields import reads_as_name
from ext_proc_server.sanitize.images import image_format, strip_metadata
from ext_proc_server.sanitize.run import Run

UNSANITIZABLE = "binary_unsanitizable"
STRUCTURED = "structured_binary"
CONTENT_ENCODING = "content_encoding"

_GRPC_COMPRESSED = 0x01
_GRPC_PREFIX_BYTES = 5
# Protobuf nesting read (fields inside fields); deeper payloads are still read as bytes.
_MAX_PROTO_DEPTH = 24
# A field holding these is a nested message or bytes, not text (the whole body is still
# read byte by byte).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Outcome(NamedTuple):
    """The body to keep (``reason`` empty), or why none is kept."""

    body: bytes
    reason: str = ""


def judge_binary(run: Run, body: bytes, media_type: str, *, truncated: bool) -> Outcome:
    kind = media.media_kind(media_type)
    if image_format(body) is not None:
        stripped = strip_metadata(body, truncated=truncated)
        return Outcome(b"", UNSANITIZABLE) if stripped is None else Outcome(stripped)
    if kind == media.IMAGE:
        return Outcome(b"", UNSANITIZABLE)  # says it is an image, is none we can strip
    if kind == media.STRUCTURED or media.is_container(body):
        return Outcome(b"", STRUCTURED)
    messages: list[bytes] = []
    if media_type.startswith("application/grpc"):
        framed = grpc_messages(body)
        if framed is None:
            return Outcome(b"", CONTENT_ENCODING)
        messages = framed
    elif media.is_protobuf(media_type):
        messages = [body]
    if has_findings(run, body, messages):
        return Outcome(b"", UNSANITIZABLE)
    return Outcome(body)


def has_findings(run: Run, body: bytes, messages: list[bytes]) -> bool:
    """Whether any detector finds anything in any reading of the bytes."""
    views = [body.decode("latin-1")]
    if b"\x00" in body:
        views.append(body.replace(b"\x00", b"").decode("latin-1"))
    if not body.isascii():
        views.append(body.decode("utf-8", "replace"))
    strings = [text for message in messages for text in proto_strings(message)]
    if any(reads_as_name(text, known=True) for text in strings):
        return True  # no field names here to say whose it is: a person's name is enough
    if strings:
        views.append("\n\n".join(strings))
    probe = run.child()
    # A JSON document in base64 (a field holding Pub/Sub or Kafka data) is read decoded.
    return any(
        probe.scrub(view) != view or base64_json.rewrap(probe, view) is not view for view in views
    )


def grpc_messages(body: bytes) -> list[bytes] | None:
    """The messages of gRPC length-prefixed frames; None if one is compressed."""
    out = []
    pos = 0
    while pos + _GRPC_PREFIX_BYTES <= len(body):
        if body[pos] & _GRPC_COMPRESSED:
            return None
        length = int.from_bytes(body[pos + 1 : pos + _GRPC_PREFIX_BYTES], "big")
        start = pos + _GRPC_PREFIX_BYTES
        out.append(body[start : start + length])
        pos = start + length
    return out


def proto_strings(data: bytes, depth: int = 0) -> list[str]:
    """Every length-delimited field of a protobuf message that is UTF-8 text, at any depth.

    Without the schema a field may be a string or a nested message (short strings often
    parse as both), so each is read both ways. Not a message: nothing."""
    payloads = _proto_payloads(data)
    out: list[str] = []
    for payload in payloads or ():
        with contextlib.suppress(UnicodeDecodeError):
            text = payload.decode("utf-8")
            if not _CONTROL.search(text):
                out.append(text)
        if depth < _MAX_PROTO_DEPTH:
            out.extend(proto_strings(payload, depth + 1))
    return out


def _proto_payloads(data: bytes) -> list[bytes] | None:
    """The length-delimited fields of one message (wire format), or None if the bytes
    are not a message."""
    payloads = []
    pos = 0
    end = len(data)
    while pos < end:
        key, pos = _varint(data, pos)
        wire = key & 0x07
        if key >> 3 == 0 or wire in (6, 7):
            return None
        if wire == 0:
            _, pos = _varint(data, pos)
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        elif wire == 2:
            length, pos = _varint(data, pos)
            if length < 0:
                return None
            payloads.append(data[pos : pos + length])
            pos += length
        if pos > end:
            return None
    return payloads


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """(value, next offset); value -1 when the varint runs past the end or 10 bytes."""
    value = 0
    for shift in range(0, 70, 7):
        if pos >= len(data):
            return -1, len(data) + 1
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, pos
    return -1, len(data) + 1
