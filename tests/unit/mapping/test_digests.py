"""Digests of the body in response headers: written again over the served body, or no stub."""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib

import pytest
from botocore.httpchecksum import (
    CrtXxhash3Checksum,
    CrtXxhash64Checksum,
    CrtXxhash128Checksum,
    Sha512Checksum,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.exchange import HttpResponse
from ext_proc_server.mapping import skip_reason
from ext_proc_server.mapping.digests import (
    crc32c,
    crc64nvme,
    digests_computable,
    is_digest,
    served_digest,
)
from tests.unit.mapping.mapping_helpers import build, make_exchange

BODY = b'{"email":"SANITIZED_EMAIL","ok":true}'


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


SHA256 = _b64(hashlib.sha256(BODY).digest())
MD5 = _b64(hashlib.md5(BODY, usedforsecurity=False).digest())


def test_the_crcs_give_their_check_values() -> None:
    assert crc32c(b"123456789") == 0xE3069283
    assert crc64nvme(b"123456789") == 0xAE8B14860A799888


def _crc64nvme_bitwise(data: bytes) -> int:
    """CRC-64/NVME from its definition (reflected polynomial, all-ones start and xor-out),
    one bit at a time: slow, and independent of the C code under test."""
    crc = 0xFFFFFFFFFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0x9A6C9329AC4BC9B5 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFFFFFFFFFF


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=600))
def test_crc64nvme_matches_its_definition(data: bytes) -> None:
    """Every length around the C code's wide strides (8, 16, 64, 256 bytes) and tails."""
    assert crc64nvme(data) == _crc64nvme_bitwise(data)


@pytest.mark.parametrize(
    ("name", "recorded", "served"),
    [
        ("content-md5", "stale==", MD5),
        ("digest", "SHA-256=stale, md5=stale", f"SHA-256={SHA256}, md5={MD5}"),
        ("content-digest", "sha-256=:stale:", f"sha-256=:{SHA256}:"),
        ("repr-digest", "sha-512=:stale:", f"sha-512=:{_b64(hashlib.sha512(BODY).digest())}:"),
        ("x-goog-hash", "crc32c=stale,md5=stale",
         f"crc32c={_b64(struct.pack('>I', crc32c(BODY)))}, md5={MD5}"),
        ("x-amz-checksum-crc32", "stale", _b64(struct.pack(">I", zlib.crc32(BODY)))),
        ("x-amz-checksum-sha256", "stale", SHA256),
        ("x-amz-checksum-crc64nvme", "stale", _b64(struct.pack(">Q", crc64nvme(BODY)))),
    ],
)  # fmt: skip
def test_a_digest_is_written_again_over_the_served_body(
    name: str, recorded: str, served: str
) -> None:
    assert is_digest(name)
    assert served_digest(name, recorded, BODY) == served


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("digest", "UNIXsum=4711"),
        ("content-digest", "sha-256=:x:;p=1"),
        ("content-digest", "sha-256=abc"),
        ("x-amz-checksum-crc32", "AAAAAA==-3"),  # a checksum of 3 parts' checksums
        ("x-amz-checksum-md4", "AAAA"),
    ],
)
def test_a_digest_mockado_cannot_compute_gets_no_stub(name: str, value: str) -> None:
    assert served_digest(name, value, BODY) is None
    response = HttpResponse(status=200, headers=((name, value),), body=BODY)
    exchange = make_exchange(response=response)
    assert skip_reason(exchange) == "response_digest_uncomputable"
    # Decided from the headers: the pipeline empties the body of an exchange it skips.
    assert skip_reason(exchange.replace(response=response.replace(body=b""))) != ""


def test_headers_that_are_not_digests() -> None:
    assert not is_digest("x-amz-checksum-type") and not is_digest("etag")


def test_answers_without_a_body_or_with_a_part_keep_their_digests() -> None:
    header = ("digest", "UNIXsum=4711")
    head = HttpResponse(status=200, headers=(header,))
    assert digests_computable(head, head=True)
    part = HttpResponse(status=206, headers=(header, ("content-md5", "x")), body=b"abc")
    assert digests_computable(part, head=False)
    mapping = build(make_exchange(response=part))
    assert mapping["response"]["headers"]["content-md5"] == "x"


def test_the_stub_serves_the_digest_of_its_body() -> None:
    response = HttpResponse(status=200, headers=(("Content-MD5", "stale=="),), body=BODY)
    mapping = build(make_exchange(response=response))
    assert mapping["response"]["headers"] == {"Content-MD5": MD5, "content-encoding": "identity"}


@pytest.mark.parametrize(
    ("algorithm", "checksum_cls"),
    [
        ("sha512", Sha512Checksum),
        ("xxhash64", CrtXxhash64Checksum),
        ("xxhash3", CrtXxhash3Checksum),
        ("xxhash128", CrtXxhash128Checksum),
    ],
)
def test_s3s_other_checksums_are_computed_as_botocore_checks_them(algorithm, checksum_cls):
    """S3 answers an object uploaded with a SHA512 or XXHash checksum with it
    (``x-amz-checksum-<algorithm>``), which botocore checks on a GET: served again over the
    served body, as botocore computes it."""
    expected = checksum_cls()
    expected.update(BODY)
    name = f"x-amz-checksum-{algorithm}"
    assert served_digest(name, "stale", BODY) == expected.b64digest()
    headers = (("content-type", "application/json"), (name, "stale"))
    assert digests_computable(HttpResponse(status=200, headers=headers, body=BODY), head=False)
