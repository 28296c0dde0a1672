"""Every metric mockado exports, with the names the seed and the issues give.

Labels carry only bounded values (an HTTP method from a fixed set, a status
class, a reason or type name from the enums below): never raw request data.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from prometheus_client import Counter, Gauge, Histogram

from ext_proc_server.core.exchange import BODY_DROP_REASONS

# Methods outside this set are reported as "OTHER", so a client cannot grow the label set.
KNOWN_METHODS = frozenset(
    {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"}
)

# collector_dropped_total{reason}: the only reasons that exist.
DROP_REASONS = (
    "buffer_full",  # the in-memory buffer between streams and Redis was full
    "redis_error",  # Redis refused or was unreachable after the buffer filled
    "shutdown",  # accepted, but Redis had not taken it when the stop's drain bound ran out
    "malformed",  # out-of-order or malformed ext_proc messages
    "incomplete",  # the stream ended before the response (client went away)
    "not_sampled",  # sample_rate said no
    "filtered",  # include/exclude host or path filters
    "sanitize_error",  # the sanitizer raised: dropped, never passed through raw
    "unsanitizable",  # a body that could not be sanitized with certainty
    "scenario_limit",  # stateful_scenarios: a request saw more distinct responses than replayed
    "upgrade",  # websocket or other protocol upgrade
    "grpc_body",  # a gRPC answer with messages: it ends in trailers, which no stub can send
    "grpc_answer_late",  # a gRPC call unanswered after collector.grpc_answer_wait_s
    "answer_late",  # an HTTP answer not begun collector.answer_wait_s after its request
    "answer_body_late",  # an answer's body not ended collector.answer_wait_s after its headers
    "envoy_local_reply",  # a 4xx Envoy answered itself (its codec refused the request, no route)
    "caller_namespace",  # the stream claimed a namespace other than its caller's mesh identity's
    "caller_unidentified",  # caller_identity.required, and the stream came with no identity
    "internal_error",  # a bug: counted, never crashes the stream
    "stream_limit",  # refused: collector.max_concurrent_streams streams already in progress
)

# collector_stubs_skipped_total{reason}: why an exchange got no stub (a stub is written only
# when it replays the recording faithfully, see docs/mappings.md). The part whose body was
# cut at the body limit or not kept, then how: "truncated" or one of BODY_DROP_REASONS. Or
# a request no WireMock matcher tells apart from others (see REQUEST_UNMATCHABLE).
REQUEST_UNMATCHABLE = (
    "request_path_refused",  # Jetty answers 400: dot-segments above "/", %00, a bad %-escape
    "request_query_repeats",  # a query value repeated: hasExactly does not count repeats
    "request_form_repeats",  # the same in a form body
    # A query name or value not UTF-8 (both sides read U+FFFD), or a "%" not followed by two
    # hex digits (Jetty answers 500 before any stub is looked at).
    "request_query_undecodable",
    "request_form_undecodable",  # the same in a form body
    "request_body_unmatchable",  # redacted at unknown places, or multipart without its boundary
    "request_body_signed_chunks",  # a binary aws-chunked upload signed chunk by chunk
)
STUB_SKIP_REASONS = (
    *(
        f"{part}_{cause}"
        for part in ("request", "response")
        for cause in ("truncated", *BODY_DROP_REASONS)
    ),
    *REQUEST_UNMATCHABLE,
    "response_trailers",  # the response ended in trailers, which no stub can send
    "response_credentials_refused",  # a 401 or 407 to a request that carried credentials
    "response_digest_uncomputable",  # a digest of the body that cannot match the served body
    "response_range_sanitized",  # a 206 part with sanitized values: its Content-Range is off
    "request_message_sanitized",  # an SQS send sanitized, its MD5s not computed at serve time
    "request_header_undecodable",  # a header value that is not UTF-8: not kept, not matched
    "response_header_undecodable",  # the same in the response: the stub would not send it
)

SANITIZE_TYPES = (
    "jwt",
    "api_key",
    "password",
    "card",
    "cpf",
    "cnpj",
    "phone",
    "email",
    "cookie",
    "name",
    "birth_date",
    "address",
    "cep",
    "rg",
    "geo",
    "ip",
    "plate",
    "bank_account",
    "sensitive",
    "custom",
)

_LATENCY_BUCKETS_S = (
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
)


class TalliedHistogram(Histogram):
    """A Histogram that also takes observations counted elsewhere, a batch at a time.

    ``observe`` takes a lock and walks the buckets on every call; a hot path that counts
    its own observations per bucket (``upper_bounds``: each bucket's inclusive upper
    bound, the last one +Inf, as ``observe`` compares) adds them here in one call."""

    @property
    def upper_bounds(self) -> tuple[float, ...]:
        return tuple(self._upper_bounds)

    def fold(self, bucket_counts: Sequence[int], sum_s: float) -> None:
        """Add observations: ``bucket_counts[i]`` of them in bucket i, ``sum_s`` their sum."""
        self._raise_if_not_observable()
        if len(bucket_counts) != len(self._buckets):
            raise ValueError("bucket_counts: one count per bucket")
        self._sum.inc(sum_s)
        for value, count in zip(self._buckets, bucket_counts, strict=True):
            if count:
                value.inc(count)


# -- collector -------------------------------------------------------------------

COLLECTOR_REQUESTS = Counter(
    "collector_requests",
    "Exchanges seen by the ext_proc server, by request method and response status class.",
    ["method", "status"],
)
# Tallied per stream by the servicer (capture.stream_metrics), folded in batches.
COLLECTOR_REQUEST_DURATION = TalliedHistogram(
    "collector_requests_duration_seconds",
    "Wall time of one ext_proc stream, first message to close.",
    buckets=_LATENCY_BUCKETS_S,
)
COLLECTOR_SANITIZATION = Counter(
    "collector_sanitization_operations",
    "Values replaced by the sanitizer, by class.",
    ["type"],
)
COLLECTOR_DEDUPLICATION = Counter(
    "collector_deduplication_operations",
    "Dedup decisions: duplicate or unique.",
    ["result"],
)
COLLECTOR_REPEATS = Counter(
    "collector_repeats",
    "Exchanges recognized as repeats of a recorded request before sanitizing (the fast "
    "path; each also counts as a duplicate), by where the record was found: local (this "
    "process) or redis (another replica).",
    ["level"],
)
COLLECTOR_QUEUE_SIZE = Gauge(
    "collector_queue_size",
    "Exchanges waiting in the in-memory buffer for the pipeline.",
    # With `ext-proc --workers N`: the sum over live worker processes.
    multiprocess_mode="livesum",
)
COLLECTOR_DROPPED = Counter(
    "collector_dropped",
    "Captures dropped, by reason. Proxied traffic is never affected.",
    ["reason"],
)
COLLECTOR_BODIES_DROPPED = Counter(
    "collector_bodies_dropped",
    "Bodies removed from a capture that is kept: unsanitizable (binary, still compressed) "
    "or sanitize_error (the sanitizer failed on it). Never stored raw.",
    ["reason"],
)
COLLECTOR_STUBS_SKIPPED = Counter(
    "collector_stubs_skipped",
    "Exchanges that got no stub because it could not replay the recording faithfully, by "
    "reason (see STUB_SKIP_REASONS). Per host: the skip record in Redis.",
    ["reason"],
)
# collector_moments_as_recorded_total{reason}: stubs serving an expiry moment as recorded
# where it would be served from the replay's now (docs/mappings.md).
MOMENTS_AS_RECORDED_REASONS = (
    "response_digest_required",  # a digest of the body clients check: it names one body
)
COLLECTOR_MOMENTS_AS_RECORDED = Counter(
    "collector_moments_as_recorded",
    "Stubs whose body names an expiry a client acts on (credentials, a token), served as "
    "recorded rather than from the replay's now, by reason (see MOMENTS_AS_RECORDED_REASONS): "
    "replayed after it, the client gets them expired.",
    ["reason"],
)
COLLECTOR_TRUNCATED = Counter(
    "collector_truncated",
    "Exchanges whose request or response body passed the body limit.",
)
COLLECTOR_ENQUEUED = Counter(
    "collector_enqueued",
    "Mappings written to the Redis queue.",
)
# collector_redis_errors_total{error}: the only causes that exist.
REDIS_ERROR_KINDS = (
    "oom",  # Redis is full: maxmemory reached with the noeviction policy
    "unavailable",  # connection refused or lost, timeout
    "other",  # any other error reply
)
COLLECTOR_REDIS_ERRORS = Counter(
    "collector_redis_errors",
    "Failed Redis writes of the capture pipeline (each attempt; the batch is retried), by cause.",
    ["error"],
)
# collector_ready{check}: the checks behind the probe port's /readyz, each 1 or 0.
READY_CHECKS = (
    "redis",  # Redis answers a PING
    "workers",  # with --workers N: every worker process listens on the gRPC port
    "checks",  # the checks themselves raised or took longer than the probe's bound
)
COLLECTOR_READY = Gauge(
    "collector_ready",
    "1 while a readiness check of this collector passes, 0 while it fails, by check "
    "(see READY_CHECKS): set on each /readyz and each scrape.",
    ["check"],
    # With `ext-proc --workers N` only the process serving the probe port sets it.
    multiprocess_mode="livemax",
)
COLLECTOR_SANITIZE_BYTES = Counter(
    "collector_sanitized_bytes",
    "Body bytes scanned by the sanitizer.",
)

# -- loader ----------------------------------------------------------------------

LOADER_PROCESSED = Counter(
    "wiremock_loader_mappings_processed",
    "Mappings taken from the queue, by outcome: loaded, dead_lettered, rejected_budget.",
    ["status"],
)
# wiremock_loader_mappings_errors_total{shard} of an error that concerns no one shard.
NO_SHARD = "none"
LOADER_ERRORS = Counter(
    "wiremock_loader_mappings_errors",
    "Loader errors by type: wiremock_unavailable, wiremock_unauthorized, wiremock_rejected, "
    "invalid_item, redis_error; and by the shard concerned (none for invalid_item and "
    "redis_error, which concern no one shard).",
    ["error_type", "shard"],
)
LOADER_WIREMOCK_DURATION = Histogram(
    "wiremock_loader_wiremock_requests_duration_seconds",
    "Duration of WireMock admin API requests.",
    buckets=_LATENCY_BUCKETS_S,
)
LOADER_QUEUE_LAG = Gauge(
    "wiremock_loader_queue_lag_seconds",
    "Age of the oldest item in the queue not yet acknowledged.",
)
LOADER_QUEUE_LENGTH = Gauge(
    "wiremock_loader_queue_length",
    "Items in the Redis queue.",
)
LOADER_DEAD_LETTER = Gauge(
    "wiremock_loader_dead_letter_size",
    "Items in the dead-letter stream.",
)
LOADER_STUB_COUNT = Gauge(
    "wiremock_loader_stub_count",
    "Stubs held by WireMock, per shard.",
    ["shard"],
)
LOADER_SHARD_BACKLOG = Gauge(
    "wiremock_loader_shard_backlog",
    "Items read from the queue and waiting for their shard's WireMock, per shard.",
    ["shard"],
)
LOADER_STUBS_REJECTED = Counter(
    "wiremock_loader_stubs_rejected",
    "Mappings refused because the shard reached max_stubs.",
    ["shard"],
)
LOADER_STUBS_RETIRED = Counter(
    "wiremock_loader_stubs_retired",
    "Stubs written by an earlier version that could not be narrowed to the current "
    "matchers, so not imported (or removed from WireMock), by reason: old_stub_body_unknown.",
    ["reason"],
)
LOADER_CLAIMS_RELEASED = Counter(
    "wiremock_loader_claims_released",
    "Claims of requests the loader did not record, let go so that their next capture is "
    "recorded: budget_room (the shard has room again), dead_letter_hold (the hold after a "
    "dead-letter is over).",
    ["reason"],
)
LOADER_MOVES_WAITING = Gauge(
    "wiremock_loader_moves_waiting",
    "Recorded stubs routed to the shard that wait in another shard's record because the "
    "shard is at max_stubs.",
    ["shard"],
)
KEEPER_READY = Gauge(
    "mockado_keeper_ready",
    "1 while the keeper's WireMock holds its shard (the pod is Ready), else 0.",
    ["shard"],
)
KEEPER_STUBS_TAKEN = Counter(
    "mockado_keeper_stubs_taken",
    "Stubs routed to the keeper's shard that other shards' records still held, copied into "
    "its WireMock before it became Ready (a new shard, a host moved to it).",
    ["shard"],
)
LOADER_STUBS_MOVED = Counter(
    "wiremock_loader_stubs_moved",
    "Recorded stubs moved to the shard their host is routed to now (after a change of "
    "loader.shards), by the shard they moved to.",
    ["shard"],
)
LOADER_RECORD_SIZE = Gauge(
    "wiremock_loader_record_size",
    "Mappings in a shard's record in Redis: what its WireMock should hold (catch-all aside).",
    ["shard"],
)
LOADER_RESYNCS = Counter(
    "wiremock_loader_resyncs",
    "Reloads of a shard from its record after its WireMock restarted empty or lost stubs.",
    ["shard"],
)
LOADER_RESYNC_STUBS = Counter(
    "wiremock_loader_resync_stubs_reloaded",
    "Stubs put back into a shard's WireMock from its record.",
    ["shard"],
)
LOADER_RESYNC_DURATION = Gauge(
    "wiremock_loader_resync_last_duration_seconds",
    "How long the last reload of a shard from its record took.",
    ["shard"],
)
LOADER_BACKUPS = Counter(
    "wiremock_loader_backups",
    "Backups written, by result: ok or error.",
    ["result"],
)

MOCKADO_DRIFT = Counter(
    "mockado_drift",
    "Recorded requests whose response changed status or JSON shape (the stub was updated), "
    "by namespace (configured namespaces; any other is counted as other).",
    ["namespace"],
)
LOADER_STUBS_EXPIRED = Counter(
    "mockado_stubs_expired",
    "Stubs removed because nothing captured them for loader.stub_ttl_s.",
    ["shard"],
)

# -- serving ---------------------------------------------------------------------

SERVING_UNMATCHED = Counter(
    "mockado_serving_unmatched_requests",
    "Requests a WireMock shard answered with the catch-all: no recording matched.",
    ["shard", "method"],
)

# mockado_serving_requests_total{answer}: which kind of stub answered.
SERVED_ANSWERS = (
    "recorded",  # a recorded stub
    "catch_all",  # the catch-all: no recording matched (a miss)
    "passthrough",  # a pass-through stub, proxied to the real upstream
)
SERVING_REQUESTS = Counter(
    "mockado_serving_requests",
    "Requests a WireMock pod answered, by shard and by the stub that answered (see "
    "SERVED_ANSWERS), read by the pod's keeper from the launcher's per-stub hit counts.",
    ["shard", "answer"],
)

# mockado_misses_dropped_total{reason}: misses counted above but left out of the report.
MISS_DROP_REASONS = (
    "backlog_full",  # the loader's queue of misses to record was full
    "report_full",  # loader.max_misses distinct misses are recorded already
    "invalid",  # a webhook call that was not a miss event, or could not be sanitized
)
MISSES_DROPPED = Counter(
    "mockado_misses_dropped",
    "Misses the report left out, by reason (they are still counted as unmatched).",
    ["reason"],
)
MISSES_RECORDED = Counter(
    "mockado_misses_recorded",
    "Misses counted into the miss report (each call; the report folds them by logical miss).",
)


def namespace_label(namespace: str, known: Collection[str]) -> str:
    """``namespace`` when it is a configured one, else "other": labels stay bounded."""
    return namespace if namespace in known else "other"


def method_label(method: str) -> str:
    method = method.upper()
    return method if method in KNOWN_METHODS else "OTHER"


def status_label(status: int | None) -> str:
    """A status class ("2xx") or "none" when no response was seen."""
    if status is None or not 100 <= status <= 599:
        return "none"
    return f"{status // 100}xx"
