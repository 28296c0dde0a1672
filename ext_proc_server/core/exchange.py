"""The core type: one captured HTTP exchange.

It flows capture -> sanitize -> dedup -> mapping -> queue. Every stage returns a
new frozen value (``.replace(...)``, or :func:`evolve`) instead of mutating one.

Headers and query parameters are ordered multi-maps kept as tuples of pairs, so
the exchange stays hashable and repeated names keep their order. ``to_record``
and ``from_record`` convert to the public capture format (JSON Lines, see README).
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import operator
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any, Self, TypeVar
from urllib.parse import parse_qsl

from ext_proc_server.core.errors import CaptureError

Pairs = tuple[tuple[str, str], ...]
T = TypeVar("T")

# Why a body was not kept (``HttpMessage.body_drop_reason``): a fixed vocabulary, so the
# reasons can be metric labels. "" means the body was not dropped.
BODY_DROP_REASONS = (
    "binary_skipped",  # binary body with collector.binary_bodies=skip
    "binary_unsanitizable",  # binary whose scan found a secret or personal data, or a
    # malformed image whose metadata could not be stripped
    "structured_binary",  # a binary format with text we cannot read (PDF, zip, protobuf...)
    "charset_undeclared",  # text that is not UTF-8 and declares no charset (nor a BOM)
    "charset_unsupported",  # a declared charset mockado does not decode
    "charset_mismatch",  # bytes that are not valid in the declared charset
    "charset_unencodable",  # sanitized text its charset cannot write (a lone surrogate)
    "content_encoding",  # still compressed, or a content-encoding that failed to decode
    "decoded_too_large",  # decoding passed collector.max_decompressed_bytes (a bomb)
    "sanitize_error",  # the sanitizer failed on it
    "unknown",  # dropped for a reason this version does not know (an older record)
)
_BODY_DROP_REASON_SET = frozenset(BODY_DROP_REASONS)


def pairs_from_mapping(values: Mapping[str, Iterable[str] | str]) -> Pairs:
    """{"a": ["1", "2"]} -> (("a", "1"), ("a", "2")). A bare string counts as one value."""
    out: list[tuple[str, str]] = []
    for name, vals in values.items():
        if isinstance(vals, str):
            out.append((str(name), vals))
        else:
            out.extend((str(name), str(v)) for v in vals)
    return tuple(out)


def query_pairs(query_string: str) -> Pairs:
    """A query string's (name, value) pairs, as ``parse_qsl(keep_blank_values=True)``
    gives them; one without percent-escapes or ``+`` (most) needs only a split."""
    if "%" in query_string or "+" in query_string:
        return tuple(parse_qsl(query_string, keep_blank_values=True))
    pairs = []
    for part in query_string.split("&"):
        if part:
            name, _, value = part.partition("=")
            pairs.append((name, value))
    return tuple(pairs)


def pairs_to_mapping(pairs: Pairs) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for name, value in pairs:
        out.setdefault(name, []).append(value)
    return out


@functools.cache
def _copied_fields(
    cls: type,
) -> tuple[tuple[str, ...], frozenset[str], operator.attrgetter] | None:
    """The fields a copy of a frozen dataclass carries (as a tuple and a set, and a
    getter of them all), or None when only its ``__init__`` may build one (a
    ``__post_init__``, a field outside ``__init__``)."""
    found = dataclasses.fields(cls)
    if hasattr(cls, "__post_init__") or not all(f.init for f in found):
        return None
    names = tuple(f.name for f in found)
    return names, frozenset(names), operator.attrgetter(*names)


def evolve(value: T, changes: Mapping[str, object]) -> T:
    """``dataclasses.replace(value, **changes)`` for these frozen types, in a few C calls
    (an exchange is copied up to three times per stage, and replace's Python steps per
    field showed): the fields are set on a new instance as ``__init__`` sets them.
    A class with a ``__post_init__`` (or a field outside ``__init__``) goes through
    ``dataclasses.replace``. A name in ``changes`` that is not a field is ignored, not
    refused (checking cost measurably per exchange): ``.replace(...)`` checks."""
    copied = _copied_fields(type(value))
    if copied is None:
        return dataclasses.replace(value, **changes)  # type: ignore[type-var]
    names, _known, getter = copied
    fresh = object.__new__(type(value))
    fields = map(changes.get, names, getter(value))  # the change, else the old value
    deque(map(object.__setattr__, repeat(fresh), names, fields), maxlen=0)
    return fresh


def _checked(value: T, changes: dict[str, Any]) -> T:
    """``evolve``, refusing a name that is not a field as ``dataclasses.replace`` does."""
    copied = _copied_fields(type(value))
    if copied is not None and not changes.keys() <= copied[1]:
        unknown = sorted(changes.keys() - copied[1])
        raise TypeError(f"{type(value).__name__}: not a field: {', '.join(unknown)}")
    return evolve(value, changes)


def get_header(headers: Pairs, name: str) -> str | None:
    """First value of a header, case-insensitively."""
    wanted = name.lower()
    if not wanted.isascii():
        return next((value for key, value in headers if key.lower() == wanted), None)
    # A name that lowers to ASCII is as long as its lowered copy (only "İ" lowers to two
    # characters, one not ASCII): names of another length are passed without a copy.
    size = len(wanted)
    for key, value in headers:
        if len(key) == size and key.lower() == wanted:
            return value
    return None


# The request headers a response varies on, each with its values.
Varied = tuple[tuple[str, tuple[str, ...]], ...]
# Request headers a response's Vary may name that a stub need not match: bodies are
# stored decoded, which a client of any Accept-Encoding takes.
_VARY_UNMATCHED = frozenset({"", "*", "accept-encoding"})
# Answers chosen by request headers no Vary names: a 304 or 412 answers a conditional
# request, a 206 or 416 a range request. Served to a request without them, they would be
# wrong (an empty body for a client with nothing cached, a part of a body).
_CONDITIONAL = frozenset({"if-match", "if-modified-since", "if-none-match", "if-unmodified-since"})
_RANGE = frozenset({"if-range", "range"})
_CHOSEN_BY = {304: _CONDITIONAL, 412: _CONDITIONAL, 206: _RANGE, 416: _RANGE}
# A 401 or 407 answers the credentials a request carried. Without any, it answers requests
# without them (matched absent); with some, whether others are refused cannot be told once
# they are sanitized: no stub (mapping.faithful).
CREDENTIAL_HEADERS = {
    401: frozenset({"authorization", "cookie"}),
    407: frozenset({"proxy-authorization"}),
}
# The statuses chosen by request headers whatever the answer's Vary says.
_CHOSEN_BY_STATUSES = frozenset(_CHOSEN_BY) | frozenset(CREDENTIAL_HEADERS)
# The CORS answer header whose value tells a CORS answer (varied_request), and the
# preflight's request headers.
ALLOW_ORIGIN_HEADER = "access-control-allow-origin"
REQUEST_METHOD_HEADER = "access-control-request-method"
_BY_ORIGIN = frozenset({"origin"})
_BY_PREFLIGHT = frozenset({REQUEST_METHOD_HEADER, "access-control-request-headers"})


def varied_request(
    vary: str | None,
    request_headers: Callable[[], Pairs],
    *,
    status: int,
    allow_origin: str | None = None,
    method: str = "",
) -> Varied:
    """The request headers that chose a response: those its ``Vary`` value names (``*``
    and Accept-Encoding left out), for a 304, 412, 206 or 416 the conditional or range
    headers the request sent, for a 401 or 407 its credential headers, and for a CORS
    answer (``allow_origin``: its Access-Control-Allow-Origin) the CORS request headers.
    Lower-cased and sorted, each with the values ``request_headers()`` holds for it, in
    order (none: not sent); its stub matches them as recorded. The request's headers are
    read only when there may be a name."""
    chosen_by = _CHOSEN_BY.get(status)
    names = {name.strip().lower() for name in vary.split(",")} if vary else set()
    names |= CREDENTIAL_HEADERS.get(status, frozenset())
    if not names and chosen_by is None and allow_origin is None:
        return ()
    headers = request_headers()
    if chosen_by is not None:
        # Those the request sent: an answer to a request without any, nothing chose.
        names.update(key.lower() for key, _ in headers if key.lower() in chosen_by)
    if allow_origin is not None:
        names |= _cors_chosen_by(allow_origin, headers, method=method)
    return tuple(
        (name, tuple(value for key, value in headers if key.lower() == name))
        for name in sorted(names - _VARY_UNMATCHED)
    )


def varied_of(
    response_fields: Mapping[str, str],
    request_headers: Callable[[], Pairs],
    status: int,
    method: str,
) -> Varied:
    """:func:`varied_request` of a response known by the first value of each header it
    reads (lower-cased names): the capture's repeat path, which decodes no other one."""
    if (
        "vary" not in response_fields
        and ALLOW_ORIGIN_HEADER not in response_fields
        and status not in _CHOSEN_BY_STATUSES
    ):
        return ()  # most answers: no name to look for (varied_request's first test)
    return varied_request(
        response_fields.get("vary"),
        request_headers,
        status=status,
        allow_origin=response_fields.get(ALLOW_ORIGIN_HEADER),
        method=method,
    )


