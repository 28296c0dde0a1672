"""mockado's launcher matches an S3 upload sent ``aws-chunked`` on its payload, whatever the
chunks: stubs written by mapping for recorded uploads, served by a real WireMock 3.13.2
through the launcher, replayed with bodies framed by botocore's own ``AwsChunkedWrapper``
and as SigV4 streaming uploads sign them (``tests/support/aws_framing.py``).

Before, a binary payload was matched as the bytes of its framing built again in one chunk
(``binaryEqualTo``), signed chunks got no stub, and a text payload holding a dynamic value
matched in one chunk only: each of these replays was a miss. Stock WireMock (no launcher)
misses them all, never answering another payload.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest

from ext_proc_server.core.exchange import HttpResponse
from tests.support import aws_framing
from tests.support.raw_capture import import_into, raw_request
from tests.unit.mapping.mapping_helpers import build, make_exchange

pytestmark = pytest.mark.integration

# 300,000 bytes that are no UTF-8 (a parquet or gzip file): 2 to 5 chunks of the sizes below.
BINARY = b"\x1f\x8b\x08\x00" + hashlib.shake_256(b"parquet").digest(300_000 - 4)
# Chunk sizes BINARY is framed in 2, 3 (the Java SDK v2's 128 KiB), 3, 4 and 5 chunks (the
# Rust and Go SDKs' 64 KiB) of.
CHUNK_SIZES = (150_000, 128 * 1024, 100_000, 75_000, 64 * 1024)
# A text payload in several chunks holding a request id, new on every upload.
CSV = b"".join(b"order-%06d,paid,%d.%02d\n" % (n, n % 997, n % 100) for n in range(6000))
HOST = "shop.svc:8080"  # the recording's (make_exchange's)
SIGNATURE = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"


def with_request_id(request_id: str) -> bytes:
    return CSV + f"request-id,{request_id}\n".encode() + CSV[:9000]


def recorded_stub(path: str, payload: bytes, mode: str) -> dict[str, Any]:
    """The stub mapping writes for an upload of ``payload`` sent aws-chunked (the capture
    keeps the payload alone)."""
    exchange = make_exchange(
        method="PUT",
        path=path,
        headers=upload_headers(len(payload), mode),
        body=payload,
        response=HttpResponse(
            status=200, headers=(("etag", '"5d41402abc4b2a76b9719d911017c592"'),)
        ),
    )
    mapping = build(exchange)
    assert mapping is not None, path
    return mapping


def upload_headers(length: int, mode: str) -> tuple[tuple[str, str], ...]:
    return (
        ("Content-Type", "application/octet-stream"),
        ("Content-Encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", str(length)),
        ("x-amz-content-sha256", mode),
        ("x-amz-trailer", "x-amz-checksum-crc32"),
    )


UNSIGNED = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STUBS = (
    ("/bucket/unsigned.bin", BINARY, UNSIGNED),
    ("/bucket/signed.bin", BINARY, SIGNED),
    ("/bucket/export.csv", with_request_id(str(uuid.uuid4())), UNSIGNED),
)


@pytest.fixture(scope="module")
def stubs() -> list[dict[str, Any]]:
    return [recorded_stub(path, payload, mode) for path, payload, mode in STUBS]


def put(server: Any, path: str, body: bytes, length: int, mode: str = UNSIGNED) -> int:
    return raw_put(server, path, body, length, mode).status


def raw_put(server: Any, path: str, body: bytes, length: int, mode: str = UNSIGNED) -> Any:
    """The upload as sent to the recorded Service (its Host and port)."""
    return raw_request(
        server.port, "PUT", path, headers=upload_headers(length, mode), body=body, host=HOST
    )


def test_a_binary_payload_in_several_chunks_matches_whatever_their_size(
    wiremock_factory, stubs
) -> None:
    launcher = wiremock_factory(indexed=True)
    import_into(launcher, stubs)
    other = BINARY[:-1] + b"\x00"  # the same length
    for chunk_size in CHUNK_SIZES:
        for algorithm in ("crc32", "crc64nvme", "sha256"):
            framed = aws_framing.botocore_framed(BINARY, algorithm, chunk_size=chunk_size)
            assert put(launcher, "/bucket/unsigned.bin", framed, len(BINARY)) == 200, chunk_size
            framed = aws_framing.botocore_framed(other, algorithm, chunk_size=chunk_size)
            assert put(launcher, "/bucket/unsigned.bin", framed, len(BINARY)) == 404, chunk_size
        signed = aws_framing.signed_framed(BINARY, SIGNATURE, chunk_size=chunk_size)
        assert put(launcher, "/bucket/signed.bin", signed, len(BINARY), SIGNED) == 200, chunk_size
        resigned = aws_framing.signed_framed(other, "0" * 64, chunk_size=chunk_size)
        assert put(launcher, "/bucket/signed.bin", resigned, len(BINARY), SIGNED) == 404
    # A body that frames no payload exactly: a miss, not a guess.
    framed = aws_framing.botocore_framed(BINARY, chunk_size=64 * 1024)
    assert put(launcher, "/bucket/unsigned.bin", framed[:-2], len(BINARY)) == 404
    assert put(launcher, "/bucket/unsigned.bin", framed + b"\r\n", len(BINARY)) == 404
    assert put(launcher, "/bucket/unsigned.bin", framed.replace(b"10000\r\n", b"fffe\r\n", 1),
               len(BINARY)) == 404  # fmt: skip


def test_a_text_payload_with_a_fresh_request_id_matches_in_several_chunks(
    wiremock_factory, stubs
) -> None:
    launcher = wiremock_factory(indexed=True)
    import_into(launcher, stubs)
    replayed = with_request_id(str(uuid.uuid4()))
    assert replayed != STUBS[2][1]
    for chunk_size in (64 * 1024, 128 * 1024, 50_000, 1 << 20):
        framed = aws_framing.botocore_framed(replayed, "sha256", chunk_size=chunk_size)
        assert put(launcher, "/bucket/export.csv", framed, len(replayed)) == 200, chunk_size
        changed = replayed.replace(b"paid", b"void", 1)
        framed = aws_framing.botocore_framed(changed, chunk_size=chunk_size)
        assert put(launcher, "/bucket/export.csv", framed, len(replayed)) == 404, chunk_size


def test_stock_wiremock_misses_every_framed_upload(wiremock_factory, stubs) -> None:
    """Stock WireMock knows no ``mockado-aws-chunked`` matcher: a clear miss."""
    stock = wiremock_factory(indexed=False)
    import_into(stock, stubs)
    for path, payload, mode in STUBS:
        if mode == SIGNED:
            framed = aws_framing.signed_framed(payload, SIGNATURE)
        else:
            framed = aws_framing.botocore_framed(payload)
        reply = raw_put(stock, path, framed, len(payload), mode)
        assert (reply.status, "matched-stub-id" in reply.headers) == (404, False), path
