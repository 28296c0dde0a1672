import gzip
import zlib

import brotli
import pytest

from ext_proc_server.capture.bodies import BodyBuffer, content_codings, decode_content, is_textual

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
    assert not out.truncated and not out.failed


def test_stacked_codings_are_undone_in_reverse_order():
    data = brotli.compress(gzip.compress(TEXT))
    out = decode_content(data, codings=["gzip", "br"], max_bytes=1 << 20)
    assert out.body == TEXT


def test_concatenated_gzip_members():
    data = gzip.compress(b"first,") + gzip.compress(b"second")
    assert decode_content(data, codings=["gzip"], max_bytes=1024).body == b"first,second"


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_compression_bomb_is_capped(coding):
    bomb_plain = b"\0" * (16 << 20)
    compress = {"gzip": gzip.compress, "deflate": zlib.compress, "br": brotli.compress}[coding]
    bomb = compress(bomb_plain)
    assert len(bomb) < 100_000
    out = decode_content(bomb, codings=[coding], max_bytes=100_000)
    assert len(out.body) == 100_000
    assert out.truncated
    assert not out.failed


def test_truncated_gzip_decodes_what_it_can():
    data = gzip.compress(TEXT)
    cut = data[: len(data) // 2]
    out = decode_content(cut, codings=["gzip"], max_bytes=1 << 20, input_truncated=True)
    assert not out.failed
    assert out.truncated
    assert 0 < len(out.body) < len(TEXT)
    assert TEXT.startswith(out.body)


def test_truncated_brotli_decodes_what_it_can():
    data = brotli.compress(TEXT * 4, quality=5)
    out = decode_content(
        data[: len(data) // 2], codings=["br"], max_bytes=1 << 20, input_truncated=True
    )
    assert not out.failed and out.truncated
    assert (TEXT * 4).startswith(out.body)


def test_gzip_cut_short_without_being_truncated_is_a_failure():
    data = gzip.compress(TEXT)
    out = decode_content(data[:-20], codings=["gzip"], max_bytes=1 << 20)
    assert out.failed
    assert out.body == b""


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br"])
def test_corrupt_data_fails_without_keeping_bytes(coding):
    garbage = b"\x1f\x8b\x08garbage-not-compressed" * 3
    out = decode_content(garbage, codings=[coding], max_bytes=1024)
    assert out.failed
    assert out.body == b""


def test_unknown_coding_fails():
    out = decode_content(b"xyz", codings=["compress"], max_bytes=1024)
    assert out.failed and out.body == b""


def test_empty_body_with_coding_is_empty_not_failed():
    out = decode_content(b"", codings=["gzip"], max_bytes=1024)
    assert out.body == b"" and not out.failed


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
