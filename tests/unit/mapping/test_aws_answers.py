"""AWS answers as botocore reads them: DynamoDB's ``x-amz-crc32`` over the served body, the
checksum S3 answers a PutObject with (of the object stored, not of the empty answer), and
a sized answer served with its length (boto3's ``ContentLength``)."""

from __future__ import annotations

import zlib
from types import SimpleNamespace

from botocore.retries.special import RetryDDBChecksumError

from ext_proc_server.core.exchange import HttpResponse
from ext_proc_server.mapping.digests import is_digest, served_digest
from tests.unit.mapping.mapping_helpers import build, make_exchange

AMZ_JSON = ("content-type", "application/x-amz-json-1.0")
# A DynamoDB GetItem answer as sanitized, and its CRC-32 as the upstream sent it (of the
# item before its address was replaced).
ITEM = b'{"Item":{"buyer":{"S":"SANITIZED_EMAIL"},"pk":{"S":"order-3"}}}'
RECORDED_CRC = str(zlib.crc32(ITEM.replace(b"SANITIZED_EMAIL", b"maria.silva@example.com")))


def _attempt(headers: dict[str, str], body: bytes) -> SimpleNamespace:
    """What botocore's DynamoDB checksum check reads of an attempt."""
    service = SimpleNamespace(service_model=SimpleNamespace(service_name="dynamodb"))
    return SimpleNamespace(
        operation_model=service, http_response=SimpleNamespace(headers=headers, content=body)
    )


def _served(response: HttpResponse, *, method: str = "GET") -> dict:
    mapping = build(make_exchange(method=method, response=response))
    assert mapping is not None
    return mapping["response"]


def test_dynamodb_crc32_is_computed_again_over_the_served_body() -> None:
    assert is_digest("x-amz-crc32")
    assert served_digest("x-amz-crc32", RECORDED_CRC, ITEM) == str(zlib.crc32(ITEM))
    response = HttpResponse(
        status=200, headers=(AMZ_JSON, ("x-amz-crc32", RECORDED_CRC)), body=ITEM
    )
    served = _served(response, method="POST")
    headers = served["headers"]
    assert headers["x-amz-crc32"] == str(zlib.crc32(ITEM))
    # botocore retries (and at last refuses) an answer whose body does not give its CRC.
    checker = RetryDDBChecksumError()
    assert not checker.is_retryable(_attempt(headers, served["body"].encode()))
    assert checker.is_retryable(_attempt({"x-amz-crc32": RECORDED_CRC}, ITEM))


def test_an_empty_answer_keeps_the_checksum_of_what_was_stored() -> None:
    """S3 answers a PutObject with the checksum of the object it stored: the CRC-32 of an
    empty body (``AAAAAA==``) would be another object's."""
    headers = (("x-amz-checksum-crc32", "8/XWCg=="), ("etag", '"7834b285"'),
               ("content-length", "0"))  # fmt: skip
    served = _served(HttpResponse(status=200, headers=headers), method="PUT")
    assert served["headers"]["x-amz-checksum-crc32"] == "8/XWCg=="
    assert "body" not in served and "content-encoding" not in served["headers"]


def test_a_sized_answer_is_served_with_its_served_length() -> None:
    sized = HttpResponse(
        status=200,
        headers=(("content-type", "text/plain"), ("Content-Length", "40")),
        body=b"call back SANITIZED_EMAIL today\n",
    )
    assert _served(sized)["headers"]["content-length"] == "32"
    part = HttpResponse(
        status=206,
        headers=(("content-range", "bytes 0-9/50"), ("content-length", "10")),
        body=b'{"order": ',
    )
    assert _served(part)["headers"]["content-length"] == "10"
    # Sent chunked, served chunked; an empty answer keeps WireMock's own framing.
    chunked = HttpResponse(status=200, headers=(("content-type", "text/plain"),), body=b"x")
    assert "content-length" not in _served(chunked)["headers"]
    empty = HttpResponse(status=200, headers=(("content-length", "0"),))
    assert "headers" not in _served(empty)
