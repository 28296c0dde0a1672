"""ProcessingRequest messages and assemblers for the capture tests."""

from ext_proc_server.capture import CaptureFilter, StreamAssembler, StreamMeta, dispatch
from ext_proc_server.capture.protos import (
    HeaderMap,
    HeaderValue,
    HttpBody,
    HttpHeaders,
    HttpTrailers,
    ProcessingRequest,
)
from ext_proc_server.core.config import CollectorConfig, cluster_hosts


def hmap(pairs):
    return HeaderMap(
        headers=[
            HeaderValue(key=k, raw_value=v if isinstance(v, bytes) else v.encode())
            for k, v in pairs
        ]
    )


def req_headers(
    path="/v1/items?id=7&q=a%20b", method="POST", eos=False, extra=(), authority="api.example:8080"
):
    pairs = [
        (":method", method),
        (":path", path),
        (":authority", authority),
        (":scheme", "http"),
        ("x-request-id", "rid-1"),
        ("content-type", "application/json"),
        *extra,
    ]
    return ProcessingRequest(
        request_headers=HttpHeaders(headers=hmap(pairs), end_of_stream=eos), observability_mode=True
    )


def req_body(data, eos=False):
    return ProcessingRequest(
        request_body=HttpBody(body=data, end_of_stream=eos), observability_mode=True
    )


def resp_headers(status="200", eos=False, extra=(("content-type", "application/json"),)):
    pairs = [(":status", status), *extra]
    return ProcessingRequest(
        response_headers=HttpHeaders(headers=hmap(pairs), end_of_stream=eos),
        observability_mode=True,
    )


def resp_body(data, eos=False):
    return ProcessingRequest(
        response_body=HttpBody(body=data, end_of_stream=eos), observability_mode=True
    )


def req_trailers(pairs):
    return ProcessingRequest(request_trailers=HttpTrailers(trailers=hmap(pairs)))


def resp_trailers(pairs):
    return ProcessingRequest(response_trailers=HttpTrailers(trailers=hmap(pairs)))


def make(config=None, meta=None, repeats=None):
    config = config or CollectorConfig()
    return StreamAssembler(
        config=config,
        capture_filter=CaptureFilter(config),
        meta=meta or StreamMeta(body_limit_bytes=config.body_limit_bytes),
        hosts=cluster_hosts(config),
        repeats=repeats,
    )


def run(messages, **kw):
    """Hand ``messages`` to a new assembler (``make(**kw)``) -> the last one's result; every
    earlier one must leave the stream open."""
    asm = make(**kw)
    results = [dispatch(asm, m) for m in messages]
    assert all(r is None for r in results[:-1]), results
    return results[-1]
