"""Azure Storage's request headers that choose an answer: the lease action, the copy's
source, the blob type and page write (the operation), and the part of a blob read
(``x-ms-range``, the digest of that part). Each is matched as sent."""

from __future__ import annotations

import pytest

from ext_proc_server.core.exchange import HttpResponse
from tests.unit.mapping.mapping_helpers import build, make_exchange

LEASE = "/devstoreaccount1/mockado-blobs/notes/a.txt"


def _lease(action: str, status: int):
    answer = HttpResponse(status=status, headers=(("x-ms-lease-id", "6f1c2b0e"),), body=b"")
    return build(make_exchange(
        method="PUT", path=LEASE, query=(("comp", "lease"),),
        headers=(("x-ms-lease-action", action), ("x-ms-version", "2026-06-06")),
        response=answer,
    ))  # fmt: skip


def test_each_lease_action_is_its_own_stub() -> None:
    """Acquire (201) and release (200) are one bodiless PUT ?comp=lease but for the
    action: the SDK refuses a release answered 201."""
    acquire, release = _lease("acquire", 201), _lease("release", 200)
    assert acquire is not None and release is not None
    assert acquire["id"] != release["id"]
    assert acquire["request"]["headers"]["x-ms-lease-action"] == {"equalTo": "acquire"}
    assert release["request"]["headers"]["x-ms-lease-action"] == {"equalTo": "release"}


def _download(range_: str, body: bytes, total: int, *extra: tuple[str, str]):
    answer = HttpResponse(
        status=206,
        headers=(("content-type", "application/octet-stream"),
                 ("content-range", f"bytes 0-{len(body) - 1}/{total}")),
        body=body,
    )  # fmt: skip
    return build(make_exchange(
        path="/devstoreaccount1/mockado-blobs/notes/d.json",
        headers=(("x-ms-range", range_), *extra), response=answer,
    ))  # fmt: skip


def test_a_ranged_read_is_chosen_by_its_x_ms_range() -> None:
    """Every download sends x-ms-range (the whole blob's: bytes=0-33554431): a read of
    ten bytes is another request, never answered with the whole blob, nor the whole with
    ten bytes."""
    whole = _download("bytes=0-33554431", b"0123456789abcdef", 16)
    part = _download("bytes=0-9", b"0123456789", 16)
    assert whole is not None and part is not None
    assert whole["id"] != part["id"]
    assert part["request"]["headers"]["x-ms-range"] == {"equalTo": "bytes=0-9"}
    assert whole["request"]["headers"]["x-ms-range"] == {"equalTo": "bytes=0-33554431"}


@pytest.mark.parametrize(
    ("name", "value"),
    [("x-ms-range-get-content-md5", "true"), ("x-ms-range-get-content-crc64", "true")],
)
def test_a_part_asked_with_its_digest_is_its_own_stub(name: str, value: str) -> None:
    plain = _download("bytes=0-9", b"0123456789", 16)
    with_digest = _download("bytes=0-9", b"0123456789", 16, (name, value))
    assert plain is not None and with_digest is not None
    assert plain["id"] != with_digest["id"]
    assert with_digest["request"]["headers"][name] == {"equalTo": value}


@pytest.mark.parametrize(
    ("name", "values"),
    [
        ("x-ms-copy-source", ("http://127.0.0.1/devstoreaccount1/c/a.txt",
                              "http://127.0.0.1/devstoreaccount1/c/b.txt")),
        ("x-ms-blob-type", ("BlockBlob", "AppendBlob")),
        ("x-ms-page-write", ("update", "clear")),
    ],
)  # fmt: skip
def test_the_operation_named_in_a_header_chooses_the_stub(name: str, values: tuple) -> None:
    built = [
        build(make_exchange(method="PUT", path="/devstoreaccount1/c/x", headers=((name, v),)))
        for v in values
    ]
    assert built[0] is not None and built[1] is not None
    assert built[0]["id"] != built[1]["id"]
    assert [b["request"]["headers"][name] for b in built] == [{"equalTo": v} for v in values]
