"""The one module that imports generated protobuf code (xds-protos, upb-backed).

Everything else uses the names re-exported here, so a change of generated
package touches one file. These are upb messages: parsing a 20-header
ProcessingRequest costs about 1 µs. envoy-data-plane's betterproto classes
are never used per request.
"""

from __future__ import annotations

from envoy.config.core.v3 import base_pb2
from envoy.service.ext_proc.v3 import external_processor_pb2 as ext_proc_pb2
from envoy.service.ext_proc.v3 import external_processor_pb2_grpc as ext_proc_grpc
from google.protobuf import message as protobuf_message

ProcessingRequest = ext_proc_pb2.ProcessingRequest
ProcessingResponse = ext_proc_pb2.ProcessingResponse
HeadersResponse = ext_proc_pb2.HeadersResponse
BodyResponse = ext_proc_pb2.BodyResponse
TrailersResponse = ext_proc_pb2.TrailersResponse
CommonResponse = ext_proc_pb2.CommonResponse
HttpHeaders = ext_proc_pb2.HttpHeaders
HttpBody = ext_proc_pb2.HttpBody
HttpTrailers = ext_proc_pb2.HttpTrailers
HeaderMap = base_pb2.HeaderMap
HeaderValue = base_pb2.HeaderValue

ExternalProcessorServicer = ext_proc_grpc.ExternalProcessorServicer
ExternalProcessorStub = ext_proc_grpc.ExternalProcessorStub
add_servicer_to_server = ext_proc_grpc.add_ExternalProcessorServicer_to_server
SERVICE_NAME = "envoy.service.ext_proc.v3.ExternalProcessor"
# Raised while reading a stream whose message is not a valid ProcessingRequest.
DecodeError = protobuf_message.DecodeError


def header_pairs(header_map: HeaderMap) -> tuple[tuple[str, str], ...]:
    """HeaderMap -> ((name, value), ...). Envoy sends values in raw_value (bytes) since 1.27.

    Non-UTF-8 bytes are kept losslessly as surrogate escapes so nothing is lost
    before the sanitizer sees them.
    """
    out = []
    for h in header_map.headers:
        raw = h.raw_value
        value = raw.decode("utf-8", "surrogateescape") if raw else h.value
        out.append((h.key, value))
    return tuple(out)
