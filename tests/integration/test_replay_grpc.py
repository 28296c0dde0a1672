"""A gRPC error answered in headers alone (trailers-only: ``grpc-status`` in the response
headers, no body), recorded from a real gRPC server through a real Envoy 1.40 and ``mockado
ext-proc``, replayed by a real WireMock 3.13.2: straight, and through an Envoy that speaks
HTTP/1.1 to WireMock as the mock router does. The client gets the recorded status and
message, not a broken stream. An answer with a body ends in trailers, which no stub can
send: it gets no stub and the client a clear miss.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from tests.support.ext_proc_rig import collector_settings, envoy_for, make_config, wait_until
from tests.support.grpc_upstream import grpc_upstream
from tests.support.raw_capture import import_into

pytestmark = pytest.mark.integration

SERVICE = "shop.Users"
FOUND = b"\x0a\x05maria"


def _get(request: bytes, context: grpc.ServicerContext) -> bytes:
    return FOUND


def _missing(request: bytes, context: grpc.ServicerContext) -> bytes:
    context.abort(grpc.StatusCode.NOT_FOUND, "no such user")


@pytest.fixture(scope="module")
def grpc_port() -> Iterator[int]:
    handlers = {
        "Get": grpc.unary_unary_rpc_method_handler(_get),
        "Missing": grpc.unary_unary_rpc_method_handler(_missing),
    }
    with grpc_upstream(SERVICE, handlers) as port:
        yield port


def _call(target: str, method: str) -> tuple[grpc.StatusCode, str | bytes]:
    """-> (status, the message's bytes or the error's details)."""
    with grpc.insecure_channel(target) as channel:
        try:
            return grpc.StatusCode.OK, channel.unary_unary(f"/{SERVICE}/{method}")(b"", timeout=5)
        except grpc.RpcError as exc:
            return exc.code(), exc.details()


def test_a_grpc_error_in_headers_alone_replays_its_status_and_message(
    redis_server, grpc_port, envoy_factory, ext_proc_factory, wiremock
) -> None:
    collector = collector_settings(redis_server.url)
    ext = ext_proc_factory(collector)
    config = make_config(collector)
    envoy = envoy_for(
        envoy_factory, config, upstream_port=grpc_port, ext_proc_port=ext.grpc_port,
        upstream_http2=True,
    )  # fmt: skip
    upstream = f"127.0.0.1:{envoy.port}"
    assert _call(upstream, "Get") == (grpc.StatusCode.OK, FOUND)
    assert _call(upstream, "Missing") == (grpc.StatusCode.NOT_FOUND, "no such user")
    wait_until(lambda: len(ext.captured()) == 1, what="the error's stub")
    (mapping,) = ext.captured()
    assert mapping["request"]["urlPath"] == f"/{SERVICE}/Missing"
    import_into(wiremock, [mapping])

    # The mock router speaks HTTP/1.1 to WireMock whatever the client spoke.
    router = envoy_for(
        envoy_factory, config, upstream_port=wiremock.port, ext_proc_port=ext.grpc_port,
        upstream_http2=False,
    )  # fmt: skip
    for target in (f"127.0.0.1:{wiremock.port}", f"127.0.0.1:{router.port}"):
        assert _call(target, "Missing") == (grpc.StatusCode.NOT_FOUND, "no such user"), target
        # Its answer ended in trailers: no stub, a clear miss (WireMock's 404).
        assert _call(target, "Get")[0] == grpc.StatusCode.UNIMPLEMENTED, target
