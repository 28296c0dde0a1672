"""Bodies framed as AWS SDKs send them ``aws-chunked``: botocore's own framing with a
checksum trailer, and a SigV4 streaming upload's signed chunks; and the launcher's
``mockado-aws-chunked`` matcher as it reads them."""

from __future__ import annotations

import hashlib
import io
import re
from typing import Any

from botocore.httpchecksum import (
    AwsChunkedWrapper,
    Crc32Checksum,
    CrtCrc32cChecksum,
    CrtCrc64NvmeChecksum,
    CrtXxhash3Checksum,
    CrtXxhash64Checksum,
    CrtXxhash128Checksum,
    Sha1Checksum,
    Sha256Checksum,
    Sha512Checksum,
)

from ext_proc_server.core import aws_chunked
from ext_proc_server.mapping.framed_bodies import PAYLOAD_MATCHER

# Every trailer checksum botocore sends (MD5 it refuses before sending).
CHECKSUMS = {
    "crc32": Crc32Checksum,
    "crc32c": CrtCrc32cChecksum,
    "crc64nvme": CrtCrc64NvmeChecksum,
    "sha1": Sha1Checksum,
    "sha256": Sha256Checksum,
    "sha512": Sha512Checksum,
    "xxhash64": CrtXxhash64Checksum,
    "xxhash3": CrtXxhash3Checksum,
    "xxhash128": CrtXxhash128Checksum,
}


def botocore_framed(
    payload: bytes, algorithm: str = "crc32", *, chunk_size: int | None = None
) -> bytes:
    """``payload`` as botocore frames it: its ``algorithm`` checksum in a trailer, in chunks
    of ``chunk_size`` (botocore's 1 MiB when None)."""
    wrapper = AwsChunkedWrapper(
        io.BytesIO(payload),
        checksum_cls=CHECKSUMS[algorithm],
        checksum_name=f"x-amz-checksum-{algorithm}",
        chunk_size=chunk_size,
    )
    return wrapper.read()


def signed_framed(payload: bytes, signature: str, *, chunk_size: int | None = None) -> bytes:
    """``payload`` as a SigV4 streaming upload frames it: each chunk of ``chunk_size`` (the
    whole payload when None) with ``signature``, then the last, empty one."""
    ext = f";chunk-signature={signature}".encode()
    size = chunk_size or max(len(payload), 1)
    pieces = [payload[at : at + size] for at in range(0, len(payload), size)]
    framed = b"".join(b"%x%s\r\n%s\r\n" % (len(piece), ext, piece) for piece in pieces)
    return framed + b"0" + ext + b"\r\n\r\n"


def launcher_matches(
    mapping: dict[str, Any], body: bytes, decoded_length: str | None = None
) -> bool:
    """Whether the launcher's ``mockado-aws-chunked`` matcher of ``mapping`` takes ``body``,
    as ``MockadoWireMock.AwsChunkedUploads`` reads it: the framing undone as S3 takes it
    (``decoded_length``: the stub's ``x-amz-decoded-content-length`` when None), then the
    payload's SHA-256, or its UTF-8 text against the regex in full."""
    request = mapping["request"]
    matcher = request["customMatcher"]
    assert matcher["name"] == PAYLOAD_MATCHER
    if decoded_length is None:
        decoded_length = request["headers"]["x-amz-decoded-content-length"]["equalTo"]
    decoded = aws_chunked.decode(body, decoded_length=decoded_length)
    if decoded is None:
        return False
    payload, parameters = decoded[0], matcher["parameters"]
    if "sha256" in parameters:
        return hashlib.sha256(payload).hexdigest() == parameters["sha256"]
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return re.fullmatch(parameters["matches"], text) is not None
