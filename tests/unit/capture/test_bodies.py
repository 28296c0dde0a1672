import gzip
import zlib

import brotli
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.capture.bodies import (
    MAX_CODINGS,
    BodyBuffer,
    content_codings,
    decode_content,
    is_textual,
)

TEXT = b'{"name": "joana", "items": [' + b'"abcdefgh",' * 2000 + b'"end"]}'


def test_body_buffer_keeps_up_to_the_limit_and_marks_truncation():
    buf = BodyBuffer(limit_bytes=10)
    buf.add(b"12345")
    buf.add(b"")
    assert not buf.truncated
    buf.add(b"67890abc")
    buf.add(b"more")
    assert buf.value() == b"1234567890"
    assert buf.truncated
    assert buf.size == 10


def test_body_buffer_exactly_at_limit_is_not_truncated():
    buf = BodyBuffer(limit_bytes=4)
    buf.add(b"ab")
    buf.add(b"cd")
    assert buf.value() == b"abcd"
    assert not buf.truncated


def test_content_codings_parses_lists_and_ignores_identity():
    assert content_codings("gzip") == ["gzip"]
    assert content_codings(" GZIP , br ") == ["gzip", "br"]
    assert content_codings("identity") == []
    assert content_codings(None) == []


@pytest.mark.parametrize(
    ("coding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),  # zlib-wrapped, as the RFC says
        ("deflate", lambda d: zlib.compress(d)[2:-4]),  # raw deflate, as many servers send
        ("br", brotli.compress),
    ],
)
def test_decodes_each_coding(coding, compress):
    out = decode_content(compress(TEXT), codings=[coding], max_bytes=1 << 20)
    assert out.body == TEXT
    assert not out.truncated and not out.dropped


def test_stacked_codings_are_undone_in_reverse_order():
    data = brotli.compress(gzip.compress(TEXT))
    out = decode_content(data, codings=["gzip", "br"], max_bytes=1 << 20)
    assert out.body == TEXT


def test_concatenated_gzip_members():
    data = gzip.compress(b"first,") + gzip.compress(b"second")
    assert decode_content(data, codings=["gzip"], max_bytes=1024).body == b"first,second"


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_a_compression_bomb_is_not_kept(coding):
    bomb_plain = b"\0" * (16 << 20)
    compress = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotli.compress}[coding]
    bomb = compress(bomb_plain)
    assert len(bomb) < 100_000
    out = decode_content(bomb, codings=[coding], max_bytes=100_000)
    assert (out.body, out.dropped) == (b"", "decoded_too_large")


def test_a_stacked_bomb_is_not_kept():
    """1 GiB of zeros in about a kilobyte: gzip of gzip."""
    inner = zlib.compressobj(9, zlib.DEFLATED, 31)
    chunk = bytes(1 << 20)
    gz = b"".join(inner.compress(chunk) for _ in range(1024)) + inner.flush()
    bomb = gzip.compress(gz, 9)
    assert len(bomb) < 8 * 1024
    out = decode_content(bomb, codings=["gzip", "gzip"], max_bytes=1 << 20)
    assert (out.body, out.dropped) == (b"", "decoded_too_large")


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_a_body_that_decodes_to_exactly_the_cap_is_kept(coding):
    compress = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotli.compress}[coding]
    out = decode_content(compress(TEXT), codings=[coding], max_bytes=len(TEXT))
    assert (out.body, out.truncated, out.dropped) == (TEXT, False, "")
    out = decode_content(compress(TEXT), codings=[coding], max_bytes=len(TEXT) - 1)
    assert (out.body, out.dropped) == (b"", "decoded_too_large")


@pytest.mark.parametrize("coding", ["zstd", "compress", "x-snappy", "gzip;q=1"])
def test_a_coding_mockado_does_not_decode_is_not_kept(coding):
    out = decode_content(b"\x28\xb5\x2f\xfd" + TEXT, codings=[coding], max_bytes=1 << 20)
    assert (out.body, out.dropped) == (b"", "content_encoding")


def test_gzip_with_trailing_garbage_is_not_kept_zero_padding_is():
    data = gzip.compress(TEXT)
    assert decode_content(data + b"<html>", codings=["gzip"], max_bytes=1 << 20).dropped
    assert decode_content(data + b"\0" * 8, codings=["gzip"], max_bytes=1 << 20).body == TEXT


_COMPRESS = {
    "gzip": gzip.compress,
    "deflate": zlib.compress,
    "deflate-raw": lambda d: zlib.compress(d)[2:-4],
    "br": brotli.compress,
}
# Codings with a checksum: a changed byte anywhere is caught.
_CHECKED = ("gzip", "deflate")


