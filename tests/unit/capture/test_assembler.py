import gzip
import itertools
import zlib
from urllib.parse import parse_qsl

import brotli
import pytest
from google.protobuf import struct_pb2

from ext_proc_server.capture import StreamMeta, dispatch, stream_meta
from ext_proc_server.capture.assembler import query_pairs
from ext_proc_server.capture.protos import HttpBody, ProcessingRequest
from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.names import (
    ATTR_CLUSTER_NAME,
    ATTR_NAMESPACE,
    ATTR_WORKLOAD,
    EXT_PROC_FILTER_NAME,
)
from ext_proc_server.mapping.faithful import UNDECODABLE_HEADER, skip_reason
from tests.unit.capture.stream_helpers import (
    make,
    req_body,
    req_headers,
    req_trailers,
    resp_body,
    resp_headers,
    resp_trailers,
    run,
)


def test_full_post_exchange():
    done = run(
        [
            req_headers(),
            req_body(b'{"a":'),
            req_body(b"1}", eos=True),
            resp_headers("201"),
            resp_body(b'{"ok":'),
            resp_body(b"true}", eos=True),
        ]
    )
    ex = done.exchange
    assert ex is not None and not done.drop_reason
    assert ex.request.method == "POST"
    assert ex.request.path == "/v1/items"
    assert ex.request.query == (("id", "7"), ("q", "a b"))
    assert ex.request.authority == "api.example:8080"
    assert ex.request.body == b'{"a":1}'
    assert ex.request.header("content-type") == "application/json"
    assert not any(name.startswith(":") for name, _ in ex.request.headers)
    assert ex.response.status == 201
    assert ex.response.body == b'{"ok":true}'
    assert not ex.truncated
    assert ex.captured_at_s > 0 and ex.id


def test_get_with_headers_only_response():
    done = run([req_headers(method="GET", eos=True), resp_headers("204", eos=True)])
    assert done.exchange.response.status == 204
    assert done.exchange.request.body == b""
    assert not done.exchange.request.body_truncated


def test_trailers_end_each_side():
    done = run(
        [
            req_headers(eos=False),
            req_body(b"{}"),
            req_trailers([("x-checksum", "abc")]),
            resp_headers(),
            resp_body(b"{}"),
            resp_trailers([("grpc-status", "0")]),
        ]
    )
    ex = done.exchange
    assert ex.request.trailers == (("x-checksum", "abc"),)
    assert ex.response.trailers == (("grpc-status", "0"),)
    assert ex.request.body == b"{}" and ex.response.body == b"{}"
    assert not ex.request.body_truncated


def test_early_response_marks_request_partial_and_accepts_late_request_chunks():
    asm = make()
    assert dispatch(asm, req_headers()) is None
    assert dispatch(asm, req_body(b'{"x"')) is None
    assert dispatch(asm, resp_headers("413")) is None
    # The request may keep streaming after the response began.
    assert dispatch(asm, req_body(b":1")) is None
    done = dispatch(asm, resp_body(b"{}", eos=True))
    assert done.exchange.request.body == b'{"x":1'
    assert done.exchange.request.body_truncated


def test_end_of_stream_without_message_ends_the_body():
    msg = ProcessingRequest(response_body=HttpBody(body=b"", end_of_stream_without_message=True))
    done = run([req_headers(eos=True), resp_headers(), resp_body(b"{}"), msg])
    assert done.exchange.response.body == b"{}"


def test_body_limit_truncates_and_meta_overrides_it():
    cfg = CollectorConfig(body_limit_bytes=1024)
    done = run(
        [
            req_headers(eos=True),
            resp_headers(),
            resp_body(b"x" * 1000),
            resp_body(b"y" * 1000, eos=True),
        ],
        config=cfg,
        meta=StreamMeta(body_limit_bytes=1024),
    )
    assert len(done.exchange.response.body) == 1024
    assert done.exchange.response.body_truncated and done.exchange.truncated
    done = run(
        [
            req_headers(eos=True),
            resp_headers(),
            resp_body(b"x" * 1000),
            resp_body(b"y" * 1000, eos=True),
        ],
        config=cfg,
        meta=StreamMeta(body_limit_bytes=4096),
    )
    assert len(done.exchange.response.body) == 2000
    assert not done.exchange.truncated


