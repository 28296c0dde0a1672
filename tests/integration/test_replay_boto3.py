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

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from control_plane.local import procs
from tests.support import boto_workload
from tests.support.boto_workload import Outcome
from tests.support.ext_proc_rig import collector_settings, counters, wait_until
from tests.support.metrics_text import scrape, total
from tests.support.raw_capture import capture_behind_envoy, import_into

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def moto_port(logs_dir: Path) -> Iterator[int]:
    server = shutil.which("moto_server") or str(Path(sys.executable).parent / "moto_server")
    port = procs.free_port()
    process = procs.ManagedProcess(
        "moto", [server, "-H", "127.0.0.1", "-p", str(port)], log_path=logs_dir / "moto.log"
    ).start()
    try:
        process.wait_ready(procs.http_ready(f"http://127.0.0.1:{port}/moto-api/"), timeout_s=30)
        yield port
    finally:
        process.stop()


class _Sent:
    """Counts the HTTP requests a set of clients sends (a paginator sends several)."""

    def __init__(self, client_set: dict[str, Any]) -> None:
        self.count = 0
        for client in client_set.values():
            client.meta.events.register("before-send", self._one)

    def _one(self, **_: object) -> None:
        self.count += 1


# Every way the collector decides a call: a stub, a duplicate, a repeat, a counted skip.
_DECISIONS = (
    ("collector_enqueued_total", {}),
    ("collector_deduplication_operations_total", {"result": "duplicate"}),
    ("collector_repeats_total", {}),
    ("collector_stubs_skipped_total", {}),
)


@pytest.fixture(scope="module")
def recorded(moto_port, redis_server, envoy_factory, ext_proc_factory):
    """The workload run through Envoy to moto -> (outcomes, stubs, requests sent)."""
    collector = collector_settings(redis_server.url)
    ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, moto_port)
    client_set = boto_workload.clients(envoy.url, access_key="AKIARECORDED00000001")
    sent = _Sent(client_set)
    outcomes = boto_workload.run(boto_workload.steps(), client_set)
    assert all(o.error is None or o.status for o in outcomes.values()), outcomes

    def decided() -> bool:
        samples = scrape(f"http://127.0.0.1:{ext.http_port}/metrics")
        return sum(total(samples, name, **labels) for name, labels in _DECISIONS) >= sent.count

    wait_until(decided, timeout_s=30, what="every call decided", explain=lambda: counters(ext))
    return outcomes, ext.captured(), sent.count


def _as_documented(recorded: Outcome, replayed: Outcome) -> Outcome:
    """``replayed`` with what a stub serves otherwise by design (docs/mappings.md,
    "Responses") put back as recorded: ``Content-Encoding: identity`` on an answer with a
    checksum of its body (never compressed by a WireMock that gzips), and a HEAD answer
    without the length of a body its GET's stub may serve at another size."""
    was, now = recorded.result, replayed.result
    if not isinstance(was, dict) or not isinstance(now, dict):
        return replayed
    now = dict(now)
    if "ContentEncoding" not in was and now.get("ContentEncoding") == "identity":
        del now["ContentEncoding"]
    if "Body" not in was and "ContentLength" in was and "ContentLength" not in now:
        now["ContentLength"] = was["ContentLength"]
    return Outcome(result=now, error=replayed.error, status=replayed.status)


def _verdicts(recorded: dict[str, Outcome], replayed: dict[str, Outcome]):
    """-> (calls answered right, calls missed, (call, recorded, replayed) answered wrong)."""
    right, misses, wrong = [], [], []
    for name, was in recorded.items():
        now = _as_documented(was, replayed[name])
        if now.missed:
            misses.append(name)
        elif (now.error, now.status) == (was.error, was.status) and boto_workload.agrees(
            was.result, now.result
        ):
            right.append(name)
        else:
            wrong.append((name, was, now))
    return right, misses, wrong


def test_boto3_workload_replays_right_or_misses(recorded, wiremock):
    outcomes, stubs, sent = recorded
    import_into(wiremock, stubs)
    client_set = boto_workload.clients(wiremock.url, access_key="AKIAREPLAYED00000002")
    right, misses, wrong = _verdicts(outcomes, boto_workload.run(boto_workload.steps(), client_set))
    report = f"{sent} requests, {len(stubs)} stubs; calls: {len(right)} right, misses {misses}"
    assert not wrong, f"{report}; wrong: {wrong}"
    # Every call was recorded faithfully, so each replays: a miss is a matcher that no
    # longer takes a fresh client's request.
    assert right == list(outcomes), report
