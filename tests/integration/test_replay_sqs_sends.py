"""SQS sends recorded and replayed by real clients: boto3 (SQS's JSON protocol) and form
posts in SQS's query protocol, recorded against a moto server through a real Envoy 1.40 and
``mockado ext-proc``, replayed against a real WireMock 3.13.2 loaded with the stubs written
(``tests/support/sqs_sends.py``).

A send's answer gives the MD5s of the message sent, which the AWS SDKs for Java and .NET
check: a canary sending another message than the recorded one (another event id, another
customer's address, one more attribute) must get a clear miss, never the recorded MD5s. A
send whose message had a value sanitized cannot be answered with MD5s of what a canary sends
and gets no stub.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import httpx
import pytest
from botocore.config import Config

from tests.support import boto_workload, sdk_replay, sqs_sends
from tests.support.ext_proc_rig import collector_settings
from tests.support.moto_server import running_moto
from tests.support.raw_capture import capture_behind_envoy, import_into
from tests.support.sdk_replay import Outcome

pytestmark = pytest.mark.integration

# The sends whose recorded answer a canary gets: the recorded messages exactly.
ANSWERED = ("json plain", "json batch", "query plain", "query batch")


@pytest.fixture(scope="module")
def moto_port(logs_dir: Path) -> Iterator[int]:
    with running_moto(logs_dir / "moto.log") as port:
        yield port


def _endpoint(url: str, access_key: str) -> sqs_sends.Endpoint:
    client = boto3.client(
        "sqs",
        endpoint_url=url,
        region_name=boto_workload.REGION,
        aws_access_key_id=access_key,
        aws_secret_access_key=f"{access_key}-secret",
        config=Config(retries={"mode": "legacy", "max_attempts": 0}),
    )
    return sqs_sends.Endpoint(url=url, access_key=access_key, sqs=client)


@pytest.fixture(scope="module")
def recorded(moto_port, redis_server, envoy_factory, ext_proc_factory):
    """The sends made through Envoy to moto -> (queue URL, stubs, stubs skipped by reason)."""
    collector = collector_settings(redis_server.url)
    ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, moto_port)
    sdk_replay.first_capture(
        ext,
        lambda n: httpx.get(f"{envoy.url}/moto-api/?try={n}", timeout=10).raise_for_status(),
    )
    through = _endpoint(envoy.url, "AKIARECORDED00000001")
    state: dict[str, str] = {}

    def workload() -> dict[str, Outcome]:
        state["queue_url"] = through.sqs.create_queue(QueueName=sqs_sends.QUEUE)["QueueUrl"]
        return {
            name: Outcome(result=sqs_sends.make(send, state["queue_url"], through))
            for name, send in sqs_sends.recorded_sends().items()
        }

    outcomes, _sent, skipped = sdk_replay.record(envoy, ext, workload)
    assert all(o.result for o in outcomes.values()), outcomes
    stubs = [s for s in ext.captured() if s["request"].get("urlPath") != "/moto-api/"]
    return state["queue_url"], stubs, skipped


def test_a_send_is_answered_with_the_md5s_of_its_own_message_or_missed(
    recorded, moto_port, wiremock
):
    queue_url, stubs, skipped = recorded
    import_into(wiremock, stubs)
    mock = _endpoint(wiremock.url, "AKIAREPLAYED00000002")
    server = _endpoint(f"http://127.0.0.1:{moto_port}", "AKIAREPLAYED00000002")
    answered, wrong = [], []
    for name, send in sqs_sends.canary_sends().items():
        got = sqs_sends.make(send, queue_url, mock)
        if got is None:
            continue
        answered.append(name)
        # What the real server answers the same send: every MD5 a client checks.
        problem = sqs_sends.disagreement(send, got, sqs_sends.make(send, queue_url, server))
        if problem:
            wrong.append(f"{name}: {problem}")
    report = f"{len(stubs)} stubs, skipped {skipped}; answered {answered}"
    assert not wrong, f"{report}; wrong: {wrong}"
    assert answered == list(ANSWERED), report


def test_a_send_whose_message_was_sanitized_gets_no_stub(recorded):
    _queue_url, _stubs, skipped = recorded
    # Its answer's MD5 is of the customer's address; no stub can give it for another.
    assert skipped == {"request_message_sanitized": 2}
