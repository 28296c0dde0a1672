"""The field names whose value is always noise, whatever the path (``collector.noise_rules``
adds names per path prefix): ids of one call, tracing, nonces and cache-busters."""

# Field names (compared in snake_case, case-insensitively) whose value is always noise.
DEFAULT_NOISE_FIELDS = frozenset(
    {
        "request_id",
        "x_request_id",
        "trace_id",
        "x_trace_id",
        "traceparent",
        "tracestate",
        "span_id",
        "parent_span_id",
        "correlation_id",
        "x_correlation_id",
        "x_amzn_trace_id",
        "x_b3_traceid",
        "x_b3_spanid",
        "idempotency_key",
        "nonce",
        "csrf_token",
        "_csrf",
        "xsrf_token",
        "_ts",
        # Cache-busters.
        "_",
        "cb",
        "_cb",
        "cachebuster",
        "cache_buster",
    }
)
