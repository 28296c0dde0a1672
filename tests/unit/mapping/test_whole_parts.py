"""A 206 whose part is the whole body (Azure Storage's downloads of any blob smaller than
the range they ask for): served sanitized, with its Content-Range and digests written
for the served body. A part of a larger whole with a value sanitized still gets no stub."""

from __future__ import annotations

import base64
import hashlib

import pytest
from awscrt import checksums as awscrt_checksums

from ext_proc_server.core.exchange import HttpResponse
from ext_proc_server.mapping import skip_reason
from tests.unit.mapping.mapping_helpers import build, make_exchange

RECORDED = b"call back maria.silva@example.com today\n"
SERVED = b"call back SANITIZED_EMAIL today\n"
SANITIZED = frozenset({"response.body"})


def _md5(body: bytes) -> str:
    return base64.b64encode(hashlib.md5(body, usedforsecurity=False).digest()).decode()


def _download(content_range: str, body: bytes = SERVED, *extra: tuple[str, str]):
    return HttpResponse(
        status=206,
        headers=(
            ("content-type", "text/plain; charset=utf-8"),
            ("content-length", str(len(RECORDED))),
            ("content-range", content_range),
            ("x-ms-blob-content-md5", _md5(RECORDED)),
            *extra,
        ),
        body=body,
    )


def _built(response: HttpResponse) -> dict:
    exchange = make_exchange(
        path="/devstoreaccount1/mockado-blobs/notes/contact.txt",
        headers=(("x-ms-range", "bytes=0-33554431"),),
        response=response,
        redactions=SANITIZED,
    )
    assert skip_reason(exchange) == ""
    mapping = build(exchange)
    assert mapping is not None
    return mapping["response"]


def test_a_sanitized_whole_part_is_served_with_its_own_range_length_and_md5() -> None:
    served = _built(_download(f"bytes 0-{len(RECORDED) - 1}/{len(RECORDED)}"))
    assert served["headers"]["content-range"] == f"bytes 0-{len(SERVED) - 1}/{len(SERVED)}"
    assert served["headers"]["content-length"] == str(len(SERVED))
    assert served["headers"]["x-ms-blob-content-md5"] == _md5(SERVED)


def test_the_md5_of_a_whole_part_asked_with_its_digest_is_the_served_bodys() -> None:
    recorded = _download("bytes 0-39/40", SERVED, ("Content-MD5", _md5(RECORDED)))
    served = _built(recorded)
    assert served["headers"]["Content-MD5"] == _md5(SERVED)


@pytest.mark.parametrize("content_range", ["bytes 0-9/40", "bytes 5-39/40", "bytes */40"])
def test_a_sanitized_part_of_a_larger_whole_still_gets_no_stub(content_range: str) -> None:
    exchange = make_exchange(response=_download(content_range), redactions=SANITIZED)
    assert skip_reason(exchange) == "response_range_sanitized"


def test_a_part_served_as_it_came_keeps_the_whole_blobs_md5() -> None:
    """Unsanitized, a part's blob MD5 describes the whole blob, not the part."""
    part = _download("bytes 0-9/40", RECORDED[:10])
    mapping = build(make_exchange(response=part))
    assert mapping is not None
    assert mapping["response"]["headers"]["x-ms-blob-content-md5"] == _md5(RECORDED)
    assert mapping["response"]["headers"]["content-range"] == "bytes 0-9/40"


@pytest.mark.parametrize(
    ("status", "content_range", "whole"),
    [(206, "bytes 0-39/40", True), (206, " bytes 0-0/1 ", True), (206, "bytes 0-38/40", False),
     (200, "bytes 0-39/40", False), (206, "items 0-39/40", False), (206, None, False)],
)  # fmt: skip
def test_a_whole_part_runs_from_the_first_byte_to_the_last(
    status: int, content_range: str | None, whole: bool
) -> None:
    from ext_proc_server.mapping.whole_parts import is_whole_part  # new with this module

    headers = (("content-range", content_range),) if content_range is not None else ()
    assert is_whole_part(HttpResponse(status=status, headers=headers, body=b"x")) is whole


def _crc64(body: bytes) -> str:
    """Azure Storage's x-ms-content-crc64: CRC-64/NVME, little-endian (the SDK's own
    azure-storage-extensions gives 0x8c2f8445b4cbfc3c for b"a", as this does)."""
    return base64.b64encode(awscrt_checksums.crc64nvme(body).to_bytes(8, "little")).decode()


def test_azure_crc64_of_a_sanitized_body_is_the_served_bodys() -> None:
    """validate_content="crc64" makes the SDK compare it with the bytes it got."""
    assert awscrt_checksums.crc64nvme(b"a") == 0x8C2F8445B4CBFC3C
    whole = _built(_download("bytes 0-39/40", SERVED, ("x-ms-content-crc64", _crc64(RECORDED))))
    assert whole["headers"]["x-ms-content-crc64"] == _crc64(SERVED)
    plain = HttpResponse(
        status=200,
        headers=(("content-type", "text/plain"), ("x-ms-content-crc64", _crc64(RECORDED))),
        body=SERVED,
    )
    exchange = make_exchange(response=plain, redactions=SANITIZED)
    assert skip_reason(exchange) == ""
    mapping = build(exchange)
    assert mapping is not None
    assert mapping["response"]["headers"]["x-ms-content-crc64"] == _crc64(SERVED)
