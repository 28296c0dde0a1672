"""Chaos: steady traffic through a real Envoy while one part of the capture path fails.

Each test offers ~200 rps for 6-12 s through the capturing Envoy (and, for collector
faults, the same load through the non-capturing one, side by side), injects one fault
and checks what must hold: every client request is answered with the upstream's own
status and body, every capture is queued or counted (by Envoy's capture counters or as
dropped by the collector with a reason: ``tests/support/capture_accounting.py``), nothing
reaches WireMock twice, and every process recovers without a restart of mockado. No
timing is asserted: the rig (``chaos_rig.py``) is shared with ``bench/bench_chaos.py``,
which runs the same faults longer and reports the latencies.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support import chaos_faults, chaos_rig

pytestmark = pytest.mark.integration

RATE_RPS = 200
TRAFFIC_S = 8.0
OUTAGE_S = 5.0
BUFFER_SIZE = 500
# Well under the streams Envoy holds for a hung collector (control_plane.collector.max_requests).
STREAM_LIMIT = 1


@pytest.fixture(scope="module")
def rig(logs_dir: Path) -> Iterator[chaos_rig.ChaosRig]:
    with chaos_rig.ChaosRig(logs_dir / "chaos", buffer_size=BUFFER_SIZE) as running:
        yield running


def assert_one_fate_each(facts: dict) -> None:
    """Every stream the collector saw has exactly one fate, all of them counted; drops of
    streams it refused unread (``refused``: its stream limit) are counted with no stream
    seen."""
    fates = facts["enqueued"] + facts["duplicates"] + facts["dropped"] - facts["refused"]
    assert fates == facts["seen"], facts


def assert_traffic_unaffected(facts: dict) -> None:
    """Every client request answered, each with the upstream's status and body."""
    assert facts["requests"] == int(RATE_RPS * facts["duration_s"]), facts
    assert facts["ok"] == facts["requests"], facts
    assert facts["errors"] == 0 and facts["non_2xx"] == 0, facts


def assert_every_capture_accounted(facts: dict) -> None:
    """Envoy's counters and the collector's fates (capture_accounting): each request opened
    a capture stream or was counted as not opened; each stream the collector ended itself
    has one fate; no capture lost without a counter."""
    requests, lost = facts["requests"], facts["envoy_lost_after_open"]
    # A stream whose collector died under it is opened and lost, and may be counted again
    # as never opened (Envoy fails it as a pending one): in two counters, never in none.
    assert requests <= facts["envoy_opened"] + facts["envoy_not_opened"] <= requests + lost, facts
    # The 503s Envoy answered itself for opened streams are broken connections, a part of
    # the streams lost after opening.
    assert 0 <= facts["envoy_broken_after_open"] <= facts["envoy_lost_after_open"], facts
    if "collector_fates" not in facts:
        return  # a new collector process: its counters began after the traffic
    fates, answered = facts["collector_fates"], facts["envoy_answered"]
    # An exchange the collector finished as Envoy gave up on its stream is in both.
    assert answered <= fates <= answered + lost, facts
    assert fates + facts["envoy_not_opened"] + lost >= requests, facts


@pytest.mark.parametrize("kind", ["killed", "hung", "slow"])
def test_a_failing_collector_never_touches_traffic(rig, kind):
    facts = chaos_faults.collector_fault(rig, kind, duration_s=TRAFFIC_S, rate_rps=RATE_RPS)
    facts["duration_s"] = TRAFFIC_S
    assert_traffic_unaffected(facts)
    assert facts["off_ok"] == facts["requests"], facts
    # Envoy logged each request once (its access log): none held back past the traffic.
    assert facts["envoy_logged"] == facts["requests"], facts
    assert_every_capture_accounted(facts)
    if kind == "killed":
        # A new collector on the same port captures again (Envoy reconnects by itself).
        assert facts["capture_recovered_s"] >= 0
        return
    assert facts["collector_same_pid"], facts
    assert facts["seen"] > 0
    assert_one_fate_each(facts)
    if kind == "slow":
        # 200 ms per message: most streams still finish inside Envoy's deferred close.
        assert facts["enqueued"] > 0, facts


def test_a_collector_back_from_a_hang_at_its_stream_limit_counts_each_refusal(rig):
    # Back from SIGSTOP, the collector gets every stream Envoy held for it at once: past
    # collector.max_concurrent_streams it refuses them, each counted with no stream seen.
    rig.configure_collector(max_concurrent_streams=STREAM_LIMIT)
    rig.restart_collector()
    try:
        facts = chaos_faults.collector_fault(rig, "hung", duration_s=TRAFFIC_S, rate_rps=RATE_RPS)
    finally:
        rig.configure_collector()
        rig.restart_collector()
    facts["duration_s"] = TRAFFIC_S
    assert_traffic_unaffected(facts)
    assert facts["collector_same_pid"], facts
    assert facts.get("dropped_stream_limit", 0) > 0 and facts["refused"] > 0, facts
    assert facts["seen"] > 0
    assert_one_fate_each(facts)
    assert_every_capture_accounted(facts)


