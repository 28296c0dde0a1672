"""ext_proc capture through a real Envoy 1.40: CPU per exchange, capture ratio, added latency.

Everything runs on this machine: a tiny asyncio upstream (2 KiB JSON answers),
Envoy with capture (observability mode) and the same Envoy bootstrap with capture
disabled on every route, ``mockado ext-proc`` as users run it, and a real Redis.

* ``ext_proc.cpu_us_per_exchange``: the ext-proc process's CPU time (user+system)
  during the 1,000 rps run and its flush, divided by the exchanges it handled
  (sanitizing, dedup, mapping and the Redis writes included).
* ``ext_proc.captured_ratio``: mappings that reached the Redis stream (XLEN) / requests
  sent, every request unique, offered open loop at 1,000 rps for 30 s (quick: 10 s).
  ``ext_proc.max_rate_rps_at_0999``: the highest of the offered steps (250, 500,
  1,000 rps) where the ratio held >= 0.999.
* ``ext_proc.backlog_peak_at_1000``: the most exchanges the collector held unwritten
  (``collector_queue_size``, sampled twice a second) during the 1,000 rps run: a burst
  past one core waits there, bounded (``collector.buffer_size`` / ``buffer_bytes``) and
  counted, not in Envoy. ``ext_proc.backlog_drain_s_at_1000``: how long after the offered
  load ended it still held some. ``ext_proc.pipeline_rate_rps_at_1000``: captured over
  the load's duration plus that drain - the rate one worker sustains end to end.
* ``ext_proc.added_latency_p50_ms`` / ``_p99_ms``: client latency through the capturing
  Envoy minus the non-capturing one, requests interleaved one by one.
* ``ext_proc.floor_cpu_us_per_exchange``: the same 1,000 rps through the same Envoy into a
  trivial recording server (grpc.aio, reads each stream to the response's end and keeps the
  messages, nothing else), in the same run: what grpc.aio alone costs per exchange here.
  ``ext_proc.cpu_ratio_to_floor`` is mockado's figure over it.
* ``ext_proc.cpu_ratio_to_floor_repeats``: the same at 1,000 rps on a mix where 9 in 10
  exchanges repeat a request recorded before (the repeat fast path) and 1 in 10 is new,
  against the floor on the same mix.
* ``ext_proc.capture_only_cpu_ratio_to_floor(_repeats)``: mockado's capture alone (its
  server, servicer and stream assembly as ``mockado ext-proc`` runs them; a sink that counts
  each exchange and drops it: no sanitizing, dedup, mapping or Redis) over the floor, the
  same steps: the share of mockado's excess that is capture, not the pipeline.
* ``ext_proc.free_steps_cpu_ratio_to_floor(_repeats)``: mockado with sanitize, dedup and
  mapping replaced by near-free stand-ins (``bench.ext_proc_free_steps``), everything else
  as users run it (repeat path, buffer, queue entries, the Redis writes), over the floor,
  the same steps: what no sanitizer, dedup or mapping, however fast, could go below.
* ``ext_proc.paired_cpu_ratio_to_floor(_repeats)``: the same, mockado and the floor running
  at once behind their own Envoys, 500 rps each, requests interleaved one by one (which
  side goes first alternates by round), so a shared box's load hits both alike.
  ``paired_loop_thread_us_over_floor(_repeats)``: mockado's event-loop thread CPU per
  exchange minus the floor's (us), where the streams run; steadier than the whole process.
  Median of 3 rounds; ``paired_cpu_ratio_to_floor(_repeats)_spread``: highest - lowest.
* ``ext_proc.paired_capture_only_cpu_ratio_to_floor(_repeats)`` and
  ``paired_free_steps_cpu_ratio_to_floor(_repeats)`` (with their ``_spread`` and
  ``paired_capture_only_loop_thread_us_over_floor(_repeats)`` /
  ``paired_free_steps_loop_thread_us_over_floor(_repeats)``): the two counted collectors
  side by side with the floor the same way, in shorter rounds (6 s; quick: 3 s), each
  counted by its own count (the capture alone: exchanges its sink took; the three steps
  free: streams seen, repeats included), where their single runs move by a quarter of
  the floor between runs.
* ``ext_proc.stream_repeat_us`` / ``stream_floor_us``: a repeat's stream in-process, and
  the floor's (``bench.ext_proc_streams``). ``stream_repeat_mesh_us`` /
  ``stream_floor_mesh_us`` / ``stream_repeat_mesh_ratio_to_floor``: the same requests as
  Istio sidecars send them (cluster names, short authorities, the workload as an attribute).
* ``ext_proc.p99_ratio_to_off``: client p99 through the capturing Envoy over the one that
  captures nothing, requests interleaved; ``floor_p99_ratio_to_off`` the same with the floor.
  ``p50_ratio_to_off`` / ``floor_p50_ratio_to_off``: the same at the median, where Envoy's
  own ext_proc work (one gRPC stream and a copy of every message per request) shows.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import time

import httpx
import redis as redis_sync

from bench.ext_proc_backlog import Backlog, held
from bench.ext_proc_breakdown import breakdown
from bench.ext_proc_cpu import cpu_s
from bench.ext_proc_paired import Side, paired_figures, settle
from bench.ext_proc_servers import bench_requests, paired_offers, repeats_mix
from bench.ext_proc_stack import (
    CAPTURE_ONLY,
    FLOOR,
    FREE_STEPS,
    QUEUE,
    counted_side,
    floor_beside,
    mockado_side,
    streams_handled,
    with_stack,
)
from bench.ext_proc_streams import stream_costs
from bench.loadgen import Conn, Request, open_loop


def _wait_stable(
    client: redis_sync.Redis,
    *,
    target: int,
    metrics_url: str | None = None,
    timeout_s: float = 15.0,
) -> int:
    """XLEN once it reaches ``target``, or once it stopped growing for 1.5 s while the
    collector holds nothing more (``collector_queue_size`` 0): a collector that is
    still writing its backlog is waited for, up to ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    last, last_change = -1, time.monotonic()
    while time.monotonic() < deadline:
        length = client.xlen(QUEUE)
        if length >= target:
            return length
        if length != last or (metrics_url and held(metrics_url)):
            last, last_change = length, time.monotonic()
        elif time.monotonic() - last_change > 1.5:
            return length
        time.sleep(0.1)
    return client.xlen(QUEUE)


