"""A binary payload sent aws-chunked: its stub matches the payload's digest out of its
framing (the launcher's ``mockado-aws-chunked``), whatever the chunks, the checksum in the
trailer or the chunk signatures."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import boto3
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from ext_proc_server.core.exchange import HttpResponse
from ext_proc_server.mapping.stub_format import on_current_format
from tests.support.aws_framing import CHECKSUMS, launcher_matches, signed_framed
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


def payload_digest(mapping: dict[str, Any]) -> str:
    """The stub's payload matcher: the SHA-256 of the payload (no body pattern)."""
    assert "bodyPatterns" not in mapping["request"]
    matcher = mapping["request"]["customMatcher"]
    assert list(matcher["parameters"]) == ["sha256"]
    return matcher["parameters"]["sha256"]


def skipped(reason: str) -> float:
    return REGISTRY.get_sample_value("collector_stubs_skipped_total", {"reason": reason}) or 0.0


@pytest.mark.parametrize("algorithm", sorted(CHECKSUMS))
def test_a_binary_payload_is_matched_by_its_digest_in_any_trailer(algorithm):
    mapping = upload(BINARY, trailer=f"x-amz-checksum-{algorithm}")
    assert mapping is not None
    request = mapping["request"]
    assert payload_digest(mapping) == hashlib.sha256(BINARY).hexdigest()
    assert request["headers"]["Content-Encoding"] == {
        "equalTo": "aws-chunked",
        "caseInsensitive": True,
    }
    assert request["headers"]["x-amz-decoded-content-length"] == {"equalTo": str(len(BINARY))}
    # The trailer's checksum is of the payload: any algorithm frames the same upload.
    for other in CHECKSUMS:
        assert launcher_matches(mapping, framed(BINARY, other)), other


def test_a_binary_payload_and_the_same_sent_plain_are_two_stubs():
    """A plain upload's stub matches its bytes; the framed one its payload in the framing."""
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
    assert not launcher_matches(chunked, BINARY)


@pytest.mark.parametrize(
    "mode",
    [
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER",
        "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD",
    ],
)
def test_a_binary_payload_in_signed_chunks_gets_a_stub(mode):
    """Each chunk's signature is new on every upload: the launcher does not read it. Before,
    no stub (``request_body_signed_chunks``)."""
    before = skipped("request_body_signed_chunks")
    mapping = upload(BINARY, mode=mode)
    assert mapping is not None
    assert skipped("request_body_signed_chunks") == before
    for chunk_size, signature in ((100, "a" * 64), (200, "b" * 64), (len(BINARY), "c" * 64)):
        assert launcher_matches(mapping, signed_framed(BINARY, signature, chunk_size=chunk_size))
    assert not launcher_matches(mapping, signed_framed(BINARY[::-1], "a" * 64, chunk_size=100))


@pytest.mark.parametrize(
    ("mode", "trailer"),
    [
        (UNSIGNED, "x-amz-checksum-md5"),
        (UNSIGNED, "x-amz-checksum-crc32,x-amz-checksum-sha256"),
        (UNSIGNED, "x-amz-meta-note"),
        ("UNSIGNED-PAYLOAD", None),
    ],
)
def test_a_binary_payload_in_any_mode_or_trailer_gets_a_stub(mode, trailer):
    """The payload is matched out of the framing, whatever its trailers. Before, no stub
    (``request_body_unmatchable``): its framing could not be built again."""
    mapping = upload(BINARY, mode=mode, trailer=trailer)
    assert mapping is not None
    assert payload_digest(mapping) == hashlib.sha256(BINARY).hexdigest()


def test_a_text_payload_and_a_binary_one_are_both_matched_by_digest():
    text, binary = upload(b"first note\n"), upload(BINARY)
    assert text is not None and binary is not None
    assert payload_digest(text) == hashlib.sha256(b"first note\n").hexdigest()
    assert payload_digest(binary) == hashlib.sha256(BINARY).hexdigest()


# Payloads that are not UTF-8 (a byte 0xff is never UTF-8).
BINARY_PAYLOADS = st.binary(max_size=600).map(lambda b: b + b"\xff")


@settings(max_examples=150, deadline=None)
@given(
    BINARY_PAYLOADS, BINARY_PAYLOADS, st.sampled_from(sorted(CHECKSUMS)),
    st.integers(min_value=1, max_value=700),
)  # fmt: skip
def test_any_binary_payload_matches_in_any_chunks_and_no_other(payload, other, algorithm, size):
    mapping = upload(payload, trailer=f"x-amz-checksum-{algorithm}")
    assert mapping is not None
    assert launcher_matches(mapping, framed(payload, algorithm, chunk_size=size))
    assert launcher_matches(mapping, signed_framed(payload, "d" * 64, chunk_size=size))
    if other != payload:
        assert not launcher_matches(
            mapping, framed(other, algorithm, chunk_size=size), str(len(other))
        )


