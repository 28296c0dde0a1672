"""The matchers of a request body sent ``aws-chunked`` (S3's signed or checksummed upload).

The capture stores the payload (core.aws_chunked), but WireMock sees the body as sent:
framed in chunks, each with a new signature when the upload is signed, and a trailer with
the payload's checksum; and WireMock undoes no such framing. mockado's launcher does
(``control_plane/wiremock/MockadoWireMock.java``, ``AwsChunkedUploads``): its request
matcher ``mockado-aws-chunked`` reads the payload out of the framing, whatever the chunk
sizes, chunk signatures and trailers (these change with each upload; a trailer's checksum is
of the payload, matched already), and matches it:

* ``sha256``: the recorded payload's SHA-256, for a payload without dynamic values, text or
  binary (an image, a parquet or gzip file: no regex holds bytes that are not UTF-8);
* ``matches``: the regex a text body sent plain gets (mapping.matchers), its dynamic values
  (a UUID, a timestamp) as wildcards, over the payload read as UTF-8.

So every SDK's chunks match (botocore's 1 MiB, the Java SDK v2's 128 KiB, the Rust and Go
SDKs' 64 KiB, a JS stream's), signed or not, and the stub holds the payload's matcher once,
whatever the framings. Beside it, ``Content-Encoding: aws-chunked``, and
``x-amz-decoded-content-length`` as sent (mapping.chosen_by).

Stock WireMock knows no such matcher and takes a stub carrying one for no match: there an
upload sent ``aws-chunked`` is a clear miss, never another payload's answer.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from ext_proc_server.mapping.chosen_by import DECODED_LENGTH_HEADER
from ext_proc_server.mapping.noise import Hole, NormalizedBody, NormalizedRequest

CONTENT_ENCODING_MATCHER = {"equalTo": "aws-chunked", "caseInsensitive": True}
# The launcher's request matcher (MockadoWireMock.AwsChunkedUploads).
PAYLOAD_MATCHER = "mockado-aws-chunked"
# The payloads matched by their digest (a text payload holding dynamic values: by a regex).
_DIGESTED_KINDS = frozenset({"none", "text", "binary"})


def is_framed(normalized: NormalizedRequest) -> bool:
    """Whether the request's body was sent aws-chunked (it names the payload's length)."""
    return any(name == DECODED_LENGTH_HEADER and values for name, values in normalized.varied)


def matched_in_framing(body: NormalizedBody) -> bool:
    """Whether a framed payload of this kind gets the launcher's matcher (another, opaque,
    gets no stub)."""
    return body.kind in _DIGESTED_KINDS


def framed_body_matchers(body: NormalizedBody, *, hole: str) -> tuple[dict[str, Any], int]:
    """-> (the ``customMatcher`` of the framed payload, its weight). ``body`` is the payload
    as text, binary (base64) or none (noise.NormalizedBody), ``hole`` the regex of a
    dynamic value."""
    value = body.value
    if body.kind == "text" and not isinstance(value, str):
        regex = hole if isinstance(value, Hole) else value.regex(hole=hole)
        return payload_matcher(matches="(?s)" + regex), 1
    return payload_matcher(sha256=hashlib.sha256(_payload(body)).hexdigest()), 2


def payload_matcher(**parameters: str) -> dict[str, Any]:
    """The stub's ``customMatcher`` entry: the launcher's, given ``sha256`` or ``matches``."""
    return {"customMatcher": {"name": PAYLOAD_MATCHER, "parameters": parameters}}


def _payload(body: NormalizedBody) -> bytes:
    if body.kind == "binary":
        return base64.b64decode(body.value)
    if body.kind == "text":
        return body.value.encode("utf-8")
    return b""
