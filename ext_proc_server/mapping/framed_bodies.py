"""The matchers of a request body sent ``aws-chunked`` (S3's signed or checksummed upload).

The capture stores the payload (capture.aws_chunked), but WireMock sees the body as sent:
framed in chunks, each with a new signature when the upload is signed, and a trailer with
the payload's checksum. A matcher on the payload alone never matches it, and WireMock
undoes no such framing. So the stub matches the framing around the recorded payload, as
a regex: the chunk size, any chunk signature, the payload as the text body's matcher
would (its dynamic values as wildcards), the last chunk and any trailers (their checksum
is of the payload, matched already). Beside it, ``Content-Encoding: aws-chunked``, and
``x-amz-decoded-content-length`` as sent (mapping.chosen_by).

Limits: the payload is matched as one data chunk. Every SDK sends a payload under the
default body limit (8 KiB) so, since S3 takes no data chunk under 8 KiB but the last, and
botocore any body a capture keeps whole (its chunks are 1 MiB, the largest body limit).
A client that splits the same payload in several chunks (a larger body, under a raised
limit) gets a clear miss. A payload that is not UTF-8 is no text for a regex: WireMock
reads a body as text for one, each byte that is not UTF-8 as U+FFFD, so the regex would
take other bytes for it. Such a payload is matched as the bytes of its framing built again
instead (mapping.framed_uploads), or gets no stub.
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
        # One exact size: a payload split otherwise could not pass for this one.
        size = f"(?i:0*{len(value.encode('utf-8')):x})"
        payload, weight = java_regex_escape(value), 2
    else:
        size = _ANY_SIZE
        payload = hole if isinstance(value, Hole) else value.regex(hole=hole)
        weight = 1
    pattern = "(?s)" + size + _EXTENSIONS + r"\r\n" + payload + r"\r\n" + _LAST_CHUNK
    return {"bodyPatterns": [{"matches": pattern}]}, weight