def test_every_checksum_botocore_sends_in_a_trailer_is_matched():
    """The algorithms S3's model offers botocore (its ChecksumAlgorithm values) but MD5,
    which botocore refuses before sending (FlexibleChecksumError)."""
    client = boto3.client("s3", region_name="us-east-1")
    shape = client.meta.service_model.shape_for("ChecksumAlgorithm")
    assert {name.lower() for name in shape.enum} - {"md5"} == set(CHECKSUMS)
    for algorithm in CHECKSUMS:
        mapping = upload(BINARY, trailer=f"x-amz-checksum-{algorithm}")
        assert mapping is not None and launcher_matches(mapping, framed(BINARY, algorithm))


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


def test_a_framing_sent_without_content_encoding_is_matched_as_sent():
    """S3 takes a STREAMING-* upload without Content-Encoding: aws-chunked. Its stub
    matches the payload inside the framing (another checksum too) and the header absent."""
    text = b"first note\n" * 3
    mapping = unlabelled_upload(framed(text), text)
    assert mapping is not None
    headers = mapping["request"]["headers"]
    assert headers["content-encoding"] == {"absent": True}
    assert "Content-Encoding" not in headers
    assert launcher_matches(mapping, framed(text, "sha256", chunk_size=7))
    assert not launcher_matches(mapping, framed(text.upper()))
    # A binary payload: its digest, as for a labelled upload.
    binary = unlabelled_upload(framed(BINARY), BINARY)
    assert binary is not None
    assert payload_digest(binary) == hashlib.sha256(BINARY).hexdigest()
    assert binary["request"]["headers"]["content-encoding"] == {"absent": True}


def test_a_binary_framing_in_signed_chunks_without_content_encoding_gets_a_stub():
    signed = signed_framed(BINARY, "a" * 64)
    mapping = unlabelled_upload(signed, BINARY, mode="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
    assert mapping is not None
    assert launcher_matches(mapping, signed_framed(BINARY, "b" * 64, chunk_size=64))


@settings(max_examples=150, deadline=None)
@given(BINARY_PAYLOADS, st.sampled_from(sorted(CHECKSUMS)), st.booleans())
def test_a_framing_is_read_only_when_sent_without_content_encoding(inner, algorithm, framing):
    """Sent framed without Content-Encoding, a payload's stub is its digest, the header
    absent. A labelled upload's payload (the capture drops Content-Encoding once it
    unframed it) is never read as a framing again, even when it is one: it is the length
    declared."""
    payload = framed(inner, algorithm) if framing else inner
    unlabelled = unlabelled_upload(framed(payload), payload)
    assert unlabelled is not None
    assert payload_digest(unlabelled) == hashlib.sha256(payload).hexdigest()
    assert unlabelled["request"]["headers"]["content-encoding"] == {"absent": True}
    labelled = upload(payload)
    assert labelled is not None
    assert payload_digest(labelled) == hashlib.sha256(payload).hexdigest()
    assert labelled["request"]["headers"]["Content-Encoding"]["equalTo"] == "aws-chunked"


def test_stored_stubs_of_framed_uploads_load_as_they_are():
    """Today's stub (the launcher's matcher) and one written before it (the framing's bytes)
    are both on today's format: neither answers another payload, so a reload imports each as
    it is (no new stub format), and the older one keeps serving until a capture replaces it."""
    today = upload(BINARY)
    assert today is not None
    assert on_current_format(today) == (today, "")
    before = {
        **today,
        "request": {
            **{key: value for key, value in today["request"].items() if key != "customMatcher"},
            "bodyPatterns": [{"binaryEqualTo": base64.b64encode(framed(BINARY)).decode()}],
        },
    }
    assert on_current_format(before) == (before, "")


@pytest.mark.parametrize("algorithm", ["crc32", "crc64nvme"])
def test_the_checksum_asked_for_chooses_the_stub(algorithm: str) -> None:
    """S3 answers an upload with the checksum of the algorithm asked for: an upload asking
    for another is another stub, never answered the recorded algorithm's header."""
    stub = build(
        make_exchange(
            method="PUT",
            path="/bucket/report.csv",
            headers=(
                ("content-encoding", "aws-chunked"),
                ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
                ("x-amz-decoded-content-length", "5"),
                ("x-amz-sdk-checksum-algorithm", algorithm.upper()),
                ("x-amz-trailer", f"x-amz-checksum-{algorithm}"),
            ),
            body=b"a,b\n1",
            response=HttpResponse(
                status=200, headers=((f"x-amz-checksum-{algorithm}", "AAAAAA=="),), body=b""
            ),
        )
    )
    assert stub is not None
    headers = stub["request"]["headers"]
    assert headers["x-amz-sdk-checksum-algorithm"] == {"equalTo": algorithm.upper()}
    assert headers["x-amz-trailer"] == {"equalTo": f"x-amz-checksum-{algorithm}"}