def test_stream_meta_reads_metadata_and_clamps_the_limit():
    cfg = CollectorConfig()
    meta = stream_meta(
        [
            ("x-mockado-namespace", "shop"),
            ("x-mockado-workload", "cart"),
            ("x-mockado-body-limit-bytes", "2048"),
            ("other-bin", b"\x00"),
        ],
        config=cfg,
    )
    assert meta == StreamMeta(namespace="shop", workload="cart", body_limit_bytes=2048)
    assert stream_meta([("x-mockado-body-limit-bytes", "5")], config=cfg).body_limit_bytes == 1024
    assert (
        stream_meta([("x-mockado-body-limit-bytes", str(1 << 30))], config=cfg).body_limit_bytes
        == 1 << 20
    )
    assert (
        stream_meta([("x-mockado-body-limit-bytes", "lots")], config=cfg).body_limit_bytes
        == cfg.body_limit_bytes
    )


def test_namespace_and_workload_from_envoy_attributes_when_metadata_is_silent():
    attrs = struct_pb2.Struct()
    attrs.update({ATTR_NAMESPACE: "payments", ATTR_WORKLOAD: "api-v2"})
    first = req_headers(eos=True)
    first.attributes[EXT_PROC_FILTER_NAME].CopyFrom(attrs)
    done = run([first, resp_headers(eos=True)])
    assert (done.exchange.namespace, done.exchange.workload) == ("payments", "api-v2")
    # Metadata wins over attributes.
    done = run([first, resp_headers(eos=True)], meta=StreamMeta(namespace="ns", workload="wl"))
    assert (done.exchange.namespace, done.exchange.workload) == ("ns", "wl")


@pytest.mark.parametrize(
    ("authority", "cluster", "expected"),
    [
        (
            "api:8080",
            "outbound|8080||api.payments.svc.cluster.local",
            "api.payments.svc.cluster.local:8080",
        ),
        (
            "10.1.2.3:80",
            "outbound|80||api.payments.svc.cluster.local",
            "api.payments.svc.cluster.local:80",
        ),
        # An egress gateway is not the destination; neither is an inbound cluster.
        ("example.com", "outbound|443||egress.istio-system.svc.cluster.local", "example.com"),
        ("api:8080", "inbound|8080||", "api:8080"),
    ],
)
def test_the_destination_fqdn_comes_from_envoys_cluster_name(authority, cluster, expected):
    attrs = struct_pb2.Struct()
    attrs.update({ATTR_CLUSTER_NAME: cluster})
    response = resp_headers(eos=True)
    response.attributes[EXT_PROC_FILTER_NAME].CopyFrom(attrs)
    done = run([req_headers(eos=True, authority=authority), response])
    assert done.exchange.request.authority == expected


def test_gzip_response_is_decoded_and_encoding_headers_removed():
    payload = b'{"data":"' + b"x" * 5000 + b'"}'
    gz = gzip.compress(payload)
    done = run(
        [
            req_headers(eos=True),
            resp_headers(
                extra=(
                    ("content-type", "application/json"),
                    ("content-encoding", "gzip"),
                    ("content-length", str(len(gz))),
                )
            ),
            resp_body(gz[:50]),
            resp_body(gz[50:], eos=True),
        ]
    )
    resp = done.exchange.response
    assert resp.body == payload
    assert resp.header("content-encoding") is None and resp.header("content-length") is None
    assert resp.header("content-type") == "application/json"


def test_truncated_gzip_response_decodes_partially():
    # Text that compresses poorly enough to pass the 1 KiB limit when gzipped.
    payload = b" ".join(str(n * 7919 % 100_003).encode() for n in range(20_000))
    gz = gzip.compress(payload)
    assert len(gz) > 1024
    cfg = CollectorConfig(body_limit_bytes=1024)
    done = run(
        [
            req_headers(eos=True),
            resp_headers(extra=(("content-type", "text/plain"), ("content-encoding", "gzip"))),
            resp_body(gz, eos=True),
        ],
        config=cfg,
        meta=StreamMeta(body_limit_bytes=1024),
    )
    resp = done.exchange.response
    assert resp.body_truncated and not resp.body_dropped
    assert resp.body and payload.startswith(resp.body)


def test_undecodable_body_is_dropped_never_kept_raw():
    done = run(
        [
            req_headers(eos=True),
            resp_headers(
                extra=(("content-type", "application/json"), ("content-encoding", "gzip"))
            ),
            resp_body(b"not gzip at all", eos=True),
        ]
    )
    resp = done.exchange.response
    assert resp.body == b"" and resp.body_dropped
    assert resp.header("content-encoding") is None


