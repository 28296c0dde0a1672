"""A real Azure client recorded and replayed: ``azure-storage-blob`` against Azurite,
through a real Envoy 1.40 and ``mockado ext-proc``, then against a real WireMock 3.13.2
loaded with the stubs the collector wrote (``tests/support/azure_workload.py``).

The replay runs the same workload with a fresh client: a new ``x-ms-date``, SharedKey
signature and ``x-ms-client-request-id`` on every call. Each call must get the parsed
result it got from Azurite (a sanitized address aside), or a clear miss (WireMock's 404):
never another answer, never a digest the SDK refuses.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from control_plane.local import procs
from tests.support import azure_workload
from tests.support.azure_workload import Outcome
from tests.support.ext_proc_rig import collector_settings, counters, wait_until
from tests.support.metrics_text import by_label, scrape, total
from tests.support.paths import REPO
from tests.support.processes import poll_until
from tests.support.raw_capture import capture_behind_envoy, import_into

pytestmark = pytest.mark.integration

AZURITE = REPO / ".tools" / "npm" / "node_modules" / ".bin" / "azurite-blob"


@pytest.fixture(scope="module")
def azurite_port(logs_dir: Path) -> Iterator[int]:
    port = procs.free_port()
    command = [str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", str(port),
               "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry"]  # fmt: skip
    process = procs.ManagedProcess("azurite", command, log_path=logs_dir / "azurite.log").start()
    try:
        # Azurite answers an unsigned request 403: it listens.
        url = f"http://127.0.0.1:{port}/{azure_workload.ACCOUNT}?comp=list"
        process.wait_ready(procs.http_ready(url, expect_status=403), timeout_s=30)
        yield port
    finally:
        process.stop()


def _requests_proxied(envoy) -> int:
    stats = httpx.get(f"{envoy.admin_url}/stats?filter=downstream_rq_total", timeout=5)
    return sum(
        int(line.rsplit(" ", 1)[1])
        for line in stats.text.splitlines()
        if line.startswith("http.mockado_ingress.downstream_rq_total:")
    )


# Every way the collector decides a call: a stub, a duplicate, a repeat, a counted skip.
_DECISIONS = (
    ("collector_enqueued_total", {}),
    ("collector_deduplication_operations_total", {"result": "duplicate"}),
    ("collector_repeats_total", {}),
    ("collector_stubs_skipped_total", {}),
)


def _decided(ext) -> float:
    samples = scrape(f"http://127.0.0.1:{ext.http_port}/metrics")
    return sum(total(samples, name, **labels) for name, labels in _DECISIONS)


def _skipped(ext) -> dict[str, float]:
    samples = scrape(f"http://127.0.0.1:{ext.http_port}/metrics")
    return by_label(samples, "collector_stubs_skipped_total", "reason")


def _first_capture(envoy, ext) -> None:
    """Azurite's account listing (unsigned: a 403) through Envoy until the collector decides
    one capture: Envoy's first connection to the collector may miss its connect timeout on a
    loaded machine, and that capture is skipped by design."""
    tries = iter(range(100))

    def landed() -> bool:
        httpx.get(f"{envoy.url}/{azure_workload.ACCOUNT}?comp=list&try={next(tries)}", timeout=10)
        return bool(poll_until(lambda: _decided(ext), timeout_s=0.5))

    wait_until(landed, timeout_s=30, what="a first capture through Envoy")


@pytest.fixture(scope="module")
def recorded(azurite_port, redis_server, envoy_factory, ext_proc_factory):
    """The workload run through Envoy to Azurite -> (outcomes, stubs, requests sent, stubs
    skipped by reason)."""
    collector = collector_settings(redis_server.url)
    ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, azurite_port)
    _first_capture(envoy, ext)
    before = (_requests_proxied(envoy), _decided(ext), _skipped(ext))
    steps = azure_workload.steps(f"http://127.0.0.1:{azurite_port}")
    outcomes = azure_workload.run(steps, azure_workload.client(envoy.url))
    assert all(o.error is None or o.status for o in outcomes.values()), outcomes
    sent = _requests_proxied(envoy) - before[0]
    wait_until(
        lambda: _decided(ext) - before[1] >= sent,
        timeout_s=30,
        what=f"every one of {sent} calls decided",
        explain=lambda: counters(ext),
    )
    skipped = {k: v - before[2].get(k, 0) for k, v in _skipped(ext).items()}
    stubs = [s for s in ext.captured() if "try" not in str(s["request"].get("queryParameters"))]
    return outcomes, stubs, sent, {k: v for k, v in skipped.items() if v}


def _as_documented(recorded: Outcome, replayed: Outcome) -> Outcome:
    """``replayed`` with what a stub serves otherwise by design (docs/mappings.md,
    "Responses") put back as recorded: ``Content-Encoding: identity`` on an answer with a
    digest of its body (never compressed by a WireMock that gzips), which the SDK gives as
    the blob's ``content_encoding``, and a HEAD answer (``get_blob_properties``) of a text
    blob without the length or ``Content-MD5`` of a body its GET's stub may serve
    sanitized (no ``size``, no ``content_md5``)."""
    was, now = recorded.result, replayed.result
    if (
        isinstance(was, dict)
        and "properties" in was
        and isinstance(now, dict)
        and "properties" in now
    ):
        was, now = was["properties"], now["properties"]
        fixed = {**replayed.result, "properties": _put_back(was, now)}
        return Outcome(result=fixed, error=replayed.error, status=replayed.status)
    if isinstance(was, dict) and isinstance(now, dict) and "content_settings" in was:
        fixed = _put_back(was, now)
        if was["content_range"] is None and now["size"] is None:
            settings = {**fixed["content_settings"]}
            settings["content_md5"] = was["content_settings"]["content_md5"]
            fixed = {**fixed, "size": was["size"], "content_settings": settings}
        return Outcome(result=fixed, error=replayed.error, status=replayed.status)
    return replayed


def _put_back(was: dict, now: dict) -> dict:
    """``now`` without the ``identity`` coding ``was`` did not have."""
    coding = now["content_settings"]["content_encoding"]
    if was["content_settings"]["content_encoding"] is None and coding == "identity":
        return {**now, "content_settings": {**now["content_settings"], "content_encoding": None}}
    return now


def _verdicts(recorded: dict[str, Outcome], replayed: dict[str, Outcome]):
    """-> (calls answered right, calls missed, (call, recorded, replayed) answered wrong)."""
    right, misses, wrong = [], [], []
    for name, was in recorded.items():
        now = _as_documented(was, replayed[name])
        if now.missed:
            misses.append(name)
        elif (now.error, now.status) == (was.error, was.status) and azure_workload.agrees(
            was.result, now.result
        ):
            right.append(name)
        else:
            wrong.append((name, was, now))
    return right, misses, wrong


def test_azure_blob_workload_replays_right_or_misses(recorded, wiremock, azurite_port):
    outcomes, stubs, sent, skipped = recorded
    import_into(wiremock, stubs)
    steps = azure_workload.steps(f"http://127.0.0.1:{azurite_port}")
    replayed = azure_workload.run(steps, azure_workload.client(wiremock.url))
    right, misses, wrong = _verdicts(outcomes, replayed)
    report = (
        f"{sent} requests, {len(stubs)} stubs, skipped {skipped}; "
        f"calls: {len(right)} right, misses {misses}"
    )
    assert not wrong, f"{report}; wrong: " + "; ".join(
        f"{name}: {was} -> {now}" for name, was, now in wrong
    )
    # The SDK sends an upload's body as application/octet-stream (the blob's own type in
    # x-ms-blob-content-type): one holding a customer's address cannot be sanitized, and
    # is not recorded: a counted skip and a clear miss. Its downloads (ranged reads
    # answered 206 with the whole blob) are served sanitized, their MD5 the served body's.
    assert skipped == {"request_binary_unsanitizable": 1}, report
    assert misses == ["upload notes/contact.txt"], report
    assert right == [name for name in outcomes if name not in misses], report
