"""Response headers a client reads, recorded through a real Envoy 1.40 and ``mockado
ext-proc`` and replayed by a real WireMock 3.13.2, compared with what the client got from
the upstream:

* a HEAD answer's ``Content-Length`` (the size of the GET's body: WireMock would answer
  chunked, without a length), not when it is the size of the body compressed, nor when
  the GET's mock may serve another size (text with sanitized values);
* header values outside ASCII, sent as UTF-8 (a ``Content-Disposition`` file name):
  the same bytes, where WireMock writes each character as one ISO-8859-1 byte;
* digests of the body (``Content-MD5``, ``Digest``, ``Content-Digest``, ``x-goog-hash``,
  ``x-amz-checksum-*``, which the Cloud Storage and S3 clients check): they match the body
  the mock serves, sanitized or decoded; one mockado cannot compute gets no stub.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import json
import struct
import zlib
from typing import Any

import pytest

from tests.support.ext_proc_rig import (
    collector_settings,
    counters,
    wait_until,
)
from tests.support.raw_capture import capture_behind_envoy, import_into, raw_request
from tests.support.raw_upstream import RawAnswer, raw_upstream

pytestmark = pytest.mark.integration

CSV = ("id,amount\n" + "".join(f"{n},{n * 3}.50\n" for n in range(200))).encode()
EXPORT = json.dumps({"rows": [{"sku": f"A-{n:04d}", "qty": n % 7} for n in range(40)]}).encode()
PACKED = gzip.compress(EXPORT, mtime=0)
PERSON = b'{"email":"maria.silva@example.com","ok":true}'
FILE_NAME = 'attachment; filename="relatório ação.csv"'
# A registry's challenge: a client reads the token service and scope from it.
CHALLENGE = (
    'Bearer realm="https://auth.registry.example/token",service="registry.example",'
    'scope="repository:shop/api:pull"'
)
CONTACTS = b"name,email\nMaria,maria.silva@example.com\n"
PDF = b"%PDF-1.7\n" + bytes(range(256)) * 8 + b"\n%%EOF\n"
RANGES = (
    b"--P\r\nContent-Type: text/csv\r\nContent-Range: bytes 0-9/900\r\n\r\nname,email"
    b"\r\n--P\r\nContent-Type: text/csv\r\nContent-Range: bytes 17-39/900\r\n\r\n"
    b"maria.silva@example.com\r\n--P--\r\n"
)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _digests(body: bytes) -> tuple[tuple[str, str], ...]:
    sha256 = _b64(hashlib.sha256(body).digest())
    md5 = _b64(hashlib.md5(body, usedforsecurity=False).digest())
    return (
        ("Content-MD5", md5),
        ("Digest", f"SHA-256={sha256}"),
        ("Content-Digest", f"sha-256=:{sha256}:"),
        ("x-goog-hash", f"md5={md5}"),
        ("x-amz-checksum-crc32", _b64(struct.pack(">I", zlib.crc32(body)))),
    )


JSON = ("Content-Type", "application/json")
ANSWERS = {
    "/reports/q3.csv": RawAnswer(200, (("Content-Type", "text/csv"),), CSV),
    "/reports/q3.pdf": RawAnswer(200, (("Content-Type", "application/pdf"), *_digests(PDF)), PDF),
    "/exports/contacts.csv": RawAnswer(
        200, (("Content-Type", "text/csv"), *_digests(CONTACTS)), CONTACTS
    ),
    "/reports/q3.json": RawAnswer(
        200, (JSON, ("Content-Encoding", "gzip"), ("Vary", "Accept-Encoding")), PACKED
    ),
    "/download": RawAnswer(
        200,
        (("Content-Type", "text/csv"), ("Content-Disposition", FILE_NAME), ("X-Label", "10€ 😀")),
        b"a,b\n1,2\n",
    ),
    "/objects/person": RawAnswer(200, (JSON, *_digests(PERSON)), PERSON),
    "/v2/": RawAnswer(
        401, (JSON, ("WWW-Authenticate", CHALLENGE)), b'{"errors":[{"code":"UNAUTHORIZED"}]}'
    ),
    "/objects/packed": RawAnswer(
        200, (JSON, ("Content-Encoding", "gzip"), *_digests(PACKED)), PACKED
    ),
    "/objects/plain": RawAnswer(200, (JSON, *_digests(EXPORT)), EXPORT),
    "/objects/tagged": RawAnswer(200, (JSON, ("ETag", '"v1"')), EXPORT),
    "/objects/odd": RawAnswer(200, (JSON, ("Digest", "UNIXsum=4711")), PERSON),
    "/parts/contacts.csv": RawAnswer(
        206,
        (("Content-Type", "text/csv"), ("Content-Range", f"bytes 0-{len(CONTACTS) - 1}/900")),
        CONTACTS,
    ),
    "/parts/multi": RawAnswer(206, (("Content-Type", "multipart/byteranges; boundary=P"),), RANGES),
    "/parts/plain.csv": RawAnswer(
        206, (("Content-Type", "text/csv"), ("Content-Range", "bytes 0-99/2062")), CSV[:100]
    ),
}
# Answers that get no stub, by reason.
SKIPPED = {
    "/objects/odd": "response_digest_uncomputable",
    "/parts/contacts.csv": "response_range_sanitized",
    "/parts/multi": "response_range_sanitized",
}
GZIP_ACCEPTED = (("Accept-Encoding", "gzip"),)
# (method, path, request headers)
REQUESTS = [
    ("HEAD", "/reports/q3.csv", ()),
    ("HEAD", "/reports/q3.pdf", ()),
    ("HEAD", "/exports/contacts.csv", ()),
    ("GET", "/exports/contacts.csv", ()),
    ("HEAD", "/reports/q3.json", GZIP_ACCEPTED),
    ("GET", "/download", ()),
    ("GET", "/objects/person", ()),
    ("GET", "/v2/", ()),
    ("GET", "/objects/packed", GZIP_ACCEPTED),
    ("GET", "/objects/plain", ()),
    ("GET", "/objects/tagged", GZIP_ACCEPTED),
    ("GET", "/objects/odd", ()),
    ("GET", "/parts/contacts.csv", (("Range", "bytes=0-"),)),
    ("GET", "/parts/multi", (("Range", "bytes=0-9,17-39"),)),
    ("GET", "/parts/plain.csv", (("Range", "bytes=0-99"),)),
]


def _verified(headers: dict[str, bytes], body: bytes) -> dict[str, bool]:
    """Each digest header, checked as a client checks it against ``body``."""
    sha256 = _b64(hashlib.sha256(body).digest()).encode()
    md5 = _b64(hashlib.md5(body, usedforsecurity=False).digest()).encode()
    expected = {
        "content-md5": md5,
        "digest": b"SHA-256=" + sha256,
        "content-digest": b"sha-256=:" + sha256 + b":",
        "x-goog-hash": b"md5=" + md5,
        "x-amz-checksum-crc32": _b64(struct.pack(">I", zlib.crc32(body))).encode(),
    }
    return {name: headers.get(name) == value for name, value in expected.items()}


def _record_and_load(redis_server, envoy_factory, ext_proc_factory, wiremock) -> dict:
    """Each request through Envoy to the upstream -> what the client got; the stubs are
    then in WireMock."""
    collector = collector_settings(redis_server.url)
    got: dict[tuple[str, str], Any] = {}
    with raw_upstream(ANSWERS) as port:
        ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, port)
        for method, path, headers in REQUESTS:
            got[(method, path)] = raw_request(envoy.port, method, path, headers=headers)
        wait_until(
            lambda: len(ext.captured()) == len(REQUESTS) - len(SKIPPED),
            what="the stubs",
            explain=lambda: counters(ext) + str([m["request"] for m in ext.captured()]),
        )
        for reason in set(SKIPPED.values()):
            count = list(SKIPPED.values()).count(reason)
            wait_until(
                lambda reason=reason, count=count: (
                    ext.metric("collector_stubs_skipped_total", reason=reason) == count
                ),
                what=f"{reason} counted",
            )
    import_into(wiremock, ext.captured())
    return got


@pytest.fixture(scope="module")
def recorded(redis_server, envoy_factory, ext_proc_factory, wiremock) -> dict:
    return _record_and_load(redis_server, envoy_factory, ext_proc_factory, wiremock)


def test_a_head_answer_keeps_the_length_of_the_body_it_describes(recorded, wiremock) -> None:
    """A PDF's GET gets no stub or the body as it came: the length holds."""
    status, upstream, body = recorded[("HEAD", "/reports/q3.pdf")]
    assert status == 200 and body == b"" and upstream["content-length"] == str(len(PDF)).encode()
    served_status, served, served_body = raw_request(wiremock.port, "HEAD", "/reports/q3.pdf")
    assert served_status == 200 and served_body == b"" and "transfer-encoding" not in served
    for name in ("content-length", "content-type"):
        assert served.get(name) == upstream.get(name), name
    # Its digests too: they describe the body a GET gets.
    assert _verified(served, PDF) == dict.fromkeys(_verified(served, b""), True)


