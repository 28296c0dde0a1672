"""Image metadata removed by structure: PNG, JPEG, GIF and WebP, pixels byte for byte.

Photos carry their owner's data beside the pixels: EXIF (camera serial, GPS position,
dates), XMP, IPTC (names, captions), comments and text chunks. Each format is walked
block by block and only the blocks that draw the image (and colour profiles, which
change how it looks) are copied, unchanged; every other block is left out. Known
metadata blocks and any block not known to be harmless are removed alike, so a new
kind of metadata is never let through. Bytes after the image's end (appended files,
phone "motion photo" videos) are removed too.

``strip_metadata`` returns the stripped image, or None when the bytes are not a
well-formed image of a known format (they are then not kept). A body cut at the size
limit (``truncated``) keeps its complete blocks and loses the unfinished last one.
"""

from __future__ import annotations

from collections.abc import Callable

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Chunks that draw the image or say how its colours look (PNG 3rd edition, APNG).
_PNG_KEPT = frozenset(
    {
        b"IHDR", b"PLTE", b"IDAT", b"IEND", b"tRNS", b"cHRM", b"gAMA", b"iCCP", b"sBIT",
        b"sRGB", b"cICP", b"mDCV", b"cLLI", b"bKGD", b"hIST", b"pHYs", b"sPLT", b"acTL",
        b"fcTL", b"fdAT",
    }
)  # fmt: skip
# JPEG APPn segments kept, by identifier: the JFIF header, ICC colour profiles, and
# Adobe's colour transform (needed to decode CMYK and YCCK images). APP1 (EXIF, XMP),
# APP13 (IPTC), JFXX (a thumbnail that may be a JPEG with its own EXIF), every other
# APPn and comments (COM) are removed.
_JPEG_KEPT_APP = {
    0xE0: (b"JFIF\x00",),
    0xE2: (b"ICC_PROFILE\x00",),
    0xEE: (b"Adobe",),
}
_JPEG_COM = 0xFE
_JPEG_SOS = 0xDA
_JPEG_EOI = 0xD9
# Markers without a length: SOI, TEM and the restart markers.
_JPEG_STANDALONE = frozenset({0xD8, 0x01, *range(0xD0, 0xD8)})
# GIF application extensions kept: animation loops and ICC profiles.
_GIF_KEPT_APPS = (b"NETSCAPE2.0", b"ANIMEXTS1.0", b"ICCRGBG1012")
_GIF_GRAPHIC_CONTROL = 0xF9
_GIF_APPLICATION = 0xFF
# WebP chunks that draw the image (VP8X flags for EXIF and XMP are cleared).
_WEBP_KEPT = frozenset({b"VP8 ", b"VP8L", b"VP8X", b"ALPH", b"ANIM", b"ANMF", b"ICCP"})
_VP8X_EXIF_XMP_FLAGS = 0x08 | 0x04


class _Cut(Exception):
    """The bytes end inside a block."""


def image_format(body: bytes) -> str | None:
    """ "png", "jpeg", "gif" or "webp" from the magic bytes, else None."""
    if body.startswith(PNG_SIGNATURE):
        return "png"
    if body.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if body.startswith((b"GIF87a", b"GIF89a")):
        return "gif"
    if body.startswith(b"RIFF") and body[8:12] == b"WEBP":
        return "webp"
    return None


def strip_metadata(body: bytes, *, truncated: bool = False) -> bytes | None:
    """The image without its metadata, or None if it is not a well-formed known image."""
    fmt = image_format(body)
    if fmt is None:
        return None
    out: list[bytes] = []
    try:
        complete = _STRIPPERS[fmt](body, out)
    except _Cut:
        complete = False
    except ValueError:
        return None
    if not complete and not truncated:
        return None
    if fmt == "webp":
        return _webp_with_size(out)
    return b"".join(out)


def _need(data: bytes, end: int) -> None:
    if end > len(data):
        raise _Cut


# -- PNG ----------------------------------------------------------------------------------


def _png(data: bytes, out: list[bytes]) -> bool:
    """Chunks: length, type, data, CRC. An unknown critical chunk (upper-case first
    letter) cannot be left out, so the image is refused."""
    out.append(PNG_SIGNATURE)
    pos = len(PNG_SIGNATURE)
    while True:
        _need(data, pos + 8)
        length = int.from_bytes(data[pos : pos + 4], "big")
        kind = data[pos + 4 : pos + 8]
        end = pos + 12 + length
        _need(data, end)
        if kind in _PNG_KEPT:
            out.append(data[pos:end])
        elif not kind.isalpha() or kind[:1].isupper():
            raise ValueError("unknown critical PNG chunk")
        if kind == b"IEND":
            return True
        pos = end


# -- JPEG ---------------------------------------------------------------------------------


