"""What kind of body a media type (and, where it says nothing, the first bytes) announces.

* TEXT: read in its charset and sanitized by format.
* IMAGE: PNG, JPEG, GIF, WebP: kept with their metadata removed.
* BINARY: binary whose text, if any, is plain bytes (protobuf, gRPC, octet-stream, fonts,
  BMP, icons): kept only if no detector finds anything in it.
* STRUCTURED: binary that holds text we cannot read (PDF and archives compress it, office
  documents are zips, TIFF/HEIC/AVIF and audio/video carry EXIF-like metadata we do not
  strip): never kept.
* UNKNOWN: no media type, or one not listed: the bytes decide (magic numbers, then
  UTF-8 text, then BINARY).
"""

from __future__ import annotations

import re
from functools import lru_cache

TEXT = "text"
IMAGE = "image"
BINARY = "binary"
STRUCTURED = "structured"
UNKNOWN = "unknown"

_IMAGES = frozenset(
    {"image/png", "image/apng", "image/jpeg", "image/jpg", "image/pjpeg", "image/gif"}
    | {"image/webp"}
)
_PLAIN_IMAGES = frozenset({"image/bmp", "image/x-icon", "image/vnd.microsoft.icon"})
_STRUCTURED = frozenset(
    {
        "application/pdf", "application/zip", "application/x-zip-compressed",
        "application/gzip", "application/x-gzip", "application/x-tar",
        "application/x-7z-compressed", "application/x-bzip2", "application/x-xz",
        "application/zstd", "application/x-rar-compressed", "application/vnd.rar",
        "application/java-archive", "application/vnd.android.package-archive",
        "application/msword", "application/rtf", "application/postscript",
        "application/grpc-web-text", "application/grpc-web-text+proto",
    }
)  # fmt: skip
_STRUCTURED_PREFIXES = (
    "audio/",
    "video/",
    "image/",  # after the kept ones: TIFF, HEIC, AVIF, JPEG XL, camera raw carry EXIF
    "application/vnd.ms-",
    "application/vnd.openxmlformats-",
    "application/vnd.oasis.opendocument.",
    "model/",
)
_BINARY_PREFIXES = ("application/grpc", "font/", "application/font-")
_BINARY = frozenset(
    {
        "application/octet-stream", "application/protobuf", "application/x-protobuf",
        "application/vnd.google.protobuf", "application/x-google-protobuf",
        "application/wasm", "application/cbor", "application/msgpack",
        "application/x-msgpack",
    }
)  # fmt: skip
# Text subtypes: application/json, application/vnd.api+json, application/x-amz-json-1.1...
_TEXT_WORDS = re.compile(
    r"json|xml|yaml|toml|ldif|csv|html|javascript|ecmascript|graphql|form-urlencoded"
)
# Magic numbers of compressed or container formats (read where no media type says).
_CONTAINER_MAGIC = (
    b"%PDF-", b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00",
    b"7z\xbc\xaf\x27\x1c", b"\x28\xb5\x2f\xfd", b"Rar!\x1a\x07", b"II*\x00", b"MM\x00*",
    b"ID3", b"OggS", b"fLaC", b"\x1a\x45\xdf\xa3", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1",
    b"%!PS", b"{\\rtf",
)  # fmt: skip


@lru_cache(maxsize=512)
def media_kind(media_type: str) -> str:
    """The kind of a bare, lower-cased media type ("" gives UNKNOWN)."""
    if not media_type:
        return UNKNOWN
    if media_type in _IMAGES:
        return IMAGE
    if media_type in _BINARY or media_type in _PLAIN_IMAGES:
        return BINARY
    if media_type in _STRUCTURED or media_type.endswith("+zip"):
        return STRUCTURED
    if media_type.startswith(_BINARY_PREFIXES):
        return BINARY
    if media_type.startswith(("text/", "multipart/")) or media_type == "image/svg+xml":
        return TEXT
    if media_type.startswith(_STRUCTURED_PREFIXES):
        return STRUCTURED
    if _TEXT_WORDS.search(media_type):
        return TEXT
    return UNKNOWN


def is_container(body: bytes) -> bool:
    """Whether the bytes start like a compressed or container format."""
    return (
        body.startswith(_CONTAINER_MAGIC)
        or body[4:8] == b"ftyp"
        or (body.startswith(b"RIFF") and body[8:12] != b"WEBP")
    )


def is_protobuf(media_type: str) -> bool:
    return "protobuf" in media_type or media_type.startswith("application/grpc")
