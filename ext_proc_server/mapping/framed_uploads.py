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

Limits: the payload is framed as one data chunk. botocore sends a body a capture keeps
whole so (its chunks are 1 MiB, the largest body limit); a client that splits the same
payload in several chunks gets a clear miss.
"""

from __future__ import annotations

from ext_proc_server.core.exchange import HttpMessage
from ext_proc_server.mapping.digests import served_digest

CONTENT_SHA256_HEADER = "x-amz-content-sha256"
TRAILER_HEADER = "x-amz-trailer"
UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
# The streaming modes whose chunks are signed (SigV4 and SigV4a, with a trailer or not).
_SIGNED_PREFIXES = ("STREAMING-AWS4-HMAC-SHA256-", "STREAMING-AWS4-ECDSA-P256-SHA256-")
# The checksums S3 takes in a trailer.
S3_CHECKSUM_TRAILERS = frozenset(
    f"x-amz-checksum-{name}" for name in ("crc32", "crc32c", "crc64nvme", "sha1", "sha256")
)
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


def frame(payload: bytes, *, trailer: str) -> bytes:
    """``payload`` framed as one chunk, then the last chunk with the ``trailer`` line."""
    data = b"%x\r\n%s\r\n" % (len(payload), payload) if payload else b""
    return data + b"0\r\n" + trailer.encode("ascii") + b"\r\n\r\n"
