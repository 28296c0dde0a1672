"""An S3 upload sent ``aws-chunked``: the payload its stub matches, and the framing sent
without ``Content-Encoding: aws-chunked``.

The capture keeps the payload alone, and the stub matches it out of its framing with the
launcher's matcher (mapping.framed_bodies): a binary payload (an image, a parquet or gzip
file) as a text one, by its digest, whatever the chunk sizes and the mode, unsigned with its
checksum in a trailer (``STREAMING-UNSIGNED-PAYLOAD-TRAILER``, botocore's over TLS since
1.36, the Java and Go SDKs') or signed chunk by chunk (``STREAMING-AWS4-HMAC-SHA256-PAYLOAD``
and its ``-TRAILER`` and ECDSA forms: each chunk's signature is new on every upload, and the
launcher does not check it). Before, the body was framed again here and matched as
``binaryEqualTo``: one chunk, one trailer, the exact checksum algorithm; a payload in
several chunks was a miss, one in signed chunks got no stub (``request_body_signed_chunks``).

A body sent in this framing without ``Content-Encoding: aws-chunked`` (S3 takes it so) is
kept framed by the capture, which undoes only the codings it is told of:
``unlabelled_upload`` reads its payload for the stub, which matches it as for a labelled
upload and the header absent, as sent.
"""

from __future__ import annotations

from ext_proc_server.core import aws_chunked
from ext_proc_server.core.exchange import HttpMessage
from ext_proc_server.mapping.chosen_by import DECODED_LENGTH_HEADER

CONTENT_SHA256_HEADER = "x-amz-content-sha256"
CONTENT_ENCODING_HEADER = "content-encoding"
# Every x-amz-content-sha256 mode of a body in the aws-chunked framing.
_STREAMING_PREFIX = "STREAMING-"


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
