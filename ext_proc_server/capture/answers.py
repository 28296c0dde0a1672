"""Two facts about a response, read from its headers' message: whether Envoy gave it
itself, and whether it is a gRPC answer whose end is in trailers."""

from __future__ import annotations

from ext_proc_server.capture.bodies import media_type
from ext_proc_server.capture.protos import ProcessingRequest
from ext_proc_server.core.names import ATTR_RESPONSE_DETAILS, EXT_PROC_FILTER_NAME

# response.code_details of an answer the upstream sent; anything else is Envoy's own.
_VIA_UPSTREAM = "via_upstream"
_GRPC = "application/grpc"
_GRPC_PLUS = "application/grpc+"


def local_reply(message: ProcessingRequest) -> bool:
    """Whether Envoy gave the response of ``message`` itself (``response.code_details``
    is not ``via_upstream``). Unknown, so False, from a filter that does not send it."""
    attributes = message.attributes
    if EXT_PROC_FILTER_NAME not in attributes:
        return False
    fields = attributes[EXT_PROC_FILTER_NAME].fields
    if ATTR_RESPONSE_DETAILS not in fields:
        return False
    return fields[ATTR_RESPONSE_DETAILS].string_value not in ("", _VIA_UPSTREAM)


def is_grpc(content_type: str | None) -> bool:
    """``application/grpc`` and its ``+proto``/``+json`` forms; not grpc-web, whose
    trailers travel in its body."""
    found = media_type(content_type)
    return found == _GRPC or found.startswith(_GRPC_PLUS)
