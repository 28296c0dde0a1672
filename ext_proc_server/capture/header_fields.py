"""The header values a stream reads: a few by name as they arrive (a repeat reads no
other), and every one only for a new exchange."""

from __future__ import annotations

from ext_proc_server.capture.protos import HeaderMap, HeaderValue
from ext_proc_server.core.exchange import Pairs
from ext_proc_server.mapping.accepts import ACCEPT_HEADER
from ext_proc_server.mapping.chosen_by import CREDENTIAL_HEADER, PREFER_HEADER
from ext_proc_server.mapping.faithful import UNDECODABLE_HEADER
from ext_proc_server.mapping.repeat_texts import (
    CHOSEN_HEADERS,
    CHOSEN_JOINER,
    CONTENT_LANGUAGE_HEADER,
    CONTENT_LANGUAGE_JOINER,
)

# Header values the assembler reads itself (a repeat reads no other).
REQUEST_FIELDS = frozenset(
    {
        ":method",
        ":path",
        ":authority",
        ":scheme",
        "host",
        "upgrade",
        "content-length",
        "transfer-encoding",
        "content-encoding",
        "content-type",
        "x-request-id",
        CREDENTIAL_HEADER,  # the repeat key's (mapping.chosen_by)
        PREFER_HEADER,
        ACCEPT_HEADER,  # the repeat key's (mapping.accepts)
        *CHOSEN_HEADERS,  # the repeat key's (mapping.repeat_texts.chosen_values)
    }
)
RESPONSE_FIELDS = frozenset(
    {":status", "content-length", "transfer-encoding", "content-encoding", "content-type", "vary"}
) | {
    "access-control-allow-origin",  # a CORS answer's (varied_of)
    CONTENT_LANGUAGE_HEADER,  # the repeat key's (mapping.repeat_texts.chosen_values)
}
# Of these, the ones read whole when sent more than once, and how their values are joined:
# every Vary line (as Exchange.varied), every Prefer (the repeat key's NUL-joined values),
# every Accept (each lists types: joined, one list), every value of a header the repeat key
# holds as sent and every Content-Language line (mapping.repeat_texts.chosen_values).
_JOINED = (
    {"vary": ",", PREFER_HEADER: "\x00", ACCEPT_HEADER: ","}
    | {name: CHOSEN_JOINER for name in CHOSEN_HEADERS}
    | {CONTENT_LANGUAGE_HEADER: CONTENT_LANGUAGE_JOINER}
)


def wanted_fields(header_map: HeaderMap, wanted: frozenset[str]) -> dict[str, str] | None:
    """The first value of each ``wanted`` header (lower-cased names; of a ``_JOINED`` one,
    every value joined), in one pass that decodes no other value (the other headers are
    read only for a new exchange: :func:`decoded_pairs`). None when a pseudo-header is not UTF-8
    (another one is left out, as :func:`decoded_pairs` leaves it out)."""
    found: dict[str, str] = {}
    for header in header_map.headers:
        name = header.key
        # Envoy sends lower-case names: a wanted one needs no case test.
        if name not in wanted and (name.islower() or (name := name.lower()) not in wanted):
            continue
        if name in found:
            joiner = _JOINED.get(name)  # seldom sent twice: not in the common path
            if joiner is not None and (value := _decoded(header)) is not None:
                found[name] += joiner + value
        else:
            raw = header.raw_value  # the _decoded steps, inline: most headers are wanted
            if raw and raw.isascii():
                found[name] = raw.decode("ascii")
                continue
            value = _decoded(header)
            if value is not None:
                found[name] = value
            elif name[:1] == ":":
                return None
    return found


def decoded_pairs(header_map: HeaderMap) -> Pairs:
    """The headers without pseudo-headers, lower-cased names; one whose value is not UTF-8
    left out, none of its bytes kept, the pairs then led by ``UNDECODABLE_HEADER``."""
    pairs: list[tuple[str, str]] = []
    for header in header_map.headers:
        name = header.key
        if name[:1] == ":":
            continue
        raw = header.raw_value  # the _decoded steps, inline: one call less per header
        if raw and raw.isascii():
            value: str | None = raw.decode("ascii")
        else:
            value = _decoded(header)
            if value is None:
                if pairs[:1] != [UNDECODABLE_HEADER]:
                    pairs.insert(0, UNDECODABLE_HEADER)
                continue
        pairs.append((name if name.islower() else name.lower(), value))
    return tuple(pairs)


def _decoded(header: HeaderValue) -> str | None:
    """A header's value; Envoy sends it in raw_value (bytes) since 1.27. None when it is
    not UTF-8."""
    raw = header.raw_value
    if not raw:
        return header.value
    if raw.isascii():
        return raw.decode("ascii")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
