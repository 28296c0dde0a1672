"""S3 uploads sent ``aws-chunked``, through a real Envoy 1.40 and ``mockado ext-proc``,
replayed by a real WireMock 3.13.2 through mockado's launcher.

The upstream gets each body as sent and the client the upstream's answer, whatever the
framing. A well-framed upload (botocore's, its checksum in a trailer; a SigV4 streaming
upload, a signature on each chunk), text or binary, gets a stub matching its payload out of
the framing (the launcher's ``mockado-aws-chunked``): the same payload framed again with
other chunks, signatures and checksums, and nothing else. A body that does not frame
exactly, or ``aws-chunked`` beside another coding, gets no stub and a counted
``request_content_encoding`` skip recorded for its host. The framing sent without
``Content-Encoding: aws-chunked`` gets a stub matching the header absent, as sent. Stock
WireMock (no launcher) misses every one of them: it never answers another payload.
"""

from __future__ import annotations

import hashlib
import re

import pytest

from tests.support import aws_framing
from tests.support.ext_proc_rig import collector_settings, wait_for_stubs
from tests.support.raw_capture import capture_behind_envoy, import_into, raw_request
from tests.support.raw_upstream import RawAnswer, raw_upstream
from tests.support.skip_records import skip_record

pytestmark = pytest.mark.integration

NOTE = b"first note\n" * 3
CREATED = RawAnswer(200, (("ETag", '"5d41402abc4b2a76b9719d911017c592"'),), b"")


def trailer_framed(
    payload: bytes, *, sha256: bool = False, algorithm: str = "crc32", chunk_size: int | None = None
) -> bytes:
    """``payload`` as botocore frames it: its CRC32 (SHA-256, ``algorithm``) in a trailer,
    in chunks of ``chunk_size`` (botocore's 1 MiB when None)."""
    return aws_framing.botocore_framed(
        payload, "sha256" if sha256 else algorithm, chunk_size=chunk_size
    )


def signed_framed(payload: bytes, signature: str) -> bytes:
    """``payload`` as a SigV4 streaming upload frames it: one chunk, then the last."""
    return aws_framing.signed_framed(payload, signature * 64)


def headers(
    length: int,
    *,
    coding: str | None = "aws-chunked",
    mode: str = "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
    algorithm: str = "crc32",
) -> tuple[tuple[str, str], ...]:
    """An upload's headers; ``coding`` None: the framing sent without Content-Encoding."""
    sent = (
        ("x-amz-decoded-content-length", str(length)),
        ("x-amz-content-sha256", mode),
        ("x-amz-trailer", f"x-amz-checksum-{algorithm}"),
    )
    return sent if coding is None else (("Content-Encoding", coding), *sent)


# 200 KB of CSV, framed in 64 KiB chunks (the Rust and Go SDKs') and 128 KiB ones (the Java SDK
# v2's): its framed body needs a body limit over the default 8 KiB.
LARGE = b"".join(b"order-%06d,paid,%d.%02d\n" % (n, n % 997, n % 100) for n in range(8000))
BODY_LIMIT_BYTES = 1 << 20


