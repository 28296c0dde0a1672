"""Stubs the release before wrote, replayed by a real WireMock 3.13.2 after the loader
imports them from its Redis queue, or finds them already held when it starts: an SQS send
answers its own message with its MD5s and any other with a miss, Azure's client id is the
replayed call's, an expiry is served from now (``tests/unit/mapping/old_release_stubs.json``:
the stubs, as that release's ``build_mapping`` wrote them)."""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
import time
import uuid
from pathlib import Path

import httpx
import pytest

from ext_proc_server.loader.shards import Shard
from ext_proc_server.loader.wiremock_client import WireMockClient
from tests.support.loader_rig import (
    LoaderThread,
    config_for,
    enqueue,
    metric,
    queue_done,
    wait_for,
)

pytestmark = pytest.mark.integration

OLD = json.loads(
    (Path(__file__).parents[1] / "unit" / "mapping" / "old_release_stubs.json").read_text()
)
RETIRED = "wiremock_loader_stubs_retired_total"
SQS = {"Host": "sqs.us-east-1.localhost", "Content-Type": "application/x-amz-json-1.0"}
QUEUE_URL = "http://sqs.us-east-1.localhost/000000000000/orders"
KIND = {"kind": {"DataType": "String", "StringValue": "paid"}}
FORM = {"Host": "sqs.us-east-1.localhost",
        "Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}  # fmt: skip
FORM_SENT = f"Action=SendMessage&QueueUrl={QUEUE_URL}&MessageBody=hello+world&Version=2012-11-05"


def _md5(text: str) -> str:
    return hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()


def _send(url: str, body: str, *, attributes: dict | None = None) -> httpx.Response:
    message = {"QueueUrl": QUEUE_URL, "MessageBody": body, **({"MessageAttributes": attributes}
               if attributes else {})}  # fmt: skip
    headers = {**SQS, "X-Amz-Target": "AmazonSQS.SendMessage"}
    return httpx.post(url + "/", headers=headers, content=json.dumps(message), timeout=10)


def _answered_md5(reply: httpx.Response) -> str | None:
    """The body MD5 a send was answered with; None for a miss (WireMock's 404)."""
    if reply.status_code == 404:
        return None
    assert reply.status_code == 200, reply.text
    return reply.json()["MD5OfMessageBody"]


def _sends_are_right_or_a_miss(url: str) -> None:
    own = '{"order": 7, "status": "paid"}'
    assert _answered_md5(_send(url, own)) == _md5(own)
    # Another message got the recorded one's MD5s: now a miss.
    assert _answered_md5(_send(url, '{"order": 8, "status": "paid"}')) is None
    assert _answered_md5(_send(url, own, attributes=KIND)) is None
    assert _answered_md5(_send(url, "order 9 paid", attributes=KIND)) == _md5("order 9 paid")
    assert _answered_md5(_send(url, "order 9 paid")) is None
    # Retired: the recorded message was sanitized, or any UUID was taken.
    assert _answered_md5(_send(url, '{"order": 7, "buyer": "ana@example.com"}')) is None
    assert _answered_md5(_send(url, str(uuid.uuid4()))) is None
    form = httpx.post(url + "/", headers=FORM, content=FORM_SENT, timeout=10)
    assert form.status_code == 200 and _md5("hello world") in form.text
    extra = FORM_SENT + "&MessageAttribute.1.Name=kind&MessageAttribute.1.Value.DataType=String"
    assert httpx.post(url + "/", headers=FORM, content=extra, timeout=10).status_code == 404


def _answers_are_todays(url: str) -> None:
    call_id = str(uuid.uuid4())
    blob = httpx.get(
        url + "/container/blob.txt",
        headers={"Host": "acct.blob.core.windows.net", "x-ms-version": "2021-08-06",
                 "x-ms-client-request-id": call_id},
        timeout=10,
    )  # fmt: skip
    assert blob.status_code == 200 and blob.text == "hello"
    assert blob.headers["x-ms-client-request-id"] == call_id
    credentials = httpx.post(
        url + "/",
        headers={"Host": "cognito-identity.us-east-1.amazonaws.com",
                 "Content-Type": "application/x-amz-json-1.1",
                 "X-Amz-Target": "AWSCognitoIdentityService.GetCredentialsForIdentity"},
        content='{"IdentityId":"us-east-1:1"}',
        timeout=10,
    )  # fmt: skip
    assert credentials.status_code == 200, credentials.text
    # Recorded an hour after a 2023 answer: served an hour after the replay.
    assert credentials.json()["Credentials"]["Expiration"] > time.time()


@pytest.fixture
def queue() -> str:
    return f"test-old-answers-{uuid.uuid4().hex[:8]}"


def test_old_stubs_the_loader_imports_answer_right_or_miss(redis_server, wm, rclient, queue):
    enqueue(redis_server.url, queue, [copy.deepcopy(stub) for stub in OLD.values()])
    before = metric(RETIRED, reason="old_stub_message_unknown")
    with LoaderThread(config_for(redis_server.url, wm.url, queue)):
        wait_for(queue_done(rclient, queue), what="queue drained")
    assert metric(RETIRED, reason="old_stub_message_unknown") - before == 2
    _sends_are_right_or_a_miss(wm.url)
    _answers_are_todays(wm.url)


def test_old_stubs_a_wiremock_holds_are_made_right_when_the_loader_starts(wm) -> None:
    # Written straight into WireMock, as the release before left them.
    imported = httpx.post(
        f"{wm.url}/__admin/mappings/import", json={"mappings": list(OLD.values())}, timeout=30
    )
    assert imported.status_code == 200, imported.text
    other = '{"order": 8, "status": "paid"}'
    assert _answered_md5(_send(wm.url, other)) is not None  # the wrong answer before the seed

    async def start() -> None:
        async with WireMockClient(wm.url) as client:
            await Shard(name="default", client=client).seed()

    asyncio.run(start())
    _sends_are_right_or_a_miss(wm.url)
    _answers_are_todays(wm.url)
