"""Binary bodies other than images: kept only when no reading of them finds anything, or
never kept when their text cannot be read; each drop says why."""

from __future__ import annotations

import gzip
import io
import zipfile

import pytest
from google.protobuf import struct_pb2, wrappers_pb2

from ext_proc_server.core.exchange import BODY_DROP_REASONS, HttpResponse
from ext_proc_server.sanitize.binary import grpc_messages, proto_strings
from ext_proc_server.sanitize.media import BINARY, IMAGE, STRUCTURED, TEXT, UNKNOWN, media_kind
from tests.unit.sanitize.sanitize_helpers import fmt_cpf, make_cpf, request_exchange, sanitizer

CPF = make_cpf("529982247")
KEEP = sanitizer(binary_bodies="base64")


def response_with(body: bytes, content_type: str, sanitizer_=KEEP) -> HttpResponse:
    exchange = request_exchange(content_type="application/json").replace(
        response=HttpResponse(status=200, headers=(("content-type", content_type),), body=body)
    )
    out = sanitizer_.sanitize(exchange).response
    assert out is not None
    if out.body_dropped:
        assert out.body == b"" and out.body_drop_reason in BODY_DROP_REASONS
    return out


def customer(**fields: object) -> bytes:
    message = struct_pb2.Struct()
    message.update({"plan": "premium", "active": True, "score": 7, **fields})
    return message.SerializeToString()


def grpc_frame(message: bytes, *, compressed: bool = False) -> bytes:
    return bytes([int(compressed)]) + len(message).to_bytes(4, "big") + message


def test_a_clean_protobuf_is_kept_as_it_came() -> None:
    body = customer(order_id="PED-2024-000123", sku="CAFE-500G")
    for content_type in ("application/x-protobuf", "application/protobuf"):
        out = response_with(body, content_type)
        assert out.body == body and not out.body_dropped


@pytest.mark.parametrize(
    "fields",
    [
        {"owner": {"document": fmt_cpf(CPF)}},  # nested message, formatted CPF
        {"contact": "ana.souza@empresa.com.br"},
        {"holder": "Maria Conceição Souza"},  # a person's name, no field name needed
        {"note": f"cliente com cpf {CPF} ligou"},
    ],
)
def test_a_protobuf_with_personal_data_is_not_kept(fields: dict) -> None:
    out = response_with(customer(**fields), "application/x-protobuf")
    assert out.body_dropped and out.body_drop_reason == "binary_unsanitizable"


def test_grpc_frames_are_read_and_compressed_ones_are_not_kept() -> None:
    clean = grpc_frame(customer(sku="X-1")) + grpc_frame(
        wrappers_pb2.StringValue(value="ok").SerializeToString()
    )
    assert response_with(clean, "application/grpc").body == clean
    assert grpc_messages(clean) is not None and len(grpc_messages(clean)) == 2
    dirty = grpc_frame(customer(sku="X-1")) + grpc_frame(customer(email="joao@x.com.br"))
    assert response_with(dirty, "application/grpc+proto").body_drop_reason == "binary_unsanitizable"
    compressed = grpc_frame(gzip.compress(customer(sku="X-1")), compressed=True)
    assert response_with(compressed, "application/grpc").body_drop_reason == "content_encoding"


def test_protobuf_strings_are_found_at_any_depth() -> None:
    body = customer(a={"b": {"c": {"d": "fundo"}}})
    assert "fundo" in proto_strings(body)
    assert proto_strings(b"\xff\xff\xff") == []  # not a message: nothing read as fields


def test_utf16_text_inside_a_binary_is_read_without_its_zero_bytes() -> None:
    body = b"\x00\x01\x02HDR" + f"e-mail: ana@x.com, cpf {CPF}".encode("utf-16-le") + b"\xff\xfe"
    out = response_with(body, "application/octet-stream")
    assert out.body_drop_reason == "binary_unsanitizable"
    clean = b"\x00\x01\x02HDR" + "versão 2.1 \u2013 ok".encode("utf-16-le") + b"\xff\xfe"
    assert response_with(clean, "application/octet-stream").body == clean


def docx_with(text: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", f"<w:document><w:t>{text}</w:t></w:document>")
    return out.getvalue()


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"%PDF-1.7\n1 0 obj <</Filter /FlateDecode>> stream\nx\x9c...", "application/pdf"),
        (
            docx_with("clean"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        (docx_with("clean"), "application/zip"),
        (docx_with("clean"), "application/octet-stream"),  # the bytes say zip
        (gzip.compress(b"hello"), ""),
        (b"\x00\x00\x00\x20ftypisom\x00\x00", "video/mp4"),
        (b"II*\x00\x08\x00\x00\x00", "image/tiff"),
        (b"AAAAAB", "application/grpc-web-text"),
    ],
)
def test_formats_whose_text_cannot_be_read_are_never_kept(body: bytes, content_type: str) -> None:
    out = response_with(body, content_type)
    assert out.body_dropped and out.body_drop_reason == "structured_binary"


def test_a_multipart_upload_with_a_binary_file_is_not_kept() -> None:
    body = (
        b'--b\r\nContent-Disposition: form-data; name="foto"; filename="a.jpg"\r\n'
        b"Content-Type: image/jpeg\r\n\r\n\xff\xd8\xff\xe1 Exif \xff\xd9\r\n--b--\r\n"
    )
    out = response_with(body, "multipart/form-data; boundary=b")
    assert out.body_drop_reason == "structured_binary"


def test_a_protobuf_that_happens_to_be_utf8_is_not_edited_as_text() -> None:
    # Valid UTF-8, so it used to be sanitized as text: a replacement would break its lengths.
    body = wrappers_pb2.StringValue(value=f"cpf {CPF}").SerializeToString()
    body.decode("utf-8")
    out = response_with(body, "application/x-protobuf")
    assert out.body_drop_reason == "binary_unsanitizable"
    skip = response_with(body, "application/x-protobuf", sanitizer(binary_bodies="skip"))
    assert skip.body_drop_reason == "binary_skipped"


@pytest.mark.parametrize(
    ("media_type", "kind"),
    [
        ("application/json", TEXT),
        ("application/vnd.api+json", TEXT),
        ("application/x-amz-json-1.1", TEXT),
        ("image/svg+xml", TEXT),
        ("text/csv", TEXT),
        ("multipart/form-data", TEXT),
        ("image/webp", IMAGE),
        ("image/x-icon", BINARY),
        ("application/grpc+json", BINARY),
        ("font/woff2", BINARY),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", STRUCTURED),
        ("application/epub+zip", STRUCTURED),
        ("audio/mpeg", STRUCTURED),
        ("image/avif", STRUCTURED),
        ("application/x-custom", UNKNOWN),
        ("", UNKNOWN),
    ],
)
def test_media_kinds(media_type: str, kind: str) -> None:
    assert media_kind(media_type) == kind