# path -> (headers, body as recorded, the same payload framed again, another payload).
FRAMED = {
    "/b/trailer.txt": (headers(len(NOTE)), trailer_framed(NOTE),
                       trailer_framed(NOTE, sha256=True, chunk_size=7), trailer_framed(NOTE.upper())),
    "/b/signed.txt": (headers(len(NOTE)), signed_framed(NOTE, "a"), signed_framed(NOTE, "b"),
                      signed_framed(NOTE[::-1], "a")),
    "/b/empty.txt": (headers(0), trailer_framed(b""), trailer_framed(b"", sha256=True),
                     trailer_framed(b"x")),
    # In several chunks: the same payload in the other SDK's chunks is the same upload.
    "/b/large.csv": (headers(len(LARGE)), trailer_framed(LARGE, chunk_size=64 * 1024),
                     trailer_framed(LARGE, sha256=True, chunk_size=128 * 1024),
                     trailer_framed(LARGE.replace(b"paid", b"void", 1), chunk_size=64 * 1024)),
    # Without Content-Encoding: aws-chunked, which S3 takes.
    "/b/unlabelled.txt": (headers(len(NOTE), coding=None), trailer_framed(NOTE),
                          trailer_framed(NOTE, sha256=True, chunk_size=7), trailer_framed(NOTE.upper())),
}  # fmt: skip
# path -> (headers, body): no stub, a request_content_encoding skip.
MALFORMED = {
    "/b/hex.txt": (headers(len(NOTE)), b"2x\r\n" + NOTE + b"\r\n0\r\n\r\n"),
    "/b/longer.txt": (headers(len(NOTE)), b"20\r\n" + NOTE + b"\r\n0\r\n\r\n"),
    "/b/length.txt": (headers(len(NOTE) + 1), trailer_framed(NOTE)),
    "/b/cut.txt": (headers(len(NOTE)), trailer_framed(NOTE)[:-9]),
    "/b/gzip.txt": (headers(len(NOTE), coding="aws-chunked,gzip"), trailer_framed(NOTE)),
}
# A binary payload (no UTF-8): matched by its digest, whatever the checksum in the trailer.
BINARY = bytes(range(256))
BINARY_FRAMED = {
    "/b/binary.bin": (headers(len(BINARY)), trailer_framed(BINARY),
                      trailer_framed(BINARY, sha256=True, chunk_size=100), trailer_framed(BINARY[::-1])),
    # Every checksum botocore sends in a trailer is computed again (two of them here).
    **{f"/b/binary-{algorithm}.bin": (
        headers(len(BINARY), algorithm=algorithm), trailer_framed(BINARY, algorithm=algorithm),
        trailer_framed(BINARY, sha256=True), trailer_framed(BINARY[::-1], algorithm=algorithm),
    ) for algorithm in ("sha512", "xxhash128")},
    "/b/unlabelled.bin": (headers(len(BINARY), coding=None), trailer_framed(BINARY),
                          trailer_framed(BINARY, sha256=True, chunk_size=100), trailer_framed(BINARY[::-1])),
}  # fmt: skip
SIGNED_HEADERS = headers(len(BINARY), mode="STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
# A binary payload in signed chunks: each upload signs them anew, which the launcher does not
# read (before, no stub: a request_body_signed_chunks skip).
SIGNED_BINARY = {
    "/b/signed.bin": (SIGNED_HEADERS, signed_framed(BINARY, "a"),
                      aws_framing.signed_framed(BINARY, "b" * 64, chunk_size=100),
                      signed_framed(BINARY[::-1], "a")),
}  # fmt: skip


def test_aws_chunked_uploads_get_a_faithful_stub_or_a_counted_skip(
    redis_server, envoy_factory, ext_proc_factory, wiremock_factory
) -> None:
    answered = FRAMED | BINARY_FRAMED | SIGNED_BINARY
    sent = {path: (h, body) for path, (h, body, *_) in answered.items()} | MALFORMED
    collector = collector_settings(redis_server.url, body_limit_bytes=BODY_LIMIT_BYTES)
    with raw_upstream(dict.fromkeys(sent, CREATED)) as port:
        ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, port)
        for path, (sent_headers, body) in sent.items():
            reply = raw_request(envoy.port, "PUT", path, headers=sent_headers, body=body)
            assert (reply.status, reply.body, reply.headers["etag"]) == (
                200, b"", CREATED.headers[0][1].encode()
            ), path  # fmt: skip
        skips = {"request_content_encoding": len(MALFORMED)}
        stubs = wait_for_stubs(ext, len(answered), skipped=skips, what="every upload decided")
    counts, _ = skip_record(redis_server.url, collector["redis_queue"])
    assert counts == skips
    assert sorted(m["request"]["urlPath"] for m in stubs) == sorted(answered)
    # No framing byte, signature or trailer line is kept: the payload alone (the trailer
    # header that names the checksum asked for is matched as sent).
    text_stubs = [m for m in stubs if m["request"]["urlPath"] in FRAMED]
    recorded = repr(text_stubs)
    assert "chunk-signature" not in recorded
    assert re.search(r"x-amz-checksum-[a-z0-9]+:", recorded) is None
    assert all(
        m["request"]["headers"]["x-amz-trailer"]["equalTo"].startswith("x-amz-checksum-")
        for m in text_stubs
    )
    check_binary_and_unlabelled_stubs(stubs)

    check_replays(wiremock_factory(indexed=True), stubs, answered)
    # Stock WireMock knows no launcher matcher: every upload a miss, none answered.
    stock = wiremock_factory(indexed=False)
    import_into(stock, stubs)
    for path, (sent_headers, body, again, _) in answered.items():
        for framed in (body, again):
            reply = raw_request(stock.port, "PUT", path, headers=sent_headers, body=framed)
            assert (reply.status, "matched-stub-id" in reply.headers) == (404, False), path
    envoy.process.stop()
    assert ext.process.stop(timeout_s=20) == 0


