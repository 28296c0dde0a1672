"""A boto3 workload across the AWS protocols, run once against a real server (recorded)
and once against a mock (replayed), each call's parsed result compared.

Protocols: JSON 1.0 (DynamoDB: ``X-Amz-Target``, the ``x-amz-crc32`` botocore checks),
JSON (SQS), REST-XML (S3: flexible checksums, ranges, conditions, keys with spaces and
accents), query (STS, SNS, IAM: form POSTs) and REST-JSON (Lambda), with paginators. Every
call carries its own ``amz-sdk-invocation-id``, ``X-Amz-Date`` and SigV4 signature.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import io
import re
import struct
import zipfile
import zlib
from collections.abc import Callable
from typing import Any

import boto3
import httpx
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.httpchecksum import AwsChunkedWrapper
from botocore.response import StreamingBody

from tests.support.sdk_replay import BODIES, EMAIL, Outcome

REGION = "us-east-1"
BUCKET = "mockado-boto"
TABLE = "orders"
QUEUE = "orders-events"
KEYS = tuple(BODIES)
# Objects uploaded aws-chunked (their checksum in a trailer): a plain text, one that
# holds the customer's address (sanitized: its stub matches any address in its place), and
# a binary one (no UTF-8: its stub matches the payload's digest out of the framing).
CHUNKED = "notes/chunked.txt"
CHUNKED_CONTACT = "notes/chunked contact.txt"
CHUNKED_BINARY = "data/chunked.bin"
CHUNKED_BODIES = {
    CHUNKED: BODIES["notes/a.txt"] * 3,
    CHUNKED_CONTACT: f"chunked: write to {EMAIL}\n".encode(),
    # A little-endian float32 array, as a feature store writes one.
    CHUNKED_BINARY: struct.pack("<64f", *(n / 8 for n in range(64))),
}
# The checksums botocore sends in a trailer besides its default CRC32: each frames the same
# payload with another trailer (CHUNKED_BODIES[CHUNKED] and [CHUNKED_BINARY], each to
# "<key>.<algorithm>").
TRAILER_ALGORITHMS = ("CRC32C", "CRC64NVME", "SHA1", "SHA256", "SHA512", "XXHASH64",
                      "XXHASH3", "XXHASH128")  # fmt: skip
# A payload framed in several chunks: 200 KB of CSV, sent in 64 KiB chunks (as the Rust SDK
# signs one, the Go SDK v2 frames one of unknown length, a JS SDK v3 file stream comes) and
# in 128 KiB ones (the Java SDK v2's). It needs a body limit over its framed size
# (FRAMED_BODY_LIMIT_BYTES).
CHUNKED_LARGE = "exports/orders.csv"
LARGE_BODY = b"".join(b"order-%06d,paid,%d.%02d\n" % (n, n % 997, n % 100) for n in range(8000))
SDK_CHUNK_SIZES = {"64KiB": 64 * 1024, "128KiB": 128 * 1024}
FRAMED_BODY_LIMIT_BYTES = 1024 * 1024
# An upload in the aws-chunked framing (STREAMING-UNSIGNED-PAYLOAD-TRAILER) without
# Content-Encoding: aws-chunked, which S3 takes too.
CHUNKED_UNLABELLED = "notes/unlabelled.txt"
CHUNKED_BODIES[CHUNKED_UNLABELLED] = b"framed, no content coding\n" * 2
CHUNKED_BODIES[CHUNKED_LARGE] = LARGE_BODY
# A binary payload framed in several chunks: 200 KB that are no UTF-8 (and that no detector
# reads anything personal in) in 2 to 5 chunks (the Java SDK v2's 128 KiB, the Rust and Go
# SDKs' 64 KiB, a JS stream's 50,000 bytes), matched by its digest out of any framing
# (before, only in one chunk).
CHUNKED_LARGE_BINARY = "exports/blocks.bin"
CHUNKED_BODIES[CHUNKED_LARGE_BINARY] = bytes(range(128, 256)) * 1600
BINARY_CHUNK_SIZES = {"64KiB": 64 * 1024, "128KiB": 128 * 1024, "50000B": 50_000}
ROLE = "arn:aws:iam::123456789012:role/runner"
ROLE_POLICY = '{"Version":"2012-10-17","Statement":[]}'


def clients(endpoint: str, *, access_key: str) -> dict[str, Any]:
    """A fresh client per service for ``endpoint``, signing with ``access_key``; one
    attempt each, so a refused answer (a checksum) shows as it is."""
    session = boto3.session.Session(
        aws_access_key_id=access_key, aws_secret_access_key=f"{access_key}-secret",
        region_name=REGION,
    )  # fmt: skip
    config = Config(retries={"mode": "legacy", "max_attempts": 0})
    names = ("dynamodb", "sqs", "s3", "sts", "sns", "iam", "lambda")
    return {n: session.client(n, endpoint_url=endpoint, config=config) for n in names}


def _plain(value: Any) -> Any:
    """A parsed result as comparable data: bodies read, dates as text, metadata left out."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "ResponseMetadata"}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, StreamingBody):
        return value.read()
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    return value


