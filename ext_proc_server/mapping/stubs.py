"""One sanitized exchange -> one WireMock 3 stub mapping.

The request pattern matches what a canary will send, not the bytes the capture
saw: noise and sanitized values (see :mod:`ext_proc_server.mapping.noise`) become
tolerant matchers, stable values stay exact. Every matcher used here was
checked against a live WireMock 3.13.2 (tests/integration/test_mapping_wiremock.py).

Overlapping stubs: query parameters, form fields and JSON bodies
(``ignoreExtraElements``) all accept extra values, so ``/search?q=x`` also
matches ``/search?q=x&page=2``. Each stub's ``priority`` therefore follows its
specificity (more exact constraints = a lower number = tried first), so a
request always gets the response recorded for itself when one exists
(:mod:`ext_proc_server.mapping.priority`).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import threading
import uuid
from collections import OrderedDict
from typing import Any

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange, HttpResponse
from ext_proc_server.core.metrics import COLLECTOR_DROPPED, COLLECTOR_STUBS_SKIPPED
from ext_proc_server.mapping.dedup import request_key_hash, response_digest
from ext_proc_server.mapping.digests import is_digest, keeps_recorded_digests, served_digest
from ext_proc_server.mapping.echoed_headers import served_echoing
from ext_proc_server.mapping.faithful import skip_reason
from ext_proc_server.mapping.matchers import request_pattern, unmatchable_reason
from ext_proc_server.mapping.message_digests import with_message_digests
from ext_proc_server.mapping.moments import answered_at_s, retry_delay, with_lifetime
from ext_proc_server.mapping.moments_from_now import served_from_now
from ext_proc_server.mapping.noise import NoiseNormalizer, NormalizedRequest
from ext_proc_server.mapping.priority import PRIORITY_SCALE, SCALE_KEY, stub_priority
from ext_proc_server.mapping.sent_messages import (
    answering_sends,
    computes_digests,
    exact_repeats,
    exact_repeats_hash,
)
from ext_proc_server.mapping.shapes import response_shape_digest
from ext_proc_server.mapping.stub_format import FORMAT_KEY, STUB_FORMAT
from ext_proc_server.mapping.whole_parts import CONTENT_RANGE_HEADER, is_whole_part, whole_range
from ext_proc_server.sanitize import media
from ext_proc_server.sanitize.charsets import UTF8, charset_for, declared_label

# uuid5 namespace of mapping ids: the same dedup hash always gives the same id.
MAPPING_NAMESPACE = uuid.UUID("6d6f636b-6164-6f00-6d61-7070696e6773")
_NAMESPACE_BYTES = MAPPING_NAMESPACE.bytes
TRUNCATED_HEADER = "x-mockado-truncated"
# Distinct responses replayed per request key in stateful mode.
MAX_SCENARIO_STATES = 32

_HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "proxy-connection",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
# One hop's request id, trace context and client identity, as an app or proxy may echo
# them: a replay is another request, with its own.
_PER_REQUEST = frozenset(
    {"x-request-id", "traceparent", "tracestate", "b3", "x-b3-traceid", "x-b3-spanid",
     "x-b3-parentspanid", "x-b3-sampled", "x-b3-flags", "baggage", "x-forwarded-client-cert"}
)  # fmt: skip
# Bodies are stored decoded and WireMock computes its own length and date.
_DROPPED_RESPONSE_HEADERS = (
    _HOP_BY_HOP | _PER_REQUEST | {"content-length", "content-encoding", "date"}
)
# A HEAD answer has no body: its Content-Length is the GET body's, which WireMock sends as
# given (without it WireMock answers chunked, with no length). Not for a 204, which has no
# body to describe (Jetty answers a 204 stub with a length with a 500), nor for a length of
# the body compressed: no stub matches Accept-Encoding, and a GET gets it decoded. Nor for
# a body the sanitizer may rewrite (``_LENGTH_STABLE_KINDS``): the GET's stub may serve
# another length than the upstream's.
_HEAD_KEPT = frozenset({"content-length"})
# Media kinds whose body a GET's stub serves byte for byte or not at all: binary the
# sanitizer keeps only unchanged (fonts, protobuf, gRPC, wasm...) and formats it never
# keeps (archives, PDF, audio, video). Text, images (their metadata is stripped) and types
# that say nothing of the bytes (application/octet-stream, often an image; none) are not.
_LENGTH_STABLE_KINDS = frozenset({media.BINARY, media.STRUCTURED})
_ANY_BYTES = frozenset({"application/octet-stream"})
# A stub with this header is served as it is, never compressed by WireMock's Jetty.
IDENTITY_CODING = ("content-encoding", "identity")


# Response header names recur on every call: each is looked at once (bounded, as names
# come from upstreams).
HEADER_NAME_CACHE_SIZE = 1024
# Ids asked for again soon after (the pipeline names the stub, then records its repeats).
MAPPING_ID_CACHE_SIZE = 4096


@functools.lru_cache(maxsize=MAPPING_ID_CACHE_SIZE)
def mapping_id(dedup_hash: str) -> str:
    """``str(uuid.uuid5(MAPPING_NAMESPACE, dedup_hash))``, without building a UUID object
    (3x cheaper): the first 16 bytes of the SHA-1, with version 5 and the RFC 4122 variant."""
    name = _NAMESPACE_BYTES + dedup_hash.encode()
    digest = bytearray(hashlib.sha1(name, usedforsecurity=False).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50
    digest[8] = (digest[8] & 0x3F) | 0x80
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


class ScenarioTracker:
    """Stateful mode: the order in which each request key saw distinct responses.

    In-process and bounded (least recently used keys are forgotten). Several
    collector replicas each keep their own order, so stateful mode is meant
    for one replica."""

    def __init__(self, *, max_keys: int = 10_000, max_states: int = MAX_SCENARIO_STATES) -> None:
        self._max_keys = max(1, max_keys)
        self._max_states = max_states
        self._keys: OrderedDict[str, dict[str, int]] = OrderedDict()
        self._lock = threading.Lock()

    def position(self, request_hash: str, digest: str) -> int | None:
        """1-based position of this response for the key; None past max_states."""
        with self._lock:
            seen = self._keys.get(request_hash)
            if seen is None:
                seen = self._keys[request_hash] = {}
                if len(self._keys) > self._max_keys:
                    self._keys.popitem(last=False)
            else:
                self._keys.move_to_end(request_hash)
            position = seen.get(digest)
            if position is None:
                if len(seen) >= self._max_states:
                    return None
                position = seen[digest] = len(seen) + 1
            return position


_default_tracker: ScenarioTracker | None = None
_default_tracker_lock = threading.Lock()


def default_scenario_tracker(config: CollectorConfig) -> ScenarioTracker:
    global _default_tracker
    with _default_tracker_lock:
        if _default_tracker is None:
            _default_tracker = ScenarioTracker(max_keys=max(1, config.dedup_cache_size))
        return _default_tracker


def scenario_state(position: int) -> str:
    return "Started" if position == 1 else f"state-{position}"


def build_mapping(
    exchange: Exchange,
    *,
    dedup_hash: str,
    config: CollectorConfig,
    normalizer: NoiseNormalizer,
    scenarios: ScenarioTracker | None = None,
    normalized: NormalizedRequest | None = None,
    shape: str = "",
    faithful_under: bool | None = None,
) -> dict[str, Any] | None:
    """The WireMock stub for a sanitized exchange, or None (counted) when it is past the
    stateful scenario limit or no matcher tells its request from others
    (``matchers.unmatchable_reason``). Raises ValueError for an unsanitized exchange, one
    without a response, or one the rule gives no stub (``faithful.skip_reason``: the
    caller checks and counts that first). ``normalized``: the exchange's request as
    ``normalizer.normalize_request`` returns it, and ``shape`` the response's shape
    digest (``DedupKeys.shape``), when the caller already has them; ``faithful_under``
    as :func:`_reason_unasked` reads it."""
    if not exchange.sanitized:
        raise ValueError("mapping: exchange is not sanitized; raw data never becomes a mapping")
    response = exchange.response
    if response is None:
        raise ValueError("mapping: exchange has no response")
    reason = _reason_unasked(exchange, config, faithful_under)
    if reason:
        raise ValueError(f"mapping: the stub would not replay the recording ({reason})")

    if normalized is None:
        normalized = normalizer.normalize_request(exchange)
    unmatchable = unmatchable_reason(normalized)
    if unmatchable:
        COLLECTOR_STUBS_SKIPPED.labels(reason=unmatchable).inc()
        return None
    request, specificity = request_pattern(normalized)
    later_state = False
    mapping: dict[str, Any] = {"id": mapping_id(dedup_hash)}
    mapping["uuid"] = mapping["id"]

    if config.stateful_scenarios:
        tracker = scenarios or default_scenario_tracker(config)
        scenario = _scenario(
            normalized, response, config=config, normalizer=normalizer, tracker=tracker
        )
        if scenario is None:
            COLLECTOR_DROPPED.labels(reason="scenario_limit").inc()
            return None
        mapping.update(scenario)
        # A later response wins over the first one in its state.
        later_state = "requiredScenarioState" in scenario

    mapping["priority"] = stub_priority(specificity, later_state=later_state)
    # An SQS send's MD5s: computed at serve time, or its message pinned (mapping.sent_messages).
    mapping["request"], mapping["response"] = answering_sends(
        request, _served_response(exchange, response), exchange
    )
    if not shape:
        shape = response_shape_digest(response, noise=normalizer.noise_fields(normalized.path))
    mapping["metadata"] = {"mockado": _metadata(exchange, dedup_hash, normalized, shape)}
    return mapping


def _reason_unasked(
    exchange: Exchange, config: CollectorConfig, faithful_under: bool | None
) -> str:
    """``skip_reason`` under ``config``'s setting, unless the caller found none under that
    setting (``faithful_under``: the ``mark_truncated`` it asked under; None: not asked)."""
    mark_truncated = config.truncated_responses == "mark"
    if faithful_under is mark_truncated:
        return ""
    return skip_reason(exchange, mark_truncated=mark_truncated)


def exact_repeats_mapping(
    exchange: Exchange,
    mapping: dict[str, Any],
    *,
    stub_hash: str,
    normalizer: NoiseNormalizer,
    normalized: NormalizedRequest | None = None,
) -> dict[str, Any] | None:
    """Beside ``mapping`` (:func:`build_mapping`'s, named by ``stub_hash``) when it computes
    an SQS send's MD5s: the stub answering that message's exact repeats with the recorded
    MD5s, where the launcher does not serve (``sent_messages.exact_repeats``); None for any
    other stub, a scenario's, or a send whose message was sanitized."""
    response = exchange.response
    if response is None or "scenarioName" in mapping or not computes_digests(mapping):
        return None
    if normalized is None:
        normalized = normalizer.normalize_request(exchange)
    request, _specificity = request_pattern(normalized)
    held = exact_repeats(request, _served_response(exchange, response), exchange)
    if held is None:
        return None
    twin_hash = exact_repeats_hash(stub_hash)
    twin: dict[str, Any] = {"id": mapping_id(twin_hash)}
    twin["uuid"] = twin["id"]
    # Tried after the stub computing the MD5s: where the launcher serves, that one answers.
    twin["priority"] = mapping["priority"] + 1
    twin["request"], twin["response"] = held
    twin["metadata"] = {"mockado": {**mapping["metadata"]["mockado"], "hash": twin_hash}}
    return twin


def exact_repeats_id(mapping: dict[str, Any]) -> str | None:
    """The id of the stub beside ``mapping`` answering its exact repeats
    (:func:`exact_repeats_mapping`) when ``mapping`` computes an SQS send's MD5s, else
    None. Named from the first stub alone: whether it was written (not for a send whose
    message was sanitized) is for the shard's record to say."""
    if not computes_digests(mapping):
        return None
    metadata = mapping.get("metadata")
    mockado = metadata.get("mockado") if isinstance(metadata, dict) else None
    stub_hash = mockado.get("hash") if isinstance(mockado, dict) else None
    if not isinstance(stub_hash, str) or not stub_hash:
        return None
    return mapping_id(exact_repeats_hash(stub_hash))


def _served_response(exchange: Exchange, response: HttpResponse) -> dict[str, Any]:
    """The stub's ``response``, with the request ids it echoes as the replayed request's."""
    definition = response_definition(
        with_message_digests(response),
        head=exchange.request.method == "HEAD",
        captured_at_s=exchange.captured_at_s,
    )
    return served_echoing(definition, exchange.request, response)


def _metadata(
    exchange: Exchange, dedup_hash: str, normalized: NormalizedRequest, shape: str
) -> dict[str, Any]:
    return {
        "namespace": exchange.namespace,
        "workload": exchange.workload,
        "captured_at_s": exchange.captured_at_s,
        "hash": dedup_hash,
        "truncated": exchange.truncated,
        "host": normalized.host,
        "path_template": path_template(normalized),
        "shape": shape,
        SCALE_KEY: PRIORITY_SCALE,
        FORMAT_KEY: STUB_FORMAT,
        # The stub's lifecycle; the loader carries them over when the stub is replaced
        # and refreshes last_seen from repeats (docs/staleness.md).
        "first_seen": exchange.captured_at_s,
        "last_seen": exchange.captured_at_s,
        "capture_count": 1,
    }


def path_template(normalized: NormalizedRequest) -> str:
    """The path with every dynamic segment (id, UUID, sanitized value) as ``{id}``."""
    return "/" + "/".join(
        [s if isinstance(s, str) and not s.isdigit() else "{id}" for s in normalized.segments]
    )


def _scenario(
    normalized: NormalizedRequest,
    response: HttpResponse,
    *,
    config: CollectorConfig,
    normalizer: NoiseNormalizer,
    tracker: ScenarioTracker,
) -> dict[str, Any] | None:
    """The scenario fields of a stateful stub, or None past ``MAX_SCENARIO_STATES``."""
    key = request_key_hash(normalized, body_limit_bytes=config.dedup_body_limit)
    digest = response_digest(response, normalizer=normalizer, path=normalized.path)
    position = tracker.position(key, digest)
    if position is None:
        return None
    stub_id = mapping_id(f"{key}:{digest}")
    fields: dict[str, Any] = {"id": stub_id, "uuid": stub_id, "scenarioName": key}
    # The first response matches in any state and sends the scenario on; later ones
    # need their state and win on priority, so replay is 1, 2, ..., N, then 1 again
    # (never a miss after the last one).
    if position > 1:
        fields["requiredScenarioState"] = scenario_state(position)
    fields["newScenarioState"] = scenario_state(position + 1)
    return fields


# -- response -----------------------------------------------------------------


def response_definition(
    response: HttpResponse, *, head: bool = False, captured_at_s: float = 0.0
) -> dict[str, Any]:
    """The stub's ``response``: status, kept headers and body. ``head``: it answers a HEAD
    request (its length and digests are kept where the GET's stub serves that body, see
    ``_HEAD_KEPT``). ``captured_at_s``: when it was captured, to serve the moments its
    headers name as durations when it has no ``Date`` (``mapping.moments``)."""
    # Each kept header under the name it first came with: its value, or its values in order.
    headers: dict[str, str | list[str]] = {}
    first_names: dict[str, str] = {}
    digests = _digests_served(response, head=head)
    digested = False
    length_kept = head and _head_length_kept(response)
    # A HEAD's digests describe the upstream's body, as its length does: kept only with it.
    digests_unclaimed = head and not length_kept
    for name, value in response.headers:
        lower = _kept_header(name)
        if lower is None and not (length_kept and name.lower() in _HEAD_KEPT):
            continue
        lower = lower or name.lower()
        if digests and is_digest(lower):
            value = served_digest(lower, value, response.body) or value
            digested = True
        elif digests_unclaimed and is_digest(lower):
            continue
        else:
            value = _served_value(lower, value, response, captured_at_s=captured_at_s)
        value = _wire_value(value)
        first = first_names.get(lower)
        if first is not None and lower == "content-length":
            continue  # one length (an upstream may repeat it)
        if first is None:
            first_names[lower] = name
            headers[name] = value
        else:
            known = headers[first]
            if type(known) is list:
                known.append(value)
            else:
                headers[first] = [known, value]
    if response.body_truncated:
        headers[TRUNCATED_HEADER] = "true"
    length = _served_length(response, head=head, grpc="grpc-status" in first_names)
    if length is not None:
        headers["content-length"] = length
    if digested and response.body:
        # WireMock gzips a body for a client that accepts it, and a client that hashes the
        # bytes as they come (the Cloud Storage one) would hash others than the digest's.
        headers[IDENTITY_CODING[0]] = IDENTITY_CODING[1]
    out: dict[str, Any] = {"status": response.status}
    if headers:
        out["headers"] = headers
    if response.body:
        out.update(response_body(response))
    # An expiry moment in the body or a rate limit's reset: served from the replay's now.
    return served_from_now(out, date=response.header("date"), captured_at_s=captured_at_s)


def _digests_served(response: HttpResponse, *, head: bool) -> bool:
    """Whether the stub's digests are computed over its body (``mapping.digests``)."""
    whole = is_whole_part(response)
    return not keeps_recorded_digests(
        response.status, head=head, empty=not response.body, whole=whole
    )


def _served_value(lower: str, value: str, response: HttpResponse, *, captured_at_s: float) -> str:
    """A header's value as its stub serves it: a cookie's lifetime and a Retry-After from
    the replay's now, a whole part's range for the served body (``mapping.whole_parts``)."""
    if lower == "set-cookie":
        return with_lifetime(value, answered_at_s(response.header("date"), captured_at_s))
    if lower == "retry-after":
        return retry_delay(value, answered_at_s(response.header("date"), captured_at_s))
    if lower == CONTENT_RANGE_HEADER and is_whole_part(response):
        return whole_range(response.body, value)
    return value


def _served_length(response: HttpResponse, *, head: bool, grpc: bool) -> str | None:
    """The Content-Length a stub states (WireMock otherwise answers chunked): the served
    body's own, where the upstream sized its answer (boto3 reads S3's ContentLength from
    it); 0 for a gRPC answer in headers alone, which a gRPC client otherwise reads as the
    start of a stream that ends without a status."""
    if head:
        return None
    if grpc and not response.body:
        return "0"
    if response.body and response.header("content-length") is not None:
        return str(len(response.body))
    return None


def _head_length_kept(response: HttpResponse) -> bool:
    """Whether a HEAD answer keeps its Content-Length (``_HEAD_KEPT``)."""
    if response.status == 204:
        return False
    coding = response.header("content-encoding")
    if not (coding is None or coding.strip().lower() in ("", "identity")):
        return False
    media_type = response.content_type
    return media_type not in _ANY_BYTES and media.media_kind(media_type) in _LENGTH_STABLE_KINDS


def _wire_value(value: str) -> str:
    """A header value as WireMock must be given it to send the recorded bytes: it writes
    each character as one ISO-8859-1 byte (one past U+00FF as a space), and the capture
    read the bytes as UTF-8."""
    return value if value.isascii() else value.encode("utf-8").decode("latin-1")


@functools.lru_cache(maxsize=HEADER_NAME_CACHE_SIZE)
def _kept_header(name: str) -> str | None:
    """A response header's lower-cased name, or None when the stub leaves it out."""
    lower = name.lower()
    if lower in _DROPPED_RESPONSE_HEADERS or lower.startswith((":", "x-envoy-")):
        return None
    return lower


def response_body(response: HttpResponse) -> dict[str, Any]:
    """The body as WireMock serves it byte for byte: ``body`` (WireMock writes it as
    UTF-8) for UTF-8 text that is ASCII or declares no other charset, else
    ``base64Body``: binary, and text in its own charset (ISO-8859-1, windows-1252...)
    already written back in it by the sanitizer. Never ``jsonBody``: WireMock
    re-serializes it, which changes spacing, number forms and escapes."""
    body = response.body
    if body.isascii() or _declares_utf8(response):
        try:
            return {"body": body.decode("utf-8")}
        except UnicodeDecodeError:
            pass
    return {"base64Body": base64.b64encode(body).decode("ascii")}


def _declares_utf8(response: HttpResponse) -> bool:
    """UTF-8 declared, or nothing declared (UTF-8 is then how the body was read)."""
    header = response.header("content-type") or ""
    label = declared_label(response.body, header, response.content_type)
    return label is None or charset_for(label) is UTF8
