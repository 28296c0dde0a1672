"""The ``aws-chunked`` body of an S3 upload, framed again from its payload.

A stub matches a text payload inside its framing with a regex (mapping.framed_bodies), but
WireMock reads a body as text for a regex, each byte that is not UTF-8 as U+FFFD: a binary
payload (an image, a parquet or gzip file) can only be matched as bytes, ``binaryEqualTo``
of the whole body WireMock receives (it undoes no ``aws-chunked`` framing). The capture
keeps the payload alone, so that body is framed again here, as the SDKs frame an unsigned
upload (``x-amz-content-sha256: STREAMING-UNSIGNED-PAYLOAD-TRAILER``, botocore's over TLS
since 1.36, as the Java and Go SDKs')::

    <size in lower-case hex>\\r\\n<payload>\\r\\n0\\r\\n<x-amz-trailer>:<checksum>\\r\\n\\r\\n

(an empty payload: the last chunk alone). Nothing in it changes from one upload of the
same bytes to the next: the trailer's checksum is the payload's, in the algorithm the
client chose (another is another body: a clear miss). A signed upload
(``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` and its ``-TRAILER`` and ECDSA forms) signs each
chunk with the request's date and key, new on every upload: no byte match holds it.

The trailer is any checksum botocore sends (``S3_CHECKSUM_TRAILERS``: CRC32, CRC32C,
CRC64NVME, SHA1, SHA256, SHA512, XXHASH64, XXHASH3, XXHASH128), computed again.

Limits: the payload is framed as one data chunk. botocore sends a body a capture keeps
whole so (its chunks are 1 MiB, the largest body limit); a client that splits the same
payload in several chunks (64 KiB ones, the Java SDK v2 128 KiB ones: mapping.framed_bodies,
under a raised body limit) gets a clear miss: ``binaryEqualTo`` holds one body.

A body sent in this framing without ``Content-Encoding: aws-chunked`` (S3 takes it so) is
kept framed by the capture, which undoes only the codings it is told of:
``unlabelled_upload`` reads its payload for the stub, which matches the framing around it
as for a labelled upload and the header absent, as sent.
"""

from __future__ import annotations

from ext_proc_server.core import aws_chunked
from ext_proc_server.core.exchange import HttpMessage
from ext_proc_server.mapping.chosen_by import DECODED_LENGTH_HEADER
from ext_proc_server.mapping.digests import served_digest

CONTENT_SHA256_HEADER = "x-amz-content-sha256"
TRAILER_HEADER = "x-amz-trailer"
CONTENT_ENCODING_HEADER = "content-encoding"
# Every x-amz-content-sha256 mode of a body in the aws-chunked framing.
_STREAMING_PREFIX = "STREAMING-"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
# The streaming modes whose chunks are signed (SigV4 and SigV4a, with a trailer or not).
_SIGNED_PREFIXES = ("STREAMING-AWS4-HMAC-SHA256-", "STREAMING-AWS4-ECDSA-P256-SHA256-")
# The checksums S3 takes in a trailer: each one botocore sends (its _CHECKSUM_CLS).
S3_CHECKSUM_TRAILERS = frozenset(
    f"x-amz-checksum-{name}"
    for name in (
        "crc32", "crc32c", "crc64nvme", "sha1", "sha256", "sha512", "xxhash64", "xxhash3",
        "xxhash128",
    )
)  # fmt: skip
# Why a binary payload's framing cannot be built again (collector_stubs_skipped_total).
SIGNED_CHUNKS = "request_body_signed_chunks"
UNFRAMEABLE = "request_body_unmatchable"


def framed_again(request: HttpMessage) -> bytes | str:
    """-> the body ``request`` (sent ``aws-chunked``, its payload as ``body``) was sent
    as, or why it cannot be known: ``SIGNED_CHUNKS`` for a signed upload, ``UNFRAMEABLE``
    for another mode or a trailer that is not one S3 checksum."""
    mode = (request.header(CONTENT_SHA256_HEADER) or "").strip()
    if mode.startswith(_SIGNED_PREFIXES):
        return SIGNED_CHUNKS
    if mode != UNSIGNED_TRAILER:
        return UNFRAMEABLE
    trailer = (request.header(TRAILER_HEADER) or "").strip().lower()
    if trailer not in S3_CHECKSUM_TRAILERS:
        return UNFRAMEABLE
    checksum = served_digest(trailer, "", request.body)
    if checksum is None:
        return UNFRAMEABLE
    return frame(request.body, trailer=f"{trailer}:{checksum}")


def unlabelled_upload(request: HttpMessage) -> HttpMessage | None:
    """``request`` with its payload for body when its body was sent in the ``aws-chunked``
    framing without ``Content-Encoding: aws-chunked`` (S3 takes a ``STREAMING-*`` upload
    so, and some clients send one so), else None. The capture undoes only a framing it is
    told of, and then drops the header: a body it kept still framed is told by a
    ``STREAMING-*`` mode beside ``x-amz-decoded-content-length`` and by framing exactly
    that long a payload, which a payload the capture unframed never does (it is that long
    itself)."""
    length = request.header(DECODED_LENGTH_HEADER)
    if length is None:
        return None  # most requests: one header looked for
    mode = request.header(CONTENT_SHA256_HEADER) or ""
    if (
        not mode.strip().startswith(_STREAMING_PREFIX)
        or request.body_truncated
        or request.body_dropped
        or request.header(CONTENT_ENCODING_HEADER) is not None
    ):
        return None
    unframed = aws_chunked.decode(request.body, decoded_length=length)
    return None if unframed is None else request.replace(body=unframed[0])


def absent_encoding(unlabelled: HttpMessage | None) -> tuple[tuple[str, tuple[()]], ...]:
    """What an upload framed without Content-Encoding adds to the headers it is matched on
    (NormalizedRequest.varied): the header absent, as sent; () for any other request."""
    return () if unlabelled is None else ((CONTENT_ENCODING_HEADER, ()),)


def frame(payload: bytes, *, trailer: str) -> bytes:
    """``payload`` framed as one chunk, then the last chunk with the ``trailer`` line."""
    data = b"%x\r\n%s\r\n" % (len(payload), payload) if payload else b""
    return data + b"0\r\n" + trailer.encode("ascii") + b"\r\n\r\n"