def _zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("handler.py", date_time=(2026, 1, 1, 0, 0, 0))
        archive.writestr(info, "def handler(event, context):\n    return event\n")
    return buffer.getvalue()


Step = Callable[[dict[str, Any], dict[str, Any]], Any]


def _ddb_steps() -> list[tuple[str, Step]]:
    def item(n: int) -> dict:
        return {"pk": {"S": f"order-{n}"}, "total": {"N": str(n * 10)},
                "buyer": {"S": EMAIL if n % 2 else f"n{n}"}}  # fmt: skip

    steps: list[tuple[str, Step]] = [
        ("dynamodb.create_table", lambda c, s: c["dynamodb"].create_table(
            TableName=TABLE, BillingMode="PAY_PER_REQUEST",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])),
        ("dynamodb.describe_table", lambda c, s: c["dynamodb"].describe_table(TableName=TABLE)),
    ]  # fmt: skip
    for n in range(1, 6):
        steps.append((f"dynamodb.put_item.{n}", lambda c, s, n=n: c["dynamodb"].put_item(
            TableName=TABLE, Item=item(n))))  # fmt: skip
    steps += [
        ("dynamodb.get_item", lambda c, s: c["dynamodb"].get_item(
            TableName=TABLE, Key={"pk": {"S": "order-3"}})),
        ("dynamodb.query", lambda c, s: c["dynamodb"].query(
            TableName=TABLE, KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": "order-2"}})),
        ("dynamodb.scan.pages", lambda c, s: list(c["dynamodb"].get_paginator("scan").paginate(
            TableName=TABLE, PaginationConfig={"PageSize": 2}))),
        # botocore fills in ClientRequestToken, a new UUID on every call.
        ("dynamodb.transact_write_items", lambda c, s: c["dynamodb"].transact_write_items(
            TransactItems=[{"Put": {"TableName": TABLE, "Item": item(6)}}])),
        ("dynamodb.get_item.missing", lambda c, s: c["dynamodb"].get_item(
            TableName=TABLE, Key={"pk": {"S": "order-99"}})),
    ]  # fmt: skip
    return steps


def _sqs_steps() -> list[tuple[str, Step]]:
    def create(c: dict, s: dict) -> Any:
        answer = c["sqs"].create_queue(QueueName=QUEUE)
        s["queue_url"] = answer["QueueUrl"]
        return answer

    def send(c: dict, s: dict) -> Any:
        body = f'{{"order": 7, "buyer": "{EMAIL}"}}'
        return c["sqs"].send_message(QueueUrl=s["queue_url"], MessageBody=body)

    return [
        ("sqs.create_queue", create),
        ("sqs.get_queue_attributes", lambda c, s: c["sqs"].get_queue_attributes(
            QueueUrl=s["queue_url"], AttributeNames=["QueueArn", "VisibilityTimeout"])),
        ("sqs.send_message", send),
        ("sqs.receive_message", lambda c, s: c["sqs"].receive_message(
            QueueUrl=s["queue_url"], MaxNumberOfMessages=1)),
        ("sqs.list_queues.pages", lambda c, s: list(
            c["sqs"].get_paginator("list_queues").paginate(QueueNamePrefix="orders"))),
    ]  # fmt: skip


def _s3_steps() -> list[tuple[str, Step]]:
    s3 = "s3"
    steps: list[tuple[str, Step]] = [
        ("s3.create_bucket", lambda c, s: c[s3].create_bucket(Bucket=BUCKET)),
    ]
    for key in KEYS:
        steps.append((f"s3.put_object {key}", lambda c, s, key=key: c[s3].put_object(
            Bucket=BUCKET, Key=key, Body=BODIES[key])))  # fmt: skip
    for key in KEYS:
        steps.append((f"s3.get_object {key}", lambda c, s, key=key: c[s3].get_object(
            Bucket=BUCKET, Key=key)))  # fmt: skip

    def etag(c: dict, s: dict) -> Any:
        answer = c[s3].head_object(Bucket=BUCKET, Key="notes/a.txt")
        s["etag"] = answer["ETag"]
        return answer

    steps += [
        ("s3.put_object.aws_chunked", lambda c, s: put_chunked(c, CHUNKED)),
        ("s3.get_object.aws_chunked", lambda c, s: c[s3].get_object(Bucket=BUCKET, Key=CHUNKED)),
        ("s3.put_object.aws_chunked contact", lambda c, s: put_chunked(c, CHUNKED_CONTACT)),
        ("s3.get_object.aws_chunked contact", lambda c, s: c[s3].get_object(
            Bucket=BUCKET, Key=CHUNKED_CONTACT)),
        ("s3.put_object.aws_chunked binary", lambda c, s: put_chunked(c, CHUNKED_BINARY)),
        ("s3.get_object.aws_chunked binary", lambda c, s: c[s3].get_object(
            Bucket=BUCKET, Key=CHUNKED_BINARY)),
        *_chunked_variant_steps(),
        ("s3.head_object", etag),
        ("s3.get_object.range", lambda c, s: c[s3].get_object(
            Bucket=BUCKET, Key="notes/d.json", Range="bytes=0-9")),
        ("s3.get_object.if_none_match", lambda c, s: c[s3].get_object(
            Bucket=BUCKET, Key="notes/a.txt", IfNoneMatch=s["etag"])),
        ("s3.get_object.missing", lambda c, s: c[s3].get_object(Bucket=BUCKET, Key="nope")),
        ("s3.list_objects_v2.pages", lambda c, s: list(
            c[s3].get_paginator("list_objects_v2").paginate(
                Bucket=BUCKET, Prefix="notes/", PaginationConfig={"PageSize": 2}))),
        ("s3.list_objects", lambda c, s: c[s3].list_objects(Bucket=BUCKET, Delimiter="/")),
        # One destination written from two sources: the same PUT but for x-amz-copy-source.
        ("s3.copy_object a", lambda c, s: c[s3].copy_object(
            Bucket=BUCKET, Key="copies/latest.txt", CopySource=f"{BUCKET}/notes/a.txt")),
        ("s3.copy_object b", lambda c, s: c[s3].copy_object(
            Bucket=BUCKET, Key="copies/latest.txt", CopySource=f"{BUCKET}/notes/b c.txt")),
        ("s3.presigned_get", _presigned_get),
        ("s3.delete_objects", lambda c, s: c[s3].delete_objects(Bucket=BUCKET, Delete={
            "Objects": [{"Key": "copies/latest.txt"}, {"Key": "notes/b c.txt"}]})),
    ]  # fmt: skip
    return steps


def _as_over_tls(params: dict, **_: object) -> None:
    """The checksum as botocore sends it to S3 over TLS: in a trailer of an ``aws-chunked``
    body (over plain HTTP it sends a header instead)."""
    algorithm = params["context"].get("checksum", {}).get("request_algorithm")
    if isinstance(algorithm, dict):
        algorithm["in"] = "trailer"


def put_chunked(
    c: dict,
    key: str,
    body: bytes | None = None,
    *,
    target: str | None = None,
    algorithm: str | None = None,
    chunk_size: int | None = None,
    labelled: bool = True,
) -> Any:
    """``put_object`` of ``key`` as botocore sends it over TLS: ``aws-chunked``, the
    checksum in a trailer. ``body``: another than the workload's (``CHUNKED_BODIES``);
    ``target``: the key it is put to (``key`` when None); ``algorithm``: the trailer's
    checksum (botocore's default, CRC32, when None); ``chunk_size``: the framing's chunks
    (botocore's 1 MiB when None); ``labelled``: False sends the framing without
    ``Content-Encoding: aws-chunked``."""
    events = c["s3"].meta.events
    events.register("before-call.s3.PutObject", _as_over_tls, unique_id="mockado-aws-chunked")
    if not labelled:
        events.register("before-send.s3.PutObject", _unlabelled, unique_id="mockado-unlabelled")
    default_chunk_size = AwsChunkedWrapper._DEFAULT_CHUNK_SIZE
    if chunk_size is not None:
        AwsChunkedWrapper._DEFAULT_CHUNK_SIZE = chunk_size
    extra = {} if algorithm is None else {"ChecksumAlgorithm": algorithm}
    try:
        return c["s3"].put_object(
            Bucket=BUCKET,
            Key=target or key,
            Body=CHUNKED_BODIES[key] if body is None else body,
            **extra,
        )
    finally:
        AwsChunkedWrapper._DEFAULT_CHUNK_SIZE = default_chunk_size
        events.unregister("before-call.s3.PutObject", unique_id="mockado-aws-chunked")
        events.unregister("before-send.s3.PutObject", unique_id="mockado-unlabelled")


def _unlabelled(request: Any, **_: object) -> None:
    """The framing sent without its ``Content-Encoding: aws-chunked``."""
    del request.headers["Content-Encoding"]


def _chunked_variant_steps() -> list[tuple[str, Step]]:
    """aws-chunked uploads in every trailer checksum botocore sends, in several chunks
    (other SDKs' chunk sizes) and without ``Content-Encoding``; each read back."""
    steps: list[tuple[str, Step]] = []
    for algorithm in TRAILER_ALGORITHMS:
        for key in (CHUNKED, CHUNKED_BINARY):
            target = f"{key}.{algorithm.lower()}"
            steps.append((f"s3.put_object.aws_chunked {target}", lambda c, s, k=key, t=target,
                          a=algorithm: put_chunked(c, k, target=t, algorithm=a)))  # fmt: skip
    for name, size in SDK_CHUNK_SIZES.items():
        target = f"{CHUNKED_LARGE}.{name}"
        steps.append((f"s3.put_object.aws_chunked {target}", lambda c, s, t=target,
                      n=size: put_chunked(c, CHUNKED_LARGE, target=t, chunk_size=n)))  # fmt: skip
    for name, size in BINARY_CHUNK_SIZES.items():
        target = f"{CHUNKED_LARGE_BINARY}.{name}"
        steps.append((f"s3.put_object.aws_chunked {target}", lambda c, s, t=target,
                      n=size: put_chunked(c, CHUNKED_LARGE_BINARY, target=t, chunk_size=n)))  # fmt: skip
    steps.append(("s3.put_object.aws_chunked unlabelled", lambda c, s: put_chunked(
        c, CHUNKED_UNLABELLED, labelled=False)))  # fmt: skip
    reads = [t for name, _ in steps if (t := name.partition(" ")[2]) != "unlabelled"]
    reads.append(CHUNKED_UNLABELLED)
    return steps + [
        (f"s3.get_object.aws_chunked {key}", lambda c, s, key=key: c["s3"].get_object(
            Bucket=BUCKET, Key=key)) for key in reads
    ]  # fmt: skip


def _presigned_get(c: dict, s: dict) -> Any:
    """An object read by another client through a presigned URL: its signature, date and
    credential are in the query."""
    url = c["s3"].generate_presigned_url(
        "get_object", Params={"Bucket": BUCKET, "Key": "notes/d.json"}, ExpiresIn=300
    )
    reply = httpx.get(url, timeout=10)
    if reply.status_code != 200:
        raise ClientError(
            {"Error": {"Code": str(reply.status_code)}, "ResponseMetadata": {
                "HTTPStatusCode": reply.status_code, "HTTPHeaders": dict(reply.headers)}},
            "PresignedGet",
        )  # fmt: skip
    return {"Body": reply.content, "ContentType": reply.headers.get("content-type")}


def _query_steps() -> list[tuple[str, Step]]:
    def topic(c: dict, s: dict) -> Any:
        answer = c["sns"].create_topic(Name="orders")
        s["topic"] = answer["TopicArn"]
        return answer

    return [
        ("sts.get_caller_identity", lambda c, s: c["sts"].get_caller_identity()),
        ("sts.assume_role", lambda c, s: c["sts"].assume_role(
            RoleArn=ROLE, RoleSessionName="worker", DurationSeconds=900)),
        ("sns.create_topic", topic),
        ("sns.publish", lambda c, s: c["sns"].publish(TopicArn=s["topic"], Message="paid")),
        ("sns.list_topics.pages", lambda c, s: list(
            c["sns"].get_paginator("list_topics").paginate())),
        ("iam.create_role", lambda c, s: c["iam"].create_role(
            RoleName="runner", AssumeRolePolicyDocument=ROLE_POLICY)),
    ]  # fmt: skip


def _lambda_steps() -> list[tuple[str, Step]]:
    return [
        ("lambda.create_function", lambda c, s: c["lambda"].create_function(
            FunctionName="on-order", Runtime="python3.12", Role=ROLE,
            Handler="handler.handler", Code={"ZipFile": _zip()})),
        ("lambda.get_function_configuration", lambda c, s: c["lambda"].get_function_configuration(
            FunctionName="on-order")),
        ("lambda.list_functions.pages", lambda c, s: list(
            c["lambda"].get_paginator("list_functions").paginate())),
    ]  # fmt: skip


def steps() -> list[tuple[str, Step]]:
    """The workload in order: (name, step(clients, state) -> parsed result)."""
    return [*_ddb_steps(), *_sqs_steps(), *_s3_steps(), *_query_steps(), *_lambda_steps()]


def run(steps_: list[tuple[str, Step]], client_set: dict[str, Any]) -> dict[str, Outcome]:
    """Each step in order -> name -> its outcome."""
    state: dict[str, Any] = {}
    outcomes: dict[str, Outcome] = {}
    for name, step in steps_:
        try:
            outcomes[name] = Outcome(result=_plain(step(client_set, state)))
        except ClientError as exc:
            meta = exc.response.get("ResponseMetadata", {})
            headers = meta.get("HTTPHeaders", {})
            outcomes[name] = Outcome(
                error=f"ClientError {exc.response.get('Error', {}).get('Code')}",
                status=meta.get("HTTPStatusCode"),
                from_stub="matched-stub-id" in headers,
            )
        except (BotoCoreError, ValueError) as exc:  # ValueError: a body botocore cannot parse
            outcomes[name] = Outcome(error=f"{type(exc).__name__}: {exc}")
    return outcomes


def agrees(recorded: Any, replayed: Any) -> bool:
    """Whether a replayed result is the recorded one, apart from the customer's address
    (sanitized: any other text in its place) and secrets (a sanitizer token in their place). An object whose body was sanitized must give
    the served body's own length and checksum (an S3 object's)."""
    if isinstance(recorded, dict) and isinstance(replayed, dict):
        if recorded.keys() != replayed.keys() or not _md5_gives_body(replayed):
            return False
        body = recorded.get("Body")
        if isinstance(body, bytes) and body != replayed["Body"] and agrees(body, replayed["Body"]):
            return _describes_body(replayed) and agrees(
                _without_body_facts(recorded), _without_body_facts(replayed)
            )
        # An SQS message's MD5 is of its body as served (checked above).
        digest = "MD5OfBody" if recorded.get("Body") != replayed.get("Body") else None
        return all(agrees(v, replayed[k]) for k, v in recorded.items() if k != digest)
    if isinstance(recorded, list) and isinstance(replayed, list):
        return len(recorded) == len(replayed) and all(map(agrees, recorded, replayed))
    if isinstance(recorded, bytes) and isinstance(replayed, bytes):
        return agrees(recorded.decode("latin-1"), replayed.decode("latin-1"))
    if isinstance(recorded, str) and isinstance(replayed, str) and _TOKEN.fullmatch(replayed):
        return True  # a secret (STS's credentials) replaced whole
    if isinstance(recorded, str) and isinstance(replayed, str) and EMAIL in recorded:
        pattern = '[^ "]+?'.join(map(re.escape, recorded.split(EMAIL)))
        return EMAIL not in replayed and re.fullmatch(pattern, replayed) is not None
    return recorded == replayed


# The sanitizer's stand-in for a secret.
_TOKEN = re.compile(r"SANITIZED_[A-Z_]+")


def _md5_gives_body(result: dict) -> bool:
    """An SQS message's MD5OfBody is the MD5 of its Body, as the Java and .NET SDKs check
    (botocore does not)."""
    if "MD5OfBody" not in result:
        return True
    body = result["Body"].encode()
    return hashlib.md5(body, usedforsecurity=False).hexdigest() == result["MD5OfBody"]


_BODY_FACTS = ("Body", "ContentLength", "ChecksumCRC32")


def _describes_body(result: dict) -> bool:
    body = result["Body"]
    crc = base64.b64encode(struct.pack(">I", zlib.crc32(body))).decode()
    return result.get("ContentLength") == len(body) and result.get("ChecksumCRC32") in (None, crc)


def _without_body_facts(result: dict) -> dict:
    return {k: v for k, v in result.items() if k not in _BODY_FACTS}