def _jpeg(data: bytes, out: list[bytes]) -> bool:
    """Segments: FF, marker, 2-byte length; after SOS, entropy-coded data runs to the
    next marker (FF followed by anything but 00, a restart marker or another FF)."""
    out.append(data[:2])
    pos = 2
    while True:
        _need(data, pos + 2)
        if data[pos] != 0xFF:
            raise ValueError("JPEG marker expected")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
            continue
        if marker == _JPEG_EOI:
            out.append(data[pos : pos + 2])
            return True
        if marker in _JPEG_STANDALONE:
            out.append(data[pos : pos + 2])
            pos += 2
            continue
        _need(data, pos + 4)
        end = pos + 2 + int.from_bytes(data[pos + 2 : pos + 4], "big")
        _need(data, end)
        if _jpeg_kept(marker, data[pos + 4 : end]):
            out.append(data[pos:end])
        pos = end
        if marker == _JPEG_SOS:
            scan_end = _jpeg_scan_end(data, pos)
            out.append(data[pos:scan_end])
            pos = scan_end


def _jpeg_kept(marker: int, payload: bytes) -> bool:
    if marker == _JPEG_COM:
        return False
    if 0xE0 <= marker <= 0xEF:
        return payload.startswith(_JPEG_KEPT_APP.get(marker, ()))
    return True


def _jpeg_scan_end(data: bytes, pos: int) -> int:
    while True:
        pos = data.find(b"\xff", pos)
        if pos < 0 or pos + 1 >= len(data):
            raise _Cut
        following = data[pos + 1]
        if following == 0x00 or 0xD0 <= following <= 0xD7:
            pos += 2
            continue
        return pos


# -- GIF ----------------------------------------------------------------------------------


def _gif(data: bytes, out: list[bytes]) -> bool:
    """Header, screen descriptor, colour table, then blocks until the trailer (3B):
    images (2C) and extensions (21); comments, plain text and unknown application
    extensions (XMP) are left out."""
    _need(data, 13)
    pos = 13 + _gif_table_bytes(data[10])
    _need(data, pos)
    out.append(data[:pos])
    while True:
        _need(data, pos + 1)
        introducer = data[pos]
        if introducer == 0x3B:
            out.append(data[pos : pos + 1])
            return True
        if introducer == 0x2C:
            _need(data, pos + 10)
            end = _gif_sub_blocks(data, pos + 10 + _gif_table_bytes(data[pos + 9]) + 1)
            out.append(data[pos:end])
        elif introducer == 0x21:
            _need(data, pos + 2)
            end = _gif_sub_blocks(data, pos + 2)
            if _gif_extension_kept(data[pos + 1], data[pos + 2 : end]):
                out.append(data[pos:end])
        else:
            raise ValueError("unknown GIF block")
        pos = end


def _gif_table_bytes(packed: int) -> int:
    return 3 * (1 << ((packed & 0x07) + 1)) if packed & 0x80 else 0


def _gif_sub_blocks(data: bytes, pos: int) -> int:
    """The offset after a chain of sub-blocks (size byte, data; a 0 size ends it)."""
    while True:
        _need(data, pos + 1)
        size = data[pos]
        pos += 1 + size
        if size == 0:
            return pos


def _gif_extension_kept(label: int, blocks: bytes) -> bool:
    if label == _GIF_GRAPHIC_CONTROL:
        return True
    return label == _GIF_APPLICATION and blocks[:1] == b"\x0b" and blocks[1:12] in _GIF_KEPT_APPS


# -- WebP ---------------------------------------------------------------------------------


def _webp(data: bytes, out: list[bytes]) -> bool:
    """RIFF chunks (FourCC, little-endian size, data, a pad byte to an even size)."""
    _need(data, 12)
    riff_end = 8 + int.from_bytes(data[4:8], "little")
    out.append(b"RIFF\x00\x00\x00\x00WEBP")
    pos = 12
    while pos < riff_end:
        _need(data, pos + 8)
        kind = data[pos : pos + 4]
        size = int.from_bytes(data[pos + 4 : pos + 8], "little")
        content_end = pos + 8 + size
        if content_end > riff_end:
            raise ValueError("WebP chunk past the RIFF end")
        _need(data, content_end)
        end = min(content_end + (size & 1), riff_end)
        chunk = data[pos:end]
        if kind == b"VP8X" and size >= 1:
            flags = chunk[8] & ~_VP8X_EXIF_XMP_FLAGS
            chunk = chunk[:8] + bytes([flags]) + chunk[9:]
        if kind in _WEBP_KEPT:
            out.append(chunk)
        pos = end
    return True


def _webp_with_size(out: list[bytes]) -> bytes:
    body = b"".join(out)
    return body[:4] + (len(body) - 8).to_bytes(4, "little") + body[8:]


_STRIPPERS: dict[str, Callable[[bytes, list[bytes]], bool]] = {
    "png": _png,
    "jpeg": _jpeg,
    "gif": _gif,
    "webp": _webp,
}