def check_replays(wiremock, stubs: list[dict], answered: dict) -> None:
    """Each upload's stub answers its payload framed again (other chunks, signatures and
    checksums), and 404s another payload, the payload sent plain, the body labelled
    otherwise, and the bodies that do not frame."""
    import_into(wiremock, stubs)
    for path, (sent_headers, body, again, other) in answered.items():
        for framed, matched in ((body, True), (again, True), (other, False)):
            other_headers = sent_headers
            if not matched and path == "/b/empty.txt":
                other_headers = headers(1)
            reply = raw_request(wiremock.port, "PUT", path, headers=other_headers, body=framed)
            assert reply.status == (200 if matched else 404), (path, framed)
        # The payload sent plain is another request; so is the same body labelled otherwise.
        payload = {"/b/empty.txt": b"", "/b/large.csv": LARGE}.get(path, NOTE)
        payload = BINARY if path in BINARY_FRAMED | SIGNED_BINARY else payload
        assert raw_request(wiremock.port, "PUT", path, body=payload).status == 404, path
        relabelled = dict(sent_headers)
        if relabelled.pop("Content-Encoding", None) is None:
            relabelled["Content-Encoding"] = "aws-chunked"
        reply = raw_request(
            wiremock.port, "PUT", path, headers=tuple(relabelled.items()), body=body
        )
        assert reply.status == 404, path
    for path, (sent_headers, body) in MALFORMED.items():
        reply = raw_request(wiremock.port, "PUT", path, headers=sent_headers, body=body)
        assert "matched-stub-id" not in reply.headers, path
        # WireMock gunzips a body whose Content-Encoding names gzip, framed or not, before
        # it matches one: the aws-chunked framing is no gzip stream, and it fails (500).
        assert reply.status == (500 if path == "/b/gzip.txt" else 404), path


def check_binary_and_unlabelled_stubs(stubs: list[dict]) -> None:
    """A binary payload's stub is the launcher's matcher of its digest, no body pattern;
    one sent without Content-Encoding is matched so."""
    binary = BINARY_FRAMED | SIGNED_BINARY
    binary_stubs = {m["request"]["urlPath"]: m for m in stubs if m["request"]["urlPath"] in binary}
    assert binary_stubs.keys() == binary.keys()
    for path in binary:
        request = binary_stubs[path]["request"]
        assert "bodyPatterns" not in request, path
        assert request["customMatcher"] == {
            "name": "mockado-aws-chunked",
            "parameters": {"sha256": hashlib.sha256(BINARY).hexdigest()},
        }, path
    # Sent without Content-Encoding: matched so (the same upload sent with it is another).
    for path in ("/b/unlabelled.txt", "/b/unlabelled.bin"):
        (stub,) = (m for m in stubs if m["request"]["urlPath"] == path)
        assert stub["request"]["headers"]["content-encoding"] == {"absent": True}, path
