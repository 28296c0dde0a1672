"""S3's ``aws-chunked`` body framing, undone.

An S3 upload signed chunk by chunk, or with its checksum in a trailer (botocore >= 1.36
over TLS, the Java and Go SDKs), is sent with ``Content-Encoding: aws-chunked`` and
``x-amz-decoded-content-length``. Its body frames the payload as HTTP/1.1 chunks do::

    <hex size>[;chunk-signature=<hex>]\\r\\n<data>\\r\\n ... 0[;chunk-signature=<hex>]\\r\\n
    [x-amz-checksum-crc32:<base64>\\r\\n ...]\\r\\n

The payload is the data of the chunks joined; the sizes, chunk signatures and trailers
are not part of it. A body that does not frame that way exactly is refused, never read in
part: a size that is not hex, a chunk longer than its size, anything after the last
trailer line, a payload of another length than ``x-amz-decoded-content-length`` says.
"""

from __future__ import annotations

import re

# S3 takes chunks of 8 KiB or more but the last, so a body under the largest body limit
# (1 MiB) holds a few hundred at most. A body of thousands of tiny chunks is no upload, and
# each chunk costs a step on the event loop.
MAX_CHUNKS = 1024
# A size of up to 16 hex digits (a 64-bit length), as sent: no sign, no spaces.
_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
# Chunk extensions (``;chunk-signature=...``): name=value tokens, visible ASCII.
_EXTENSIONS = re.compile(rb"(?:;[!-:<-~]+)+")
# A trailer line: a header name, a colon, a value without control characters.
_TRAILER = re.compile(rb"[!#-'*+\-.0-9A-Z^-z|~]+:[ \t]*[ -~\t]*")
_DECIMAL = re.compile(r"[0-9]{1,19}")


def decode(
    body: bytes, *, decoded_length: str | None, input_truncated: bool = False
) -> tuple[bytes, bool] | None:
    """-> (the payload, whether the framing ended), or None when ``body`` is not
    ``aws-chunked`` as S3 takes it. ``decoded_length`` is ``x-amz-decoded-content-length``
    as sent (S3 requires it). ``input_truncated`` says the body limit cut ``body``: the
    payload up to the cut comes back, the framing not ended; otherwise a body that stops
    before its framing ends is refused."""
    if decoded_length is None or not _DECIMAL.fullmatch(decoded_length.strip()):
        return None
    chunks: list[bytes] = []
    position = _data_chunks(body, chunks)
    if position is None:
        return None
    payload = b"".join(chunks)
    if position >= 0:
        position = _trailers_end(body, position)
        if position is None:
            return None
    if position < 0:
        # The framing stops short: what the body limit cut, or a body sent short.
        return (payload, False) if input_truncated else None
    if position != len(body) or len(payload) != int(decoded_length):
        return None
    return payload, True


def _data_chunks(body: bytes, chunks: list[bytes]) -> int | None:
    """Appends the data of each chunk to ``chunks`` -> the position after the last
    chunk's size line, -1 when ``body`` stops first, None when malformed."""
    position = 0
    for _ in range(MAX_CHUNKS + 1):
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            # A size line cut short is still a size line as far as it goes.
            return -1 if _partial_size_line(body[position:]) else None
        size_text, semicolon, _ = body[position:line_end].partition(b";")
        if not _SIZE.fullmatch(size_text) or (
            semicolon and not _EXTENSIONS.fullmatch(body, position + len(size_text), line_end)
        ):
            return None
        size = int(size_text, 16)
        position = line_end + 2
        if size == 0:
            return position
        data_end = position + size
        if len(body) < data_end + 2:
            # The body stops inside this chunk: its data counts as far as it goes, unless
            # more came than the size said (the CRLF would then have to be there).
            chunks.append(body[position:data_end])
            return -1 if body[data_end:] in (b"", b"\r") else None
        if body[data_end : data_end + 2] != b"\r\n":
            return None  # the chunk is longer (or shorter) than its size says
        chunks.append(body[position:data_end])
        position = data_end + 2
    return None  # more chunks than any upload sends


def _partial_size_line(tail: bytes) -> bool:
    """Whether ``tail`` can begin a size line (a cut one)."""
    size_text, _, _ = tail.removesuffix(b"\r").partition(b";")
    return not size_text or _SIZE.fullmatch(size_text) is not None


def _trailers_end(body: bytes, position: int) -> int | None:
    """The position after the empty line that ends the trailers, -1 when ``body`` stops
    first, None when a trailer line is malformed."""
    while True:
        line_end = body.find(b"\r\n", position)
        if line_end < 0:
            return -1
        if line_end == position:
            return position + 2
        if not _TRAILER.fullmatch(body, position, line_end):
            return None
        position = line_end + 2
