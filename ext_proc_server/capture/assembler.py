"""One ext_proc stream -> one captured Exchange.

A ``StreamAssembler`` implements the phase hooks of
:mod:`ext_proc_server.capture.phases` for one stream: it is handed that
stream's messages in the order they arrive and says, after each one, whether
the stream is finished (see :class:`~ext_proc_server.capture.phases.Finished`).
``end_of_input()`` gives "incomplete" when the stream closes before the
response ended.

The request may still be streaming when the response starts (an upstream may
answer early), so request body chunks are accepted until the request ends;
everything else out of order is malformed. Memory per stream is bounded by the
body limit (twice: request and response) plus the headers Envoy already bounded.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl

from ext_proc_server.capture import bodies
from ext_proc_server.capture.filters import CaptureFilter
from ext_proc_server.capture.phases import INCOMPLETE, MALFORMED, UPGRADE, Finished
from ext_proc_server.capture.protos import HttpBody, ProcessingRequest, header_pairs
from ext_proc_server.core.config import KIB, MIB, CollectorConfig
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse, Pairs
from ext_proc_server.core.names import (
    ATTR_NAMESPACE,
    ATTR_WORKLOAD,
    EXT_PROC_FILTER_NAME,
    META_BODY_LIMIT,
    META_NAMESPACE,
    META_WORKLOAD,
)

BODY_LIMIT_MIN_BYTES = KIB
BODY_LIMIT_MAX_BYTES = MIB

# Headers describing the wire encoding; they no longer apply to a decoded body.
_ENCODING_HEADERS = frozenset({"content-encoding", "content-length"})


@dataclass(frozen=True, slots=True)
class StreamMeta:
    """Per-stream facts from the gRPC initial metadata."""

    namespace: str = ""
    workload: str = ""
    body_limit_bytes: int = 8 * KIB


def stream_meta(
    metadata: Iterable[tuple[str, str | bytes]], *, config: CollectorConfig
) -> StreamMeta:
    """Read namespace, workload and a body-limit override from gRPC metadata.

    The override may set any limit within the allowed range (1 KiB - 1 MiB); a
    value outside it is clamped and one that is not an integer is ignored.
    """
    namespace = workload = ""
    limit = config.body_limit_bytes
    for key, value in metadata:
        if isinstance(value, bytes):
            continue
        if key == META_NAMESPACE:
            namespace = value[:253]
        elif key == META_WORKLOAD:
            workload = value[:253]
        elif key == META_BODY_LIMIT:
            with contextlib.suppress(ValueError):
                limit = min(max(int(value), BODY_LIMIT_MIN_BYTES), BODY_LIMIT_MAX_BYTES)
    return StreamMeta(namespace=namespace, workload=workload, body_limit_bytes=limit)


def _utf8_clean(pairs: Pairs) -> bool:
    """False when a header held bytes that are not UTF-8 (kept as surrogate escapes)."""
    for _, value in pairs:
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError:
                return False
    return True


class StreamAssembler:
    __slots__ = (
        "_capture_filter",
        "_config",
        "_meta",
        "_req_body",
        "_req_done",
        "_req_length",
        "_req_trailers",
        "_request_headers",
        "_resp_body",
        "_resp_length",
        "_resp_trailers",
        "_response_headers",
        "_status",
        "authority",
        "captured_at_s",
        "method",
        "namespace",
        "path",
        "raw_path",
        "scheme",
        "workload",
    )

    def __init__(
        self, *, config: CollectorConfig, capture_filter: CaptureFilter, meta: StreamMeta
    ) -> None:
        self._config = config
        self._capture_filter = capture_filter
        self._meta = meta
        self.namespace = meta.namespace
        self.workload = meta.workload
        self._request_headers: Pairs | None = None
        self._response_headers: Pairs | None = None
        self._req_body: bodies.BodyBuffer | None = None
        self._resp_body: bodies.BodyBuffer | None = None
        self._req_trailers: Pairs = ()
        self._resp_trailers: Pairs = ()
        self._req_done = False
        # Content-Length, when given: a body that reached it is complete without waiting
        # for an end_of_stream message (Envoy does not always send a separate one).
        self._req_length = -1
        self._resp_length = -1
        self._status: int | None = None
        self.method = ""
        self.path = ""
        self.raw_path = ""
        self.authority = ""
        self.scheme = "http"
        self.captured_at_s = 0.0

    # -- what the server asks -------------------------------------------------------

    @property
    def started(self) -> bool:
        """Request headers arrived (the stream counts as one exchange seen)."""
        return self._request_headers is not None

    @property
    def status(self) -> int | None:
        return self._status

    # -- phases (see ext_proc_server.capture.phases) ---------------------------------

    def on_request_headers(self, message: ProcessingRequest) -> Finished | None:
        if self._request_headers is not None:
            return MALFORMED
        http_headers = message.request_headers
        headers: list[tuple[str, str]] = []
        method = path = authority = ""
        scheme = "http"
        upgrade = False
        for name, value in header_pairs(http_headers.headers):
            if name[:1] == ":":
                if name == ":method":
                    method = value
                elif name == ":path":
                    path = value
                elif name == ":authority":
                    authority = value
                elif name == ":scheme":
                    scheme = value
                continue
            lname = name.lower()
            if lname == "upgrade":
                upgrade = True
            elif lname == "host" and not authority:
                authority = value
            headers.append((lname, value))
        self._request_headers = pairs = tuple(headers)
        self.captured_at_s = time.time()
        self.method = method.upper()
        self.raw_path = path
        self.path = path.split("?", 1)[0]
        self.authority = authority
        self.scheme = scheme
        if http_headers.end_of_stream:
            self._req_done = True
        else:
            self._req_length = _content_length(pairs)
        if not method or not path:
            return MALFORMED
        if upgrade or self.method == "CONNECT":
            return UPGRADE
        if not (_utf8_clean(pairs) and self.path.isascii() and authority.isascii()):
            return MALFORMED
        decision = self._capture_filter.decide(
            authority=authority, path=self.path, request_id=_first(pairs, "x-request-id")
        )
        if not decision.capture:
            return Finished(drop_reason=decision.reason)
        if not (self.namespace and self.workload):
            self._workload_from_attributes(message)
        return None

    def on_response_headers(self, message: ProcessingRequest) -> Finished | None:
        if self._request_headers is None or self._response_headers is not None:
            return MALFORMED
        http_headers = message.response_headers
        headers: list[tuple[str, str]] = []
        status = ""
        for name, value in header_pairs(http_headers.headers):
            if name[:1] == ":":
                if name == ":status":
                    status = value
                continue
            headers.append((name.lower(), value))
        try:
            code = int(status)
        except ValueError:
            return MALFORMED
        if not 100 <= code <= 599:
            return MALFORMED
        self._status = code
        self._response_headers = pairs = tuple(headers)
        if code == 101:
            return UPGRADE
        if not _utf8_clean(pairs):
            return MALFORMED
        if http_headers.end_of_stream:
            return self._finish()
        if self.method != "HEAD" and code not in (204, 304):
            self._resp_length = _content_length(pairs)
        return None

    def on_request_body(self, message: ProcessingRequest) -> Finished | None:
        if self._request_headers is None:
            return MALFORMED
        body = message.request_body
        if self._req_done:
            # An empty end-of-stream chunk after the body reached its Content-Length.
            return MALFORMED if body.body else None
        if _add_chunk(self._req_body_buffer(), body, self._req_length):
            self._req_done = True
        return None

    def on_request_trailers(self, message: ProcessingRequest) -> Finished | None:
        if self._request_headers is None or self._req_done:
            return MALFORMED
        self._req_trailers = header_pairs(message.request_trailers.trailers)
        self._req_done = True
        return None

    def on_response_body(self, message: ProcessingRequest) -> Finished | None:
        if self._response_headers is None:
            return MALFORMED
        body = message.response_body
        if _add_chunk(self._resp_body_buffer(), body, self._resp_length):
            return self._finish()
        return None

    def on_response_trailers(self, message: ProcessingRequest) -> Finished | None:
        if self._response_headers is None:
            return MALFORMED
        self._resp_trailers = header_pairs(message.response_trailers.trailers)
        return self._finish()

    def end_of_input(self) -> Finished:
        """The stream closed before the response ended."""
        return INCOMPLETE

    @property
    def phase(self) -> str:
        """Where the stream is, for logs: no request data, only the phase reached."""
        if self._request_headers is None:
            return "start"
        if self._response_headers is None:
            return "request" if not self._req_done else "awaiting_response"
        if self._resp_body is None:
            return "response_headers"
        return f"response_body {self._resp_body.seen_bytes}/{self._resp_length} bytes"

    def _workload_from_attributes(self, message: ProcessingRequest) -> None:
        # Istio-style sidecars send their node metadata as request attributes.
        if EXT_PROC_FILTER_NAME not in message.attributes:
            return
        fields = message.attributes[EXT_PROC_FILTER_NAME].fields
        if not self.namespace and ATTR_NAMESPACE in fields:
            self.namespace = fields[ATTR_NAMESPACE].string_value[:253]
        if not self.workload and ATTR_WORKLOAD in fields:
            self.workload = fields[ATTR_WORKLOAD].string_value[:253]

    def _req_body_buffer(self) -> bodies.BodyBuffer:
        if self._req_body is None:
            self._req_body = bodies.BodyBuffer(limit_bytes=self._meta.body_limit_bytes)
        return self._req_body

    def _resp_body_buffer(self) -> bodies.BodyBuffer:
        if self._resp_body is None:
            self._resp_body = bodies.BodyBuffer(limit_bytes=self._meta.body_limit_bytes)
        return self._resp_body

    # -- the exchange ---------------------------------------------------------------

    def _finish(self) -> Finished:
        assert self._request_headers is not None and self._response_headers is not None
        query_string = self.raw_path.split("?", 1)[1] if "?" in self.raw_path else ""
        req_headers, req_body, req_truncated, req_dropped = self._body(
            self._request_headers, self._req_body
        )
        # The response ended before the request did: the request body is partial.
        req_truncated = req_truncated or not self._req_done
        resp_headers, resp_body, resp_truncated, resp_dropped = self._body(
            self._response_headers, self._resp_body
        )
        request = HttpRequest(
            method=self.method,
            path=self.path,
            query=tuple(parse_qsl(query_string, keep_blank_values=True)) if query_string else (),
            authority=self.authority,
            scheme=self.scheme,
            headers=req_headers,
            body=req_body,
            body_truncated=req_truncated,
            body_dropped=req_dropped,
            trailers=self._req_trailers,
        )
        response = HttpResponse(
            status=self._status or 0,
            headers=resp_headers,
            body=resp_body,
            body_truncated=resp_truncated,
            body_dropped=resp_dropped,
            trailers=self._resp_trailers,
        )
        return Finished(
            exchange=Exchange(
                id=uuid.uuid4().hex,
                request=request,
                response=response,
                namespace=self.namespace,
                workload=self.workload,
                captured_at_s=self.captured_at_s,
            )
        )

    def _body(
        self, headers: Pairs, buffer: bodies.BodyBuffer | None
    ) -> tuple[Pairs, bytes, bool, bool]:
        """-> (headers, body, truncated, dropped) with encodings undone and binary handled."""
        if buffer is None or buffer.size == 0:
            return headers, b"", bool(buffer and buffer.truncated), False
        body = buffer.value()
        truncated = buffer.truncated
        codings = bodies.content_codings(_first(headers, "content-encoding"))
        if codings:
            headers = tuple(pair for pair in headers if pair[0] not in _ENCODING_HEADERS)
            decoded = bodies.decode_content(
                body,
                codings=codings,
                max_bytes=self._config.max_decompressed_bytes,
                input_truncated=truncated,
            )
            if decoded.failed:
                return headers, b"", truncated, True
            body, truncated = decoded.body, decoded.truncated
        content_type = (_first(headers, "content-type") or "").split(";", 1)[0].strip().lower()
        if self._config.binary_bodies == "skip" and not bodies.is_textual(content_type, body):
            return headers, b"", truncated, True
        return headers, body, truncated, False


def _add_chunk(buffer: bodies.BodyBuffer, body: HttpBody, length: int) -> bool:
    """Add one body chunk -> whether the body ended: end of stream, or its Content-Length
    reached (Envoy does not always send a separate end-of-stream message)."""
    buffer.add(body.body)
    return body.end_of_stream or body.end_of_stream_without_message or buffer.seen_bytes == length


def _content_length(pairs: Pairs) -> int:
    """A positive Content-Length, else -1 (absent, zero, invalid, or chunked)."""
    value = _first(pairs, "content-length")
    if value is None or _first(pairs, "transfer-encoding") is not None:
        return -1
    try:
        length = int(value)
    except ValueError:
        return -1
    return length if length > 0 else -1


def _first(pairs: Pairs, lname: str) -> str | None:
    for name, value in pairs:
        if name == lname:
            return value
    return None