@settings(max_examples=300, deadline=None)
@given(
    plain=st.binary(min_size=1, max_size=2000) | st.text(max_size=500).map(str.encode),
    coding=st.sampled_from(sorted(_COMPRESS)),
    change=st.sampled_from(["none", "cut", "append", "flip"]),
    at=st.floats(min_value=0, max_value=1, exclude_max=True),
    extra=st.binary(min_size=1, max_size=16),
)
def test_a_decoded_body_is_the_encoded_one_or_none(plain, coding, change, at, extra):
    """Whatever happened to the bytes on the way, what decoding keeps is the body that
    was encoded (a wrongly decoded body would be served by the stub), or nothing."""
    data = _COMPRESS[coding](plain)
    k = int(at * len(data))
    if change == "cut":
        data = data[:k]
    elif change == "append":
        data += extra
    elif change == "flip":
        if coding not in _CHECKED:
            return
        data = data[:k] + bytes([data[k] ^ 0xFF]) + data[k + 1 :]
    name = "deflate" if coding == "deflate-raw" else coding
    out = decode_content(data, codings=[name], max_bytes=1 << 20)
    assert out.dropped in ("", "content_encoding")
    assert not out.truncated
    assert out.body == (b"" if out.dropped or not data else plain)
    if change != "flip":
        # Cut by the body limit: what decodes is the start of the body (a checksum at
        # the end cannot be checked).
        cut = decode_content(data, codings=[name], max_bytes=1 << 20, input_truncated=True)
        assert plain.startswith(cut.body)


def test_truncated_gzip_decodes_what_it_can():
    data = gzip.compress(TEXT)
    cut = data[: len(data) // 2]
    out = decode_content(cut, codings=["gzip"], max_bytes=1 << 20, input_truncated=True)
    assert not out.dropped
    assert out.truncated
    assert 0 < len(out.body) < len(TEXT)
    assert TEXT.startswith(out.body)


def test_truncated_brotli_decodes_what_it_can():
    data = brotli.compress(TEXT * 4, quality=5)
    out = decode_content(
        data[: len(data) // 2], codings=["br"], max_bytes=1 << 20, input_truncated=True
    )
    assert not out.dropped and out.truncated
    assert (TEXT * 4).startswith(out.body)


def test_gzip_cut_short_without_being_truncated_is_a_failure():
    data = gzip.compress(TEXT)
    out = decode_content(data[:-20], codings=["gzip"], max_bytes=1 << 20)
    assert out.dropped == "content_encoding"
    assert out.body == b""


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_corrupt_data_fails_without_keeping_bytes(coding):
    garbage = b"\x1f\x8b\x08garbage-not-compressed" * 3
    out = decode_content(garbage, codings=[coding], max_bytes=1024)
    assert out.dropped == "content_encoding"
    assert out.body == b""


def test_unknown_coding_fails():
    out = decode_content(b"xyz", codings=["compress"], max_bytes=1024)
    assert out.dropped and out.body == b""


def test_empty_body_with_coding_is_empty_not_failed():
    out = decode_content(b"", codings=["gzip"], max_bytes=1024)
    assert out.body == b"" and not out.dropped


@pytest.mark.parametrize(
    ("content_type", "body", "expected"),
    [
        ("application/json", b"{}", True),
        ("application/problem+json", b"{}", True),
        ("text/plain", b"hi", True),
        ("application/xml", b"<a/>", True),
        ("application/soap+xml", b"<a/>", True),
        ("application/x-www-form-urlencoded", b"a=1", True),
        ("application/javascript", b"x", True),
        ("application/graphql", b"{ a }", True),
        ("multipart/form-data", b"--x", True),
        ("application/octet-stream", b"\x00\x01", False),
        ("image/png", b"\x89PNG", False),
        ("application/grpc", b"\x00\x00\x00\x00\x02{}", False),
        ("application/grpc+json", b"\x00\x00\x00\x00\x02{}", False),
        ("", b"plain utf-8 text", True),
        ("", b"\xff\xfe\x00binary", False),
    ],
)
def test_is_textual(content_type, body, expected):
    assert is_textual(content_type, body) is expected


def test_more_codings_than_a_client_undoes_are_refused_not_decoded():
    """Layers of gzip fit by the thousand in a header and a small body, each a
    decompression on the event loop: past MAX_CODINGS (curl's own limit) the body is
    not decoded at all."""
    body = b'{"a":1}'
    for _ in range(MAX_CODINGS):
        body = gzip.compress(body)
    out = decode_content(body, codings=["gzip"] * MAX_CODINGS, max_bytes=1 << 20)
    assert (out.body, out.dropped) == (b'{"a":1}', "")
    for layers in (MAX_CODINGS + 1, 2000):
        body = b'{"a":1}'
        for _ in range(layers):
            body = gzip.compress(body, 1)
        out = decode_content(body, codings=["gzip"] * layers, max_bytes=1 << 20)
        assert (out.body, out.dropped) == (b"", "content_encoding")
