"""Digests of a response body in its headers, written again over the body a stub serves.

``Content-MD5``, ``x-ms-blob-content-md5`` (Azure Storage: the blob's, on a ranged read),
``x-ms-content-crc64`` (Azure Storage: CRC-64/NVME, its 8 bytes little-endian; the SDKs
check it with ``validate_content="crc64"``), ``Digest`` (RFC 3230), ``Content-Digest`` and
``Repr-Digest`` (RFC 9530), ``x-goog-hash`` (Cloud Storage), ``x-amz-checksum-<algorithm>``
(S3) and ``x-amz-crc32`` (DynamoDB: the CRC-32 of the body in decimal) describe the bytes of
the body, and clients check them (the Cloud Storage, S3 and DynamoDB clients do by default). A stub
serves the body decoded from its content-encoding and with sanitized values replaced, so a
recorded digest would no longer match it and a client would refuse a right answer. Each
digest is computed again over the served body (for a body served as it came: the recorded
value). One mockado cannot compute (another algorithm, an S3 checksum of parts) gets the
exchange no stub (``faithful.skip_reason``). A body-less answer (HEAD, 204, 304, an empty
body) keeps its digests: they describe the body a GET gets, or the object a PUT stored (a
HEAD's only where its GET's stub serves that body unchanged, as with its length:
``stubs.response_definition``). So does a 206's part
(its ``Repr-Digest`` describes the whole representation; a part with sanitized values gets
no stub), unless the part is the whole (``mapping.whole_parts``): its digests are the
served body's.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import struct
import zlib
from collections.abc import Callable

import google_crc32c

from ext_proc_server.core.exchange import HttpResponse
from ext_proc_server.mapping.whole_parts import is_whole_part

_AMZ_CHECKSUM = "x-amz-checksum-"
# DynamoDB's: botocore refuses an answer whose body does not give it (``ChecksumError``).
_AMZ_CRC32 = "x-amz-crc32"
# x-amz-checksum-type and -mode name how, not a digest.
_AMZ_NOT_DIGESTS = frozenset({"x-amz-checksum-type", "x-amz-checksum-mode"})
# Headers holding "algorithm=value" members, and how each writes its value.
_MEMBER_HEADERS = frozenset({"digest", "x-goog-hash"})
_STRUCTURED_HEADERS = frozenset({"content-digest", "repr-digest"})
# Azure Storage's MD5 of the whole blob, which its SDKs give as the blob's content_md5.
_BLOB_MD5 = "x-ms-blob-content-md5"
_MD5_HEADERS = frozenset({"content-md5", _BLOB_MD5})
# Azure Storage's CRC-64 is S3's CRC-64/NVME, its bytes in the other order.
_AZURE_CRC64 = "x-ms-content-crc64"
DIGEST_HEADERS = _MEMBER_HEADERS | _STRUCTURED_HEADERS | _MD5_HEADERS | {_AMZ_CRC32, _AZURE_CRC64}
_RECORDED_DIGEST_STATUSES = frozenset({204, 206, 304})


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), as Cloud Storage and S3 compute it (google-crc32c's C code)."""
    return google_crc32c.value(data)


def crc64nvme(data: bytes) -> int:
    """CRC-64/NVME, S3's default checksum, by the AWS common runtime's C code (the one the
    AWS SDKs check it with): about 0.4 ms per MiB, where a Python loop took 90 to 750."""
    return _awscrt_crc64nvme()(data)


# The AWS common runtime takes about 0.1 s to import: loaded by the first CRC-64, so a
# process that never serves one never pays for it.
@functools.cache
def _awscrt_crc64nvme() -> Callable[[bytes], int]:
    from awscrt import checksums

    return checksums.crc64nvme


def xxhash(variant: str, data: bytes) -> bytes:
    """The XXH64, XXH3-64 or XXH3-128 (``variant``: "xxhash64", "xxhash3", "xxhash128") of
    ``data``, seed 0, as the AWS SDKs compute S3's checksums of those names (awscrt)."""
    from awscrt import checksums

    compute = {
        "xxhash64": checksums.XXHash.compute_xxhash64,
        "xxhash3": checksums.XXHash.compute_xxhash3_64,
        "xxhash128": checksums.XXHash.compute_xxhash3_128,
    }[variant]
    return compute(data)


