"""A binary payload sent aws-chunked: its stub matches the bytes of the body an unsigned
upload of it sends (``binaryEqualTo``, as WireMock compares it: the body as received), or
no stub is written and the reason is counted."""

from __future__ import annotations

import base64
import re
from typing import Any

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from ext_proc_server.capture.bodies import decode_content
from ext_proc_server.core.exchange import HttpResponse
from tests.support.aws_framing import CHECKSUMS
from tests.support.aws_framing import botocore_framed as framed
from tests.unit.mapping.mapping_helpers import build, make_exchange

OK = HttpResponse(status=200, headers=(("etag", '"5d41"'),), body=b"")
# A gzip file's first bytes, then bytes that are no UTF-8.
BINARY = b"\x1f\x8b\x08\x00" + bytes(range(128, 256)) * 2
UNSIGNED = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"


def upload(
    payload: bytes, *, mode: str = UNSIGNED, trailer: str | None = "x-amz-checksum-crc32"
) -> dict[str, Any] | None:
    """The stub of an aws-chunked PUT of ``payload`` (as the capture keeps it: the payload
    alone, ``x-amz-decoded-content-length`` kept)."""
    headers = [
        ("content-type", "application/octet-stream"),
        ("x-amz-content-sha256", mode),
        ("x-amz-decoded-content-length", str(len(payload))),
    ]
    if trailer is not None:
        headers.append(("x-amz-trailer", trailer))
    exchange = make_exchange(
        method="PUT", path="/bucket/data/part-0.gz", headers=tuple(headers), body=payload,
        response=OK,
    )  # fmt: skip
    return build(exchange)


def binary_body(mapping: dict[str, Any]) -> bytes:
    (pattern,) = mapping["request"]["bodyPatterns"]
    return base64.b64decode(pattern["binaryEqualTo"])


def skipped(reason: str) -> float:
    return REGISTRY.get_sample_value("collector_stubs_skipped_total", {"reason": reason}) or 0.0


@pytest.mark.parametrize("algorithm", sorted(CHECKSUMS))
def test_a_binary_payload_is_matched_as_the_body_botocore_frames_it_in(algorithm):
    mapping = upload(BINARY, trailer=f"x-amz-checksum-{algorithm}")
    assert mapping is not None
    request = mapping["request"]
    assert binary_body(mapping) == framed(BINARY, algorithm)
    assert request["headers"]["Content-Encoding"] == {
        "equalTo": "aws-chunked",
        "caseInsensitive": True,
    }
    assert request["headers"]["x-amz-decoded-content-length"] == {"equalTo": str(len(BINARY))}
    # The checksum is the client's choice: another algorithm frames other bytes.
    others = {framed(BINARY, other) for other in CHECKSUMS if other != algorithm}
    assert binary_body(mapping) not in others


def test_a_binary_payload_and_the_same_sent_plain_are_two_stubs():
    """A plain upload's stub matches its bytes; the framed one the framing around them."""
    chunked = upload(BINARY)
    plain = build(
        make_exchange(
            method="PUT", path="/bucket/data/part-0.gz", body=BINARY, response=OK,
            headers=(("content-type", "application/octet-stream"),),
        )
    )  # fmt: skip
    assert chunked is not None and plain is not None
    assert chunked["id"] != plain["id"]
    assert plain["request"]["bodyPatterns"] == [
        {"binaryEqualTo": base64.b64encode(BINARY).decode()}
    ]
    assert binary_body(chunked) != BINARY


@pytest.mark.parametrize(
    "mode",
    [
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
    ],
)
def test_a_binary_payload_in_signed_chunks_gets_no_stub_and_is_counted(mode):
    """Each chunk's signature is new on every upload: no byte match replays it."""
    before = skipped("request_body_signed_chunks")
    assert upload(BINARY, mode=mode) is None
    assert skipped("request_body_signed_chunks") == before + 1


@pytest.mark.parametrize(
    ("mode", "trailer"),
    [
        (UNSIGNED, "x-amz-checksum-md5"),  # no checksum S3 takes in a trailer
        (UNSIGNED, "x-amz-checksum-crc32,x-amz-checksum-sha256"),
        (UNSIGNED, "x-amz-meta-note"),
        ("UNSIGNED-PAYLOAD", None),  # framing no SDK sends: its layout is unknown
    ],
)
def test_a_binary_payload_whose_framing_is_unknown_gets_no_stub(mode, trailer):
    before = skipped("request_body_unmatchable")
    assert upload(BINARY, mode=mode, trailer=trailer) is None
    assert skipped("request_body_unmatchable") == before + 1
    # The same payload sent as botocore sends it has one.
    assert upload(BINARY) is not None


def test_a_text_payload_keeps_its_regex_and_a_binary_one_is_matched_as_bytes():
    text, binary = upload(b"first note\n"), upload(BINARY)
    assert text is not None and binary is not None
    assert list(text["request"]["bodyPatterns"][0]) == ["matches"]
    assert list(binary["request"]["bodyPatterns"][0]) == ["binaryEqualTo"]


# Payloads that are not UTF-8 (a byte 0xff is never UTF-8).
BINARY_PAYLOADS = st.binary(max_size=600).map(lambda b: b + b"\xff")


