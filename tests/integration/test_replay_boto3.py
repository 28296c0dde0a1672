"""A real AWS client recorded and replayed: boto3 against a moto server, through a real
Envoy 1.40 and ``mockado ext-proc``, then against a real WireMock 3.13.2 loaded with the
stubs the collector wrote (``tests/support/boto_workload.py``: DynamoDB, SQS, S3, STS,
SNS, IAM and Lambda, with paginators).

The replay runs the same workload with fresh clients: other credentials, so other SigV4
signatures, and a new ``X-Amz-Date`` and ``amz-sdk-invocation-id`` on every call. Each call
must get the parsed result it got from moto (a sanitized address aside), or a clear miss
(WireMock's 404, a botocore error): never another answer, never a checksum botocore
refuses.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support import boto_workload, sdk_replay
from tests.support.ext_proc_rig import collector_settings
from tests.support.moto_server import running_moto
from tests.support.raw_capture import capture_behind_envoy, import_into
from tests.support.sdk_replay import Outcome

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def moto_port(logs_dir: Path) -> Iterator[int]:
    with running_moto(logs_dir / "moto.log") as port:
        yield port


@pytest.fixture(scope="module")
def recorded(moto_port, redis_server, envoy_factory, ext_proc_factory):
    """The workload run through Envoy to moto -> (outcomes, stubs, requests sent, stubs
    skipped by reason)."""
    collector = collector_settings(
        redis_server.url, body_limit_bytes=boto_workload.FRAMED_BODY_LIMIT_BYTES
    )
    ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, moto_port)
    sdk_replay.first_capture(
        ext,
        lambda n: httpx.get(f"{envoy.url}/moto-api/?try={n}", timeout=10).raise_for_status(),
    )
    client_set = boto_workload.clients(envoy.url, access_key="AKIARECORDED00000001")
    outcomes, sent, skipped = sdk_replay.record(
        envoy, ext, lambda: boto_workload.run(boto_workload.steps(), client_set)
    )
    stubs = [s for s in ext.captured() if s["request"].get("urlPath") != "/moto-api/"]
    return outcomes, stubs, sent, skipped


def _as_documented(recorded: Outcome, replayed: Outcome) -> Outcome:
    """``replayed`` with what a stub serves otherwise by design (docs/mappings.md,
    "Responses") put back as recorded: ``Content-Encoding: identity`` on an answer with a
    checksum of its body (never compressed by a WireMock that gzips), a HEAD answer
    without the length of a body its GET's stub may serve at another size, and role
    credentials' ``Expiration`` as long after the replay as it was after the recording."""
    was, now = recorded.result, replayed.result
    if not isinstance(was, dict) or not isinstance(now, dict):
        return replayed
    now = dict(now)
    if "ContentEncoding" not in was and now.get("ContentEncoding") == "identity":
        del now["ContentEncoding"]
    if "Body" not in was and "ContentLength" in was and "ContentLength" not in now:
        now["ContentLength"] = was["ContentLength"]
    if _expiry_from_now(was, now):
        now["Credentials"] = {**now["Credentials"], "Expiration": was["Credentials"]["Expiration"]}
    return Outcome(result=now, error=replayed.error, status=replayed.status)


# The replay runs within this of the recording.
_REPLAY_AFTER_S = 600


def _expiry_from_now(was: dict, now: dict) -> bool:
    """Whether ``now``'s credentials expire later than ``was``'s by no more than the time
    between the recording and the replay (docs/mappings.md, "Responses")."""
    try:
        recorded = datetime.datetime.fromisoformat(was["Credentials"]["Expiration"])
        replayed = datetime.datetime.fromisoformat(now["Credentials"]["Expiration"])
    except (KeyError, TypeError, ValueError):
        return False
    return 0 <= (replayed - recorded).total_seconds() <= _REPLAY_AFTER_S


