"""S3 uploads sent ``aws-chunked``, through a real Envoy 1.40 and ``mockado ext-proc``,
replayed by a real WireMock 3.13.2.

The upstream gets each body as sent and the client the upstream's answer, whatever the
framing. A well-framed upload (botocore's, its checksum in a trailer; a SigV4 streaming
upload, a signature on each chunk) gets a stub that answers the same payload framed again
with other signatures and checksums, and nothing else. A body that does not frame exactly,
or ``aws-chunked`` beside another coding, gets no stub and a counted
``request_content_encoding`` skip recorded for its host; a payload that is not UTF-8 a
counted ``request_body_unmatchable`` one.
"""

from __future__ import annotations

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


def headers(length: int, *, coding: str = "aws-chunked") -> tuple[tuple[str, str], ...]:
    return (
        ("Content-Encoding", coding),
        ("x-amz-decoded-content-length", str(length)),
        ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
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
BINARY = bytes(range(256))
UNMATCHABLE = {"/b/binary.bin": (headers(len(BINARY)), trailer_framed(BINARY))}


def test_aws_chunked_uploads_get_a_faithful_stub_or_a_counted_skip(
    redis_server, envoy_factory, ext_proc_factory, wiremock
) -> None:
    sent = {path: (h, body) for path, (h, body, *_) in FRAMED.items()} | MALFORMED | UNMATCHABLE
    collector = collector_settings(redis_server.url)
    with raw_upstream(dict.fromkeys(sent, CREATED)) as port:
        ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, port)
        for path, (sent_headers, body) in sent.items():
            reply = raw_request(envoy.port, "PUT", path, headers=sent_headers, body=body)
            assert (reply.status, reply.body, reply.headers["etag"]) == (
                200, b"", CREATED.headers[0][1].encode()
            ), path  # fmt: skip
        stubs = wait_for_stubs(
            ext,
            len(FRAMED),
            skipped={"request_content_encoding": len(MALFORMED), "request_body_unmatchable": 1},
            what="every upload decided",
        )
    counts, _ = skip_record(redis_server.url, collector["redis_queue"])
    assert counts == {"request_content_encoding": len(MALFORMED), "request_body_unmatchable": 1}
    assert sorted(m["request"]["urlPath"] for m in stubs) == sorted(FRAMED)
    # No framing byte, signature or checksum is kept: the payload alone.
    recorded = repr(stubs)
    assert "chunk-signature" not in recorded and "x-amz-checksum" not in recorded

    import_into(wiremock, stubs)
    for path, (sent_headers, body, again, other) in FRAMED.items():
        for framed, answered in ((body, True), (again, True), (other, False)):
            other_headers = sent_headers
            if not answered and path == "/b/empty.txt":
                other_headers = headers(1)
            reply = raw_request(wiremock.port, "PUT", path, headers=other_headers, body=framed)
            assert reply.status == (200 if answered else 404), (path, framed)
        # The payload sent plain is another request.
        payload = NOTE if path != "/b/empty.txt" else b""
        assert raw_request(wiremock.port, "PUT", path, body=payload).status == 404, path
    for path, (sent_headers, body) in (MALFORMED | UNMATCHABLE).items():
        reply = raw_request(wiremock.port, "PUT", path, headers=sent_headers, body=body)
        assert "matched-stub-id" not in reply.headers, path
        # WireMock gunzips a body whose Content-Encoding names gzip, framed or not, before
        # it matches one: the aws-chunked framing is no gzip stream, and it fails (500).
        assert reply.status == (500 if path == "/b/gzip.txt" else 404), path
    envoy.process.stop()
    assert ext.process.stop(timeout_s=20) == 0