def test_a_head_answer_claims_no_length_the_get_mock_may_not_serve(recorded, wiremock) -> None:
    """The upstream's size of a text body: the GET's mock serves it with its values
    sanitized, another size. A client sizing a download or its ranges from the HEAD would
    be wrong; it gets no length instead, for any text (the HEAD cannot tell which bodies
    the sanitizer changes)."""
    status, upstream, _body = recorded[("HEAD", "/exports/contacts.csv")]
    assert status == 200 and upstream["content-length"] == str(len(CONTACTS)).encode()
    get_status, _get_upstream, get_body = recorded[("GET", "/exports/contacts.csv")]
    assert get_status == 200 and get_body == CONTACTS
    status, served_get, served_body = raw_request(wiremock.port, "GET", "/exports/contacts.csv")
    assert status == 200 and b"maria.silva" not in served_body
    assert len(served_body) != len(CONTACTS)
    for path in ("/exports/contacts.csv", "/reports/q3.csv"):
        status, served, head_body = raw_request(wiremock.port, "HEAD", path)
        assert status == 200 and head_body == b"", path
        assert served.get("content-type") == b"text/csv", path
        assert "content-length" not in served, path
    # Nor digests of the upstream's bytes: the GET's mock serves others, with their own.
    _status, upstream, _body = recorded[("HEAD", "/exports/contacts.csv")]
    assert all(_verified(upstream, CONTACTS).values())
    _status, served, _body = raw_request(wiremock.port, "HEAD", "/exports/contacts.csv")
    assert not set(_verified(served, b"")) & set(served)
    assert all(_verified(served_get, served_body).values())


