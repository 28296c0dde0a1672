"""The per-stream bench's mesh streams carry the headers Istio's sidecars add, in their
real formats, as the capture filter (just before the router) sees them per direction."""

from __future__ import annotations

import base64
import re
import uuid

from google.protobuf import struct_pb2

from bench.ext_proc_streams import (
    MESH_NAMESPACE,
    ORDERS,
    WEB,
    Trace,
    mesh_streams,
    peer_metadata,
)
from ext_proc_server.capture import protos

STREAMS = 6


def _headers(messages: list[bytes]) -> tuple[dict[str, str], dict[str, str]]:
    request = protos.ProcessingRequest.FromString(messages[0]).request_headers.headers
    response = protos.ProcessingRequest.FromString(messages[3]).response_headers.headers
    return (
        {h.key: h.raw_value.decode() for h in request.headers},
        {h.key: h.raw_value.decode() for h in response.headers},
    )


def test_peer_metadata_is_a_serialized_struct_of_the_pod() -> None:
    value = peer_metadata(ORDERS)
    assert 300 <= len(value) <= 700
    metadata = struct_pb2.Struct()
    metadata.ParseFromString(base64.b64decode(value))
    fields = dict(metadata.items())
    assert (fields["NAME"], fields["NAMESPACE"]) == (ORDERS.name, MESH_NAMESPACE)
    assert fields["WORKLOAD_NAME"] == "orders"
    assert fields["LABELS"]["service.istio.io/canonical-name"] == "orders"
    assert ORDERS.peer_id == (
        "sidecar~10.244.2.9~orders-5c8d7f6b4-k2p9z.shop~shop.svc.cluster.local"
    )


def test_trace_ids_have_their_real_formats_and_differ_per_request() -> None:
    trace = Trace.of(3)
    assert uuid.UUID(trace.request_id).version == 4
    assert re.fullmatch(r"[0-9a-f]{32}", trace.trace_id)
    assert re.fullmatch(r"[0-9a-f]{16}", trace.span_id)
    assert re.fullmatch(r"[0-9a-f]{16}", trace.parent_span_id)
    assert Trace.of(3) == trace != Trace.of(4)


def test_each_direction_carries_what_its_capture_filter_sees() -> None:
    streams = mesh_streams(STREAMS)
    for n, stream in enumerate(streams):
        request, response = _headers(stream.messages)
        trace = Trace.of(n)
        assert request["x-request-id"] == trace.request_id
        assert request["traceparent"] == f"00-{trace.trace_id}-{trace.parent_span_id}-01"
        assert request["x-b3-traceid"] == trace.trace_id
        if n % 2 == 0:  # outbound: web's own metadata out, orders' back
            assert request["x-envoy-peer-metadata"] == peer_metadata(WEB)
            assert request["x-envoy-peer-metadata-id"] == WEB.peer_id
            assert "x-forwarded-client-cert" not in request
            assert "x-envoy-attempt-count" not in request  # the router adds it later
            assert response["x-envoy-peer-metadata"] == peer_metadata(ORDERS)
            assert response["server"] == "istio-envoy"
        else:  # inbound: the metadata is removed before, added after the capture filter
            assert "x-envoy-peer-metadata" not in request
            assert "x-envoy-peer-metadata" not in response
            xfcc = request["x-forwarded-client-cert"]
            assert re.fullmatch(
                r"By=spiffe://cluster\.local/ns/shop/sa/orders;Hash=[0-9a-f]{64};"
                r'Subject="";URI=spiffe://cluster\.local/ns/shop/sa/web',
                xfcc,
            )
            assert request["x-b3-parentspanid"] == trace.parent_span_id
            assert request["x-envoy-attempt-count"] == "1"
        assert response["x-envoy-upstream-service-time"] == "1"


def test_without_sidecar_headers_the_streams_are_the_plain_ones() -> None:
    plain = mesh_streams(STREAMS, sidecar_headers=False)
    for stream in plain:
        request, response = _headers(stream.messages)
        assert not {"x-envoy-peer-metadata", "traceparent", "x-forwarded-client-cert"} & (
            request.keys() | response.keys()
        )