async def _latency_pair(
    on_port: int, off_port: int, *, count: int
) -> tuple[list[float], list[float]]:
    on_conn, off_conn = Conn(on_port), Conn(off_port)
    on_lat: list[float] = []
    off_lat: list[float] = []
    on_reqs = bench_requests(on_port, tag="lat", count=count)
    off_reqs = bench_requests(off_port, tag="lat", count=count)
    for i in range(count):
        order = ((on_conn, on_reqs[i], on_lat), (off_conn, off_reqs[i], off_lat))
        for conn, request, sink in order if i % 2 == 0 else reversed(order):
            start = time.perf_counter()
            status, _ = await conn.send(request, 10.0)
            sink.append(time.perf_counter() - start)
            if status != 200:
                raise RuntimeError(f"bench: latency request answered {status}")
    on_conn.close()
    off_conn.close()
    return on_lat, off_lat


def _diagnostics(parts: dict) -> dict[str, float]:
    """Where lost captures went: collector drops by reason, streams Envoy never opened."""
    out: dict[str, float] = {}
    text = httpx.get(parts["metrics_url"], timeout=10).text
    for match in re.finditer(
        r'^collector_dropped_total\{reason="(\w+)"\} ([0-9.e+]+)$', text, re.M
    ):
        if float(match.group(2)):
            out[f"ext_proc.dropped_{match.group(1)}"] = float(match.group(2))
    stats = httpx.get(f"http://127.0.0.1:{parts['admin_on']}/stats", timeout=10).text
    # Circuit breaker (a collector that fell behind) and ejection (failed connections).
    for name in ("upstream_rq_pending_overflow", "upstream_rq_overflow",
                 "upstream_rq_active_overflow", "upstream_rq_pending_failure_eject"):  # fmt: skip
        m = re.search(rf"^cluster\.mockado_collector\.{name}: (\d+)$", stats, re.M)
        if m and int(m.group(1)):
            out[f"ext_proc.envoy_{name}"] = int(m.group(1))
    for name in ("streams_failed", "failure_mode_allowed"):
        m = re.search(rf"ext_proc\.mockado\.{name}: (\d+)$", stats, re.M)
        if m and int(m.group(1)):
            out[f"ext_proc.envoy_{name}"] = int(m.group(1))
    return out


