"""Chaos: steady traffic through a real Envoy while one part of the capture path fails.

The same rig and fault functions as ``tests/integration/test_chaos.py``
(``tests/support/chaos_rig.py``), run longer: 20 s of traffic per fault and 30 s
Redis and WireMock outages (quick: 8 s and 5 s), open loop at 300 rps (quick: 200).

Keys, per fault (``collector_killed``, ``collector_hung``, ``collector_slow``,
``redis_outage``, ``wiremock_outage``, ``loader_killed``, ``redis_full``):

* ``chaos.<fault>.success_ratio``: client requests answered 2xx / sent.
* ``chaos.<fault>.p99_ms``; for collector faults also ``p99_off_ms`` (the same load,
  at the same time, through the same Envoy bootstrap with capture off) and
  ``p99_ratio_to_off`` (goal: at most 2). Each collector fault runs ``COLLECTOR_ROUNDS``
  times: a p99 of 20 s on two shared cores moves with whatever else the box runs, so the
  headline ratios are the medians of the rounds (``*_rounds`` lists each round's, and
  every other figure is the first round's); and Envoy's own time per request from each
  Envoy's timing log (``envoy_p50_ms``, ``envoy_p99_ms``, ``envoy_p99_off_ms``,
  ``envoy_p99_ratio_to_off``), which leaves out the Python client's scheduling.
* counts from the collector's and loaders' ``/metrics``: ``seen``, ``enqueued``,
  ``dropped`` and ``dropped_<reason>``, ``held_max`` (buffer high-water mark),
  ``missing`` / ``duplicated_tags`` / ``duplicated_ids`` (stubs in WireMock, by
  request), ``loader_retries``, ``oom_errors`` ...
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from tests.support import chaos_faults, chaos_rig


def _flatten(fault: str, facts: dict[str, Any]) -> dict[str, float | int | str]:
    out: dict[str, float | int | str] = {}
    for key, value in facts.items():
        name = f"chaos.{fault}.{key}"
        if isinstance(value, bool):
            out[name] = int(value)
        elif isinstance(value, int | float):
            out[name] = value
        else:
            out[name] = str(value)
    return out


# Rounds per collector fault; each round is its own side-by-side on/off run.
COLLECTOR_ROUNDS = 3
RATIO_KEYS = ("p99_ratio_to_off", "envoy_p99_ratio_to_off")


def collector_rounds(run_round, *, rounds: int) -> dict[str, Any]:
    """The first round's facts, with the ratios replaced by their median over ``rounds``;
    success is the worst round's, and errors are summed."""
    results = [run_round() for _ in range(rounds)]
    facts = dict(results[0])
    for key in RATIO_KEYS:
        values = [r[key] for r in results if key in r]
        if values:
            facts[key] = round(statistics.median(values), 3)
            facts[f"{key}_rounds"] = "/".join(f"{v:.2f}" for v in values)
    facts["rounds"] = rounds
    # A failed client request in any round counts.
    facts["success_ratio"] = min(r["success_ratio"] for r in results)
    for key in ("errors", "non_2xx"):
        facts[key] = sum(r[key] for r in results)
    return facts


def run(*, quick: bool = False) -> dict[str, float | int | str]:
    traffic_s = 8.0 if quick else 20.0
    outage_s = 5.0 if quick else 30.0
    rate_rps = 200.0 if quick else 300.0
    # Redis: after the restart the pipeline's retry backoff (at most 5 s) then a tail.
    redis_traffic_s = 1.0 + outage_s + 8.0
    wiremock_traffic_s = 1.0 + outage_s + 4.0
    work = Path(tempfile.mkdtemp(prefix="mockado-bench-chaos-"))
    out: dict[str, float | int | str] = {
        "chaos.rate_rps": rate_rps,
        "chaos.traffic_s": traffic_s,
        "chaos.outage_s": outage_s,
    }
    with chaos_rig.ChaosRig(work, buffer_size=1000) as rig:
        out["chaos.buffer_size"] = rig.buffer_size
        faults = (
            *(
                (f"collector_{kind}", lambda kind=kind: collector_rounds(
                    lambda: chaos_faults.collector_fault(
                        rig, kind, duration_s=traffic_s, rate_rps=rate_rps),
                    rounds=1 if quick else COLLECTOR_ROUNDS))
                for kind in ("killed", "hung", "slow")
            ),
            ("redis_outage", lambda: chaos_faults.redis_outage(
                rig, duration_s=redis_traffic_s, outage_s=outage_s, rate_rps=rate_rps)),
            ("wiremock_outage", lambda: chaos_faults.wiremock_outage(
                rig, duration_s=wiremock_traffic_s, outage_s=outage_s, rate_rps=rate_rps)),
            ("loader_killed", lambda: chaos_faults.loader_killed(
                rig, duration_s=traffic_s, rate_rps=rate_rps)),
            ("redis_full", lambda: chaos_faults.redis_full(
                rig, duration_s=traffic_s, rate_rps=rate_rps)),
        )  # fmt: skip
        for fault, inject in faults:
            started = time.monotonic()
            print(f"   chaos: {fault} ...", flush=True)
            out.update(_flatten(fault, inject()))
            out[f"chaos.{fault}.seconds"] = round(time.monotonic() - started, 1)
    out["chaos.logs"] = str(work)
    return out


if __name__ == "__main__":
    import json
    import os

    print(json.dumps(run(quick=os.environ.get("MOCKADO_BENCH_QUICK") == "1"), indent=2))
