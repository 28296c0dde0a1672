"""What the real-client replay tests share (boto3 against moto, the Azure Blob SDK
against Azurite): a call's outcome, what the collector decided while the workload was
recorded, and the verdict on each call replayed from WireMock."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from tests.support.ext_proc_rig import counters, wait_until
from tests.support.metrics_text import by_label, scrape, total
from tests.support.processes import poll_until

# A customer's address in the data: the sanitizer replaces it, and only it may differ.
EMAIL = "maria.silva@example.com"
# The objects each workload stores: text, a key with a space, one with accents, JSON, bytes.
BODIES = {
    "notes/a.txt": b"first note\n",
    "notes/contact.txt": f"call back {EMAIL} today\n".encode(),
    "notes/b c.txt": b"a key with a space\n",
    "notes/relatório ção.txt": "relatório de junho: três itens\n".encode(),
    "notes/d.json": b'{"order": 7, "status": "paid", "items": [1, 2, 3]}',
    "img/e.bin": bytes(range(256)) * 4,
}


@dataclass(frozen=True)
class Outcome:
    """A call's parsed result, or the error the SDK raised: its kind, code and status."""

    result: Any = None
    error: str | None = None
    status: int | None = None
    from_stub: bool = True  # False: an answer no stub gave (WireMock's miss)

    @property
    def missed(self) -> bool:
        return self.error is not None and self.status == 404 and not self.from_stub


def requests_proxied(envoy) -> int:
    """The requests Envoy took (a paginator sends several; a presigned URL is read by
    another client; an upload's 100 Continue is not another request)."""
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


def decided(ext) -> float:
    """The captures the collector decided: a stub, a duplicate, a repeat or a counted skip."""
    samples = scrape(f"http://127.0.0.1:{ext.http_port}/metrics")
    return sum(total(samples, name, **labels) for name, labels in _DECISIONS)


def skipped(ext) -> dict[str, float]:
    samples = scrape(f"http://127.0.0.1:{ext.http_port}/metrics")
    return by_label(samples, "collector_stubs_skipped_total", "reason")


def first_capture(ext, touch: Callable[[int], object]) -> None:
    """``touch(n)`` (one request through Envoy) until the collector decides one capture:
    Envoy's first connection to the collector may miss its connect timeout on a loaded
    machine, and that capture is skipped by design (``ext_proc_rig.capture_lands``)."""
    tries = iter(range(100))

    def landed() -> bool:
        touch(next(tries))
        return bool(poll_until(lambda: decided(ext), timeout_s=0.5))

    wait_until(landed, timeout_s=30, what="a first capture through Envoy")


def record(
    envoy,
    ext,
    workload: Callable[[], dict[str, Outcome]],
    beside: Callable[[], int] = lambda: 0,
) -> tuple[dict[str, Outcome], int, dict[str, float]]:
    """``workload`` run through Envoy -> (its outcomes, requests sent, stubs skipped by
    reason), once the collector decided every request. ``beside``: how many stubs the
    collector queued beside a request's own (an SQS send's exact repeats'), each of which
    counts as decided too."""
    before = (requests_proxied(envoy), decided(ext), skipped(ext))
    outcomes = workload()
    assert all(o.error is None or o.status for o in outcomes.values()), outcomes
    sent = requests_proxied(envoy) - before[0]
    wait_until(
        lambda: decided(ext) - before[1] >= sent + beside(),
        timeout_s=30,
        what=f"every one of {sent} calls decided",
        explain=lambda: counters(ext),
    )
    skips = {k: v - before[2].get(k, 0) for k, v in skipped(ext).items()}
    return outcomes, sent, {k: v for k, v in skips.items() if v}


def verdicts(
    recorded: dict[str, Outcome],
    replayed: dict[str, Outcome],
    *,
    as_documented: Callable[[Outcome, Outcome], Outcome],
    agrees: Callable[[Any, Any], bool],
) -> tuple[list[str], list[str], str]:
    """-> (calls answered right, calls missed, the calls answered wrong, described).
    ``as_documented(recorded, replayed)``: the replayed outcome with what a stub serves
    otherwise by design put back as recorded."""
    right, misses, wrong = [], [], []
    for name, was in recorded.items():
        now = as_documented(was, replayed[name])
        if now.missed:
            misses.append(name)
        elif (now.error, now.status) == (was.error, was.status) and agrees(was.result, now.result):
            right.append(name)
        else:
            wrong.append(f"{name}: {was} -> {now}")
    return right, misses, "; ".join(wrong)