def test_binary_bodies_kept_by_default_dropped_with_a_reason_on_skip():
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(200))
    msgs = [
        req_headers(method="GET", eos=True),
        resp_headers(extra=(("content-type", "image/png"),)),
        resp_body(png, eos=True),
    ]
    done = run(msgs)
    assert done.exchange.response.body == png and not done.exchange.response.body_dropped
    done = run(msgs, config=CollectorConfig(binary_bodies="skip"))
    response = done.exchange.response
    assert response.body == b"" and response.body_dropped
    assert response.body_drop_reason == "binary_skipped"


@pytest.mark.parametrize(
    ("messages", "reason"),
    [
        ([req_body(b"x")], "malformed"),
        # Only Envoy answers before the request headers reached the filter.
        ([resp_headers()], "envoy_local_reply"),
        ([resp_headers(status="abc")], "malformed"),
        ([req_headers(), req_headers()], "malformed"),
        ([req_headers(eos=True), resp_body(b"x")], "malformed"),
        ([req_headers(eos=True), req_body(b"late")], "malformed"),
        ([req_headers(eos=True), req_trailers([("x-checksum", "a")])], "malformed"),
        ([req_headers(eos=True), resp_headers(), resp_headers()], "malformed"),
        ([req_headers(eos=True), resp_headers(status="abc")], "malformed"),
        ([req_headers(eos=True), resp_headers(status="999")], "malformed"),
        ([ProcessingRequest()], "malformed"),
        # A pseudo-header that is not UTF-8 drops at once (any other is a counted skip:
        # test_a_header_value_that_is_not_utf8_is_left_out_and_marked).
        ([req_headers(extra=((":path", b"/caf\xe9"),), path=b"/caf\xe9")], "malformed"),
        ([req_headers(extra=(("upgrade", "websocket"), ("connection", "upgrade")))], "upgrade"),
        ([req_headers(method="CONNECT")], "upgrade"),
        ([req_headers(eos=True), resp_headers(status="101")], "upgrade"),
    ],
)
def test_bad_input_is_a_counted_drop(messages, reason):
    done = run(messages)
    assert done.exchange is None
    assert done.drop_reason == reason


def test_filtered_and_not_sampled_stop_at_request_headers():
    done = run([req_headers(path="/health")], config=CollectorConfig(exclude_paths=["/health"]))
    assert done.drop_reason == "filtered"
    done = run([req_headers()], config=CollectorConfig(sample_rate=0.0))
    assert done.drop_reason == "not_sampled"


def test_early_end_is_incomplete():
    asm = make()
    dispatch(asm, req_headers())
    dispatch(asm, req_body(b"{}", eos=True))
    assert dispatch(asm, resp_headers()) is None
    assert asm.started
    assert asm.end_of_input().drop_reason == "incomplete"


def test_every_order_of_a_valid_stream_is_decided_without_crashing():
    """All permutations of one exchange's messages: the valid order captures, each other
    order either captures (early responses are legal) or drops as malformed; none crashes."""
    messages = [
        req_headers(),
        req_body(b"{}", eos=True),
        resp_headers(),
        resp_body(b"{}", eos=True),
    ]
    captured = 0
    for order in itertools.permutations(range(4)):
        asm = make()
        result = None
        for i in order:
            result = dispatch(asm, messages[i])
            if result is not None:
                break
        if result is None:
            result = asm.end_of_input()
        if result.exchange is not None:
            captured += 1
            assert result.exchange.response.body == b"{}"
            request = result.exchange.request
            assert request.body == b"{}" or (request.body == b"" and request.body_truncated)
        else:
            # Response headers first: only Envoy answers a request it never passed on.
            assert result.drop_reason in {"malformed", "incomplete", "envoy_local_reply"}
    # Captured: (rh, rb, sh, sb); the early responses (rh, sh, rb, sb) and (rh, sh, sb, ...),
    # the last one ending before the request body came (marked truncated).
    assert captured == 3


