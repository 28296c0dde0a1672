"""S3's aws-chunked request bodies: the payload kept, anything malformed a counted drop."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.capture.bodies import decode_content
from ext_proc_server.mapping.faithful import skip_reason
from tests.support.aws_framing import botocore_framed
from tests.unit.capture.stream_helpers import req_body, req_headers, resp_headers, run

PAYLOAD = b"first note\n" * 3
MAX_BYTES = 1 << 20
SIGNATURE = "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"


def signed_framed(chunks: list[bytes], trailers: list[bytes] = ()) -> bytes:
    """``chunks`` as a SigV4 streaming upload frames them: each with its signature."""
    ext = f";chunk-signature={SIGNATURE}".encode()
    framed = b"".join(b"%x%s\r\n%s\r\n" % (len(c), ext, c) for c in chunks)
    return framed + b"0" + ext + b"\r\n" + b"".join(t + b"\r\n" for t in trailers) + b"\r\n"


def decode(body: bytes, length: int | str | None, **kwargs):
    declared = None if length is None else str(length)
    return decode_content(
        body, codings=["aws-chunked"], max_bytes=MAX_BYTES, aws_decoded_length=declared, **kwargs
    )


@pytest.mark.parametrize(
    "framed",
    [
        botocore_framed(PAYLOAD),
        botocore_framed(PAYLOAD, chunk_size=7),
        signed_framed([PAYLOAD]),
        signed_framed([PAYLOAD[:8], PAYLOAD[8:]], [b"x-amz-checksum-crc32:sOO8/Q=="]),
        signed_framed(
            [PAYLOAD],
            [b"x-amz-checksum-sha256:abc=", b"x-amz-trailer-signature:" + SIGNATURE.encode()],
        ),
    ],
    ids=["botocore", "botocore-7-byte-chunks", "signed", "signed-trailer", "signed-trailers"],
)
def test_the_payload_is_the_data_of_the_chunks_joined(framed):
    out = decode(framed, len(PAYLOAD))
    assert (out.body, out.truncated, out.dropped) == (PAYLOAD, False, "")


@pytest.mark.parametrize(
    ("framed", "length"),
    [
        (b"zz\r\n" + PAYLOAD + b"\r\n0\r\n\r\n", len(PAYLOAD)),  # a size that is not hex
        (b"-21\r\n" + PAYLOAD + b"\r\n0\r\n\r\n", len(PAYLOAD)),  # a sign
        (b" 21\r\n" + PAYLOAD + b"\r\n0\r\n\r\n", len(PAYLOAD)),  # a space
        (b"\r\n" + PAYLOAD + b"\r\n0\r\n\r\n", len(PAYLOAD)),  # no size
        (b"21" * 20 + b"\r\n" + PAYLOAD + b"\r\n0\r\n\r\n", len(PAYLOAD)),  # 40 hex digits
        (b"20\r\n" + PAYLOAD + b"\r\n0\r\n\r\n", len(PAYLOAD)),  # the chunk is longer
        (b"22\r\n" + PAYLOAD + b"\r\n0\r\n\r\n", len(PAYLOAD)),  # the chunk is shorter
        (b"21\n" + PAYLOAD + b"\n0\n\n", len(PAYLOAD)),  # bare line feeds
        (botocore_framed(PAYLOAD), len(PAYLOAD) - 1),  # another length declared
        (botocore_framed(PAYLOAD), len(PAYLOAD) + 1),
        (botocore_framed(PAYLOAD), None),  # no x-amz-decoded-content-length
        (botocore_framed(PAYLOAD), "33 bytes"),
        (botocore_framed(PAYLOAD), "+33"),
        (botocore_framed(PAYLOAD), "3_3"),
        (botocore_framed(PAYLOAD)[:-2], len(PAYLOAD)),  # no empty line after the trailers
        (botocore_framed(PAYLOAD)[:-10], len(PAYLOAD)),  # stops inside the trailer
        (botocore_framed(PAYLOAD)[:20], len(PAYLOAD)),  # stops inside the data
        (botocore_framed(PAYLOAD) + b"0\r\n\r\n", len(PAYLOAD)),  # more after the end
        (botocore_framed(PAYLOAD) + b"\r\n", len(PAYLOAD)),
        (b"21\r\n" + PAYLOAD + b"\r\n0\r\nno colon\r\n\r\n", len(PAYLOAD)),  # a bad trailer
        (b"21\r\n" + PAYLOAD + b"\r\n0\r\nx-a:\x00\r\n\r\n", len(PAYLOAD)),
        (b"21;\r\n" + PAYLOAD + b"\r\n0\r\n\r\n", len(PAYLOAD)),  # an empty extension
        (b"21;a b\r\n" + PAYLOAD + b"\r\n0\r\n\r\n", len(PAYLOAD)),
        (b"21\r\n" + PAYLOAD + b"\r\n", len(PAYLOAD)),  # no last chunk
        (b"1\r\na\r\n" * 1025 + b"0\r\n\r\n", 1025),  # more chunks than an upload sends
        (PAYLOAD, len(PAYLOAD)),  # plain bytes said to be framed
    ],
)
def test_a_body_that_does_not_frame_exactly_is_dropped(framed, length):
    """Never a payload read in part or with framing left in it: no stub at all."""
    out = decode(framed, length)
    assert (out.body, out.dropped) == (b"", "content_encoding")


@pytest.mark.parametrize("codings", [["aws-chunked", "gzip"], ["gzip", "aws-chunked"]])
def test_aws_chunked_with_another_coding_is_dropped(codings):
    """S3 lists aws-chunked first though it frames the other coding, which WireMock would
    not undo either: no payload a stub could match."""
    out = decode_content(
        botocore_framed(PAYLOAD),
        codings=codings,
        max_bytes=MAX_BYTES,
        aws_decoded_length=str(len(PAYLOAD)),
    )
    assert (out.body, out.dropped) == (b"", "content_encoding")


def test_a_payload_past_the_decoded_cap_is_dropped():
    out = decode_content(
        botocore_framed(PAYLOAD),
        codings=["aws-chunked"],
        max_bytes=len(PAYLOAD) - 1,
        aws_decoded_length=str(len(PAYLOAD)),
    )
    assert (out.body, out.dropped) == (b"", "decoded_too_large")


payloads = st.binary(max_size=3000)
trailer_lines = st.lists(
    st.from_regex(rb"x-amz-[a-z0-9-]{1,20}:[ -~]{0,40}", fullmatch=True), max_size=3
)
extensions = st.sampled_from([b"", b";chunk-signature=" + SIGNATURE.encode(), b";a=b;c"])


@st.composite
def framed_payloads(draw) -> tuple[bytes, bytes]:
    """-> (payload, the payload framed in random chunk sizes, extensions and trailers)."""
    payload = draw(payloads)
    cuts = sorted(draw(st.lists(st.integers(0, len(payload)), max_size=20)))
    chunks = [payload[a:b] for a, b in zip([0, *cuts], [*cuts, len(payload)], strict=True)]
    framed = b""
    for chunk in filter(None, chunks):  # an empty chunk would be the last
        size = b"%x" % len(chunk)
        framed += (size.upper() if draw(st.booleans()) else size) + draw(extensions) + b"\r\n"
        framed += chunk + b"\r\n"
    framed += b"0" + draw(extensions) + b"\r\n"
    framed += b"".join(line + b"\r\n" for line in draw(trailer_lines)) + b"\r\n"
    return payload, framed


@settings(max_examples=300, deadline=None)
@given(framed_payloads())
def test_any_framing_gives_back_the_payload(case):
    payload, framed = case
    out = decode(framed, len(payload))
    assert (out.body, out.truncated, out.dropped) == (payload, False, "")


@settings(max_examples=200, deadline=None)
@given(payloads, st.integers(1, 64))
def test_botocores_framing_gives_back_the_payload(payload, chunk_size):
    out = decode(botocore_framed(payload, chunk_size=chunk_size), len(payload))
    assert (out.body, out.truncated, out.dropped) == (payload, False, "")


@settings(max_examples=300, deadline=None)
@given(framed_payloads(), st.data())
def test_a_body_cut_by_the_limit_gives_a_start_of_the_payload(case, data):
    """Cut anywhere by the body limit: a start of the payload marked truncated (never
    framing bytes in it); the same cut body sent whole is dropped."""
    payload, framed = case
    cut = data.draw(st.integers(1, len(framed) - 1))
    out = decode(framed[:cut], len(payload), input_truncated=True)
    assert out.dropped == "" and out.truncated
    assert payload.startswith(out.body)
    assert decode(framed[:cut], len(payload)).dropped == "content_encoding"


@settings(max_examples=500, deadline=None)
@given(st.binary(max_size=200), st.integers(0, 300), st.booleans())
def test_any_bytes_decode_or_drop_without_crashing(body, length, truncated):
    out = decode(body, length, input_truncated=truncated)
    assert out.dropped in ("", "content_encoding")
    assert len(out.body) <= len(body)


def test_an_aws_chunked_upload_is_captured_decoded_and_gets_a_stub():
    """Through the capture: the payload kept, the coding and the wire length gone, the
    payload's length kept (its stub matches the framing: mapping.framed_bodies)."""
    framed = botocore_framed(PAYLOAD)
    headers = (
        ("content-encoding", "aws-chunked"),
        ("x-amz-decoded-content-length", str(len(PAYLOAD))),
        ("x-amz-trailer", "x-amz-checksum-crc32"),
        ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
        ("content-length", str(len(framed))),
    )
    done = run(
        [
            req_headers(method="PUT", path="/b/notes/c.txt", extra=headers),
            req_body(framed, eos=True),
            resp_headers(eos=True),
        ]
    )
    request = done.exchange.request
    assert (request.body, request.body_dropped, request.body_truncated) == (PAYLOAD, False, False)
    assert request.header("content-encoding") is None
    assert request.header("content-length") is None
    assert request.header("x-amz-decoded-content-length") == str(len(PAYLOAD))
    assert skip_reason(done.exchange) == ""


@pytest.mark.parametrize(
    ("coding", "body", "length"),
    [
        ("aws-chunked", b"21\r\n" + PAYLOAD + b"\r\n0\r\n", len(PAYLOAD)),
        ("aws-chunked", botocore_framed(PAYLOAD), len(PAYLOAD) + 1),
        ("aws-chunked, gzip", botocore_framed(PAYLOAD), len(PAYLOAD)),
    ],
)
def test_a_malformed_aws_chunked_upload_is_a_counted_skip(coding, body, length):
    done = run(
        [
            req_headers(
                method="PUT",
                extra=(("content-encoding", coding), ("x-amz-decoded-content-length", str(length))),
            ),
            req_body(body, eos=True),
            resp_headers(eos=True),
        ]
    )
    request = done.exchange.request
    assert (request.body, request.body_drop_reason) == (b"", "content_encoding")
    assert skip_reason(done.exchange) == "request_content_encoding"
