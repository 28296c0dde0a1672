"""One ext_proc stream -> one captured Exchange.

A ``StreamAssembler`` implements the phase hooks of :mod:`ext_proc_server.capture.phases`
for one stream: it is handed that stream's messages in the order they arrive and says,
after each one, whether the stream is finished (see
:class:`~ext_proc_server.capture.phases.Finished`). ``end_of_input()`` gives "incomplete"
when the stream closes before the response ended.

The request may still be streaming when the response starts (an upstream may
answer early), so request body chunks are accepted until the request ends;
everything else out of order is malformed. Memory per stream is bounded by the
body limit (twice: request and response) plus the headers Envoy already bounded.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from dataclasses import dataclass

from ext_proc_server.capture import bodies
from ext_proc_server.capture.answers import is_grpc, local_reply
from ext_proc_server.capture.bodies import Body, media_type
from ext_proc_server.capture.body_limits import (
    BODY_LIMIT_MAX_BYTES,
    BODY_LIMIT_MIN_BYTES,
    NO_RULES,
    BodyLimitRules,
    config_rules,
    metadata_rules,
)
from ext_proc_server.capture.exchange_ids import next_exchange_id
from ext_proc_server.capture.filters import CaptureFilter
from ext_proc_server.capture.header_fields import (
    REQUEST_FIELDS,
    RESPONSE_FIELDS,
    decoded_pairs,
    wanted_fields,
)
from ext_proc_server.capture.phases import (
    ENVOY_LOCAL_REPLY,
    GRPC_BODY,
    INCOMPLETE,
    MALFORMED,
    REPEAT,
    UPGRADE,
    Finished,
)
from ext_proc_server.capture.protos import (
    HeaderMap,
    HttpBody,
    ProcessingRequest,
    header_pairs,
)
from ext_proc_server.core.config import KIB, CollectorConfig
from ext_proc_server.core.exchange import (
    Exchange,
    HttpRequest,
    HttpResponse,
    Pairs,
    query_pairs,
    varied_of,
)
from ext_proc_server.core.hosts import ClusterHosts, cluster_fqdn_of
from ext_proc_server.core.names import (
    ATTR_CLUSTER_NAME,
    ATTR_NAMESPACE,
    ATTR_WORKLOAD,
    EXT_PROC_FILTER_NAME,
    META_BODY_LIMIT,
    META_BODY_LIMITS,
    META_NAMESPACE,
    META_WORKLOAD,
)
from ext_proc_server.mapping.accepts import ACCEPT_HEADER
from ext_proc_server.mapping.chosen_by import (
    CREDENTIAL_HEADER,
    DECODED_LENGTH_HEADER,
    PREFER_HEADER,
)
from ext_proc_server.mapping.faithful import REFUSED_QUERY, query_refused
from ext_proc_server.mapping.repeat_texts import CONTENT_LANGUAGE_HEADER, chosen_values
from ext_proc_server.mapping.repeats import RepeatIndex, ResponseFacts

# Headers describing the wire encoding; they no longer apply to a decoded body.
_ENCODING_HEADERS = frozenset({"content-encoding", "content-length"})


@dataclass(frozen=True, slots=True)
class StreamMeta:
    """Per-stream facts from the gRPC initial metadata."""

    namespace: str = ""
    workload: str = ""
    body_limit_bytes: int = 8 * KIB
    # Per host and path limits: the namespace's, then the collector's (body_limits).
    body_limits: BodyLimitRules = NO_RULES

    def limit_for(self, authority: str, path: str, *, canonical: str = "") -> int:
        """The body limit of a stream to ``authority`` (``canonical``: its canonical host,
        also tried) and ``path``."""
        found = (
            self.body_limits.limit_for(authority, path, canonical=canonical)
            if self.body_limits
            else None
        )
        return self.body_limit_bytes if found is None else found


def stream_meta(
    metadata: Iterable[tuple[str, str | bytes]], *, config: CollectorConfig
) -> StreamMeta:
    """Read namespace, workload, a body-limit override and the namespace's per host and
    path limits from gRPC metadata.

    The override may set any limit within the allowed range (1 KiB - 1 MiB); a
    value outside it is clamped and one that is not an integer is ignored.
    """
    namespace = workload = ""
    limit = config.body_limit_bytes
    rules = NO_RULES
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
        elif key == META_BODY_LIMITS:
            rules = metadata_rules(value)
    if config.body_limits:
        rules = rules + config_rules(config.body_limits)
    return StreamMeta(
        namespace=namespace, workload=workload, body_limit_bytes=limit, body_limits=rules
    )


class StreamAssembler:
    """The phase hooks of one stream (see the module docstring).

    ``hosts`` (optional): the canonical-host rules, for Envoy's destination FQDN.
    ``repeats`` (optional): the repeat fast path; a finished stream whose repeat key was
    already recorded ends as ``Finished(repeat=True)``, without building an Exchange.
    ``namespace`` and ``workload``: the metadata's, else Envoy's node attributes; a workload
    from the attributes is read only when an Exchange is built.
    """

    __slots__ = (
        "_capture_filter",
        "_config",
        "_hosts",
        "_limit_bytes",
        "_meta",
        "_node_message",
        "_repeats",
        "_req_body",
        "_req_done",
        "_req_fields",
        "_req_length",
        "_req_trailers",
        "_request_map",
        "_resp_body",
        "_resp_fields",
        "_resp_length",
        "_resp_trailers",
        "_response_map",
        "authority",
        "captured_at_s",
        "method",
        "namespace",
        "path",
        "query_string",
        "started",
        "status",
        "workload",
    )

    def __init__(
        self,
        *,
        config: CollectorConfig,
        capture_filter: CaptureFilter,
        meta: StreamMeta,
        hosts: ClusterHosts | None = None,
        repeats: RepeatIndex | None = None,
    ) -> None:
        self._config = config
        self._capture_filter = capture_filter
        self._meta = meta
        self._hosts = hosts
        self._repeats = repeats if repeats is not None and repeats.enabled else None
        self.namespace = meta.namespace
        self.workload = meta.workload
        # The request headers' message, while the workload is still to be read from it.
        self._node_message: ProcessingRequest | None = None
        # The header maps as received: decoded whole only for a new exchange.
        self._request_map: HeaderMap | None = None
        self._response_map: HeaderMap | None = None
        self._req_fields: dict[str, str] = {}
        self._resp_fields: dict[str, str] = {}
        self._req_body: bodies.BodyBuffer | None = None
        self._resp_body: bodies.BodyBuffer | None = None
        self._req_trailers: Pairs = ()
        self._resp_trailers: Pairs = ()
        self._req_done = False
        # Content-Length, when given: a body that reached it is complete without waiting
        # for an end_of_stream message (Envoy does not always send a separate one).
        self._req_length = -1
        self._resp_length = -1
        # Request headers arrived (the stream counts as one exchange seen).
        self.started = False
        self.status: int | None = None
        # Bytes kept per body, decided from the host and path (StreamMeta.limit_for).
        self._limit_bytes = meta.body_limit_bytes
        self.method = ""
        self.path = ""
        self.query_string = ""
        self.authority = ""
        self.captured_at_s = 0.0

    # -- phases (see ext_proc_server.capture.phases) ---------------------------------

    def on_request_headers(self, message: ProcessingRequest) -> Finished | None:
        if self._request_map is not None:
            return MALFORMED
        http_headers = message.request_headers
        self._request_map = header_map = http_headers.headers
        self.started = True
        fields = wanted_fields(header_map, REQUEST_FIELDS)
        self.captured_at_s = time.time()
        if fields is None:
            return MALFORMED
        self._req_fields = fields
        method = fields.get(":method", "")
        path = fields.get(":path", "")
        authority = fields.get(":authority") or fields.get("host", "")
        self.method = method.upper()
        self.path, _, self.query_string = path.partition("?")
        self.authority = authority
        if http_headers.end_of_stream:
            self._req_done = True
        else:
            self._req_length = _content_length(fields)
        if not method or not path:
            return MALFORMED
        if "upgrade" in fields or self.method == "CONNECT":
            return UPGRADE
        if not (self.path.isascii() and authority.isascii()):
            return MALFORMED
        if not self._capture_filter.captures_all:
            decision = self._capture_filter.decide(
                authority=authority, path=self.path, request_id=fields.get("x-request-id")
            )
            if not decision.capture:
                return Finished(drop_reason=decision.reason)
        if not self.namespace:
            # The canonical host (the repeat key) needs it: read now, the workload with it.
            self._node_from_attributes(message)
        elif not self.workload:
            # Only a new exchange names its workload (a repeat never reads it): the rendered
            # filter sends the namespace, the workload is each sidecar's own attribute.
            self._node_message = message
        if self._meta.body_limits is not NO_RULES:  # most streams: no rules, the default
            self._limit_bytes = self._body_limit(authority)
        return None

    def on_response_headers(self, message: ProcessingRequest) -> Finished | None:
        if self._response_map is not None:
            return MALFORMED
        http_headers = message.response_headers
        fields = wanted_fields(http_headers.headers, RESPONSE_FIELDS)
        if fields is None:
            return MALFORMED
        try:
            code = int(fields.get(":status", ""))
        except ValueError:
            return MALFORMED
        if not 100 <= code <= 599:
            return MALFORMED
        if self._request_map is None:
            # Only Envoy answers a request it never passed on (its codec refused the head).
            return ENVOY_LOCAL_REPLY
        self.status = code
        self._response_map = http_headers.headers
        self._resp_fields = fields
        if code == 101:
            return UPGRADE
        grpc = is_grpc(fields.get("content-type"))
        if (400 <= code < 500 or grpc) and local_reply(message):
            # Envoy's own 4xx or gRPC error: a stub would answer for the upstream (a gRPC
            # one for good: no success replaces it). Its 5xx is an error answer, recorded.
            return ENVOY_LOCAL_REPLY
        if self._hosts is not None:
            self._destination_from_attributes(message)
        if http_headers.end_of_stream:
            return self._finish()
        if grpc:
            # Ends in trailers, which no stub sends: decided now, held by no server stream.
            return GRPC_BODY
        if self.method != "HEAD" and code not in (204, 304):
            self._resp_length = _content_length(fields)
        return None

    def on_request_body(self, message: ProcessingRequest) -> Finished | None:
        if self._request_map is None:
            return MALFORMED
        body = message.request_body
        if self._req_done:
            # An empty end-of-stream chunk after the body reached its Content-Length.
            return MALFORMED if body.body else None
        buffer = self._req_body
        if buffer is None:
            buffer = self._req_body = bodies.BodyBuffer(limit_bytes=self._limit_bytes)
        if _add_chunk(buffer, body, self._req_length):
            self._req_done = True
        return None

    def on_request_trailers(self, message: ProcessingRequest) -> Finished | None:
        # A body done by its Content-Length may still end in trailers, not one that ended.
        ended = self._req_done and self._req_length < 0
        if self._request_map is None or self._req_trailers or ended:
            return MALFORMED
        self._req_trailers = header_pairs(message.request_trailers.trailers)
        self._req_done = True
        return None

    def on_response_body(self, message: ProcessingRequest) -> Finished | None:
        if self._response_map is None:
            return MALFORMED
        body = message.response_body
        buffer = self._resp_body
        if buffer is None:
            buffer = self._resp_body = bodies.BodyBuffer(limit_bytes=self._limit_bytes)
        # Past the body limit nothing more is kept: decided now, not held (endless SSE).
        if _add_chunk(buffer, body, self._resp_length) or buffer.truncated:
            return self._finish()
        return None

    def on_response_trailers(self, message: ProcessingRequest) -> Finished | None:
        if self._response_map is None:
            return MALFORMED
        self._resp_trailers = header_pairs(message.response_trailers.trailers)
        return self._finish()

    def end_of_input(self) -> Finished:
        """The stream closed before the response ended."""
        return INCOMPLETE

    def grpc_call(self) -> bool:
        """Whether the request is a gRPC call (its content type), so its answer can only
        be recorded when it comes in headers alone."""
        return is_grpc(self._req_fields.get("content-type"))

    @property
    def phase(self) -> str:
        """Where the stream is, for logs: no request data, only the phase reached."""
        if self._request_map is None:
            return "start"
        if self._response_map is None:
            return "request" if not self._req_done else "awaiting_response"
        if self._resp_body is None:
            return "response_headers"
        return f"response_body {self._resp_body.seen_bytes}/{self._resp_length} bytes"

    def _node_from_attributes(self, message: ProcessingRequest) -> None:
        # Istio-style sidecars send their node metadata as request attributes.
        if EXT_PROC_FILTER_NAME not in message.attributes:
            return
        fields = message.attributes[EXT_PROC_FILTER_NAME].fields
        if not self.namespace and ATTR_NAMESPACE in fields:
            self.namespace = fields[ATTR_NAMESPACE].string_value[:253]
        if not self.workload and ATTR_WORKLOAD in fields:
            self.workload = fields[ATTR_WORKLOAD].string_value[:253]

    def _destination_from_attributes(self, message: ProcessingRequest) -> None:
        # An Istio outbound cluster names the destination Service's FQDN; it is sent with
        # the response headers (the route is chosen after the request headers went out).
        # ``in`` then ``[]``: cheaper than .get on these protobuf maps (measured).
        attributes = message.attributes
        if self._hosts is None or EXT_PROC_FILTER_NAME not in attributes:
            return
        fields = attributes[EXT_PROC_FILTER_NAME].fields
        if ATTR_CLUSTER_NAME in fields:
            fqdn = cluster_fqdn_of(fields[ATTR_CLUSTER_NAME].string_value)
            if fqdn:
                self.authority = self._hosts.prefer_cluster_fqdn(self.authority, fqdn)

    def _body_limit(self, authority: str) -> int:
        """This stream's body limit: a rule naming the host as sent or as its canonical
        name (``api`` seen from ``shop`` is ``api.shop.svc.cluster.local``), else the
        stream's default."""
        meta = self._meta
        if not meta.body_limits:
            return meta.body_limit_bytes
        hosts = self._hosts
        canonical = hosts.canonical(authority, namespace=self.namespace) if hosts else ""
        return meta.limit_for(authority, self.path, canonical=canonical)

    # -- the exchange ---------------------------------------------------------------

    def _finish(self) -> Finished:
        assert self._request_map is not None and self._response_map is not None
        req_body = self._body(self._req_fields, self._req_body, request=True)
        # The response ended before the request did: the request body is partial.
        req_truncated = req_body.truncated or not self._req_done
        resp_body = self._body(self._resp_fields, self._resp_body)
        repeats = self._repeats
        key = None
        if repeats is not None:
            fields = self._req_fields
            flags, status = resp_body.truncated | (bool(resp_body.dropped) << 1), self.status or 0
            content_type = media_type(self._resp_fields.get("content-type"))
            key = repeats.key(
                method=self.method,
                host=repeats.destination(self.authority, namespace=self.namespace),
                path=self.path,
                # As sent: a repeat's query is not split (the head is kept by it).
                query=self.query_string,
                body=req_body.body,
                # What became of the request body, as RepeatIndex.key_of counts it.
                body_state="dropped" if req_body.dropped else "truncated" if req_truncated else "",
                response=ResponseFacts(status, content_type, resp_body.body, flags),
                varied=varied_of(self._resp_fields, self._request_pairs, status, self.method),
                credentials=CREDENTIAL_HEADER in fields,
                prefer=fields.get(PREFER_HEADER),
                content_type=fields.get("content-type", ""),
                accept=fields.get(ACCEPT_HEADER, ""),
                chosen=chosen_values(fields, self._resp_fields.get(CONTENT_LANGUAGE_HEADER)),
            )
            if repeats.recorded(key) is not None:
                return REPEAT
        query = query_pairs(self.query_string) if self.query_string else ()
        exchange = self._exchange(req_body, req_truncated, resp_body, query)
        return Finished(exchange=exchange, repeat_key=key)

    def _request_pairs(self) -> Pairs:
        """The request's headers as its exchange holds them."""
        return decoded_pairs(self._request_map) if self._request_map is not None else ()

    def _exchange(
        self, req_body: Body, req_truncated: bool, resp_body: Body, query: Pairs
    ) -> Exchange:
        """The new exchange."""
        assert self._request_map is not None and self._response_map is not None
        request_headers = decoded_pairs(self._request_map)
        if self.query_string and query_refused(self.query_string):
            # Marked while the query is as sent: decoded, "50%" reads as "50%25" does.
            request_headers = (REFUSED_QUERY, *request_headers)
        response_headers = decoded_pairs(self._response_map)
        if self._node_message is not None:
            self._node_from_attributes(self._node_message)
            self._node_message = None
        response = HttpResponse(
            status=self.status or 0,
            headers=_without_encoding(response_headers, resp_body),
            body=resp_body.body,
            body_truncated=resp_body.truncated,
            body_dropped=bool(resp_body.dropped),
            body_drop_reason=resp_body.dropped,
            trailers=self._resp_trailers,
        )
        request = HttpRequest(
            method=self.method,
            path=self.path,
            query=query,
            authority=self.authority,
            scheme=self._req_fields.get(":scheme", "http"),
            headers=_without_encoding(request_headers, req_body),
            body=req_body.body,
            body_truncated=req_truncated,
            body_dropped=bool(req_body.dropped),
            body_drop_reason=req_body.dropped,
            trailers=self._req_trailers,
        )
        return Exchange(
            id=next_exchange_id(),
            request=request,
            response=response,
            namespace=self.namespace,
            workload=self.workload,
            captured_at_s=self.captured_at_s,
        )

    def _body(
        self, fields: dict[str, str], buffer: bodies.BodyBuffer | None, *, request: bool = False
    ) -> Body:
        """A body with its encodings undone and binary handled."""
        if buffer is None or buffer.size == 0:
            return Body(b"", bool(buffer and buffer.truncated), "", False)
        body = buffer.value()
        truncated = buffer.truncated
        encoding = fields.get("content-encoding")
        if not encoding and self._config.binary_bodies != "skip":
            return Body(body, truncated, "", False)  # most bodies: nothing to undo or test
        codings = bodies.content_codings(encoding) if encoding else []
        if request and codings and not bodies.matchable_request_codings(codings):
            return Body(b"", truncated, bodies.UNDECODABLE, True)
        if codings:
            decoded = bodies.decode_content(
                body,
                codings=codings,
                max_bytes=self._config.max_decompressed_bytes,
                input_truncated=truncated,
                aws_decoded_length=fields.get(DECODED_LENGTH_HEADER),
            )
            if decoded.dropped:
                return Body(b"", truncated, decoded.dropped, True)
            body, truncated = decoded.body, decoded.truncated
        if self._config.binary_bodies == "skip" and not bodies.is_textual(
            media_type(fields.get("content-type")), body
        ):
            return Body(b"", truncated, "binary_skipped", bool(codings))
        return Body(body, truncated, "", bool(codings))


def _without_encoding(headers: Pairs, body: Body) -> Pairs:
    if not body.decoded:
        return headers
    return tuple(pair for pair in headers if pair[0] not in _ENCODING_HEADERS)


def _add_chunk(buffer: bodies.BodyBuffer, body: HttpBody, length: int) -> bool:
    """Add one body chunk -> whether the body ended: end of stream, or its Content-Length
    reached (Envoy does not always send a separate end-of-stream message)."""
    buffer.add(body.body)
    # The length first: a Python compare, where each flag is a protobuf field read.
    return buffer.seen_bytes == length or body.end_of_stream or body.end_of_stream_without_message


def _content_length(fields: dict[str, str]) -> int:
    """A positive Content-Length, else -1 (absent, zero, invalid, or chunked)."""
    value = fields.get("content-length")
    if value is None or "transfer-encoding" in fields:
        return -1
    try:
        length = int(value)
    except ValueError:
        return -1
    return length if length > 0 else -1
