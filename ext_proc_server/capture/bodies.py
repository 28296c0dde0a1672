"""Captured bodies: the per-stream byte limit, content-encoding decoding, text or binary.

Three rules keep memory bounded and the output safe:

* ``BodyBuffer`` keeps at most ``limit_bytes`` of the bytes seen on the wire and
  remembers that more came (``truncated``).
* ``decode_content`` decodes gzip, deflate (zlib-wrapped or raw) and brotli with a
  hard cap on the decoded size, so a compression bomb costs at most
  ``max_bytes`` of memory; a body that decodes past it is not kept. A truncated
  compressed body decodes as far as it goes. A body that cannot be decoded is
  dropped: raw compressed bytes are never kept.
* ``is_textual`` tells text (kept) from binary (kept only with binary_bodies=base64).
* A request body is kept only in a coding a stub can match
  (``matchable_request_codings``).
* S3's ``aws-chunked`` framing (core.aws_chunked) is undone too, alone: the payload
  is kept, or the body dropped when it does not frame exactly.

``Body`` is a captured body as the exchange holds it; ``media_type`` reads a
Content-Type's bare media type.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import NamedTuple

import brotli

from ext_proc_server.core import aws_chunked

# Decoded output is produced in slices of this size, so a cap is never overshot by much.
_SLICE_BYTES = 64 * 1024

_TEXT_TYPE_MARKERS = (
    "json",
    "xml",
    "javascript",
    "ecmascript",
    "graphql",
    "x-www-form-urlencoded",
    "yaml",
    "csv",
    "x-ndjson",
    "html",
)


class BodyBuffer:
    """Collects the chunks of one body, keeping at most ``limit_bytes``."""

    __slots__ = ("_chunks", "limit_bytes", "seen_bytes", "size", "truncated")

    def __init__(self, *, limit_bytes: int) -> None:
        self.limit_bytes = limit_bytes
        self._chunks: list[bytes] = []
        # Bytes kept (an attribute, not a property: read per body of every stream).
        self.size = 0
        # Every byte that arrived, kept or not (compared with Content-Length).
        self.seen_bytes = 0
        self.truncated = False

    def add(self, chunk: bytes) -> None:
        if not chunk:
            return
        self.seen_bytes += len(chunk)
        room = self.limit_bytes - self.size
        if room <= 0:
            self.truncated = True
            return
        if len(chunk) > room:
            chunk = chunk[:room]
            self.truncated = True
        self._chunks.append(chunk)
        self.size += len(chunk)

    def value(self) -> bytes:
        if len(self._chunks) == 1:
            return self._chunks[0]
        return b"".join(self._chunks)


# Why a decoded body is not kept (core.exchange.BODY_DROP_REASONS).
UNDECODABLE = "content_encoding"
TOO_LARGE = "decoded_too_large"
# More codings than this on one body are refused, not undone one by one: thousands of
# "gzip" layers fit in a header and a small body, and each costs a decompression on the
# event loop. curl refuses more than 5 as well (CVE-2022-32206).
MAX_CODINGS = 5
AWS_CHUNKED = "aws-chunked"
# The request codings a stub matches a body in: a single gzip, which WireMock undoes before
# it matches a body, and S3's aws-chunked framing, which a stub matches the payload inside
# (mapping.framed_bodies).
_MATCHABLE_REQUEST_CODINGS = (["gzip"], ["x-gzip"], [AWS_CHUNKED])


class Body(NamedTuple):
    """A captured body, as the exchange holds it."""

    body: bytes
    truncated: bool
    # Why the body was not kept (a BODY_DROP_REASONS value), "" when it was.
    dropped: str
    # Content codings were undone: the encoding headers no longer apply.
    decoded: bool


def matchable_request_codings(codings: list[str]) -> bool:
    """Whether a stub can match a request body sent with ``codings`` (content_codings):
    WireMock decodes a single gzip before matching, and nothing else (br, deflate, gzip
    twice), so a matcher on the decoded body would never match such a request; a stub
    matches an ``aws-chunked`` payload inside its framing."""
    return codings in _MATCHABLE_REQUEST_CODINGS


@dataclass(frozen=True, slots=True)
class Decoded:
    body: bytes
    # The decoded body stops early: the compressed input was truncated.
    truncated: bool = False
    # Why the body must not be kept ("" when it may): a coding that is unknown or failed
    # (UNDECODABLE), or a decoded size past the cap (TOO_LARGE).
    dropped: str = ""


def content_codings(header_value: str | None) -> list[str]:
    """``"gzip, br"`` -> ["gzip", "br"], lower-cased, "identity" removed."""
    if not header_value:
        return []
    out = []
    for part in header_value.split(","):
        coding = part.strip().lower()
        if coding and coding != "identity":
            out.append(coding)
    return out


def decode_content(
    body: bytes,
    *,
    codings: list[str],
    max_bytes: int,
    input_truncated: bool = False,
    aws_decoded_length: str | None = None,
) -> Decoded:
    """Undo ``codings`` (in the order they were applied) with the decoded size capped.

    ``input_truncated`` says the compressed bytes stop early (the body limit cut them):
    what decodes is kept and marked truncated instead of failing. ``aws_decoded_length``
    is the ``x-amz-decoded-content-length`` sent with an ``aws-chunked`` body.
    """
    truncated = input_truncated
    if not body:
        return Decoded(b"", truncated=truncated)
    if len(codings) > MAX_CODINGS:
        return Decoded(b"", truncated=truncated, dropped=UNDECODABLE)
    if AWS_CHUNKED in codings:
        return _unframe(body, codings, aws_decoded_length, max_bytes, input_truncated=truncated)
    data = body
    for coding in reversed(codings):
        try:
            if coding in ("gzip", "x-gzip"):
                data, complete = _inflate(data, wbits=31, max_bytes=max_bytes)
            elif coding == "deflate":
                data, complete = _inflate(
                    data, wbits=15 if _looks_zlib(data) else -15, max_bytes=max_bytes
                )
            elif coding == "br":
                data, complete = _unbrotli(data, max_bytes=max_bytes)
            else:
                return Decoded(b"", truncated=truncated, dropped=UNDECODABLE)
        except (zlib.error, brotli.error):
            return Decoded(b"", truncated=truncated, dropped=UNDECODABLE)
        if not complete:
            if len(data) >= max_bytes:
                # A compression bomb, or a body larger than the cap: either way, what
                # was decoded is not the body.
                return Decoded(b"", truncated=truncated, dropped=TOO_LARGE)
            if not truncated:
                # The stream ended before the compressed data did, though nothing cut it.
                return Decoded(b"", truncated=truncated, dropped=UNDECODABLE)
            truncated = True
    return Decoded(data, truncated=truncated)


def _unframe(
    body: bytes,
    codings: list[str],
    decoded_length: str | None,
    max_bytes: int,
    *,
    input_truncated: bool,
) -> Decoded:
    """An ``aws-chunked`` body's payload. Only alone: with another coding (S3's
    documentation lists it first, ``aws-chunked,gzip``, though it frames the other;
    botocore appends it to the object's own, ``gzip,aws-chunked``) the payload is an
    object stored compressed, which WireMock does not undo, so no stub would match the
    request again."""
    if codings != [AWS_CHUNKED]:
        return Decoded(b"", truncated=input_truncated, dropped=UNDECODABLE)
    unframed = aws_chunked.decode(
        body, decoded_length=decoded_length, input_truncated=input_truncated
    )
    if unframed is None:
        return Decoded(b"", truncated=input_truncated, dropped=UNDECODABLE)
    payload, complete = unframed
    if len(payload) > max_bytes:
        return Decoded(b"", truncated=input_truncated, dropped=TOO_LARGE)
    return Decoded(payload, truncated=input_truncated or not complete)


def _looks_zlib(data: bytes) -> bool:
    """RFC 1950 header: CM=8 and the 16-bit header is a multiple of 31."""
    return len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0


def _inflate(data: bytes, *, wbits: int, max_bytes: int) -> tuple[bytes, bool]:
    """-> (decoded, reached the end of the compressed stream). Concatenated gzip
    members are decoded one after the other."""
    out: list[bytes] = []
    size = 0
    pending = data
    while True:
        decomp = zlib.decompressobj(wbits)
        tail = pending
        while True:
            # Asking for one byte past the cap tells "exactly at the cap" from "over it".
            chunk = decomp.decompress(tail, min(_SLICE_BYTES, max_bytes - size + 1))
            out.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                return b"".join(out)[:max_bytes], False
            if decomp.eof:
                break
            tail = decomp.unconsumed_tail
            if not tail and not chunk:
                # Input ran out before the end of the compressed stream.
                return b"".join(out), False
        pending = decomp.unused_data
        if wbits != 31 or not pending.strip(b"\x00"):
            return b"".join(out), True


def _unbrotli(data: bytes, *, max_bytes: int) -> tuple[bytes, bool]:
    decomp = brotli.Decompressor()
    out = [decomp.process(data, output_buffer_limit=min(_SLICE_BYTES, max_bytes + 1))]
    size = len(out[0])
    while not decomp.can_accept_more_data():
        if size > max_bytes:
            return b"".join(out)[:max_bytes], False
        chunk = decomp.process(b"", output_buffer_limit=min(_SLICE_BYTES, max_bytes - size + 1))
        if not chunk:
            break
        out.append(chunk)
        size += len(chunk)
    if size > max_bytes:
        return b"".join(out)[:max_bytes], False
    return b"".join(out), decomp.is_finished()


def is_textual(content_type: str, body: bytes) -> bool:
    """Text bodies are kept; binary ones follow collector.binary_bodies.

    ``content_type`` is the bare, lower-cased media type. Without one, a body that
    is valid UTF-8 counts as text.
    """
    if not content_type:
        if not body:
            return True
        try:
            body.decode("utf-8")
        except UnicodeDecodeError:
            return False
        return True
    if content_type.startswith("text/"):
        return True
    if content_type.startswith("multipart/form-data"):
        return True
    # application/grpc+json etc. are framed binary even when the payload is JSON.
    if content_type.startswith("application/grpc"):
        return False
    return any(marker in content_type for marker in _TEXT_TYPE_MARKERS)


def media_type(content_type: str | None) -> str:
    """The bare, lower-cased media type of a Content-Type value (as
    ``HttpMessage.content_type`` reads it); a stream's few values are remembered."""
    if not content_type:
        return ""
    found = _MEDIA_TYPES.get(content_type)
    if found is None:
        if len(_MEDIA_TYPES) >= _MEDIA_TYPE_CACHE_SIZE:
            _MEDIA_TYPES.clear()
        found = _MEDIA_TYPES[content_type] = content_type.split(";", 1)[0].strip().lower()
    return found


_MEDIA_TYPE_CACHE_SIZE = 256
_MEDIA_TYPES: dict[str, str] = {}
