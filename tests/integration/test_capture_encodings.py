"""Content-Encoding, as upstreams really send it, through a real Envoy 1.40 and ``mockado
ext-proc``, replayed by a real WireMock 3.13.2.

Whatever the coding says, the client gets the upstream's bytes untouched. The capture
decodes gzip (stacked, concatenated members, any case), deflate (zlib-wrapped or raw)
and br, and the stub serves the decoded body; a body it cannot decode (zstd, an unknown
coding, plain bytes said to be gzip, a stream cut short or followed by garbage, more
than 5 codings) gets no stub, a counted ``response_content_encoding`` skip recorded for
its host: never a wrongly decoded body, never the compressed bytes. A compression bomb
costs no more than ``collector.max_decompressed_bytes`` and is counted as
``decoded_too_large``. A request body gets a stub only in a coding WireMock undoes
before matching (a single gzip).
"""

from __future__ import annotations

import gzip
import zlib

import brotli
import psutil
import pytest

from tests.support.compression_bombs import gzip_bomb
from tests.support.ext_proc_rig import collector_settings, counters, wait_for_stubs, wait_until
from tests.support.raw_capture import capture_behind_envoy, import_into, raw_request
from tests.support.raw_upstream import RawAnswer, raw_upstream
from tests.support.skip_records import skip_record

pytestmark = pytest.mark.integration

MIB = 1 << 20
# Nothing personal in it: the stub serves it as recorded.
PLAIN = b'{"items":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}],"total":3}'
JSON = ("Content-Type", "application/json")


def encoded(coding: str, body: bytes) -> RawAnswer:
    return RawAnswer(200, (JSON, ("Content-Encoding", coding)), body)


def zstd_frame(content: bytes) -> bytes:
    """A valid zstd frame (RFC 8878) holding ``content`` in one raw block."""
    assert len(content) < 256
    block_header = (1 | len(content) << 3).to_bytes(3, "little")  # last block, raw
    return b"\x28\xb5\x2f\xfd" + bytes([0x20, len(content)]) + block_header + content


def raw_deflate(body: bytes) -> bytes:
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(body) + compressor.flush()


def layered(layers: int) -> bytes:
    body = PLAIN
    for _ in range(layers):
        body = gzip.compress(body, 1)
    return body


GZ = gzip.compress(PLAIN)
DECODED = {
    "/gzip": encoded("gzip", GZ),
    "/gzip-upper": encoded("GZIP", GZ),
    "/x-gzip": encoded("x-gzip", GZ),
    "/gzip-stacked": encoded("gzip, gzip", gzip.compress(GZ)),
    "/gzip-members": encoded("gzip", gzip.compress(PLAIN[:20]) + gzip.compress(PLAIN[20:])),
    "/deflate-zlib": encoded("deflate", zlib.compress(PLAIN)),
    "/deflate-raw": encoded("deflate", raw_deflate(PLAIN)),
    "/br": encoded("br", brotli.compress(PLAIN)),
    "/gzip-then-br": encoded("gzip, br", brotli.compress(GZ)),
    "/identity": encoded("identity", PLAIN),
}
UNDECODABLE = {
    "/zstd": encoded("zstd", zstd_frame(PLAIN)),
    "/unknown": encoded("x-snappy", PLAIN),
    "/plain-said-gzip": encoded("gzip", PLAIN),
    "/gzip-cut": encoded("gzip", GZ[: len(GZ) // 2]),
    "/gzip-trailing-garbage": encoded("gzip", GZ + b"<html>oops</html>"),
    "/br-said-gzip": encoded("gzip", brotli.compress(PLAIN)),
    "/stacked-once": encoded("gzip, gzip", GZ),
    # Each layer a decompression on the collector's event loop: past 5, none is tried.
    "/gzip-300-layers": encoded(", ".join(["gzip"] * 300), layered(300)),
}


def test_each_coding_reaches_the_client_untouched_and_gets_a_faithful_stub_or_a_counted_skip(
    redis_server, envoy_factory, ext_proc_factory, wiremock
) -> None:
    collector = collector_settings(redis_server.url)
    answers = DECODED | UNDECODABLE
    with raw_upstream(answers) as port:
        ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, port)
        for path, answer in answers.items():
            reply = raw_request(envoy.port, "GET", path, headers=(("Accept-Encoding", "*"),))
            assert (reply.status, reply.body) == (200, answer.body), path
            assert (
                reply.headers["content-encoding"]
                == dict(answer.headers)["Content-Encoding"].encode()
            ), path
        wait_for_stubs(
            ext,
            len(DECODED),
            skipped={"response_content_encoding": len(UNDECODABLE)},
            what="every exchange decided",
        )
    counts, recent = skip_record(redis_server.url, collector["redis_queue"])
    assert counts == {"response_content_encoding": len(UNDECODABLE)}
    assert sorted(recent) == sorted(f"response_content_encoding GET {p}" for p in UNDECODABLE)

    stubs = ext.captured()
    assert sorted(m["request"]["urlPath"] for m in stubs) == sorted(DECODED)
    import_into(wiremock, stubs)
    for path in DECODED:
        served = raw_request(wiremock.port, "GET", path)
        assert (served.status, served.body) == (200, PLAIN), path
        # The served body is the decoded one: no coding left to claim otherwise.
        assert served.headers.get("content-encoding", b"identity") == b"identity", path
    for path in UNDECODABLE:
        assert raw_request(wiremock.port, "GET", path).status == 404, path
    envoy.process.stop()
    assert ext.process.stop(timeout_s=20) == 0


def test_compression_bombs_cost_no_more_than_the_decompression_limit(
    redis_server, envoy_factory, ext_proc_factory
) -> None:
    """1 GiB of zeros in a few KiB (gzip twice, or br): the client gets the bytes as
    sent, the capture decodes at most ``max_decompressed_bytes`` of it, writes no stub,
    and counts each."""
    stacked = gzip.compress(gzip_bomb(1 << 30, fill=b"\0"), 9)
    assert len(stacked) < 8 * 1024  # within the default body limit: nothing cut on the wire
    bombs = {
        "/bomb-gzip-gzip": encoded("gzip, gzip", stacked),
        "/bomb-br": encoded("br", brotli.compress(bytes(1 << 30), quality=5)),
    }
    collector = collector_settings(redis_server.url)
    with raw_upstream(bombs) as port:
        ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, port)
        rss_before = psutil.Process(ext.process.pid).memory_info().rss
        for round_ in range(3):
            for path, answer in bombs.items():
                reply = raw_request(envoy.port, "GET", f"{path}?round={round_}")
                assert (reply.status, reply.body) == (200, answer.body), path
        wait_until(
            lambda: (
                ext.metric("collector_requests_total", method="GET", status="2xx") == 6
                and ext.metric("collector_queue_size") == 0
            ),
            what="every bomb seen",
            explain=lambda: counters(ext),
        )
        grown = psutil.Process(ext.process.pid).memory_info().rss - rss_before
        assert grown < 64 * MIB, grown
    assert ext.captured() == []
    assert ext.metric("collector_stubs_skipped_total", reason="response_decoded_too_large") == 6
    envoy.process.stop()
    assert ext.process.stop(timeout_s=20) == 0


