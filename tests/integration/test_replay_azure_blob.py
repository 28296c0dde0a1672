"""A real Azure client recorded and replayed: ``azure-storage-blob`` against Azurite,
through a real Envoy 1.40 and ``mockado ext-proc``, then against a real WireMock 3.13.2
loaded with the stubs the collector wrote (``tests/support/azure_workload.py``).

The replay runs the same workload with a fresh client: a new ``x-ms-date``, SharedKey
signature and ``x-ms-client-request-id`` on every call. Each call must get the parsed
result it got from Azurite (a sanitized address aside), or a clear miss (WireMock's 404):
never another answer, never a digest the SDK refuses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from control_plane.local import procs
from tests.support import azure_workload, sdk_replay
from tests.support.ext_proc_rig import collector_settings
from tests.support.paths import REPO
from tests.support.processes import start_on_promised_ports
from tests.support.raw_capture import capture_behind_envoy, import_into
from tests.support.sdk_replay import Outcome

pytestmark = pytest.mark.integration

AZURITE = REPO / ".tools" / "npm" / "node_modules" / ".bin" / "azurite-blob"


def start_azurite(logs_dir: Path) -> tuple[procs.ManagedProcess, int]:
    """Azurite's blob service on a promised port, started again elsewhere when another
    process took it first -> it, ready, and its port."""

    def launch(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
        command = [str(AZURITE), "--blobHost", "127.0.0.1", "--blobPort", str(ports[0]),
                   "--inMemoryPersistence", "--skipApiVersionCheck", "--disableTelemetry"]  # fmt: skip
        log_path = logs_dir / f"azurite-{ports[0]}.log"
        # Azurite answers an unsigned request 403: it listens.
        url = f"http://127.0.0.1:{ports[0]}/{azure_workload.ACCOUNT}?comp=list"
        process = procs.ManagedProcess("azurite", command, log_path=log_path)
        return process, procs.http_ready(url, expect_status=403)

    process, [port] = start_on_promised_ports(
        "azurite", launch, started=lambda process: process, timeout_s=30
    )
    return process, port


@pytest.fixture(scope="module")
def azurite_port(logs_dir: Path) -> Iterator[int]:
    process, port = start_azurite(logs_dir)
    try:
        yield port
    finally:
        process.stop()


def test_an_azurite_whose_port_was_taken_starts_on_another(squatter, logs_dir: Path) -> None:
    process, port = start_azurite(logs_dir)
    try:
        assert squatter.ports and port not in squatter.ports
        assert process.alive
        first = (logs_dir / f"azurite-{squatter.ports[0]}.log").read_text(errors="replace")
        assert "EADDRINUSE" in first  # the first one could not listen there
    finally:
        process.stop()


@pytest.fixture(scope="module")
def recorded(azurite_port, redis_server, envoy_factory, ext_proc_factory):
    """The workload run through Envoy to Azurite -> (outcomes, stubs, requests sent, stubs
    skipped by reason)."""
    collector = collector_settings(redis_server.url)
    ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, azurite_port)
    # Azurite's account listing, unsigned: a 403 that is captured all the same.
    account = f"{envoy.url}/{azure_workload.ACCOUNT}"
    sdk_replay.first_capture(ext, lambda n: httpx.get(f"{account}?comp=list&try={n}", timeout=10))
    steps = azure_workload.steps(f"http://127.0.0.1:{azurite_port}")
    client = azure_workload.client(envoy.url)
    outcomes, sent, skipped = sdk_replay.record(
        envoy, ext, lambda: azure_workload.run(steps, client)
    )
    stubs = [s for s in ext.captured() if "try" not in str(s["request"].get("queryParameters"))]
    return outcomes, stubs, sent, skipped


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


def test_azure_blob_workload_replays_right_or_misses(recorded, wiremock, azurite_port):
    outcomes, stubs, sent, skipped = recorded
    import_into(wiremock, stubs)
    steps = azure_workload.steps(f"http://127.0.0.1:{azurite_port}")
    echoed: list[tuple[str, str | None]] = []
    replayed = azure_workload.run(steps, azure_workload.client(wiremock.url, echoed=echoed))
    right, misses, wrong = sdk_replay.verdicts(
        outcomes, replayed, as_documented=_as_documented, agrees=azure_workload.agrees
    )
    report = (
        f"{sent} requests, {len(stubs)} stubs, skipped {skipped}; "
        f"calls: {len(right)} right, misses {misses}"
    )
    assert not wrong, f"{report}; wrong: {wrong}"
    # The SDK sends an upload's body as application/octet-stream (the blob's own type in
    # x-ms-blob-content-type): one holding a customer's address cannot be sanitized, and
    # is not recorded: a counted skip and a clear miss. Its downloads (ranged reads
    # answered 206 with the whole blob) are served sanitized, their MD5 the served body's.
    assert skipped == {"request_binary_unsanitizable": 1}, report
    assert misses == ["upload notes/contact.txt"], report
    assert right == [name for name in outcomes if name not in misses], report
    # Every answer a stub gave names the call's own client request id, as Azure's do.
    answered = [(sent, got) for sent, got in echoed if got is not None]
    assert len(answered) >= len(right), (answered, report)
    assert [(sent, got) for sent, got in answered if got != sent] == [], report
