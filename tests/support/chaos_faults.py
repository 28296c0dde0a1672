"""The chaos faults: each injects one fault into a running rig while traffic flows and
returns plain facts (counts, latencies, booleans) that the tests assert on and the bench
reports. The rig itself is ``tests/support/chaos_rig.py``.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import redis as redis_sync

from ext_proc_server.core.redis_keys import RedisKeys
from tests.support.capture_accounting import counts_reader, moved, settled
from tests.support.chaos_rig import HOST, QUEUE, TAIL_S, ChaosRig, Traffic, accounting
from tests.support.metrics_text import scrape, total
from tests.support.processes import poll_until


def _ms(value: float) -> float:
    return round(value, 3)


def _capture_counts(rig: ChaosRig) -> Callable[[], dict]:
    """Settled readings of the capturing Envoy's capture counters and the collector's fates
    (``tests/support/capture_accounting.py``)."""
    read = counts_reader(f"http://127.0.0.1:{rig.envoy_admin_ports['on']}",
                         rig.collector_metrics_url)  # fmt: skip
    return lambda: settled(read)


def _captures_accounted(before: dict, after: dict, *, collector: bool = True) -> dict[str, Any]:
    """Where the fault's captures went, between two settled readings: Envoy's counters
    (``envoy_opened``, ``envoy_not_opened``, ``envoy_answered``, ``envoy_lost_after_open``...)
    and, unless the collector was replaced in between (its counters start again), the fates
    of the streams it ended itself (``collector_fates``)."""
    envoy = moved(before["envoy"], after["envoy"])
    facts: dict[str, Any] = {f"envoy_{k}": v for k, v in envoy.items() if k != "active"}
    if collector:
        fates = moved(before["collector"], after["collector"])
        facts["collector_fates"] = fates["enqueued"] + fates["duplicates"] + fates["dropped"]
    return facts


def collector_fault(
    rig: ChaosRig, kind: str, *, duration_s: float, rate_rps: float, fault_at_s: float = 1.0
) -> dict[str, Any]:
    """``kind``: "killed" (SIGKILL), "hung" (SIGSTOP) or "slow" (200 ms per message).

    Traffic goes through both Envoys at once; the collector is brought back afterwards.
    """
    if kind == "slow":
        rig.restart_collector(slow=True)
    collector = rig.collector
    assert collector is not None
    pid = collector.pid
    counts = _capture_counts(rig)
    counted_before = counts()
    before = rig.collector_samples()

    def inject() -> None:
        time.sleep(fault_at_s)
        # The fault is for captures in flight: on a busy box the clients start late.
        rig.wait_until(
            lambda: accounting(before, rig.collector_samples())["seen"] > 0,
            timeout_s=30,
            what="captures flowing before the fault",
        )
        if kind == "killed":
            collector.kill()
        elif kind == "hung":
            collector.pause()

    try:
        traffic = rig.traffic(
            fault=f"collector_{kind}", duration_s=duration_s, rate_rps=rate_rps, baseline=True,
            during=inject,
        )  # fmt: skip
    finally:
        collector.resume()
    facts: dict[str, Any] = {}
    if kind == "killed":
        rig.restart_collector()
        # Read before the probe's requests; a new process counts its fates from zero.
        facts.update(_captures_accounted(counted_before, counts(), collector=False))
        facts["capture_recovered_s"] = rig.probe_capture()
        return {**_traffic_facts(traffic), **facts}
    # Back from SIGSTOP (or still slow): the same process answers and counts.
    rig.wait_until(lambda: rig.collector_status("/healthz") == 200, timeout_s=30,
                   what="collector healthy after the fault")  # fmt: skip
    facts["collector_same_pid"] = collector.alive and collector.pid == pid
    facts.update(rig.wait_accounted(before))
    facts.update(_captures_accounted(counted_before, counts()))
    if kind == "hung":
        facts["capture_recovered_s"] = rig.probe_capture()
    rig.restart_collector()
    return {**_traffic_facts(traffic), **facts}


def _traffic_facts(traffic: Traffic) -> dict[str, Any]:
    on = traffic.on
    facts: dict[str, Any] = {
        "requests": len(traffic.tags),
        "ok": on.ok,
        "errors": on.errors,
        "non_2xx": sum(c for s, c in on.statuses.items() if not 200 <= s < 300),
        "success_ratio": round(traffic.success_ratio, 5),
        "p99_ms": _ms(on.quantile_ms(0.99)),
        "p50_ms": _ms(on.quantile_ms(0.5)),
        "rps": round(on.rps, 1),
    }
    if traffic.off is not None:
        off = traffic.off
        facts["off_ok"] = off.ok
        facts["p99_off_ms"] = _ms(off.quantile_ms(0.99))
        facts["p99_ratio_to_off"] = round(on.quantile_ms(0.99) / off.quantile_ms(0.99), 3)
    if traffic.envoy_on_us:
        facts["envoy_logged"] = len(traffic.envoy_on_us)
        facts["envoy_p50_ms"] = _ms(_quantile(traffic.envoy_on_us, 0.5) / 1000)
        facts["envoy_p99_ms"] = _ms(_quantile(traffic.envoy_on_us, 0.99) / 1000)
    if traffic.envoy_on_us and traffic.envoy_off_us:
        facts["envoy_p99_off_ms"] = _ms(_quantile(traffic.envoy_off_us, 0.99) / 1000)
        facts["envoy_p99_ratio_to_off"] = round(
            _quantile(traffic.envoy_on_us, 0.99) / max(1, _quantile(traffic.envoy_off_us, 0.99)), 3
        )
    return facts


def _quantile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


def redis_outage(
    rig: ChaosRig, *, duration_s: float, outage_s: float, rate_rps: float, fault_at_s: float = 1.0
) -> dict[str, Any]:
    """Redis SIGKILLed for ``outage_s`` while traffic flows, then restarted (empty) on its port.

    Where each capture the collector accepted went: ``stubbed`` (its stub is in WireMock),
    ``lost_with_redis`` (written to the killed Redis, which lost it before a loader took
    it: seen by a MONITOR connection until the kill) or dropped with a reason."""
    assert rig.redis is not None and rig.collector is not None
    rig.settle()
    pid = rig.collector.pid
    counts = _capture_counts(rig)
    counted_before = counts()
    before = rig.collector_samples()
    facts: dict[str, Any] = {"buffer_size": rig.buffer_size}
    marks: dict[str, float] = {}

    def inject() -> None:
        _kill_redis_then_restart(
            rig, fault_at_s=fault_at_s, outage_s=outage_s, facts=facts, marks=marks
        )

    # The audit's MONITOR connection ends with the killed Redis: it sees what went there.
    with QueueAudit(rig, "redis_outage") as written_before_kill:
        traffic = rig.traffic(
            fault="redis_outage", duration_s=duration_s, rate_rps=rate_rps, during=inject
        )
    # First every stream over and every capture written (the collector may still be
    # reading streams when its buffer is empty), then every write loaded by the loaders:
    # only then does WireMock hold all that will ever be stubbed.
    facts.update(_captures_accounted(counted_before, counts()))
    rig.settle()
    after = rig.collector_samples()
    facts.update(accounting(before, after))
    facts.update(_outage_stubs(rig, traffic, marks, written_before_kill.tags))
    # Once flushing resumed, nothing more is dropped for lack of room.
    facts["buffer_full_after_resume"] = (
        total(after, "collector_dropped_total", reason="buffer_full")
        - marks["buffer_full_at_resume"]
    )
    facts["dropped_after_resume"] = (
        total(after, "collector_dropped_total") - marks["dropped_at_resume"]
    )
    facts["queue_size_at_end"] = total(after, "collector_queue_size")
    facts["collector_same_pid"] = rig.collector.alive and rig.collector.pid == pid
    facts["outage_s"] = round(marks["restarted"] - marks["killed"], 2)
    return {**_traffic_facts(traffic), **facts}


def _outage_stubs(
    rig: ChaosRig, traffic: Traffic, marks: dict[str, float], written_before_kill: set[str]
) -> dict[str, Any]:
    """Which of the outage's requests WireMock holds a stub for, and of those written to
    the killed Redis, how many it lost before a loader took them."""
    out: dict[str, Any] = {}
    per_tag, _ = rig.stub_tags("redis_outage")
    sent = set(traffic.tags)  # an earlier run's stubs may still be in WireMock
    captured = set(per_tag) & sent
    out["stubbed"] = len(captured)
    out["stubbed_twice"] = sum(1 for t in captured if per_tag[t] > 1)
    out["written_before_kill"] = len(written_before_kill)
    out["lost_with_redis"] = len(written_before_kill - captured)
    after_restart = traffic.tags_sent_after(marks["restarted"] + 0.5)
    out["sent_after_restart"] = len(after_restart)
    out["stubs_after_restart"] = len(after_restart & captured)
    resumed = [at for t, at in zip(traffic.tags, traffic.sent_at, strict=True)
               if at >= marks["restarted"] and t in captured]  # fmt: skip
    out["capture_resumed_after_s"] = round(min(resumed) - marks["restarted"], 2) if resumed else -1
    tail = traffic.tags_sent_after(traffic.sent_at[-1] - TAIL_S) if traffic.tags else set()
    out["tail_requests"] = len(tail)
    out["tail_missing"] = len(tail - captured)
    return out


def _kill_redis_then_restart(
    rig: ChaosRig,
    *,
    fault_at_s: float,
    outage_s: float,
    facts: dict[str, Any],
    marks: dict[str, float],
) -> None:
    """SIGKILL Redis, watch the collector hold captures for ``outage_s``, restart Redis and
    watch the held captures flush; records what it saw in ``facts`` and ``marks``."""
    time.sleep(fault_at_s)
    assert rig.redis is not None
    rig.redis.kill()
    marks["killed"] = time.monotonic()
    held_max = 0.0
    ready_codes: set[int] = set()
    while time.monotonic() - marks["killed"] < outage_s:
        with contextlib.suppress(httpx.HTTPError):
            held_max = max(held_max, total(rig.collector_samples(), "collector_queue_size"))
            ready_codes.add(rig.collector_status("/readyz"))
        time.sleep(0.25)
    facts["readyz_during_outage"] = sorted(ready_codes)
    rig.start_redis()
    marks["restarted"] = time.monotonic()
    # Until the retry backoff (at most 5 s) lets the held captures flush.
    while time.monotonic() - marks["restarted"] < 6.0:
        with contextlib.suppress(httpx.HTTPError):
            held = total(rig.collector_samples(), "collector_queue_size")
            held_max = max(held_max, held)
            if held < held_max / 2:
                break
        time.sleep(0.25)
    facts["held_max"] = held_max
    at_resume = rig.collector_samples()
    marks["buffer_full_at_resume"] = total(
        at_resume, "collector_dropped_total", reason="buffer_full"
    )
    marks["dropped_at_resume"] = total(at_resume, "collector_dropped_total")


def wiremock_outage(
    rig: ChaosRig, *, duration_s: float, outage_s: float, rate_rps: float, fault_at_s: float = 1.0
) -> dict[str, Any]:
    """WireMock SIGKILLed for ``outage_s``, then restarted (empty) on its port and root dir."""
    assert rig.wiremock is not None
    rig.settle()
    rig.wiremock_reset()
    loader_before = [scrape(rig.loader_metrics_url(i)) for i in range(rig.loader_count)]
    counts = _capture_counts(rig)
    counted_before = counts()
    before = rig.collector_samples()
    marks: dict[str, float] = {}

    def inject() -> None:
        time.sleep(fault_at_s)
        assert rig.wiremock is not None
        rig.wiremock.kill()
        marks["killed"] = time.monotonic()
        time.sleep(outage_s)
        marks["restarting"] = time.monotonic()
        rig.start_wiremock()
        marks["restarted"] = time.monotonic()

    with QueueAudit(rig, "wiremock_outage") as audit:
        traffic = rig.traffic(
            fault="wiremock_outage", duration_s=duration_s, rate_rps=rate_rps, during=inject
        )
        rig.settle(timeout_s=120)
        counted_after = counts()
    after = rig.collector_samples()
    loader_after = [scrape(rig.loader_metrics_url(i)) for i in range(rig.loader_count)]
    per_tag, per_id = rig.stub_tags("wiremock_outage")
    # Queued from the kill on: WireMock restarts empty, so those are the ones it must hold.
    expected = traffic.tags_sent_after(marks["killed"]) & audit.tags
    unavailable = sum(
        total(a, "wiremock_loader_mappings_errors_total", error_type="wiremock_unavailable")
        - total(b, "wiremock_loader_mappings_errors_total", error_type="wiremock_unavailable")
        for a, b in zip(loader_after, loader_before, strict=True)
    )
    return {
        **_traffic_facts(traffic),
        **accounting(before, after),
        **_captures_accounted(counted_before, counted_after),
        "queued_since_kill": len(expected),
        "queued": len(audit.tags),
        "missing": len(expected - set(per_tag)),
        "duplicated_tags": sum(1 for c in per_tag.values() if c > 1),
        "duplicated_ids": sum(1 for c in per_id.values() if c > 1),
        "stubs": len(per_id),
        "loader_retries": unavailable,
        "dead_letter": _dead_letter_len(rig),
        "outage_s": round(marks["restarting"] - marks["killed"], 2),
        "wiremock_start_s": round(marks["restarted"] - marks["restarting"], 2),
    }


class QueueAudit:
    """Which of one fault's requests the collector really queued, seen from Redis itself:
    a MONITOR connection reads every write command, whose arguments carry the mapping
    (and so the request's tag). Streams Envoy never handed to the collector (fail-open
    under CPU starvation, its circuit breaker) are then not held against the loader."""

    def __init__(self, rig: ChaosRig, fault: str) -> None:
        self._client = rig.redis_client()
        self._pattern = re.compile(rf"\b{re.escape(fault)}\.(\d+)z\b")
        self._fault = fault
        self.tags: set[str] = set()
        self._thread = threading.Thread(target=self._read, name="chaos-audit", daemon=True)
        self._monitor: Any = None
        self._started = threading.Event()

    def _read(self) -> None:
        with (
            contextlib.suppress(redis_sync.RedisError, OSError, ValueError, AttributeError),
            self._client.monitor() as monitor,
        ):
            self._monitor = monitor
            self._started.set()
            for event in monitor.listen():
                command = event.get("command", "")
                if command[:16].upper().startswith(("XADD", "EVAL")):
                    for m in self._pattern.finditer(command):
                        self.tags.add(f"{self._fault}.{m.group(1)}z")
        self._started.set()

    def __enter__(self) -> QueueAudit:
        self._thread.start()
        self._started.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self._monitor.connection.disconnect()
        self._thread.join(10)
        self._client.close()


def _dead_letter_len(rig: ChaosRig) -> int:
    client = rig.redis_client()
    try:
        return int(client.xlen(RedisKeys(queue=QUEUE).dead_letter))
    finally:
        client.close()


def _consumer_holding(rig: ChaosRig, pid: int) -> int:
    """Items pending for the loader consumer of process ``pid`` (names are host-pid-random)."""
    client = rig.redis_client()
    try:
        for consumer in client.xinfo_consumers(QUEUE, RedisKeys(queue=QUEUE).group):
            name = consumer["name"]
            name = name.decode() if isinstance(name, bytes) else name
            if f"-{pid}-" in name:
                return int(consumer["pending"])
        return 0
    finally:
        client.close()


def loader_killed(
    rig: ChaosRig, *, duration_s: float, rate_rps: float, fault_at_s: float = 1.0
) -> dict[str, Any]:
    """SIGKILL one loader while it holds a batch; the other one must take over."""
    rig.settle()
    rig.wiremock_reset()
    victim = rig.loaders[0]
    assert victim is not None
    counts = _capture_counts(rig)
    counted_before = counts()
    facts: dict[str, Any] = {}

    def inject() -> None:
        time.sleep(fault_at_s)
        deadline = time.monotonic() + max(1.0, duration_s - fault_at_s - 1.0)
        held = 0
        while time.monotonic() < deadline:
            held = _consumer_holding(rig, victim.pid)
            if held:
                break
            time.sleep(0.005)
        victim.kill()
        facts["held_when_killed"] = held

    with QueueAudit(rig, "loader_killed") as audit:
        traffic = rig.traffic(
            fault="loader_killed", duration_s=duration_s, rate_rps=rate_rps, during=inject
        )
        rig.settle(timeout_s=60)
        facts.update(_captures_accounted(counted_before, counts()))
    per_tag, per_id = rig.stub_tags("loader_killed")
    survivor = scrape(rig.loader_metrics_url(1))
    facts.update(
        {
            "queued": len(audit.tags),
            "missing": len(audit.tags - set(per_tag)),
            "duplicated_tags": sum(1 for c in per_tag.values() if c > 1),
            "duplicated_ids": sum(1 for c in per_id.values() if c > 1),
            "stubs": len(per_id),
            "dead_letter": _dead_letter_len(rig),
            "survivor_loaded": total(
                survivor, "wiremock_loader_mappings_processed_total", status="loaded"
            ),
        }
    )
    rig.start_loader(0)
    return {**_traffic_facts(traffic), **facts}


def redis_full(
    rig: ChaosRig, *, duration_s: float, rate_rps: float, maxmemory: str = "8mb"
) -> dict[str, Any]:
    """Redis restarted with ``--maxmemory 8mb --maxmemory-policy noeviction`` and filled up:
    every write the collector makes is refused with OOM while traffic flows. Then the filler
    is removed and captures flow again, with no restart of the collector."""
    assert rig.redis is not None and rig.collector is not None
    rig.settle()
    rig.redis.kill()
    rig.start_redis(extra_args=("--maxmemory", maxmemory, "--maxmemory-policy", "noeviction"))
    filled = _fill_redis(rig)
    collector = rig.collector
    pid = collector.pid
    log_start = len(collector.log_text())
    counts = _capture_counts(rig)
    counted_before = counts()
    before = rig.collector_samples()
    traffic = rig.traffic(fault="redis_full", duration_s=duration_s, rate_rps=rate_rps)
    time.sleep(1.0)  # let the last batches meet the full Redis
    during = rig.collector_samples()
    log_lines = collector.log_text()[log_start:].splitlines()
    healthz = rig.collector_status("/healthz")
    # Make room: the held captures flush by themselves.
    client = rig.redis_client()
    try:
        client.delete(*[f"chaos:filler:{n}" for n in range(filled)])
    finally:
        client.close()
    rig.settle()
    counted_after = counts()
    after = rig.collector_samples()
    per_tag, _ = rig.stub_tags("redis_full")
    facts = {
        **_traffic_facts(traffic),
        **_captures_accounted(counted_before, counted_after),
        **{f"during_{k}": v for k, v in accounting(before, during).items()},
        **accounting(before, after),
        "filler_keys": filled,
        "oom_errors": total(during, "collector_redis_errors_total", error="oom")
        - total(before, "collector_redis_errors_total", error="oom"),
        "oom_log_lines": sum(1 for line in log_lines if "OOM" in line),
        "collector_same_pid": collector.alive and collector.pid == pid,
        "healthz_during": healthz,
        "stubs_after_room": len(per_tag),
    }
    # Back to a Redis without a memory limit for whatever runs next.
    rig.settle()
    assert rig.redis is not None
    rig.redis.kill()
    rig.start_redis()
    return facts


def _fill_redis(rig: ChaosRig) -> int:
    """Write 64 KiB values until Redis refuses with OOM -> how many were written."""
    client = rig.redis_client()
    value = b"f" * 65536
    try:
        for n in range(10_000):
            try:
                client.set(f"chaos:filler:{n}", value)
            except redis_sync.exceptions.OutOfMemoryError:
                return n
        raise AssertionError("chaos rig: redis never reported OOM; is maxmemory set?")
    finally:
        client.close()


def redis_lost_queue(rig: ChaosRig, *, requests: int = 20) -> dict[str, Any]:
    """Captures queued while no loader reads (loaders SIGSTOPped), then Redis SIGKILLed and
    restarted empty: those stubs exist nowhere. Then the same requests again: each must be
    recorded again, not counted as a repeat of a stub Redis lost."""
    assert rig.redis is not None and rig.collector is not None
    rig.settle()
    fault = "redis_lost_queue"
    start = rig.reserve_tags(requests)
    urls = [f"http://127.0.0.1:{rig.envoy_ports['on']}/chaos/{fault}?q={fault}.{n}z"
            for n in range(start, start + requests)]  # fmt: skip
    log_start = len(rig.collector.log_text())
    loaders = [loader for loader in rig.loaders if loader is not None]
    for loader in loaders:
        loader.pause()
    try:
        first = _send_each(rig, urls)
        rig.redis.kill()
        rig.start_redis()
    finally:
        for loader in loaders:
            loader.resume()
    # The collector finds out by itself (about every second); wait for its word, no longer
    # than a few of its checks, then send the requests again either way.
    noticed = poll_until(
        lambda: "no longer holds the stubs queued" in rig.collector.log_text()[log_start:],
        timeout_s=10,
    )
    before = rig.collector_samples()
    again = _send_each(rig, urls)
    rig.settle()
    after = rig.collector_samples()
    per_tag, _ = rig.stub_tags(fault)
    return {
        "requests": requests,
        "queued_first": first["enqueued"],
        "collector_noticed": bool(noticed),
        **{f"again_{k}": v for k, v in accounting(before, after).items()},
        "sent_again_ok": again["ok"],
        "stubbed": len(per_tag),
    }


def _send_each(rig: ChaosRig, urls: list[str]) -> dict[str, float]:
    """GET each URL through the capturing Envoy, then wait until the collector has queued
    or counted each capture -> the collector's counters moved (``accounting``) and ``ok``."""
    before = rig.collector_samples()
    ok = 0
    with httpx.Client(timeout=10, headers={"host": HOST}) as client:
        for url in urls:
            ok += client.get(url).status_code == 200
    rig.wait_until(
        lambda: (
            accounting(before, rig.collector_samples())["seen"] >= len(urls)
            and rig.collector_idle()
        ),
        timeout_s=30,
        what="every capture handed over",
    )
    return {**accounting(before, rig.collector_samples()), "ok": ok}
