"""The rule: a stub is written only when it replays the recording faithfully.

A canary that gets a wrong answer from a mock is worse off than one that gets a clear
miss: a miss shows in the unmatched count, a wrong answer becomes a bug report against
healthy code. So an exchange whose response body was cut at the body limit or not kept
(binary that could not be made safe, a charset that could not be read, a failed decode)
gets no stub, and neither does one whose request body was: its matcher could not tell
the recorded request from a different one. :func:`skip_reason` says why, as one of
``core.metrics.STUB_SKIP_REASONS``; the pipeline counts it and keeps a per-host record.

A request whose path WireMock's Jetty refuses with a 400 before any stub is looked at
gets no stub either: dot-segments that climb above the root (``/a/../..``, ``/%2e%2e``),
an encoded NUL (``%00``), a ``%`` not followed by two hex digits. Nor does a response
that ended in trailers (Envoy sends them only when its filter asks for them): a WireMock
stub cannot send trailers, and a gRPC answer without its ``grpc-status`` is an error. A
gRPC error answered in headers alone (trailers-only) has no trailers: it is kept, its
``grpc-status`` among the stub's headers. Nor does a 401 or 407 to a request that carried
credentials: whether another token would be refused cannot be told once tokens are
sanitized (an expired token's 401 would answer every canary). Nor does a response with a
digest of its body (``Content-MD5``, ``Digest``, ``x-amz-checksum-*``...) that mockado cannot
compute again over the body the stub serves (``mapping.digests``): a client checking it
would refuse the answer. Nor does a 206 whose part had values sanitized: its
``Content-Range`` (or a ``multipart/byteranges`` part's) no longer gives the served bytes'
offsets and length; unless the part is the whole (``mapping.whole_parts``). Nor does a
form (any ``Content-Type`` holding ``application/x-www-form-urlencoded``, as WireMock tells
one) whose body holds a ``%`` not followed by two hex digits: WireMock's Jetty cannot
decode it and answers 500 before any stub is looked at, the catch-all that tells the miss
report included (``request_form_undecodable``). Nor does a request whose query string holds
one (``?q=50%``, ``?q=%zz``): Jetty answers 500 to it the same way
(``request_query_undecodable``). Envoy passes such a query on as sent, and the capture,
which holds the query decoded (where ``50%`` and ``50%25`` read alike), marks the request
(``REFUSED_QUERY``) while it still has the query as sent.

Nor does an SQS send whose answer gives MD5s of its message that the message as sanitized
no longer has, where mockado's launcher cannot compute them at serve time (system
attributes: ``mapping.sent_messages``): a client checking them would refuse the answer.

Nor does an exchange with a header value that is not UTF-8 (an ISO-8859-1 file name): the
capture keeps none of its bytes and marks the message (``UNDECODABLE_HEADER``), and a stub
without that header is not the recording.

``collector.truncated_responses: mark`` is the one opt-out: a response cut at the body
limit is then served partial, with ``x-mockado-truncated: true``.
"""

from __future__ import annotations

import re

from ext_proc_server.core.exchange import CREDENTIAL_HEADERS, Exchange, HttpMessage, HttpRequest
from ext_proc_server.mapping.digests import digests_computable
from ext_proc_server.mapping.sent_messages import answer_served
from ext_proc_server.mapping.whole_parts import is_whole_part