def test_a_body_that_reaches_its_content_length_is_complete_without_end_of_stream():
    """Envoy does not always send a separate end_of_stream chunk (blocking mode): a body
    that reached its Content-Length ends the exchange at once."""
    done = run(
        [
            req_headers(extra=(("content-length", "4"),)),
            req_body(b"{}"),
            req_body(b"[]"),
            resp_headers(extra=(("content-type", "application/json"), ("content-length", "11"))),
            resp_body(b'{"ok":'),
            resp_body(b"true}"),
        ]
    )
    assert done.exchange.response.body == b'{"ok":true}'
    assert done.exchange.request.body == b"{}[]"
    assert not done.exchange.truncated


def test_content_length_counts_bytes_past_the_body_limit():
    cfg = CollectorConfig(body_limit_bytes=1024)
    big = b"x" * 3000
    done = run(
        [
            req_headers(extra=(("content-type", "text/plain"), ("content-length", "3000"))),
            req_body(big[:2000]),
            req_body(big[2000:]),
            resp_headers(eos=True),
        ],
        config=cfg,
        meta=StreamMeta(body_limit_bytes=1024),
    )
    assert done.exchange.request.body == big[:1024] and done.exchange.request.body_truncated


@pytest.mark.parametrize("content_length", [None, "1000000"])
def test_a_response_past_the_body_limit_is_decided_at_once(content_length):
    """An endless response (server-sent events, a log tail) or a long download ends its
    stream as soon as nothing more of it is kept, not when it ends."""
    cfg = CollectorConfig(body_limit_bytes=1024)
    extra = [("content-type", "text/event-stream")]
    if content_length:
        extra.append(("content-length", content_length))
    asm = make(config=cfg, meta=StreamMeta(body_limit_bytes=1024))
    assert dispatch(asm, req_headers(method="GET", eos=True)) is None
    assert dispatch(asm, resp_headers(extra=tuple(extra))) is None
    event = b"data: " + b"e" * 248 + b"\n\n"  # 256 bytes
    results = [dispatch(asm, resp_body(event)) for _ in range(5)]
    assert results[:4] == [None] * 4  # 1,024 bytes kept, none past them yet
    done = results[4]
    assert done is not None and done.exchange is not None
    response = done.exchange.response
    assert response.body_truncated and len(response.body) == 1024
    assert skip_reason(done.exchange) == "response_truncated"


def test_empty_end_of_stream_chunk_after_content_length_is_accepted():
    done = run(
        [
            req_headers(extra=(("content-length", "2"),)),
            req_body(b"{}"),
            req_body(b"", eos=True),
            resp_headers(eos=True),
        ]
    )
    assert done.exchange.request.body == b"{}"


def test_body_limits_per_host_and_path_keep_a_known_large_body_whole():
    big = b'{"rows":"' + b"r" * 30_000 + b'"}'
    limits = [
        {"host": "api.example", "path": "/v1/export", "bytes": 64 * 1024},
        {"host": "*.example", "path": "re:/v1/items/[0-9]+", "bytes": 2048},
    ]
    cfg = CollectorConfig(body_limits=limits)

    def body_of(path: str, meta=None) -> tuple[int, bool]:
        asm = make(config=cfg, meta=meta or stream_meta((), config=cfg))
        msgs = [
            req_headers(method="GET", path=path, eos=True),
            resp_headers(),
            resp_body(big, eos=True),
        ]
        done = [dispatch(asm, m) for m in msgs][-1]
        return len(done.exchange.response.body), done.exchange.response.body_truncated

    assert body_of("/v1/export/all") == (len(big), False)
    assert body_of("/v1/items/7") == (2048, True)
    assert body_of("/v1/other") == (8192, True)  # the default limit
    # The namespace's rules (gRPC metadata) come first.
    ns = stream_meta(
        (("x-mockado-body-limits", '[["api.example","/v1/export",1024]]'),), config=cfg
    )
    assert body_of("/v1/export/all", ns) == (1024, True)
    # A malformed value is ignored: the other limits still hold.
    bad = stream_meta((("x-mockado-body-limits", "[[1,2"),), config=cfg)
    assert body_of("/v1/export/all", bad) == (len(big), False)


def test_a_body_limit_rule_may_name_the_service_by_its_full_name():
    big = b"x" * 20_000
    cfg = CollectorConfig(
        body_limits=[{"host": "reports.shop.svc.cluster.local", "path": "/", "bytes": 32768}]
    )
    meta = StreamMeta(namespace="shop", body_limits=stream_meta((), config=cfg).body_limits)
    asm = make(config=cfg, meta=meta)
    msgs = [
        req_headers(method="GET", path="/export", eos=True, authority="reports:8080"),
        resp_headers(),
        resp_body(big, eos=True),
    ]
    done = [dispatch(asm, m) for m in msgs][-1]
    assert done.exchange.response.body == big and not done.exchange.response.body_truncated