ORDER = b'{"order":{"sku":"A-1","qty":2}}'
# Request codings: WireMock undoes a single gzip before matching a body, nothing else.
MATCHED = {
    "/orders/gzip": ("gzip", gzip.compress(ORDER)),
    "/orders/gzip-upper": ("GZIP", gzip.compress(ORDER)),
    "/orders/x-gzip": ("x-gzip", gzip.compress(ORDER)),
    "/orders/identity": ("identity", ORDER),
}
UNMATCHABLE = {
    "/orders/br": ("br", brotli.compress(ORDER)),
    "/orders/deflate": ("deflate", zlib.compress(ORDER)),
    "/orders/deflate-raw": ("deflate", raw_deflate(ORDER)),
    "/orders/gzip-twice": ("gzip, gzip", gzip.compress(gzip.compress(ORDER))),
}
CREATED = RawAnswer(201, (JSON,), b'{"id":7}')


def test_a_compressed_request_body_gets_a_stub_only_when_wiremock_can_match_it(
    redis_server, envoy_factory, ext_proc_factory, wiremock
) -> None:
    """A stub matching the decoded body of a br or deflate request would never match:
    WireMock compares the bytes as sent. Such a request gets no stub, a counted
    ``request_content_encoding`` skip, and the replayed client a clear miss."""
    requests = MATCHED | UNMATCHABLE
    collector = collector_settings(redis_server.url)
    with raw_upstream(dict.fromkeys(requests, CREATED)) as port:
        ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, port)

        def post(port: int, path: str):
            coding, body = requests[path]
            headers = (JSON, ("Content-Encoding", coding))
            return raw_request(port, "POST", path, headers=headers, body=body)

        for path in requests:
            reply = post(envoy.port, path)
            assert (reply.status, reply.body) == (201, CREATED.body), path  # untouched
        wait_for_stubs(
            ext,
            len(MATCHED),
            skipped={"request_content_encoding": len(UNMATCHABLE)},
            what="every request decided",
        )
    counts, recent = skip_record(redis_server.url, collector["redis_queue"])
    assert counts == {"request_content_encoding": len(UNMATCHABLE)}
    assert sorted(recent) == sorted(f"request_content_encoding POST {p}" for p in UNMATCHABLE)
    import_into(wiremock, ext.captured())
    for path in MATCHED:
        served = post(wiremock.port, path)
        assert (served.status, served.body) == (201, CREATED.body), path
    for path in UNMATCHABLE:
        assert post(wiremock.port, path).status == 404, path
    envoy.process.stop()
    assert ext.process.stop(timeout_s=20) == 0
