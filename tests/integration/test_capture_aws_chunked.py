"""S3 uploads sent ``aws-chunked``, through a real Envoy 1.40 and ``mockado ext-proc``,
replayed by a real WireMock 3.13.2.

The upstream gets each body as sent and the client the upstream's answer, whatever the
framing. A well-framed upload (botocore's, its checksum in a trailer; a SigV4 streaming
upload, a signature on each chunk) gets a stub that answers the same payload framed again
with other signatures and checksums, and nothing else. A payload that is not UTF-8 sent
unsigned gets a stub of the exact framed body (``binaryEqualTo``): the same bytes framed
with the same checksum algorithm, and nothing else. A body that does not frame exactly, or
``aws-chunked`` beside another coding, gets no stub and a counted
``request_content_encoding`` skip recorded for its host; a payload that is not UTF-8 in
signed chunks a counted ``request_body_signed_chunks`` one.
"""

from __future__ import annotations

import base64
import io

import pytest
from botocore.httpchecksum import AwsChunkedWrapper, Crc32Checksum, Sha256Checksum

from tests.support.ext_proc_rig import collector_settings, wait_for_stubs
from tests.support.raw_capture import capture_behind_envoy, import_into, raw_request
from tests.support.raw_upstream import RawAnswer, raw_upstream
from tests.support.skip_records import skip_record

pytestmark = pytest.mark.integration

NOTE = b"first note\n" * 3
CREATED = RawAnswer(200, (("ETag", '"5d41402abc4b2a76b9719d911017c592"'),), b"")


def trailer_framed(payload: bytes, *, sha256: bool = False) -> bytes:
    """``payload`` as botocore frames it: its CRC32 (or SHA-256) in a trailer."""
    checksum, name = (Sha256Checksum, "sha256") if sha256 else (Crc32Checksum, "crc32")
    wrapper = AwsChunkedWrapper(
        io.BytesIO(payload), checksum_cls=checksum, checksum_name=f"x-amz-checksum-{name}"
    )
    return wrapper.read()


def signed_framed(payload: bytes, signature: str) -> bytes:
    """``payload`` as a SigV4 streaming upload frames it: one chunk, then the last."""
    ext = f";chunk-signature={signature * 64}".encode()
    return b"%x%s\r\n%s\r\n0%s\r\n\r\n" % (len(payload), ext, payload, ext)


def headers(
    length: int, *, coding: str = "aws-chunked", mode: str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
) -> tuple[tuple[str, str], ...]:
    return (
        ("Content-Encoding", coding),
        ("x-amz-decoded-content-length", str(length)),
        ("x-amz-content-sha256", mode),
        ("x-amz-trailer", "x-amz-checksum-crc32"),
    )