@pytest.mark.parametrize(
    "query",
    ["", "a=1", "a=1&b=2&a=3", "a&b=", "=x&&a=b=c", "q=a%20b", "q=a+b", "x=%E2%9C%93&y"],
)
def test_query_pairs_are_those_parse_qsl_gives(query):
    assert query_pairs(query) == tuple(parse_qsl(query, keep_blank_values=True))


def _one_exchange():
    return run([req_headers(), req_body(b"{}", eos=True), resp_headers(eos=True)]).exchange


def test_exchange_ids_are_unique_32_hex_digits():
    ids = [_one_exchange().id for _ in range(50)]
    assert len(set(ids)) == len(ids)
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in ids)


def test_a_forked_process_draws_other_exchange_ids():
    import os

    before = _one_exchange().id
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its first id, to the parent
        os.write(write_end, _one_exchange().id.encode())
        os._exit(0)
    os.close(write_end)
    child_id = os.read(read_end, 64).decode()
    os.waitpid(pid, 0)
    after = _one_exchange().id
    assert len(child_id) == 32
    # Another random prefix: the child shares no id space with the parent.
    assert child_id[:16] != before[:16] == after[:16]


def test_a_body_at_its_content_length_ends_without_an_end_of_stream_chunk():
    done = run(
        [
            req_headers(),
            req_body(b"{}", eos=True),
            resp_headers(extra=(("content-type", "application/json"), ("content-length", "11"))),
            resp_body(b'{"ok":true}'),
        ]
    )
    assert done.exchange is not None and done.exchange.response.body == b'{"ok":true}'


@pytest.mark.parametrize("name", ["x-name", "content-encoding", "content-type", "vary"])
@pytest.mark.parametrize("side", ["request", "response"])
def test_a_header_value_that_is_not_utf8_is_left_out_and_marked(name, side):
    """The exchange is built (its skip is counted per host, ``faithful.skip_reason``), the
    value left out: none of its bytes is kept, the message's headers start with the mark."""
    # Not hex: an exchange id (a random hex prefix) never holds the readable part.
    bad = ((name, b"Jos\xe9 \xff"),)
    request = req_headers(eos=True, extra=bad if side == "request" else ())
    response = resp_headers(eos=True, extra=bad if side == "response" else ())
    done = run([request, response])
    exchange = done.exchange
    assert exchange is not None
    message = exchange.request if side == "request" else exchange.response
    other = exchange.response if side == "request" else exchange.request
    assert message.headers[0] == UNDECODABLE_HEADER
    assert UNDECODABLE_HEADER not in message.headers[1:]
    assert all("Jos" not in value for _, value in message.headers)
    assert UNDECODABLE_HEADER not in other.headers
    assert skip_reason(exchange) == f"{side}_header_undecodable"
    record = repr(exchange.to_record())
    assert "Jos" not in record and "\\xe9" not in record and "\\ufffd" not in record


@pytest.mark.parametrize(
    ("coding", "encode", "kept"),
    [
        ("gzip", gzip.compress, True),
        ("X-GZIP", gzip.compress, True),
        ("identity", lambda d: d, True),
        ("br", brotli.compress, False),
        ("deflate", zlib.compress, False),
        ("gzip, gzip", lambda d: gzip.compress(gzip.compress(d)), False),
    ],
)
def test_a_request_body_is_kept_only_in_a_coding_a_stub_can_match(coding, encode, kept):
    """WireMock undoes a single gzip of a request body before matching, nothing else: a
    matcher on the decoded body of any other coding would never match the request."""
    payload = b'{"order":{"sku":"A-1","qty":2}}'
    done = run(
        [
            req_headers(extra=(("content-encoding", coding),)),
            req_body(encode(payload), eos=True),
            resp_headers(eos=True),
        ]
    )
    request = done.exchange.request
    assert request.header("content-encoding") is None or coding == "identity"
    if kept:
        assert (request.body, request.body_dropped) == (payload, False)
        assert skip_reason(done.exchange) == ""
    else:
        assert (request.body, request.body_drop_reason) == (b"", "content_encoding")
        assert skip_reason(done.exchange) == "request_content_encoding"
