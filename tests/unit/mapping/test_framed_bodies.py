"""The stub of an upload sent aws-chunked matches its payload out of the framing, with the
launcher's ``mockado-aws-chunked`` matcher: any chunk sizes, chunk signatures and checksums;
the payload by its digest, or by a regex when it holds a dynamic value."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.exchange import HttpResponse
from ext_proc_server.mapping.framed_bodies import PAYLOAD_MATCHER
from tests.support.aws_framing import botocore_framed as framed
from tests.support.aws_framing import launcher_matches, signed_framed
from tests.unit.mapping.mapping_helpers import build, make_exchange

PAYLOAD = b"first note\n" * 3
EMAIL = "maria.silva@example.com"
OK = HttpResponse(status=200, headers=(("etag", '"5d41"'),), body=b"")
SIGNATURE = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"


def upload(payload: bytes, *, sent_framed: bool = True, redactions=frozenset()) -> Any:
    """The stub of a PUT of ``payload`` (as the capture keeps it: decoded)."""
    headers = (("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),)
    if sent_framed:
        headers = (
            ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
            ("x-amz-decoded-content-length", str(len(payload))),
            ("x-amz-trailer", "x-amz-checksum-crc32"),
        )
    exchange = make_exchange(
        method="PUT",
        path="/bucket/notes/c.txt",
        headers=headers,
        body=payload,
        response=OK,
        redactions=redactions,
    )
    return build(exchange)


def matches(mapping: dict[str, Any], body: bytes, decoded_length: str | None = None) -> bool:
    return launcher_matches(mapping, body, decoded_length)


def test_the_stub_matches_the_payload_out_of_its_framing_and_its_length():
    mapping = upload(PAYLOAD)
    assert mapping is not None
    request = mapping["request"]
    assert request["headers"]["Content-Encoding"] == {
        "equalTo": "aws-chunked",
        "caseInsensitive": True,
    }
    assert request["headers"]["x-amz-decoded-content-length"] == {"equalTo": str(len(PAYLOAD))}
    # The payload by its digest, once: no framing, no body pattern WireMock would read.
    assert "bodyPatterns" not in request
    assert request["customMatcher"]["name"] == PAYLOAD_MATCHER
    assert list(request["customMatcher"]["parameters"]) == ["sha256"]
    assert matches(mapping, framed(PAYLOAD))
    assert matches(mapping, framed(PAYLOAD, "sha256"))
    assert matches(mapping, signed_framed(PAYLOAD, SIGNATURE))
    assert matches(mapping, signed_framed(PAYLOAD, "0" * 64))


@pytest.mark.parametrize(
    "other",
    [
        PAYLOAD.upper(),  # the same length
        PAYLOAD + b"x",
        PAYLOAD[:-1],
        b"",
    ],
)
def test_the_stub_of_a_framed_upload_does_not_match_another_payload(other):
    mapping = upload(PAYLOAD)
    assert mapping is not None
    assert not matches(mapping, framed(other), str(len(other)))
    # The recorded payload sent plain is another request; split otherwise, the same.
    assert not matches(mapping, PAYLOAD)
    split = b"b\r\n" + PAYLOAD[:11] + b"\r\n16\r\n" + PAYLOAD[11:] + b"\r\n0\r\n\r\n"
    assert matches(mapping, split)


def test_a_framed_payload_read_as_one_chunk_cannot_hide_another():
    """A recorded payload that looks like framing ("a\\r\\n3\\r\\nbcd") is its bytes: two
    chunks that join to another payload do not pass for it."""
    payload = b"a\r\n3\r\nbcd"
    mapping = upload(payload)
    assert mapping is not None
    assert matches(mapping, framed(payload))
    assert not matches(mapping, b"1\r\na\r\n3\r\nbcd\r\n0\r\n\r\n", "4")  # "abcd", in two chunks


def test_a_sanitized_value_in_a_framed_payload_is_any_value():
    """The payload held the customer's address: the stub matches any one in its place (the
    upload replays with the real one), and nothing else around it."""
    mapping = upload(b"write to SANITIZED_EMAIL today\n", redactions=frozenset({"request.body"}))
    assert mapping is not None
    assert "x-amz-decoded-content-length" in mapping["request"]["headers"]
    assert list(mapping["request"]["customMatcher"]["parameters"]) == ["matches"]
    for text, matched in (
        (f"write to {EMAIL} today\n", True),
        (f"write to {EMAIL} tomorrow\n", False),
        (f"write to {EMAIL}\nand to {EMAIL} today\n", False),
    ):
        data = text.encode()
        assert matches(mapping, framed(data, chunk_size=5), str(len(data))) == matched, text


def test_a_json_payload_is_matched_as_its_bytes():
    """No equalToJson: the payload as sent, another order of its items is another one."""
    payload = b'{"order": 7, "items": [1, 2]}'
    mapping = upload(payload)
    assert mapping is not None
    assert matches(mapping, framed(payload))
    assert not matches(mapping, framed(b'{"order": 7, "items": [2, 1]}'))


def test_a_framed_upload_and_a_plain_one_are_two_stubs():
    chunked, plain = upload(PAYLOAD), upload(PAYLOAD, sent_framed=False)
    assert chunked is not None and plain is not None
    assert chunked["id"] != plain["id"]
    assert "Content-Encoding" not in plain["request"].get("headers", {})
    assert "customMatcher" not in plain["request"]
    assert plain["request"]["bodyPatterns"] == [{"equalTo": PAYLOAD.decode()}]


# Text without a dynamic value (a UUID, a datetime, a sanitizer token), which a stub would
# match as any value.
STABLE_TEXT = st.text(
    st.characters(exclude_characters="-S", exclude_categories=("Cs",)), min_size=1, max_size=300
)


@settings(max_examples=200, deadline=None)
@given(STABLE_TEXT, STABLE_TEXT, st.integers(min_value=1, max_value=400), st.booleans())
def test_any_text_payload_matches_in_any_chunks_and_no_other(payload, other, chunk_size, signed):
    """Any chunk size (a chunk may end inside a character: the payload is read whole)."""
    mapping = upload(payload.encode())
    assert mapping is not None
    frame = (
        (lambda data: signed_framed(data, SIGNATURE, chunk_size=chunk_size))
        if signed
        else (lambda data: framed(data, chunk_size=chunk_size))
    )
    assert matches(mapping, frame(payload.encode()))
    if other != payload:
        assert not matches(mapping, frame(other.encode()), str(len(other.encode())))


def test_an_empty_framed_upload_matches_the_last_chunk_alone():
    mapping = upload(b"")
    assert mapping is not None
    assert mapping["request"]["headers"]["x-amz-decoded-content-length"] == {"equalTo": "0"}
    assert matches(mapping, framed(b""))
    assert matches(mapping, b"0;chunk-signature=" + SIGNATURE.encode() + b"\r\n\r\n")
    assert not matches(mapping, framed(b"x"), "1")
    assert not matches(mapping, b"")


# 200 KB of CSV: longer than the 64 KiB and 128 KiB chunks the Rust, Go and Java SDKs frame in.
LARGE = b"".join(b"order-%06d,paid,%d.%02d\n" % (n, n % 997, n % 100) for n in range(8000))


def test_a_payload_in_several_chunks_matches_whatever_their_size():
    """The Rust and Go SDKs frame in 64 KiB chunks, the Java SDK v2 in 128 KiB ones, botocore in
    1 MiB ones, a JS stream in its own: each framing of the recorded payload is the same
    upload, a chunk ending inside a character too. Another payload framed so is a miss."""
    mapping = upload(LARGE)
    assert mapping is not None
    other = LARGE.replace(b"paid", b"void", 1)  # the same length
    for chunk_size in (8 * 1024, 16 * 1024, 64 * 1024, 96 * 1024, 128 * 1024, 1 << 20):
        assert matches(mapping, framed(LARGE, chunk_size=chunk_size)), chunk_size
        assert matches(mapping, signed_framed(LARGE, SIGNATURE, chunk_size=chunk_size)), chunk_size
        assert not matches(mapping, framed(other, chunk_size=chunk_size)), chunk_size
    payload = b"a" * (64 * 1024 - 1) + "é".encode() + b"b" * (70 * 1024)  # é at 65535
    mapping = upload(payload)
    assert mapping is not None
    assert matches(mapping, framed(payload, chunk_size=64 * 1024))


def test_a_dynamic_value_in_several_chunks_matches_a_fresh_one():
    """A UUID in a payload of several chunks: its length is known once the framing is undone,
    so the replay with a new UUID matches, and a payload changed elsewhere does not."""
    recorded = LARGE + b"request-id," + str(uuid.uuid4()).encode() + b"\n" + LARGE[:5000]
    mapping = upload(recorded)
    assert mapping is not None
    assert list(mapping["request"]["customMatcher"]["parameters"]) == ["matches"]
    fresh = recorded.replace(
        recorded[len(LARGE) + 11 : len(LARGE) + 47], str(uuid.uuid4()).encode()
    )
    assert fresh != recorded
    for chunk_size in (64 * 1024, 128 * 1024, 50_000):
        assert matches(mapping, framed(fresh, chunk_size=chunk_size)), chunk_size
        changed = fresh.replace(b"paid", b"void", 1)
        assert not matches(mapping, framed(changed, chunk_size=chunk_size)), chunk_size


def test_the_stub_of_a_large_payload_holds_its_matcher_once():
    """A 199 KB payload: a digest; with a UUID, its regex once (no framing variants)."""
    exact = upload(LARGE)
    with_uuid = upload(LARGE + b"request-id," + str(uuid.uuid4()).encode() + b"\n")
    assert exact is not None and with_uuid is not None
    assert len(json.dumps(exact)) < 2_000
    regex = with_uuid["request"]["customMatcher"]["parameters"]["matches"]
    assert regex.count("order\\-000001") == 1
    assert len(json.dumps(with_uuid)) < 2 * len(LARGE)
