"""The stub of an upload sent aws-chunked matches the framing around its payload, as
WireMock sees the body of the next such upload: other chunk signatures and checksums."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.exchange import HttpResponse
from ext_proc_server.mapping import framed_bodies
from tests.support.aws_framing import botocore_framed as framed
from tests.support.aws_framing import signed_framed
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


def body_regex(mapping: dict[str, Any]) -> re.Pattern[str]:
    """The stub's body pattern, which Python reads as WireMock's Java does here."""
    (pattern,) = mapping["request"]["bodyPatterns"]
    return re.compile(pattern["matches"])


def matches(mapping: dict[str, Any], body: bytes) -> bool:
    # WireMock matches a regex against the body as UTF-8 text, in full.
    return body_regex(mapping).fullmatch(body.decode("utf-8", "replace")) is not None


def test_the_stub_matches_the_framing_and_the_payload_length():
    mapping = upload(PAYLOAD)
    assert mapping is not None
    headers = mapping["request"]["headers"]
    assert headers["Content-Encoding"] == {"equalTo": "aws-chunked", "caseInsensitive": True}
    assert headers["x-amz-decoded-content-length"] == {"equalTo": str(len(PAYLOAD))}
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
    assert not matches(mapping, framed(other))
    # The recorded payload sent plain, and framing split otherwise, are another request.
    assert not matches(mapping, PAYLOAD)
    split = b"b\r\n" + PAYLOAD[:11] + b"\r\n16\r\n" + PAYLOAD[11:] + b"\r\n0\r\n\r\n"
    assert not matches(mapping, split)


def test_a_framed_payload_read_as_one_chunk_cannot_hide_another():
    """A recorded payload that looks like framing ("a\\r\\n3\\r\\nbcd") is matched at its own
    size, so two chunks that join to another payload do not pass for it."""
    payload = b"a\r\n3\r\nbcd"
    mapping = upload(payload)
    assert mapping is not None
    assert matches(mapping, framed(payload))
    assert not matches(mapping, b"1\r\na\r\n3\r\nbcd\r\n0\r\n\r\n")  # "abcd", in two chunks


def test_a_sanitized_value_in_a_framed_payload_is_any_value():
    """The payload held the customer's address: the stub matches any one in its place (the
    upload replays with the real one), at any size, and nothing else around it."""
    mapping = upload(b"write to SANITIZED_EMAIL today\n", redactions=frozenset({"request.body"}))
    assert mapping is not None
    assert "x-amz-decoded-content-length" in mapping["request"]["headers"]
    assert matches(mapping, framed(f"write to {EMAIL} today\n".encode()))
    assert not matches(mapping, framed(f"write to {EMAIL} tomorrow\n".encode()))
    assert not matches(mapping, framed(f"write to {EMAIL}\nand to {EMAIL} today\n".encode()))


def test_a_json_payload_is_matched_as_its_text_in_the_framing():
    """No equalToJson: WireMock would read the framing as the JSON document."""
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
    assert plain["request"]["bodyPatterns"] == [{"equalTo": PAYLOAD.decode()}]


# Text without a dynamic value (a UUID, a datetime, a sanitizer token), which a stub would
# match as any value.
STABLE_TEXT = st.text(
    st.characters(exclude_characters="-S", exclude_categories=("Cs",)), min_size=1, max_size=300
)


@settings(max_examples=200, deadline=None)
@given(STABLE_TEXT, STABLE_TEXT)
def test_any_text_payload_matches_its_own_framing_and_no_other(payload, other):
    mapping = upload(payload.encode())
    assert mapping is not None
    assert matches(mapping, framed(payload.encode()))
    if other != payload:
        assert not matches(mapping, framed(other.encode()))


def test_an_empty_framed_upload_matches_the_last_chunk_alone():
    mapping = upload(b"")
    assert mapping is not None
    assert mapping["request"]["headers"]["x-amz-decoded-content-length"] == {"equalTo": "0"}
    assert matches(mapping, framed(b""))
    assert matches(mapping, b"0;chunk-signature=" + SIGNATURE.encode() + b"\r\n\r\n")
    assert not matches(mapping, framed(b"x"))
    assert not matches(mapping, b"")


# 200 KB of CSV: longer than the 64 KiB and 128 KiB chunks the Rust, Go and Java SDKs frame in.
LARGE = b"".join(b"order-%06d,paid,%d.%02d\n" % (n, n % 997, n % 100) for n in range(8000))


def test_a_payload_in_several_chunks_matches_as_each_sdk_frames_it():
    """The Rust and Go SDKs frame in 64 KiB chunks, the Java SDK v2 in 128 KiB ones, botocore in
    1 MiB ones (one chunk here): each framing of the recorded payload is the same upload.
    Another payload framed so, a split no SDK makes (96 KiB) and chunks that join to the
    payload at other sizes are clear misses."""
    mapping = upload(LARGE)
    assert mapping is not None
    other = LARGE.replace(b"paid", b"void", 1)  # the same length
    for chunk_size in (64 * 1024, 128 * 1024, 1 << 20):
        assert matches(mapping, framed(LARGE, chunk_size=chunk_size)), chunk_size
        assert matches(mapping, signed_framed(LARGE, SIGNATURE, chunk_size=chunk_size)), chunk_size
        assert not matches(mapping, framed(other, chunk_size=chunk_size)), chunk_size
    assert not matches(mapping, framed(LARGE, chunk_size=96 * 1024))
    # The 64 KiB chunks, but one byte moved from the first chunk to the second.
    moved = framed(LARGE, chunk_size=64 * 1024).replace(b"10000\r\n", b"ffff\r\n", 1)
    assert not matches(mapping, moved)


def test_a_split_inside_a_character_gets_no_framing_of_its_own():
    """WireMock reads a UTF-8 sequence cut by a chunk's size line as U+FFFD, which other
    bytes give too: that framing is a clear miss, the others still match."""
    payload = b"a" * (64 * 1024 - 1) + "é".encode() + b"b" * (70 * 1024)  # é at 65535
    mapping = upload(payload)
    assert mapping is not None
    assert not matches(mapping, framed(payload, chunk_size=64 * 1024))
    assert matches(mapping, framed(payload, chunk_size=128 * 1024))
    assert matches(mapping, framed(payload, chunk_size=1 << 20))


@settings(max_examples=200, deadline=None)
@given(STABLE_TEXT, STABLE_TEXT, st.sampled_from([1, 3, 7]))
def test_any_framing_in_sdk_chunk_sizes_matches_its_payload_and_no_other(
    payload, other, chunk_size
):
    """With the SDKs' chunk sizes small enough to reach: a payload matches framed in them
    (unless a chunk ends inside a character) and in one chunk; another payload never."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(framed_bodies, "SDK_CHUNK_SIZES_BYTES", (3, 7))
        mapping = upload(payload.encode())
    assert mapping is not None
    data = payload.encode()
    pieces = [data[at : at + chunk_size] for at in range(0, len(data), chunk_size)]
    whole_characters = all(_is_utf8(piece) for piece in pieces)
    if chunk_size == 1 or len(data) <= chunk_size:
        assert matches(mapping, framed(data, chunk_size=chunk_size)) == (len(data) <= chunk_size)
    else:
        assert matches(mapping, framed(data, chunk_size=chunk_size)) == whole_characters
    if other != payload:
        for size in (1, 3, 7, 1 << 20):
            assert not matches(mapping, framed(other.encode(), chunk_size=size))


def _is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True
