"""Bad input straight to the gRPC port of a running ``mockado ext-proc`` (real Redis).

A small raw gRPC client plays a broken or hostile Envoy: random message sequences
(hypothesis), wrong phase order, bytes that are not a ProcessingRequest at all,
gigantic headers, header values that are not UTF-8 (a counted skip), gzip bombs, and bodies declared
as JSON that are not JSON. Whatever comes in, the process stays up (same pid, healthy
over HTTP and gRPC), every stream ends with a gRPC status within its deadline, and
every stream is counted: each one that carried a message ends in exactly one of
``collector_enqueued_total``, ``collector_deduplication_operations_total{result="duplicate"}``
or ``collector_dropped_total{reason}``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence

import grpc
import httpx
import psutil
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ext_proc_server.capture import protos
from tests.support.compression_bombs import gzip_bomb
from tests.support.ext_proc_rig import ExtProcProcess, collector_settings, counters, wait_until
from tests.support.metrics_text import by_label, scrape, total

pytestmark = pytest.mark.integration


METHOD = f"/{protos.SERVICE_NAME}/Process"
CALL_TIMEOUT_S = 15.0
MIB = 1 << 20
# A stream may end with OK (the server decided), or with a status gRPC itself gives to
# bytes it cannot decode or a message over the size limit. Never a deadline (a hang),
# never UNAVAILABLE (a crash).
CLEAN_CODES = {
    grpc.StatusCode.OK,
    grpc.StatusCode.INTERNAL,
    grpc.StatusCode.RESOURCE_EXHAUSTED,
    grpc.StatusCode.CANCELLED,
}
Message = protos.ProcessingRequest | bytes


# -- a raw gRPC client -----------------------------------------------------------------------


def _serialize(message: Message) -> bytes:
    return message if isinstance(message, bytes) else message.SerializeToString()


async def _stream(
    port: int, messages: Sequence[Message], *, metadata: Sequence[tuple[str, str]] = ()
) -> grpc.StatusCode:
    options = [("grpc.max_send_message_length", 64 * MIB)]
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}", options=options) as channel:
        call = channel.stream_stream(METHOD, request_serializer=_serialize)(
            metadata=tuple(metadata), timeout=CALL_TIMEOUT_S
        )
        for message in messages:
            try:
                await call.write(message)
            except Exception:  # the server may end the stream early
                break
        try:
            await call.done_writing()
            async for _reply in call:
                pass
        except Exception:  # the status below says what happened
            pass
        return await call.code()


def send(port: int, messages: Sequence[Message], **kw: object) -> grpc.StatusCode:
    code = asyncio.run(asyncio.wait_for(_stream(port, messages, **kw), CALL_TIMEOUT_S + 10))
    assert code in CLEAN_CODES, code
    return code


def grpc_health(port: int) -> int:
    async def check() -> int:
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            reply = await health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=protos.SERVICE_NAME), timeout=5
            )
            return reply.status

    return asyncio.run(check())


# -- messages --------------------------------------------------------------------------------


def header_map(pairs: Iterable[tuple[str, str | bytes]]) -> protos.HeaderMap:
    return protos.HeaderMap(
        headers=[
            protos.HeaderValue(key=k, raw_value=v if isinstance(v, bytes) else v.encode())
            for k, v in pairs
        ]
    )


def request_headers(pairs: Iterable[tuple[str, str | bytes]], *, eos: bool = False) -> Message:
    return protos.ProcessingRequest(
        request_headers=protos.HttpHeaders(headers=header_map(pairs), end_of_stream=eos)
    )


def response_headers(pairs: Iterable[tuple[str, str | bytes]], *, eos: bool = False) -> Message:
    return protos.ProcessingRequest(
        response_headers=protos.HttpHeaders(headers=header_map(pairs), end_of_stream=eos)
    )


def request_body(body: bytes, *, eos: bool = True) -> Message:
    return protos.ProcessingRequest(request_body=protos.HttpBody(body=body, end_of_stream=eos))


def response_body(body: bytes, *, eos: bool = True) -> Message:
    return protos.ProcessingRequest(response_body=protos.HttpBody(body=body, end_of_stream=eos))


def trailers(*, response: bool) -> Message:
    value = protos.HttpTrailers(trailers=header_map([("grpc-status", "0")]))
    if response:
        return protos.ProcessingRequest(response_trailers=value)
    return protos.ProcessingRequest(request_trailers=value)


def get_request(path: str, *extra: tuple[str, str | bytes], eos: bool = True) -> Message:
    return request_headers(
        [(":method", "GET"), (":path", path), (":authority", "fuzz.test"), (":scheme", "http"),
         *extra],
        eos=eos,
    )  # fmt: skip


def ok_response(*extra: tuple[str, str | bytes], eos: bool = False) -> Message:
    return response_headers([(":status", "200"), *extra], eos=eos)


# -- the collector under test ------------------------------------------------------------------


class Collector:
    def __init__(self, ext: ExtProcProcess) -> None:
        self.ext = ext
        self.pid = ext.process.pid
        self.url = f"http://127.0.0.1:{ext.http_port}/metrics"

    def samples(self) -> dict:
        return scrape(self.url)

    def fates(self, samples: dict) -> float:
        """Streams with a counted fate: queued, a duplicate, dropped, or given no stub
        because it would not replay the recording. (A body the sanitizer removed is
        ``collector_bodies_dropped_total``: its capture goes on, to a stub or a skip.)"""
        return (
            total(samples, "collector_enqueued_total")
            + total(samples, "collector_deduplication_operations_total", result="duplicate")
            + total(samples, "collector_dropped_total")
            + total(samples, "collector_stubs_skipped_total")
        )

    def wait_fates(self, before: dict, streams: int) -> dict:
        """Wait until ``streams`` more streams have their fate counted -> the samples then."""
        want = self.fates(before) + streams
        last: dict = {}

        def done() -> bool:
            last.clear()
            last.update(self.samples())
            return total(last, "collector_queue_size") == 0 and self.fates(last) >= want

        wait_until(
            done,
            timeout_s=60,
            what=f"{streams} streams counted",
            explain=lambda: f"fates {self.fates(last)} want {want}: {moved(before, last)}",
        )
        # Not one stream counted twice.
        assert self.fates(last) - self.fates(before) <= streams, moved(before, last)
        return last

    def assert_alive(self) -> None:
        process = self.ext.process
        assert process.alive and process.pid == self.pid, "the collector restarted or died"
        health = httpx.get(f"http://127.0.0.1:{self.ext.http_port}/healthz", timeout=5)
        assert health.status_code == 200
        assert grpc_health(self.ext.grpc_port) == health_pb2.HealthCheckResponse.SERVING


@pytest.fixture(scope="module")
def collector(redis_server, ext_proc_factory) -> Collector:
    # A buffer that never fills here: every drop must be about the input, not about load.
    return Collector(ext_proc_factory(collector_settings(redis_server.url, buffer_size=100_000)))


def moved(before: dict, after: dict) -> str:
    """The collector counters that changed, for failure messages."""
    names = ("collector_requests_total", "collector_dropped_total", "collector_enqueued_total",
             "collector_deduplication_operations_total", "collector_truncated_total",
             "collector_stubs_skipped_total")  # fmt: skip
    changes = [
        f"{name}{dict(labels)}: +{value - before.get((name, labels), 0.0):g}"
        for (name, labels), value in sorted(after.items(), key=str)
        if name in names and value != before.get((name, labels), 0.0)
    ]
    return "; ".join(changes)


def dropped(before: dict, after: dict, reason: str) -> float:
    return by_label(after, "collector_dropped_total", "reason").get(reason, 0.0) - by_label(
        before, "collector_dropped_total", "reason"
    ).get(reason, 0.0)


# -- hypothesis: random sequences of messages --------------------------------------------------

_names = st.sampled_from(
    [":method", ":path", ":authority", ":scheme", ":status", "content-type", "content-length",
     "content-encoding", "x-request-id", "authorization", "cookie", "upgrade", "host"]
) | st.text(min_size=1, max_size=12)  # fmt: skip
_values = st.one_of(
    st.sampled_from(["GET", "POST", "/a?b=1", "/", "200", "abc", "application/json", "gzip",
                     "websocket", "-1", "10", "999"]),
    st.binary(max_size=40),
    st.text(max_size=40),
)  # fmt: skip
_header_pairs = st.lists(st.tuples(_names, _values), max_size=8)
_bodies = st.one_of(
    st.binary(max_size=300),
    st.sampled_from([b'{"a":', b"[1,2,", b"not json", b"{}", b'{"ok":true}', b"\xff\xfe\x00"]),
)


def _message(kind: str, pairs: list, body: bytes, eos: bool, observe: bool) -> Message:
    if kind == "request_headers":
        message = request_headers(pairs, eos=eos)
    elif kind == "response_headers":
        message = response_headers(pairs, eos=eos)
    elif kind == "request_body":
        message = request_body(body, eos=eos)
    elif kind == "response_body":
        message = response_body(body, eos=eos)
    elif kind == "request_trailers":
        message = trailers(response=False)
    elif kind == "response_trailers":
        message = trailers(response=True)
    else:
        message = protos.ProcessingRequest()
    assert not isinstance(message, bytes)
    message.observability_mode = observe
    return message


_kinds = st.sampled_from(
    ["request_headers", "request_body", "request_trailers", "response_headers",
     "response_body", "response_trailers", "empty"]
)  # fmt: skip
_messages = st.builds(_message, _kinds, _header_pairs, _bodies, st.booleans(), st.booleans())
# A plausible start (method and path present, declared JSON) makes deep phases reachable.
_valid_start = st.builds(
    lambda path, body, ctype: [
        get_request(f"/fuzz/{path}", ("content-type", ctype), eos=False),
        request_body(body),
        ok_response(("content-type", ctype)),
        response_body(body),
    ],
    st.text(alphabet="abcdefghij0123456789", min_size=1, max_size=10),
    _bodies,
    st.sampled_from(["application/json", "application/json; charset=utf-8", "text/plain"]),
)
_sequences = st.one_of(
    st.lists(_messages, min_size=1, max_size=8),
    st.builds(lambda start, tail: start[: len(start) - 1] + tail, _valid_start,
              st.lists(_messages, max_size=3)),
    _valid_start,
    st.lists(st.binary(min_size=1, max_size=64), min_size=1, max_size=3),  # raw bytes
)  # fmt: skip


def test_random_message_sequences_never_crash_and_are_all_counted(collector):
    before = collector.samples()
    streams: list[int] = []

    @settings(
        max_examples=60,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(_sequences)
    def one(messages: list[Message]) -> None:
        send(collector.ext.grpc_port, messages)
        streams.append(len(messages))

    one()
    after = collector.wait_fates(before, len(streams))
    assert total(after, "collector_requests_total") > total(before, "collector_requests_total")
    assert dropped(before, after, "malformed") > 0
    collector.assert_alive()


def test_wrong_phase_order_and_garbage_bytes_are_malformed(collector):
    cases: list[list[Message]] = [
        [request_body(b"x")],  # body before headers
        [trailers(response=True)],
        [get_request("/order/b"), get_request("/order/b")],  # headers twice
        [get_request("/order/c"), response_body(b"x")],  # response body before headers
        [get_request("/order/d", eos=True), trailers(response=False)],  # trailers after the end
        [get_request("/order/e"), ok_response(), ok_response()],
        [get_request("/order/f"), response_headers([(":status", "abc")])],
        [get_request("/order/g"), response_headers([(":status", "42")])],
        [request_headers([(":method", "GET")])],  # no :path
        [protos.ProcessingRequest()],  # no phase at all
        [b"\xff\xff\xff\xff\xff"],  # not a protobuf
        [b"\x0a\xff\xff\xff\xff\x0f"],  # a length prefix past the end
    ]
    before = collector.samples()
    for messages in cases:
        send(collector.ext.grpc_port, messages)
    after = collector.wait_fates(before, len(cases))
    assert dropped(before, after, "malformed") == len(cases), counters(collector.ext)
    assert total(after, "collector_enqueued_total") == total(before, "collector_enqueued_total")
    # A response before any request is what Envoy sends for a head its codec refused.
    before = collector.samples()
    send(collector.ext.grpc_port, [ok_response(), get_request("/order/a")])
    after = collector.wait_fates(before, 1)
    assert dropped(before, after, "envoy_local_reply") == 1, counters(collector.ext)
    collector.assert_alive()


def test_header_values_that_are_not_utf8_are_counted_skips(collector):
    """A value left out gets its exchange no stub, counted by reason; a pseudo-header that
    is not UTF-8 leaves nothing to capture."""
    skips = {
        "request_header_undecodable": [
            [get_request("/utf8/a", ("x-note", b"caf\xe9")), ok_response(eos=True)],
            [get_request("/utf8/b", ("authorization", b"\xff\xfe\xfd")), ok_response(eos=True)],
        ],
        "response_header_undecodable": [
            [get_request("/utf8/c"), ok_response(("set-cookie", b"sid=\xc3\x28"), eos=True)],
        ],
    }
    malformed = [
        request_headers(
            [(":method", "GET"), (":path", b"/utf8/\xff"), (":authority", "f")], eos=True
        ),
        ok_response(eos=True),
    ]
    cases = [*(c for found in skips.values() for c in found), malformed]
    before = collector.samples()
    for messages in cases:
        send(collector.ext.grpc_port, messages)
    after = collector.wait_fates(before, len(cases))
    assert dropped(before, after, "malformed") == 1
    for reason, found in skips.items():
        was = by_label(before, "collector_stubs_skipped_total", "reason").get(reason, 0.0)
        now = by_label(after, "collector_stubs_skipped_total", "reason").get(reason, 0.0)
        assert now - was == len(found), reason
    assert total(after, "collector_enqueued_total") == total(before, "collector_enqueued_total")
    assert total(after, "collector_requests_total") - total(
        before, "collector_requests_total"
    ) == len(cases)
    collector.assert_alive()


def test_gigantic_headers_are_survived_and_counted(collector):
    many = [(f"x-h{n}", "v" * 90) for n in range(20_000)]  # ~2 MB of headers
    huge_value = ("x-huge", "h" * (8 * MIB))
    cases = [
        [get_request("/giant/many", *many), ok_response(eos=True)],
        [get_request("/giant/value", huge_value), ok_response(eos=True)],
        [get_request("/giant/response"), ok_response(*many, eos=True)],
        # Past the 16 MiB message limit: gRPC refuses it before the handler sees it.
        [get_request("/giant/limit", ("x-over", "o" * (17 * MIB)))],
    ]
    before = collector.samples()
    codes = [send(collector.ext.grpc_port, messages) for messages in cases]
    assert codes[:-1] == [grpc.StatusCode.OK] * 3
    # gRPC refuses the oversized message itself: the handler only sees the stream end,
    # exactly like a stream that never sent anything, so mockado has nothing to count.
    assert codes[-1] == grpc.StatusCode.RESOURCE_EXHAUSTED
    after = collector.wait_fates(before, len(cases) - 1)
    seen = total(after, "collector_requests_total") - total(before, "collector_requests_total")
    assert seen == len(cases) - 1
    collector.assert_alive()


def test_a_gzip_bomb_costs_no_more_than_the_decompression_limit(collector):
    bomb = gzip_bomb()
    assert len(bomb) < 1_100_000  # 1 GiB once inflated
    half = len(bomb) // 2
    messages = [
        get_request("/bomb", ("content-type", "text/plain"), ("content-encoding", "gzip"),
                    eos=False),
        request_body(bomb[:half], eos=False),
        request_body(bomb[half:], eos=True),
        ok_response(("content-type", "text/plain"), ("content-encoding", "gzip")),
        response_body(bomb[:half], eos=False),
        response_body(bomb[half:], eos=True),
    ]  # fmt: skip
    rss_before = psutil.Process(collector.pid).memory_info().rss
    before = collector.samples()
    # The largest body limit the control plane may ask for: the whole bomb is kept.
    send(collector.ext.grpc_port, messages, metadata=[("x-mockado-body-limit-bytes", str(MIB))])
    send(collector.ext.grpc_port, [*messages[:4], response_body(bomb, eos=True)])
    after = collector.wait_fates(before, 2)
    assert (
        total(after, "collector_truncated_total") - total(before, "collector_truncated_total") == 2
    )
    # Inflating 1 GiB would show; the limit (1 MiB) and the body limit bound it.
    grown = psutil.Process(collector.pid).memory_info().rss - rss_before
    assert grown < 200 * MIB, grown
    collector.assert_alive()


def test_bodies_declared_json_that_are_not_json_are_counted(collector):
    junk = [b'{"open": ', b"[1, 2,", b"\xff\xfe not utf8", b"<xml/>", b"{'single': 1}", b"NaN"]
    before = collector.samples()
    for n, body in enumerate(junk):
        send(
            collector.ext.grpc_port,
            [
                request_headers(
                    [(":method", "POST"), (":path", f"/json/{n}"), (":authority", "fuzz.test"),
                     ("content-type", "application/json"), ("content-length", str(len(body)))],
                ),
                request_body(body),
                ok_response(("content-type", "application/json")),
                response_body(body),
            ],
        )  # fmt: skip
    after = collector.wait_fates(before, len(junk))
    assert total(after, "collector_requests_total", method="POST", status="2xx") - total(
        before, "collector_requests_total", method="POST", status="2xx"
    ) == len(junk)
    collector.assert_alive()