@settings(max_examples=150, deadline=None)
@given(BINARY_PAYLOADS, BINARY_PAYLOADS, st.sampled_from(sorted(CHECKSUMS)))
def test_any_binary_payload_matches_its_own_framing_and_no_other(payload, other, algorithm):
    mapping = upload(payload, trailer=f"x-amz-checksum-{algorithm}")
    assert mapping is not None
    assert binary_body(mapping) == framed(payload, algorithm)
    if other != payload:
        assert binary_body(mapping) != framed(other, algorithm)


@settings(max_examples=150, deadline=None)
@given(BINARY_PAYLOADS, st.sampled_from(sorted(CHECKSUMS)))
def test_the_capture_reads_the_framed_body_back_to_its_payload(payload, algorithm):
    """The body a stub matches is one the capture would take, and keep the same payload
    of: recording the replayed upload again gives the same stub."""
    mapping = upload(payload, trailer=f"x-amz-checksum-{algorithm}")
    assert mapping is not None
    decoded = decode_content(
        binary_body(mapping),
        codings=["aws-chunked"],
        max_bytes=1 << 20,
        aws_decoded_length=str(len(payload)),
    )
    assert (decoded.body, decoded.truncated, decoded.dropped) == (payload, False, "")


def test_every_checksum_botocore_sends_in_a_trailer_is_framed_again():
    """The algorithms S3's model offers botocore (its ChecksumAlgorithm values) but MD5,
    which botocore refuses before sending (FlexibleChecksumError)."""
    client = boto3.client("s3", region_name="us-east-1")
    shape = client.meta.service_model.shape_for("ChecksumAlgorithm")
    assert {name.lower() for name in shape.enum} - {"md5"} == set(CHECKSUMS)
    for algorithm in CHECKSUMS:
        mapping = upload(BINARY, trailer=f"x-amz-checksum-{algorithm}")
        assert mapping is not None and binary_body(mapping) == framed(BINARY, algorithm)


def unlabelled_upload(
    framed_body: bytes, payload: bytes, *, mode: str = UNSIGNED
) -> dict[str, Any] | None:
    """The stub of a PUT of ``framed_body`` in the aws-chunked framing of ``payload``
    without ``Content-Encoding`` (the capture keeps such a body as sent)."""
    headers = (
        ("content-type", "application/octet-stream"),
        ("x-amz-content-sha256", mode),
        ("x-amz-decoded-content-length", str(len(payload))),
        ("x-amz-trailer", "x-amz-checksum-crc32"),
    )
    exchange = make_exchange(
        method="PUT", path="/bucket/data/part-0.gz", headers=headers, body=framed_body,
        response=OK,
    )  # fmt: skip
    return build(exchange)


def body_matches(mapping: dict[str, Any], body: bytes) -> bool:
    (pattern,) = mapping["request"]["bodyPatterns"]
    return re.fullmatch(pattern["matches"], body.decode("utf-8", "replace")) is not None


def test_a_framing_sent_without_content_encoding_is_matched_as_sent():
    """S3 takes a STREAMING-* upload without Content-Encoding: aws-chunked. Its stub
    matches the payload inside the framing (another checksum too) and the header absent."""
    text = b"first note\n" * 3
    mapping = unlabelled_upload(framed(text), text)
    assert mapping is not None
    headers = mapping["request"]["headers"]
    assert headers["content-encoding"] == {"absent": True}
    assert "Content-Encoding" not in headers
    assert body_matches(mapping, framed(text, "sha256"))
    assert not body_matches(mapping, framed(text.upper()))
    # A binary payload: the bytes of its framing, built again.
    binary = unlabelled_upload(framed(BINARY), BINARY)
    assert binary is not None
    assert binary_body(binary) == framed(BINARY)
    assert binary["request"]["headers"]["content-encoding"] == {"absent": True}


def test_a_binary_framing_in_signed_chunks_without_content_encoding_is_counted():
    before = skipped("request_body_signed_chunks")
    signed = b"%x;chunk-signature=%s\r\n%s\r\n0;chunk-signature=%s\r\n\r\n" % (
        len(BINARY), b"a" * 64, BINARY, b"b" * 64
    )  # fmt: skip
    assert unlabelled_upload(signed, BINARY, mode="STREAMING-AWS4-HMAC-SHA256-PAYLOAD") is None
    assert skipped("request_body_signed_chunks") == before + 1


@settings(max_examples=150, deadline=None)
@given(BINARY_PAYLOADS, st.sampled_from(sorted(CHECKSUMS)), st.booleans())
def test_a_framing_is_read_only_when_sent_without_content_encoding(inner, algorithm, framing):
    """Sent framed without Content-Encoding, a payload's stub is its framing, the header
    absent. A labelled upload's payload (the capture drops Content-Encoding once it
    unframed it) is never read as a framing again, even when it is one: it is the length
    declared."""
    payload = framed(inner, algorithm) if framing else inner
    unlabelled = unlabelled_upload(framed(payload), payload)
    assert unlabelled is not None
    assert binary_body(unlabelled) == framed(payload)
    assert unlabelled["request"]["headers"]["content-encoding"] == {"absent": True}
    labelled = upload(payload)
    assert labelled is not None
    assert binary_body(labelled) == framed(payload)
    assert labelled["request"]["headers"]["Content-Encoding"]["equalTo"] == "aws-chunked"