# The first header of a message one of whose header values was not UTF-8 (the capture
# leaves that value out and keeps none of its bytes). A pseudo-header name: no real header
# has one, and a stub never sends one.
UNDECODABLE_HEADER = (":mockado-undecodable", "")
HEADER_UNDECODABLE = "header_undecodable"
# The first header of a request whose query string WireMock's Jetty refuses (query_refused),
# marked by the capture: the query it holds is decoded, and a bad escape reads there as a
# good "%25" does. A pseudo-header name, as UNDECODABLE_HEADER.
REFUSED_QUERY = (":mockado-refused-query", "")
QUERY_UNDECODABLE = "request_query_undecodable"
PATH_REFUSED = "request_path_refused"
RESPONSE_TRAILERS = "response_trailers"
CREDENTIALS_REFUSED = "response_credentials_refused"
DIGEST_UNCOMPUTABLE = "response_digest_uncomputable"
RANGE_SANITIZED = "response_range_sanitized"
MESSAGE_SANITIZED = "request_message_sanitized"
# An encoded NUL, or a "%" not followed by two hex digits.
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})|%00")
# What WireMock 3.13.2 decodes a body as a form for (String.contains, on the Content-Type as
# Jetty gives it: lower-cased), and what its decoder (Jetty's UrlEncoded) refuses there.
_FORM_TYPE = "application/x-www-form-urlencoded"
_BAD_FORM_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")
FORM_UNDECODABLE = "request_form_undecodable"
# What Jetty refuses in a query string (%00 it reads).
_BAD_QUERY_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def skip_reason(exchange: Exchange, *, mark_truncated: bool = False) -> str:
    """Why ``exchange`` gets no stub, or "" when its stub replays it faithfully.
    ``mark_truncated``: collector.truncated_responses is "mark"."""
    response = exchange.response
    # A header the capture could not read: the stub would not send it, and a Vary'd one
    # could not be matched. Before the bodies: their headers may be the unread ones.
    headers = exchange.request.headers
    if headers and headers[0] == REFUSED_QUERY:
        return QUERY_UNDECODABLE
    if headers and headers[0] == UNDECODABLE_HEADER:
        return f"request_{HEADER_UNDECODABLE}"
    headers = response.headers if response is not None else ()
    if headers and headers[0] == UNDECODABLE_HEADER:
        return f"response_{HEADER_UNDECODABLE}"
    reason = _message_reason(exchange.request, "request", mark_truncated=False)
    if reason:
        return reason
    if path_refused(exchange.request.path):
        return PATH_REFUSED
    if response is None:
        return ""
    reason = _message_reason(response, "response", mark_truncated=mark_truncated)
    if not reason and response.trailers:
        # A stub has no trailers to send: a gRPC answer would lose its grpc-status.
        return RESPONSE_TRAILERS
    credentials = CREDENTIAL_HEADERS.get(response.status)
    if (
        not reason
        and credentials
        and any(k.lower() in credentials for k, _ in exchange.request.headers)
    ):
        return CREDENTIALS_REFUSED
    if reason:
        return reason
    if (
        response.status == 206
        and any(r.startswith("response.body") for r in exchange.redactions)
        and not is_whole_part(response)
    ):
        # The part's Content-Range gives its offsets and length in the whole.
        return RANGE_SANITIZED
    if not digests_computable(response, head=exchange.request.method == "HEAD"):
        return DIGEST_UNCOMPUTABLE
    if exchange.sanitized and form_refused(exchange.request):
        # Only once sanitized: the body is still there (a reason found before sanitizing
        # would have it dropped), and it is the body the stub would hold.
        return FORM_UNDECODABLE
    # Only once sanitized: before, the upstream's MD5s are of the message as it holds it.
    if exchange.sanitized and not answer_served(exchange):
        return MESSAGE_SANITIZED
    return ""


def form_refused(request: HttpRequest) -> bool:
    """Whether WireMock's Jetty answers 500 to this request's form body, whatever the stubs:
    a ``%`` in it not followed by two hex digits."""
    body = request.body
    if b"%" not in body:
        return False
    content_type = request.header("content-type")
    if content_type is None or _FORM_TYPE not in content_type.lower():
        return False
    return _BAD_FORM_ESCAPE.search(body) is not None


def query_refused(query_string: str) -> bool:
    """Whether WireMock's Jetty answers 500 to a query string (as sent), whatever the stubs:
    a ``%`` in it not followed by two hex digits (``%00`` is read)."""
    return "%" in query_string and _BAD_QUERY_ESCAPE.search(query_string) is not None


def _message_reason(message: HttpMessage, part: str, *, mark_truncated: bool) -> str:
    if message.body_dropped:
        return f"{part}_{message.body_drop_reason or 'unknown'}"
    if message.body_truncated and not mark_truncated:
        return f"{part}_truncated"
    return ""


def path_refused(path: str) -> bool:
    """Whether Jetty answers 400 to ``path`` (as sent, percent-encoded) whatever the stubs."""
    if "%" in path and _BAD_ESCAPE.search(path):
        return True
    return _climbs_above_root(path)


def _climbs_above_root(path: str) -> bool:
    """Whether resolving the dot-segments of ``path`` (``..`` and ``.``, percent-encoded or
    with ``;parameters`` too) goes above "/", as Jetty resolves them: an empty segment
    (``//``) counts as one."""
    if "." not in path and "%2" not in path:
        return False
    depth = 0
    for raw in path.removeprefix("/").split("/"):
        segment = raw.split(";", 1)[0].lower().replace("%2e", ".")
        if segment == "..":
            if depth == 0:
                return True
            depth -= 1
        elif segment != ".":
            depth += 1
    return False