def test_a_redis_outage_buffers_to_the_bound_counts_the_rest_and_resumes(rig):
    duration_s = 1.0 + OUTAGE_S + 6.0  # the retry backoff reaches 5 s; then the tail
    facts = chaos_faults.redis_outage(
        rig, duration_s=duration_s, outage_s=OUTAGE_S, rate_rps=RATE_RPS
    )
    facts["duration_s"] = duration_s
    assert_traffic_unaffected(facts)
    # Buffered up to the bound, never past it; the rest dropped and counted.
    assert facts["held_max"] == BUFFER_SIZE, facts
    assert facts["dropped_buffer_full"] > 0, facts
    # Not every request: on a busy box Envoy ends some capture streams before the starved
    # collector reads them, or fails its connection to it (capture never holds traffic
    # back); what the collector saw it accounts for, one fate each.
    assert 0 < facts["seen"] <= facts["requests"], facts
    assert_one_fate_each(facts)
    assert_every_capture_accounted(facts)
    assert facts["enqueued"] >= BUFFER_SIZE, facts  # the held captures were flushed
    assert facts["readyz_during_outage"] == [503], facts
    # Every capture the collector accepted, exactly: its stub is in WireMock, once; or it
    # reached the killed Redis, which lost it (no persistence) before a loader took it;
    # or it was dropped and counted with a reason. Each request is distinct, so a
    # "duplicate" is a write Redis applied whose answer the collector never got: its
    # retry found the capture already queued.
    assert facts["stubbed_twice"] == 0, facts
    written = facts["enqueued"] + facts["duplicates"]
    assert written == facts["stubbed"] + facts["lost_with_redis"], facts
    assert facts["seen"] == (
        facts["stubbed"] + facts["lost_with_redis"] + facts["dropped"] - facts["refused"]
    ), facts
    # Same collector process; new captures reach the restarted Redis and WireMock.
    assert facts["collector_same_pid"], facts
    assert facts["stubs_after_restart"] > 0, facts
    assert facts["buffer_full_after_resume"] == 0, facts
    # The last seconds of traffic, well after the restart, are stubbed: each one missing
    # is a capture dropped with a reason after flushing resumed.
    assert facts["tail_requests"] > 0, facts
    assert facts["tail_missing"] <= facts["dropped_after_resume"], facts
    assert facts["queue_size_at_end"] == 0


def test_requests_whose_stubs_redis_lost_are_recorded_again(rig):
    facts = chaos_faults.redis_lost_queue(rig)
    assert facts["queued_first"] == facts["requests"], facts
    assert facts["sent_again_ok"] == facts["requests"], facts
    # Redis lost them before any loader took them: seen again, each is recorded again,
    # none taken for a repeat of a stub that exists nowhere.
    assert facts["again_seen"] == facts["requests"], facts
    assert facts["again_duplicates"] == 0, facts
    assert facts["again_enqueued"] == facts["requests"], facts
    assert facts["stubbed"] == facts["requests"], facts


def test_a_wiremock_outage_is_waited_out_and_every_mapping_lands_once(rig):
    duration_s = 1.0 + OUTAGE_S + 3.0
    facts = chaos_faults.wiremock_outage(
        rig, duration_s=duration_s, outage_s=OUTAGE_S, rate_rps=RATE_RPS
    )
    facts["duration_s"] = duration_s
    assert_traffic_unaffected(facts)
    assert facts["loader_retries"] > 0, facts
    assert_every_capture_accounted(facts)
    # Redis and the collector were up: every capture the collector accepted (each stream it
    # ended itself) was enqueued, none dropped or taken for a duplicate, and Redis got
    # exactly those. Envoy's refusals and the streams it gave up on are counted above.
    assert facts["enqueued"] == facts["collector_fates"] > 0, facts
    assert facts["duplicates"] == 0, facts
    assert facts["dropped"] == facts.get("dropped_incomplete", 0), facts
    assert facts["queued"] == facts["enqueued"], facts
    # Every mapping queued from the kill on is in the restarted WireMock, exactly once.
    assert facts["queued_since_kill"] > RATE_RPS * OUTAGE_S / 2, facts
    assert facts["missing"] == 0, facts
    assert facts["duplicated_tags"] == 0 and facts["duplicated_ids"] == 0, facts
    assert facts["dead_letter"] == 0, facts


def test_a_loader_killed_mid_batch_loses_and_duplicates_nothing(rig):
    facts = chaos_faults.loader_killed(rig, duration_s=TRAFFIC_S, rate_rps=RATE_RPS)
    facts["duration_s"] = TRAFFIC_S
    assert_traffic_unaffected(facts)
    assert_every_capture_accounted(facts)
    assert facts["held_when_killed"] > 0, facts  # it died holding read, unacked items
    assert facts["missing"] == 0, facts
    assert facts["duplicated_tags"] == 0 and facts["duplicated_ids"] == 0, facts
    assert facts["stubs"] == facts["queued"] > 0, facts
    assert facts["dead_letter"] == 0, facts
    assert facts["survivor_loaded"] > 0, facts


def test_a_full_redis_is_a_clear_counted_error_not_a_crash_loop(rig):
    facts = chaos_faults.redis_full(rig, duration_s=6.0, rate_rps=RATE_RPS)
    facts["duration_s"] = 6.0
    assert_traffic_unaffected(facts)
    assert facts["filler_keys"] > 0
    # Counted: the metric names the cause, and one log line names the problem.
    assert facts["oom_errors"] > 0, facts
    assert facts["oom_log_lines"] == 1, facts
    assert facts["during_dropped_buffer_full"] > 0, facts
    # No crash loop: the same process, healthy all along.
    assert facts["collector_same_pid"], facts
    assert facts["healthz_during"] == 200, facts
    # Once Redis has room, the held captures flow with no restart; all accounted.
    assert facts["stubs_after_room"] > 0, facts
    assert_one_fate_each(facts)
    assert_every_capture_accounted(facts)
