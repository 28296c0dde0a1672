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

from ext_proc_server.mapping.catch_all import catch_all_mapping
from ext_proc_server.mapping.sent_messages import exact_repeats_hash
from ext_proc_server.misses import parse_miss_event
from tests.support import boto_workload, sdk_replay, sqs_sends
from tests.support.ext_proc_rig import collector_settings
from tests.support.moto_server import running_moto
from tests.support.processes import poll_until
from tests.support.raw_capture import capture_behind_envoy, import_into
from tests.support.sdk_replay import Outcome
from tests.support.webhook_receiver import webhook_receiver

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


def _send_stubs(stubs: list[dict]) -> list[dict]:
    """The stubs answering a send with MD5s."""
    return [s for s in stubs if "MD5OfMessageBody" in s["response"].get("body", "")]


def _exact_repeat_stubs(stubs: list[dict]) -> list[dict]:
    """The stubs answering a send's exact repeats beside the one computing its MD5s."""
    hashes = {exact_repeats_hash(s["metadata"]["mockado"]["hash"]) for s in stubs}
    return [s for s in stubs if s["metadata"]["mockado"]["hash"] in hashes]


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

    def beside() -> int:
        return len(_exact_repeat_stubs(ext.captured()))

    outcomes, _sent, skipped = sdk_replay.record(envoy, ext, workload, beside)
    assert all(o.result for o in outcomes.values()), outcomes
    stubs = [s for s in ext.captured() if s["request"].get("urlPath") != "/moto-api/"]
    return state["queue_url"], stubs, skipped


@pytest.fixture(scope="module")
def launcher(wiremock_factory):
    """mockado's launcher, which computes a send's MD5s at serve time."""
    return wiremock_factory(indexed=True)


@pytest.fixture(scope="module")
def stock(wiremock_factory):
    """Stock WireMock 3.13.2, which computes no MD5."""
    return wiremock_factory(indexed=False)


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
    sends = _send_stubs(stubs)
    computing = [s for s in sends if s["request"].get("customMatcher")]
    assert len(computing) == len(sqs_sends.recorded_sends()), stubs
    # Beside those, a stub of the recorded MD5s for each message the sanitizer left as it was.
    exact = _exact_repeat_stubs(stubs)
    assert len(exact) == len(sends) - len(computing) == 4, stubs
    assert not any(s["request"].get("customMatcher") for s in exact), exact


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


def test_an_exact_repeat_is_answered_by_stock_wiremock_too(recorded, moto_port, stock):
    """Stock WireMock cannot compute an MD5; the recorded message's own are right for that
    message as sent, where the sanitizer left it unchanged."""
    queue_url, stubs, _skipped = recorded
    import_into(stock, stubs)
    got = _replayed(stock, moto_port, queue_url, sqs_sends.canary_sends())
    report = f"{len(stubs)} stubs; {got}"
    assert not got["wrong"], report
    assert got["right"] == ["json plain", "json batch", "query plain", "query batch"], report
    # Measured: a stub computing the MD5s per send, and one answering its exact repeats
    # where its message was not sanitized.
    assert len(_send_stubs(stubs)) == 10, report


def test_the_launcher_answers_an_exact_repeat_with_the_stub_computing_its_md5s(
    recorded, moto_port, launcher
):
    queue_url, stubs, _skipped = recorded
    import_into(launcher, stubs)
    computing = {s["id"] for s in stubs if s["request"].get("customMatcher")}
    # The launcher's hit counts only grow (a reset keeps them): the other tests' replays
    # on this module's launcher are in them too, so only what this replay adds counts.
    before = httpx.get(f"{launcher.url}/__admin/mockado/hits", timeout=10).json()
    got = _replayed(launcher, moto_port, queue_url, sqs_sends.recorded_sends())
    assert got["right"] == list(sqs_sends.recorded_sends()), got
    hits = httpx.get(f"{launcher.url}/__admin/mockado/hits", timeout=10).json()
    hit = {stub_id for stub_id, count in hits.items() if count > before.get(stub_id, 0)}
    assert len(hit) == len(sqs_sends.recorded_sends()) and hit <= computing, (before, hits)


@pytest.fixture(scope="module")
def recorded_traced(moto_port, redis_server, envoy_factory, ext_proc_factory):
    """The sends of one trace made twice, each time with new noise -> (queue URL, stubs,
    skipped, the trace, the sends made)."""
    trace = sqs_sends.trace_header()
    sends = {
        f"{name} {n}": send for n in (1, 2) for name, send in sqs_sends.traced_sends(trace).items()
    }
    queue_url, stubs, skipped = _record(
        moto_port, redis_server, envoy_factory, ext_proc_factory, lambda: sends
    )
    return queue_url, stubs, skipped, trace, sends


def test_each_traced_send_gets_the_stub_of_its_own_message(recorded_traced, moto_port, stock):
    """Their MD5s are answered as recorded: each message is its own stub, not only the first
    of those differing only in noise."""
    queue_url, stubs, skipped, trace, sends = recorded_traced
    assert skipped == {}, skipped
    assert len(_send_stubs(stubs)) == len(sends), stubs
    import_into(stock, stubs)
    got = _replayed(stock, moto_port, queue_url, sends)
    assert not got["wrong"], got
    assert got["right"] == list(sends), got
    # Another trace and event id: no recording gives its MD5s.
    others = sqs_sends.traced_sends(trace)
    again = _replayed(stock, moto_port, queue_url, others)
    assert again["miss"] == list(others), again


@pytest.fixture
def misses_told() -> Iterator[tuple[str, list[bytes]]]:
    """A receiver of the catch-all's webhook -> (its URL, the bodies it received)."""
    with webhook_receiver() as told:
        yield told


def test_a_form_with_a_bare_percent_gets_no_stub_and_never_reaches_the_miss_report(
    moto_port, redis_server, envoy_factory, ext_proc_factory, launcher, misses_told
):
    """A "%" not followed by two hex digits: the server reads it as it came, but WireMock's
    Jetty cannot decode the form and answers 500 before any stub is looked at (the
    catch-all, which tells the miss report, included)."""
    sends = {"query bare percent": sqs_sends.unescaped_send("save+50%")}
    queue_url, stubs, skipped = _record(
        moto_port, redis_server, envoy_factory, ext_proc_factory, lambda: sends
    )
    assert _send_stubs(stubs) == [], stubs
    assert skipped == {"request_form_undecodable": 1.0}, skipped
    notify_url, received = misses_told
    import_into(launcher, [*stubs, catch_all_mapping(shard="sends", notify_url=notify_url)])
    mock = _endpoint(launcher.url, "AKIAREPLAYED00000002")
    refused = sends["query bare percent"].call(queue_url, mock)
    assert refused.status_code == 500 and "x-mockado-miss" not in refused.headers
    # The same send escaped is a miss the report is told of; the bare one never was.
    missed = sqs_sends.unescaped_send("save+50%25").call(queue_url, mock)
    assert missed.status_code == 404 and missed.headers["x-mockado-miss"] == "true"
    assert poll_until(lambda: received, timeout_s=20)
    assert [parse_miss_event(body).method for body in received] == ["POST"]