def _quantile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _rate_step(
    parts: dict, client: redis_sync.Redis, *, rate: int, requests: list[Request]
) -> dict:
    count = len(requests)
    before = client.xlen(QUEUE)
    cpu_before, handled_before = cpu_s(parts["ext"]), streams_handled(parts["metrics_url"])
    backlog = Backlog(parts["metrics_url"]).start()
    result = asyncio.run(open_loop(requests, rate_rps=rate))
    load_ended = time.monotonic()
    # A backlog (up to buffer_size) drains after the load: waited for while it shrinks.
    stable = _wait_stable(
        client, target=before + count, metrics_url=parts["metrics_url"], timeout_s=60.0
    )
    captured = stable - before
    backlog.stop()
    handled = streams_handled(parts["metrics_url"]) - handled_before
    drain_s = max(0.0, backlog.last_held_at - load_ended)
    return {
        "count": count,
        "ok": result.ok,
        "captured": captured,
        "ratio": captured / count,
        "elapsed_s": result.elapsed_s,
        "sent": result.sent,
        "cpu_us_per_exchange": (cpu_s(parts["ext"]) - cpu_before) / max(handled, 1) * 1e6,
        "backlog_peak": backlog.peak,
        "drain_s": drain_s,
    }


def _floor_step(parts: dict, *, rate: int, requests: list[Request]) -> dict:
    side = counted_side(parts)
    before, cpu_before = side.handled(), side.cpu_s()
    asyncio.run(open_loop(requests, rate_rps=rate))
    settle([side], timeout_s=10)
    handled = side.handled() - before
    return {
        "ratio": handled / len(requests),
        "cpu_us_per_exchange": (side.cpu_s() - cpu_before) / max(handled, 1) * 1e6,
    }


def _latency(parts: dict, client: redis_sync.Redis, *, quick: bool) -> dict[str, float]:
    """Client latency through the capturing Envoy and the other, requests interleaved
    one by one (after a warm-up of both paths)."""
    on_port, off_port = parts["envoys"]["on"], parts["envoys"]["off"]
    asyncio.run(_latency_pair(on_port, off_port, count=50))
    _wait_stable(client, target=50)
    count = 300 if quick else 1000
    on_lat, off_lat = asyncio.run(_latency_pair(on_port, off_port, count=count))
    out = {}
    for q, key in ((0.5, "p50"), (0.99, "p99")):
        on_s, off_s = _quantile(on_lat, q), _quantile(off_lat, q)
        out[f"ext_proc.added_latency_{key}_ms"] = round((on_s - off_s) * 1000, 3)
        out[f"ext_proc.{key}_ratio_to_off"] = round(on_s / off_s, 3)
    out["ext_proc.latency_off_p50_ms"] = round(_quantile(off_lat, 0.5) * 1000, 3)
    _wait_stable(client, target=client.xlen(QUEUE) + count)
    return out


# (rate, duration_s) of the unique-traffic steps; the last is the headline 1,000 rps run.
STEPS = ((250, 8.0), (500, 8.0), (1000, 30.0))
QUICK_STEPS = ((250, 5.0), (500, 5.0), (1000, 10.0))
# The repeats mix: requests recorded first, then 1,000 rps where 9 in 10 repeat them.
RECORDED = 1000
MIX_S, QUICK_MIX_S = 20.0, 8.0


def _unique_steps(parts: dict, client: redis_sync.Redis, *, quick: bool) -> dict:
    out: dict[str, float] = {}
    best_rate = 0
    port = parts["envoys"]["on"]
    for rate, duration_s in QUICK_STEPS if quick else STEPS:
        requests = bench_requests(port, tag=f"r{rate}", count=int(rate * duration_s))
        step = _rate_step(parts, client, rate=rate, requests=requests)
        out[f"ext_proc.captured_ratio_at_{rate}"] = round(step["ratio"], 5)
        if step["ok"] != step["count"]:
            out[f"ext_proc.client_errors_at_{rate}"] = step["count"] - step["ok"]
        if step["ratio"] >= 0.999 and step["ok"] == step["count"]:
            best_rate = rate
        if rate == 250:
            out["ext_proc.cpu_us_per_exchange_at_250"] = round(step["cpu_us_per_exchange"], 1)
        if rate == 1000:
            out["ext_proc.captured_ratio"] = round(step["ratio"], 5)
            out["ext_proc.captured_rate_rps"] = round(step["captured"] / step["elapsed_s"], 1)
            out["ext_proc.offered_rate_rps"] = round(step["sent"] / step["elapsed_s"], 1)
            out["ext_proc.cpu_us_per_exchange"] = round(step["cpu_us_per_exchange"], 1)
            out["ext_proc.backlog_peak_at_1000"] = step["backlog_peak"]
            out["ext_proc.backlog_drain_s_at_1000"] = round(step["drain_s"], 1)
            out["ext_proc.pipeline_rate_rps_at_1000"] = round(
                step["captured"] / (step["elapsed_s"] + step["drain_s"]), 1
            )
    out["ext_proc.max_rate_rps_at_0999"] = best_rate
    return out


