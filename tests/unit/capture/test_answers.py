"""What a response's headers decide: a gRPC answer with messages, Envoy's own 4xx; and
trailers after a body that reached its Content-Length."""

import pytest

from ext_proc_server.capture import dispatch
from ext_proc_server.core.names import ATTR_RESPONSE_DETAILS, EXT_PROC_FILTER_NAME
from tests.unit.capture.stream_helpers import (
    make,
    req_body,
    req_headers,
    req_trailers,
    resp_body,
    resp_headers,
    run,
)


def test_trailers_after_a_body_that_reached_its_content_length_end_the_request():
    length = (("content-length", "2"), ("content-type", "application/json"))
    done = run(
        [
            req_headers(extra=length),
            req_body(b"{}"),
            req_trailers([("x-checksum", "abc")]),
            resp_headers(),
            resp_body(b"{}", eos=True),
        ]
    )
    assert done.exchange.request.trailers == (("x-checksum", "abc"),)
    assert not done.exchange.request.body_truncated


def _with_details(message, details):
    """``message`` with Envoy's response.code_details attribute, as the rendered filter asks."""
    message.attributes[EXT_PROC_FILTER_NAME].fields[ATTR_RESPONSE_DETAILS].string_value = details
    return message


@pytest.mark.parametrize(
    "content_type", ["application/grpc", "application/grpc+proto", "Application/gRPC; x=1"]
)
def test_a_grpc_answer_with_messages_is_dropped_at_its_headers(content_type):
    asm = make()
    assert dispatch(asm, req_headers(extra=(("content-type", "application/grpc"),))) is None
    assert dispatch(asm, req_body(b"\0\0\0\0\0", eos=True)) is None
    grpc_headers = resp_headers(extra=(("content-type", content_type),))
    assert dispatch(asm, grpc_headers).drop_reason == "grpc_body"


def test_grpc_web_and_trailers_only_grpc_answers_are_kept():
    web = (("content-type", "application/grpc-web+proto"),)
    done = run([req_headers(eos=True), resp_headers(extra=web), resp_body(b"\0", eos=True)])
    assert done.exchange is not None
    only = (("content-type", "application/grpc"), ("grpc-status", "5"))
    done = run([req_headers(eos=True), resp_headers(extra=only, eos=True)])
    assert done.exchange is not None and done.exchange.response.status == 200


@pytest.mark.parametrize(
    ("status", "details", "reason"),
    [
        ("400", "http1.codec_error", "envoy_local_reply"),
        ("404", "route_not_found", "envoy_local_reply"),
        ("404", "via_upstream", ""),
        # Envoy's own 5xx (the upstream reset): what the client got, an error answer.
        ("503", "upstream_reset_before_response_started{connection_termination}", ""),
    ],
)
def test_envoy_own_4xx_is_dropped_and_the_upstream_answers_kept(status, details, reason):
    done = run([req_headers(eos=True), _with_details(resp_headers(status, eos=True), details)])
    assert done.drop_reason == reason
    assert (done.exchange is None) == bool(reason)


def test_envoy_own_grpc_error_is_dropped_and_the_upstream_one_kept():
    grpc_error = (("content-type", "application/grpc"), ("grpc-status", "14"))
    for details, reason in (
        ("upstream_reset_before_response_started{remote_reset}", "envoy_local_reply"),
        ("via_upstream", ""),
    ):
        done = run(
            [
                req_headers(eos=True),
                _with_details(resp_headers(extra=grpc_error, eos=True), details),
            ]
        )
        assert done.drop_reason == reason
