"""The matchers of a request body sent ``aws-chunked`` (S3's signed or checksummed upload).

The capture stores the payload (core.aws_chunked), but WireMock sees the body as sent:
framed in chunks, each with a new signature when the upload is signed, and a trailer with
the payload's checksum. A matcher on the payload alone never matches it, and WireMock
undoes no such framing. So the stub matches the framing around the recorded payload, as
a regex: the chunk size, any chunk signature, the payload as the text body's matcher
would (its dynamic values as wildcards), the last chunk and any trailers (their checksum
is of the payload, matched already). Beside it, ``Content-Encoding: aws-chunked``, and
``x-amz-decoded-content-length`` as sent (mapping.chosen_by).

Chunks: each SDK frames a payload in chunks of one size but the last: botocore 1 MiB (the
largest body limit: one chunk for any body a capture keeps whole), the Java SDK v2 128 KiB,
the Rust SDK's signed chunks and the Go SDK v2's for a body of unknown length 64 KiB (a JS
SDK v3 file stream's chunks are 64 KiB too; Go's for a known length, one). A text payload
longer than a chunk size is matched framed either way (``SDK_CHUNK_SIZES_BYTES``), each
chunk at its exact size, so no split of another payload passes for it. One split inside a
character (a UTF-8 sequence cut by a chunk's size line, which WireMock reads as U+FFFD), a
payload with a dynamic value (its length is not known, so neither are its chunks) framed
in several chunks, and a client splitting it otherwise (a JS stream of other chunks) get
a clear miss. A payload that is not UTF-8 is no text for a regex: WireMock reads a body as
text for one, each byte that is not UTF-8 as U+FFFD, so the regex would take other bytes
for it. Such a payload is matched as the bytes of its framing built again instead
(mapping.framed_uploads), or gets no stub.
"""

from __future__ import annotations

from typing import Any

from ext_proc_server.mapping.chosen_by import DECODED_LENGTH_HEADER
from ext_proc_server.mapping.java_regex import java_regex_escape
from ext_proc_server.mapping.noise import Hole, NormalizedBody, NormalizedRequest

CONTENT_ENCODING_MATCHER = {"equalTo": "aws-chunked", "caseInsensitive": True}
# Chunk extensions (the chunk's signature) are no part of the payload: any.
_EXTENSIONS = r"(?:;[^\r\n]*)?"
# The last chunk, its trailers (the payload's checksum, their signature) and the empty line.
_LAST_CHUNK = "0+" + _EXTENSIONS + r"\r\n(?:[^\r\n]+\r\n)*\r\n"
# The size of a payload whose length is not known (it holds a dynamic value).
_ANY_SIZE = "[0-9a-fA-F]{1,16}"
# The chunk sizes an SDK frames a larger payload in, besides botocore's one chunk: the Rust
# and the Go SDK v2's (and a JS SDK v3 file stream's), the Java SDK v2's.
SDK_CHUNK_SIZES_BYTES = (64 * 1024, 128 * 1024)


def is_framed(normalized: NormalizedRequest) -> bool:
    """Whether the request's body was sent aws-chunked (it names the payload's length)."""
    return any(name == DECODED_LENGTH_HEADER and values for name, values in normalized.varied)


def framed_body_matchers(body: NormalizedBody, *, hole: str) -> tuple[dict[str, Any], int]:
    """-> (the ``bodyPatterns`` of the framed payload, their weight). ``body`` is the
    payload as text, or none (noise.NormalizedBody "text", "none"), ``hole`` the regex of
    a dynamic value."""
    value = body.value
    if body.kind == "none":
        # An empty object: the last chunk alone.
        return {"bodyPatterns": [{"matches": "(?s)" + _LAST_CHUNK}]}, 2
    if isinstance(value, str):
        data = value.encode("utf-8")
        framings = [_chunks([data])]
        for size in SDK_CHUNK_SIZES_BYTES:
            if len(data) > size:
                split = _split_framing(data, size)
                if split is not None:
                    framings.append(split)
        data_chunks = framings[0] if len(framings) == 1 else "(?:" + "|".join(framings) + ")"
        weight = 2
    else:
        payload = hole if isinstance(value, Hole) else value.regex(hole=hole)
        data_chunks = _ANY_SIZE + _EXTENSIONS + r"\r\n" + payload + r"\r\n"
        weight = 1
    return {"bodyPatterns": [{"matches": "(?s)" + data_chunks + _LAST_CHUNK}]}, weight


def _split_framing(data: bytes, size: int) -> str | None:
    """The regex of ``data`` framed in chunks of ``size`` bytes but the last, or None when
    a chunk would end inside a character."""
    pieces = [data[start : start + size] for start in range(0, len(data), size)]
    try:
        return _chunks(pieces)
    except UnicodeDecodeError:
        return None


def _chunks(pieces: list[bytes]) -> str:
    """The regex of data chunks holding ``pieces`` (UTF-8), each at its exact size: a
    payload split otherwise cannot pass for this one."""
    return "".join(
        f"(?i:0*{len(piece):x})" + _EXTENSIONS + r"\r\n"
        + java_regex_escape(piece.decode("utf-8")) + r"\r\n"
        for piece in pieces
    )  # fmt: skip