def _repeats_step(parts: dict, client: redis_sync.Redis, *, quick: bool) -> dict:
    port = parts["envoys"]["on"]
    recorded = bench_requests(port, tag="rec", count=RECORDED)
    _rate_step(parts, client, rate=250, requests=recorded)
    mix = repeats_mix(port, recorded=RECORDED, count=int(1000 * (QUICK_MIX_S if quick else MIX_S)),
               tag="mix")  # fmt: skip
    step = _rate_step(parts, client, rate=1000, requests=mix)
    return {"ext_proc.cpu_us_per_exchange_repeats": round(step["cpu_us_per_exchange"], 1)}


def _counted_steps(parts: dict, *, quick: bool, tag: str) -> tuple[dict, dict]:
    """A collector that counts its exchanges in a file (the floor, the capture alone, the
    three steps free) at 1,000 rps after a warm-up: unique requests, then the repeats mix.
    -> both steps."""
    port = parts["envoys"]["on"]
    # The warm-up records the requests the mix repeats, as mockado's _repeats_step does:
    # the repeat fast path (the three steps free have it) skips only what was recorded.
    _floor_step(parts, rate=250, requests=bench_requests(port, tag="rec", count=RECORDED))
    # As long as mockado's 1,000 rps step: both meet the same bursts of the load generator.
    seconds_at_1000 = dict(QUICK_STEPS if quick else STEPS)[1000]
    unique = bench_requests(port, tag=tag, count=int(1000 * seconds_at_1000))
    step = _floor_step(parts, rate=1000, requests=unique)
    mix = repeats_mix(port, recorded=RECORDED, count=int(1000 * (QUICK_MIX_S if quick else MIX_S)),
               tag=f"{tag}-mix")  # fmt: skip
    return step, _floor_step(parts, rate=1000, requests=mix)


def _floor(parts: dict, client: redis_sync.Redis, *, quick: bool) -> dict:
    """The floor at the same 1,000 rps: unique requests, then the repeats mix; and its
    client p99 over the Envoy that captures nothing (what ext_proc itself adds)."""
    latency = _latency(parts, client, quick=quick)
    step, mixed = _counted_steps(parts, quick=quick, tag="floor")
    return {
        "ext_proc.floor_cpu_us_per_exchange": round(step["cpu_us_per_exchange"], 1),
        "ext_proc.floor_captured_ratio_at_1000": round(step["ratio"], 5),
        "ext_proc.floor_cpu_us_per_exchange_repeats": round(mixed["cpu_us_per_exchange"], 1),
        "ext_proc.floor_p99_ratio_to_off": latency["ext_proc.p99_ratio_to_off"],
        "ext_proc.floor_p50_ratio_to_off": latency["ext_proc.p50_ratio_to_off"],
    }


def _counted_collector(parts: dict, *, quick: bool, name: str) -> dict:
    """A counting collector (``capture_only``: mockado's capture alone; ``free_steps``:
    mockado with sanitize, dedup and mapping free) at the floor's steps, then side by side
    with the floor: how much of mockado's CPU over the floor is the capture itself, and
    the rest of the pipeline."""
    step, mixed = _counted_steps(parts, quick=quick, tag=name)
    # Its count settles for a second before the CPU is read: past the pipeline's flush.
    out = {
        f"ext_proc.{name}_cpu_us_per_exchange": round(step["cpu_us_per_exchange"], 1),
        f"ext_proc.{name}_captured_ratio_at_1000": round(step["ratio"], 5),
        f"ext_proc.{name}_cpu_us_per_exchange_repeats": round(mixed["cpu_us_per_exchange"], 1),
    }
    round_s = QUICK_COUNTED_PAIRED_ROUND_S if quick else COUNTED_PAIRED_ROUND_S
    out.update(_paired(parts, counted_side(parts), round_s=round_s, name=name))
    return out


