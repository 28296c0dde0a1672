"""SQS sends recorded and replayed by real clients: boto3 (SQS's JSON protocol) and form
posts in SQS's query protocol, recorded against a moto server through a real Envoy 1.40 and
``mockado ext-proc``, replayed against a real WireMock 3.13.2 loaded with the stubs written
(``tests/support/sqs_sends.py``).

A send's answer gives the MD5s of the message sent, which the AWS SDKs for Java and .NET
check. mockado's launcher computes them over the message it answers: a canary sending
another event id, another customer's address (a sanitized value) or a fresh timestamp gets
the MD5s of its own message, as the real server answers them; one sending another body or
other attributes gets a clear miss. Stock WireMock cannot compute them: there those stubs
miss, never answering another message's MD5s.
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

# The sends no recording gives the MD5s of: another body, one more attribute.
MISSED = ["json another body", "json one more attribute", "query one more attribute",
          "query batch one more attribute"]  # fmt: skip


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


def _record(moto_port, redis_server, envoy_factory, ext_proc_factory, sends):
    """``sends()`` made through Envoy to moto -> (queue URL, stubs, stubs skipped by reason)."""
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
            for name, send in sends().items()
        }

    outcomes, _sent, skipped = sdk_replay.record(envoy, ext, workload)
    assert all(o.result for o in outcomes.values()), outcomes
    stubs = [s for s in ext.captured() if s["request"].get("urlPath") != "/moto-api/"]
    return state["queue_url"], stubs, skipped


@pytest.fixture(scope="module")
def launcher(wiremock_factory):
    """mockado's launcher, which computes a send's MD5s at serve time."""
    return wiremock_factory(indexed=True)


@pytest.fixture(scope="module")
def recorded(moto_port, redis_server, envoy_factory, ext_proc_factory):
    return _record(
        moto_port, redis_server, envoy_factory, ext_proc_factory, sqs_sends.recorded_sends
    )


@pytest.fixture(scope="module")
def recorded_fresh(moto_port, redis_server, envoy_factory, ext_proc_factory):
    return _record(moto_port, redis_server, envoy_factory, ext_proc_factory, sqs_sends.fresh_sends)


def _replayed(wiremock, moto_port, queue_url, sends) -> dict[str, list[str]]:
    mock = _endpoint(wiremock.url, "AKIAREPLAYED00000002")
    server = _endpoint(f"http://127.0.0.1:{moto_port}", "AKIAREPLAYED00000002")
    return sqs_sends.tally(sends, queue_url, mock, server)


def test_a_send_is_answered_with_the_md5s_of_its_own_message_or_missed(
    recorded, moto_port, launcher
):
    queue_url, stubs, skipped = recorded
    import_into(launcher, stubs)
    got = _replayed(launcher, moto_port, queue_url, sqs_sends.canary_sends())
    report = f"{len(stubs)} stubs, skipped {skipped}; {got}"
    assert not got["wrong"], report
    assert got["miss"] == MISSED, report
    assert len(got["right"]) == 12, report


def test_a_send_whose_message_was_sanitized_gets_a_stub_computing_its_md5s(recorded):
    _queue_url, stubs, skipped = recorded
    # Its answer's MD5 was of the customer's address; the stub computes them at serve time.
    assert skipped == {}, skipped
    sends = [s for s in stubs if "MD5OfMessageBody" in s["response"].get("body", "")]
    computing = [s for s in sends if s["request"].get("customMatcher")]
    assert len(computing) == len(sends) == len(sqs_sends.recorded_sends()), stubs


def test_fresh_bodies_replayed_get_the_md5s_of_their_own_message(
    recorded_fresh, moto_port, launcher, wiremock_factory
):
    queue_url, stubs, skipped = recorded_fresh
    import_into(launcher, stubs)
    got = _replayed(launcher, moto_port, queue_url, sqs_sends.fresh_canary_sends())
    report = f"{len(stubs)} stubs, skipped {skipped}; {got}"
    assert not got["wrong"], report
    assert got["right"] == list(sqs_sends.fresh_sends()), report
    assert got["miss"] == ["json batch one more entry", "query one attribute less"], report
    # Stock WireMock computes no MD5: the same stubs there miss, never answer wrong ones.
    stock = wiremock_factory(indexed=False)
    import_into(stock, stubs)
    on_stock = _replayed(stock, moto_port, queue_url, sqs_sends.fresh_canary_sends())
    assert on_stock["miss"] == list(sqs_sends.fresh_canary_sends()), on_stock