def _cors_chosen_by(allow_origin: str, headers: Pairs, *, method: str) -> frozenset[str]:
    """A CORS answer naming an origin was chosen by the request's Origin, ``Vary: Origin``
    or not (many servers echo it without one): served to another origin, the browser
    refuses it. A preflight's answer (OPTIONS with Access-Control-Request-Method; any
    Allow-Origin, ``*`` too) also by the method and headers it asked for, which servers
    echo in Access-Control-Allow-Methods and -Headers."""
    names = _BY_ORIGIN if allow_origin.strip() != "*" else frozenset()
    if method.upper() == "OPTIONS" and any(
        key.lower() == REQUEST_METHOD_HEADER for key, _ in headers
    ):
        names |= _BY_PREFLIGHT
    return names


# The last part of the redaction record ``<part>.body.raw_controls`` (see Exchange).
RAW_CONTROLS_SENT = "raw_controls"


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpMessage:
    headers: Pairs = ()
    body: bytes = b""
    # Bytes past the body limit were not kept.
    body_truncated: bool = False
    # The body was removed (binary with binary_bodies=skip, or it failed sanitizing).
    body_dropped: bool = False
    # Why, one of BODY_DROP_REASONS ("" when the body was kept, or when whoever dropped
    # it did not say).
    body_drop_reason: str = ""
    trailers: Pairs = ()

    def header(self, name: str) -> str | None:
        return get_header(self.headers, name)

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` applied (see :func:`evolve`)."""
        return _checked(self, changes)

    @property
    def content_type(self) -> str:
        return (self.header("content-type") or "").split(";", 1)[0].strip().lower()


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpRequest(HttpMessage):
    method: str
    # The path without the query string, still percent-encoded as sent.
    path: str
    query: Pairs = ()
    # :authority (or Host) as the capture saw it: the destination service.
    authority: str = ""
    scheme: str = "http"


@dataclass(frozen=True, slots=True, kw_only=True)
class HttpResponse(HttpMessage):
    status: int


@dataclass(frozen=True, slots=True, kw_only=True)
class Exchange:
    """One request and its response, as one ext_proc stream saw them."""

    id: str
    request: HttpRequest
    response: HttpResponse | None = None
    namespace: str = ""
    workload: str = ""
    captured_at_s: float = 0.0
    # True once the sanitizer has processed every part. The queue refuses anything else.
    sanitized: bool = False
    # Where the sanitizer replaced a value, so mappings can match any value there.
    # Location grammar (see README "Capture format"):
    #   request.path.<i>            i-th path segment (0-based, after the leading "/")
    #   request.query.<name>        a query parameter
    #   request.header.<name>       a header (lower-cased name)
    #   request.body.json:<ptr>     an RFC 6901 JSON pointer into a JSON body
    #   request.body.form.<name>    a form-urlencoded field
    #   request.body                somewhere in an unstructured (text/XML/multipart) body
    #   request.body.raw_controls   a JSON body sent with a raw control character (a tab,
    #                               a line break) in a string it had edited: the request
    #                               is not strict JSON, whatever the sanitized body is
    #   response.header.<name>, response.body.json:<ptr>, response.body.form.<name>, response.body
    redactions: frozenset[str] = frozenset()
    # Unknown top-level keys of a capture record, passed through unchanged.
    extra: Mapping[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def truncated(self) -> bool:
        return self.request.body_truncated or bool(self.response and self.response.body_truncated)

    @property
    def varied(self) -> Varied:
        """The request headers that chose its response (every ``Vary`` line, a CORS
        answer's), with their values: :func:`varied_request`."""
        response = self.response
        if response is None:
            return ()
        vary = ",".join(value for key, value in response.headers if key.lower() == "vary")
        return varied_request(
            vary,
            lambda: self.request.headers,
            status=response.status,
            allow_origin=response.header(ALLOW_ORIGIN_HEADER),
            method=self.request.method,
        )

    def replace(self, **changes: Any) -> Exchange:
        """A copy with ``changes`` applied (see :func:`evolve`)."""
        return _checked(self, changes)

    # -- public capture format ------------------------------------------------

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = dict(self.extra)
        record["id"] = self.id
        request: dict[str, Any] = {
            "method": self.request.method,
            "path": self.request.path,
            "query": pairs_to_mapping(self.request.query),
            "headers": pairs_to_mapping(self.request.headers),
        }
        if self.request.authority:
            request["authority"] = self.request.authority
        _put_body(request, self.request)
        record["request"] = request
        if self.response is not None:
            response: dict[str, Any] = {
                "status": self.response.status,
                "headers": pairs_to_mapping(self.response.headers),
            }
            _put_body(response, self.response)
            record["response"] = response
        for key, value in (
            ("namespace", self.namespace),
            ("workload", self.workload),
            ("captured_at_s", self.captured_at_s),
        ):
            if value:
                record[key] = value
        return record

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Exchange:
        """Build an exchange from a capture record. Raises CaptureError naming the bad key."""
        if not isinstance(record, Mapping):
            raise CaptureError("record: expected a JSON object")
        try:
            req = record["request"]
            if not isinstance(req, Mapping):
                raise CaptureError("request: expected an object")
            request = HttpRequest(
                method=str(req.get("method", "GET")).upper(),
                path=str(req.get("path", "/")),
                query=pairs_from_mapping(req.get("query") or {}),
                headers=pairs_from_mapping(req.get("headers") or {}),
                authority=str(req.get("authority", "")),
                body=_get_body(req, "request"),
                body_truncated=bool(req.get("body_truncated", False)),
                **_get_drop(req),
            )
            response = None
            resp = record.get("response")
            if resp is not None:
                if not isinstance(resp, Mapping):
                    raise CaptureError("response: expected an object")
                response = HttpResponse(
                    status=int(resp.get("status", 200)),
                    headers=pairs_from_mapping(resp.get("headers") or {}),
                    body=_get_body(resp, "response"),
                    body_truncated=bool(resp.get("body_truncated", False)),
                    **_get_drop(resp),
                )
        except KeyError as exc:
            raise CaptureError(f"{exc.args[0]}: missing") from exc
        except (TypeError, ValueError, AttributeError) as exc:
            raise CaptureError(f"record: malformed ({type(exc).__name__})") from exc
        known = {"id", "request", "response", "namespace", "workload", "captured_at_s"}
        return cls(
            id=str(record.get("id", "")),
            request=request,
            response=response,
            namespace=str(record.get("namespace", "")),
            workload=str(record.get("workload", "")),
            captured_at_s=float(record.get("captured_at_s", 0.0) or 0.0),
            extra={k: v for k, v in record.items() if k not in known},
        )


def _put_body(target: dict[str, Any], message: HttpMessage) -> None:
    if message.body_truncated:
        target["body_truncated"] = True
    if message.body_dropped:
        target["body_dropped"] = True
        if message.body_drop_reason:
            target["body_drop_reason"] = message.body_drop_reason
    if not message.body:
        target["body"] = ""
        return
    try:
        target["body"] = message.body.decode("utf-8")
    except UnicodeDecodeError:
        target["body_b64"] = base64.b64encode(message.body).decode("ascii")


def _get_body(part: Mapping[str, Any], where: str) -> bytes:
    if part.get("body_b64") is not None:
        try:
            return base64.b64decode(str(part["body_b64"]), validate=True)
        except ValueError as exc:
            raise CaptureError(f"{where}.body_b64: invalid base64") from exc
    body = part.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise CaptureError(f"{where}.body: expected a string")
    return body.encode("utf-8", "surrogatepass")


def _get_drop(part: Mapping[str, Any]) -> dict[str, Any]:
    """body_dropped and its reason; a record written before reasons existed (or by a
    newer version with a reason this one does not know) reads as "unknown"."""
    if not part.get("body_dropped"):
        return {}
    reason = part.get("body_drop_reason")
    if not isinstance(reason, str) or reason not in _BODY_DROP_REASON_SET:
        reason = "unknown"
    return {"body_dropped": True, "body_drop_reason": reason}