def test_boto3_workload_replays_right_or_misses(recorded, wiremock):
    outcomes, stubs, sent, skipped = recorded
    import_into(wiremock, stubs)
    client_set = boto_workload.clients(wiremock.url, access_key="AKIAREPLAYED00000002")
    right, misses, wrong = sdk_replay.verdicts(
        outcomes,
        boto_workload.run(boto_workload.steps(), client_set),
        as_documented=_as_documented,
        agrees=boto_workload.agrees,
    )
    report = (
        f"{sent} requests, {len(stubs)} stubs, skipped {skipped}; "
        f"calls: {len(right)} right, misses {misses}"
    )
    assert not wrong, f"{report}; wrong: {wrong}"
    # Every call was recorded faithfully and replays: the uploads botocore sends
    # aws-chunked as it does to S3 over TLS (the checksum in a trailer) too, though each
    # replay frames its payload with another checksum; and SendMessage, whose answer gives
    # the MD5 of a message holding a customer's address, sanitized: the launcher computes
    # it over the message replayed.
    assert skipped == {}, report
    assert misses == [], report
    assert right == list(outcomes), report
    chunked = {f"s3.{op}.aws_chunked{kind}" for op in ("put_object", "get_object")
               for kind in ("", " contact", " binary")}  # fmt: skip
    # In every trailer checksum botocore sends, in several chunks (as other SDKs frame a
    # larger payload) and without Content-Encoding: aws-chunked.
    chunked |= {name for name in outcomes if name.startswith("s3.put_object.aws_chunked ")}
    assert len(chunked) == (
        6 + 2 * len(boto_workload.TRAILER_ALGORITHMS) + 3 + len(boto_workload.BINARY_CHUNK_SIZES)
    ), report
    assert chunked <= set(right), report


# case -> (the workload's key, how it was uploaded: put_chunked's keywords).
CHUNKED_CASES = {
    "text": (boto_workload.CHUNKED, {}),
    "binary": (boto_workload.CHUNKED_BINARY, {}),
    "binary sha512": (boto_workload.CHUNKED_BINARY, {
        "target": f"{boto_workload.CHUNKED_BINARY}.sha512", "algorithm": "SHA512"}),
    "64 KiB chunks": (boto_workload.CHUNKED_LARGE, {
        "target": f"{boto_workload.CHUNKED_LARGE}.64KiB", "chunk_size": 64 * 1024}),
    "binary in 50,000-byte chunks": (boto_workload.CHUNKED_LARGE_BINARY, {
        "target": f"{boto_workload.CHUNKED_LARGE_BINARY}.50000B", "chunk_size": 50_000}),
    "unlabelled": (boto_workload.CHUNKED_UNLABELLED, {"labelled": False}),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(CHUNKED_CASES))
def test_an_aws_chunked_upload_of_other_bytes_is_a_clear_miss(recorded, wiremock, case):
    """The stub of an aws-chunked upload matches its payload: another payload to the same
    key, of the same length or not, the recorded one sent plain or labelled otherwise
    (with Content-Encoding: aws-chunked or without), gets WireMock's 404."""
    _, stubs, _, _ = recorded
    import_into(wiremock, stubs)
    client_set = boto_workload.clients(wiremock.url, access_key="AKIAREPLAYED00000003")
    key, sent = CHUNKED_CASES[case]
    recorded_body = boto_workload.CHUNKED_BODIES[key]
    others = {"same length": recorded_body[::-1], "longer": recorded_body + b"more"}
    steps: list[tuple[str, boto_workload.Step]] = [
        (name, lambda c, s, body=body: boto_workload.put_chunked(c, key, body, **sent))
        for name, body in others.items()
    ]
    relabelled = {**sent, "labelled": not sent.get("labelled", True)}
    steps += [
        ("sent plain", lambda c, s: c["s3"].put_object(
            Bucket=boto_workload.BUCKET, Key=sent.get("target", key), Body=recorded_body)),
        ("labelled otherwise", lambda c, s: boto_workload.put_chunked(c, key, **relabelled)),
        ("recorded", lambda c, s: boto_workload.put_chunked(c, key, **sent)),
    ]  # fmt: skip
    outcomes = boto_workload.run(steps, client_set)
    assert [name for name, outcome in outcomes.items() if not outcome.missed] == ["recorded"]