# path -> (headers, body as recorded, the same payload framed again, another payload).
FRAMED = {
    "/b/trailer.txt": (headers(len(NOTE)), trailer_framed(NOTE),
                       trailer_framed(NOTE, sha256=True), trailer_framed(NOTE.upper())),
    "/b/signed.txt": (headers(len(NOTE)), signed_framed(NOTE, "a"), signed_framed(NOTE, "b"),
                      signed_framed(NOTE[::-1], "a")),
    "/b/empty.txt": (headers(0), trailer_framed(b""), trailer_framed(b"", sha256=True),
                     trailer_framed(b"x")),
}  # fmt: skip
# path -> (headers, body): no stub, a request_content_encoding skip.
MALFORMED = {
    "/b/hex.txt": (headers(len(NOTE)), b"2x\r\n" + NOTE + b"\r\n0\r\n\r\n"),
    "/b/longer.txt": (headers(len(NOTE)), b"20\r\n" + NOTE + b"\r\n0\r\n\r\n"),
    "/b/length.txt": (headers(len(NOTE) + 1), trailer_framed(NOTE)),
    "/b/cut.txt": (headers(len(NOTE)), trailer_framed(NOTE)[:-9]),
    "/b/gzip.txt": (headers(len(NOTE), coding="aws-chunked,gzip"), trailer_framed(NOTE)),
}
# A binary payload (no UTF-8: a regex cannot hold it) sent unsigned: a stub of the exact
# framed body, which the same bytes framed with another checksum algorithm miss.
BINARY = bytes(range(256))
BINARY_FRAMED = {
    "/b/binary.bin": (headers(len(BINARY)), trailer_framed(BINARY),
                      trailer_framed(BINARY, sha256=True), trailer_framed(BINARY[::-1])),
}  # fmt: skip
SIGNED_HEADERS = headers(len(BINARY), mode="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
# A binary payload in signed chunks: each upload signs them anew. No stub, a
# request_body_signed_chunks skip.
SIGNED_BINARY = {"/b/signed.bin": (SIGNED_HEADERS, signed_framed(BINARY, "a"))}


def test_aws_chunked_uploads_get_a_faithful_stub_or_a_counted_skip(
    redis_server, envoy_factory, ext_proc_factory, wiremock
) -> None:
    answered = FRAMED | BINARY_FRAMED
    sent = {path: (h, body) for path, (h, body, *_) in answered.items()} | MALFORMED | SIGNED_BINARY
    collector = collector_settings(redis_server.url)
    with raw_upstream(dict.fromkeys(sent, CREATED)) as port:
        ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, port)
        for path, (sent_headers, body) in sent.items():
            reply = raw_request(envoy.port, "PUT", path, headers=sent_headers, body=body)
            assert (reply.status, reply.body, reply.headers["etag"]) == (
                200, b"", CREATED.headers[0][1].encode()
            ), path  # fmt: skip
        skips = {"request_content_encoding": len(MALFORMED), "request_body_signed_chunks": 1}
        stubs = wait_for_stubs(ext, len(answered), skipped=skips, what="every upload decided")
    counts, _ = skip_record(redis_server.url, collector["redis_queue"])
    assert counts == skips
    assert sorted(m["request"]["urlPath"] for m in stubs) == sorted(answered)
    # No framing byte, signature or checksum is kept: the payload alone.
    text_stubs = [m for m in stubs if m["request"]["urlPath"] in FRAMED]
    recorded = repr(text_stubs)
    assert "chunk-signature" not in recorded and "x-amz-checksum" not in recorded
    # The binary one: the framed body's exact bytes, its checksum the payload's.
    (binary_stub,) = (m for m in stubs if m["request"]["urlPath"] in BINARY_FRAMED)
    assert binary_stub["request"]["bodyPatterns"] == [
        {"binaryEqualTo": base64.b64encode(trailer_framed(BINARY)).decode()}
    ]

    import_into(wiremock, stubs)
    for path, (sent_headers, body, again, other) in answered.items():
        # The same payload framed with another checksum: the same request for a regex; for a
        # binary stub, other bytes.
        again_answered = path not in BINARY_FRAMED
        for framed, matched in ((body, True), (again, again_answered), (other, False)):
            other_headers = sent_headers
            if not matched and path == "/b/empty.txt":
                other_headers = headers(1)
            reply = raw_request(wiremock.port, "PUT", path, headers=other_headers, body=framed)
            assert reply.status == (200 if matched else 404), (path, framed)
        # The payload sent plain is another request.
        payload = {"/b/empty.txt": b"", "/b/binary.bin": BINARY}.get(path, NOTE)
        assert raw_request(wiremock.port, "PUT", path, body=payload).status == 404, path
    for path, (sent_headers, body) in (MALFORMED | SIGNED_BINARY).items():
        reply = raw_request(wiremock.port, "PUT", path, headers=sent_headers, body=body)
        assert "matched-stub-id" not in reply.headers, path
        # WireMock gunzips a body whose Content-Encoding names gzip, framed or not, before
        # it matches one: the aws-chunked framing is no gzip stream, and it fails (500).
        assert reply.status == (500 if path == "/b/gzip.txt" else 404), path
    envoy.process.stop()
    assert ext.process.stop(timeout_s=20) == 0