_ALGORITHMS: dict[str, Callable[[bytes], bytes]] = {
    "md5": lambda b: hashlib.md5(b, usedforsecurity=False).digest(),
    "sha": lambda b: hashlib.sha1(b, usedforsecurity=False).digest(),
    "sha1": lambda b: hashlib.sha1(b, usedforsecurity=False).digest(),
    "sha-256": lambda b: hashlib.sha256(b).digest(),
    "sha256": lambda b: hashlib.sha256(b).digest(),
    "sha-512": lambda b: hashlib.sha512(b).digest(),
    "sha512": lambda b: hashlib.sha512(b).digest(),
    "crc32": lambda b: struct.pack(">I", zlib.crc32(b)),
    "crc32c": lambda b: struct.pack(">I", crc32c(b)),
    "crc64nvme": lambda b: struct.pack(">Q", crc64nvme(b)),
    # S3's XXHash checksums, as the AWS SDKs compute them.
    "xxhash64": lambda b: xxhash("xxhash64", b),
    "xxhash3": lambda b: xxhash("xxhash3", b),
    "xxhash128": lambda b: xxhash("xxhash128", b),
}


# Header names recur on every call: each is looked at once (bounded, as names come from
# upstreams).
@functools.lru_cache(maxsize=1024)
def is_digest(lower_name: str) -> bool:
    """Whether a response header (lower-cased name) is a digest of the body."""
    if lower_name in DIGEST_HEADERS:
        return True
    return lower_name.startswith(_AMZ_CHECKSUM) and lower_name not in _AMZ_NOT_DIGESTS


def _encoded(algorithm: str, body: bytes) -> str | None:
    compute = _ALGORITHMS.get(algorithm.strip().lower())
    return None if compute is None else base64.b64encode(compute(body)).decode("ascii")


def _members(value: str, body: bytes, *, structured: bool) -> str | None:
    out = []
    for member in value.split(","):
        algorithm, sep, recorded = member.strip().partition("=")
        if not sep or (structured and not _is_byte_sequence(recorded)):
            return None
        digest = _encoded(algorithm, body)
        if digest is None:
            return None
        out.append(f"{algorithm.strip()}={f':{digest}:' if structured else digest}")
    return ", ".join(out)


def _is_byte_sequence(value: str) -> bool:
    """An RFC 8941 byte sequence (``:base64:``) without parameters."""
    return len(value) >= 2 and value[0] == ":" and value[-1] == ":" and ";" not in value


def served_digest(lower_name: str, value: str, body: bytes) -> str | None:
    """Digest header ``lower_name``'s value computed over ``body``; None when mockado
    cannot compute it (an algorithm it does not know, an S3 checksum of parts)."""
    if lower_name in _MD5_HEADERS:
        return _encoded("md5", body)
    if lower_name == _AMZ_CRC32:
        return str(zlib.crc32(body))
    if lower_name == _AZURE_CRC64:
        return base64.b64encode(struct.pack("<Q", crc64nvme(body))).decode("ascii")
    if lower_name in _MEMBER_HEADERS:
        return _members(value, body, structured=False)
    if lower_name in _STRUCTURED_HEADERS:
        return _members(value, body, structured=True)
    if "-" in value.rstrip("="):  # "<checksum>-<parts>": a checksum of checksums
        return None
    return _encoded(lower_name.removeprefix(_AMZ_CHECKSUM), body)


def keeps_recorded_digests(
    status: int, *, head: bool, empty: bool = False, whole: bool = False
) -> bool:
    """The answers whose digests are served as recorded: those without a body (to HEAD, a
    204 or 304: they describe a GET's body; an empty body: S3 answers a PutObject with the
    checksum of the object it stored), and a 206 (its Repr-Digest is the whole's) but one
    whose part is the whole (``whole``). ``empty``: the served body is empty
    (``digests_computable`` does not know: it never reads the body)."""
    if whole and not (head or empty):
        return False
    return head or empty or status in _RECORDED_DIGEST_STATUSES


def digests_computable(response: HttpResponse, *, head: bool) -> bool:
    """Whether every digest of ``response`` can be served matching its served body (False:
    no stub). ``head``: it answers a HEAD request. Decided from the headers, never from the
    body (the pipeline empties the body of an exchange it skips)."""
    found = [(n.lower(), v) for n, v in response.headers if is_digest(n.lower())]
    whole = is_whole_part(response)
    if not found or keeps_recorded_digests(response.status, head=head, whole=whole):
        return True
    return all(served_digest(name, value, b"") is not None for name, value in found)