def _two_workers(parts: dict, client: redis_sync.Redis) -> dict:
    """The same 1,000 rps with `--workers 2` (both cores, shared with everything else)."""
    port = parts["envoys"]["on"]
    _rate_step(parts, client, rate=250, requests=bench_requests(port, tag="warm", count=500))
    step = _rate_step(
        parts, client, rate=1000, requests=bench_requests(port, tag="w2", count=10000)
    )
    return {
        "ext_proc.workers2_captured_ratio_at_1000": round(step["ratio"], 5),
        "ext_proc.workers2_cpu_us_per_exchange": round(step["cpu_us_per_exchange"], 1),
    }


# Side-by-side rounds: the collector and the floor at the same time, 500 rps each. The
# counted collectors' rounds are shorter, keeping the bench's time.
PAIRED_ROUNDS, PAIRED_ROUND_S, QUICK_PAIRED_ROUND_S = 3, 10.0, 6.0
COUNTED_PAIRED_ROUND_S, QUICK_COUNTED_PAIRED_ROUND_S = 6.0, 3.0


def _paired(parts: dict, ours: Side, *, round_s: float, name: str = "") -> dict:
    """The collector under test (``ours``) over the floor, both running at once, each
    behind its own Envoy, requests interleaved one by one (500 rps each): the box's load
    hits both alike. Needs the ``rec`` requests recorded (mockado: ``_repeats_step``; a
    counted collector: ``_counted_steps``). Median and spread of PAIRED_ROUNDS rounds of
    ``round_s``, unique traffic and the repeats mix; keys ``ext_proc.paired_<name>_...``
    (mockado: ``name`` empty)."""
    floor_parts = floor_beside(parts)
    ports = parts["envoys"]["on"], floor_parts["port"]
    warm = bench_requests(floor_parts["port"], tag="warm", count=500)
    _floor_step(floor_parts, rate=250, requests=warm)
    count = int(500 * round_s)

    prefix = f"ext_proc.paired_{name}_" if name else "ext_proc.paired_"
    out: dict[str, float] = {}
    for mix, suffix in ((False, ""), (True, "_repeats")):
        out.update(
            paired_figures(
                ours,
                counted_side(floor_parts),
                paired_offers(
                    ports,
                    rounds=PAIRED_ROUNDS,
                    count=count,
                    mix=mix,
                    recorded=RECORDED,
                    tag="p",
                    send=lambda both: asyncio.run(open_loop(both, rate_rps=1000)),
                ),
                ratio_key=f"{prefix}cpu_ratio_to_floor{suffix}",
                loop_key=f"{prefix}loop_thread_us_over_floor{suffix}",
            )
        )
    return out


def run(*, quick: bool = False) -> dict[str, float | int | str]:
    out: dict[str, float | int | str] = dict(breakdown())
    out.update(stream_costs())

    def one_worker(parts: dict, client: redis_sync.Redis) -> None:
        out.update(_latency(parts, client, quick=quick))
        out.update(_unique_steps(parts, client, quick=quick))
        out.update(_repeats_step(parts, client, quick=quick))
        round_s = QUICK_PAIRED_ROUND_S if quick else PAIRED_ROUND_S
        out.update(_paired(parts, mockado_side(parts), round_s=round_s))
        out.update(_diagnostics(parts))

    with_stack(1, one_worker)
    out.update(with_stack(1, lambda parts, client: _floor(parts, client, quick=quick), kind=FLOOR))
    for kind, name in ((CAPTURE_ONLY, "capture_only"), (FREE_STEPS, "free_steps")):

        def counted(parts: dict, _client: redis_sync.Redis, name: str = name) -> dict:
            return _counted_collector(parts, quick=quick, name=name)

        out.update(with_stack(1, counted, kind=kind))

    def ratio(ours: str, floor: str) -> float:
        return round(float(out[ours]) / max(float(out[floor]), 1e-9), 2)

    out["ext_proc.cpu_ratio_to_floor"] = ratio(
        "ext_proc.cpu_us_per_exchange", "ext_proc.floor_cpu_us_per_exchange"
    )
    out["ext_proc.cpu_ratio_to_floor_repeats"] = ratio(
        "ext_proc.cpu_us_per_exchange_repeats", "ext_proc.floor_cpu_us_per_exchange_repeats"
    )
    for name in ("capture_only", "free_steps"):
        for suffix in ("", "_repeats"):
            out[f"ext_proc.{name}_cpu_ratio_to_floor{suffix}"] = ratio(
                f"ext_proc.{name}_cpu_us_per_exchange{suffix}",
                f"ext_proc.floor_cpu_us_per_exchange{suffix}",
            )
    if not quick:
        out.update(with_stack(2, _two_workers))
    return out


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    print(json.dumps(run(quick=parser.parse_args().quick), indent=2))