def test_a_head_answer_of_a_compressed_body_claims_no_coding_or_length(recorded, wiremock) -> None:
    """The length of the gzip bytes, to a client that may not accept gzip (no stub matches
    Accept-Encoding) and whose GET gets the body decoded: left out, never claimed."""
    status, upstream, _body = recorded[("HEAD", "/reports/q3.json")]
    assert status == 200 and upstream["content-encoding"] == b"gzip"
    served_status, served, served_body = raw_request(wiremock.port, "HEAD", "/reports/q3.json")
    assert served_status == 200 and served_body == b""
    assert "content-encoding" not in served and "content-length" not in served


def test_a_header_value_outside_ascii_is_served_as_the_bytes_the_upstream_sent(
    recorded, wiremock
) -> None:
    _status, upstream, _body = recorded[("GET", "/download")]
    assert upstream["content-disposition"] == FILE_NAME.encode("utf-8")
    status, served, body = raw_request(wiremock.port, "GET", "/download")
    assert status == 200 and body == b"a,b\n1,2\n"
    for name in ("content-disposition", "x-label"):
        assert served[name] == upstream[name], name


def test_a_challenge_is_served_as_the_server_wrote_it(recorded, wiremock) -> None:
    status, upstream, body = recorded[("GET", "/v2/")]
    assert status == 401 and upstream["www-authenticate"] == CHALLENGE.encode()
    served = raw_request(wiremock.port, "GET", "/v2/")
    assert (served.status, served.body) == (401, body)
    assert served.headers["www-authenticate"] == upstream["www-authenticate"]


def test_a_digest_of_the_body_matches_the_body_the_mock_serves(recorded, wiremock) -> None:
    _status, upstream, body = recorded[("GET", "/objects/person")]
    assert all(_verified(upstream, body).values())
    status, served, served_body = raw_request(wiremock.port, "GET", "/objects/person")
    assert status == 200 and b"maria.silva" not in served_body and b'"ok":true' in served_body
    assert _verified(served, served_body) == dict.fromkeys(_verified(served, b""), True)

    # A client that accepts gzip and hashes the bytes as they come (the Cloud Storage one)
    # gets them as the digests say: WireMock does not compress them.
    status, served, raw_body = raw_request(
        wiremock.port, "GET", "/objects/person", headers=GZIP_ACCEPTED
    )
    assert served.get("content-encoding", b"identity") == b"identity"
    assert raw_body == served_body and all(_verified(served, raw_body).values())

    # Decoded from gzip: the digests were of the compressed bytes, the mock serves the JSON.
    status, served, served_body = raw_request(wiremock.port, "GET", "/objects/packed")
    assert status == 200 and served_body == EXPORT
    assert served.get("content-encoding", b"identity") == b"identity"
    assert all(_verified(served, served_body).values())

    # A body served as it came keeps its digests as they came.
    _status, upstream, body = recorded[("GET", "/objects/plain")]
    status, served, served_body = raw_request(wiremock.port, "GET", "/objects/plain")
    assert served_body == body == EXPORT
    names = _verified(served, b"").keys()
    assert {k: served[k] for k in names} == {k: upstream[k] for k in names}


def test_a_digest_mockado_cannot_compute_gets_a_clear_miss(recorded, wiremock) -> None:
    assert recorded[("GET", "/objects/odd")][0] == 200
    status, served, _body = raw_request(wiremock.port, "GET", "/objects/odd")
    assert status == 404 and "matched-stub-id" not in served


def test_a_part_with_sanitized_values_gets_a_clear_miss_and_a_plain_part_replays(
    recorded, wiremock
) -> None:
    """A sanitized value changes the part's length: its Content-Range (and a multipart
    part's) would no longer give the served bytes' place in the whole."""
    for method, path, headers in REQUESTS:
        if path.startswith("/parts/"):
            status, served, body = raw_request(wiremock.port, method, path, headers=headers)
            if path in SKIPPED:
                assert recorded[(method, path)][0] == 206
                assert status == 404 and "matched-stub-id" not in served, path
            else:
                upstream_status, upstream, upstream_body = recorded[(method, path)]
                assert (status, body) == (upstream_status, upstream_body) == (206, CSV[:100])
                assert served["content-range"] == upstream["content-range"]


def test_a_client_accepting_gzip_gets_the_recorded_body_and_etag(recorded, wiremock) -> None:
    """The upstream answered uncompressed; so does the mock. WireMock's own gzip would
    rewrite the ETag (``"v1--gzip"``: a cache or an If-Match then holds a tag the service
    never sent)."""
    status, upstream, body = recorded[("GET", "/objects/tagged")]
    assert status == 200 and body == EXPORT and "content-encoding" not in upstream
    served_status, served, served_body = raw_request(
        wiremock.port, "GET", "/objects/tagged", headers=GZIP_ACCEPTED
    )
    assert served_status == 200 and served_body == EXPORT
    assert "content-encoding" not in served
    assert served.get("etag") == upstream["etag"] == b'"v1"'
