"""Two of mockado's WireMock launchers side by side, each in its own JVM with mockado's
serving flags: started, served in interleaved rounds (baseline, current; current, baseline;
...), and their JVM CPU time per request compared round by round."""

from __future__ import annotations

import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import psutil

from control_plane.assets import WIREMOCK_LAUNCHER
from control_plane.local import procs
from tests.support.processes import promised_port

# (process, url) of a started launcher.
Setup = tuple[Any, str]
# Sends ``count`` requests to ``url``. -> how many answers were wrong.
Serve = Callable[[str, int], int]
# (a work directory, the list of started processes) -> the started setups by label.
StartAll = Callable[[Path, list], dict[str, Setup]]


def start_launcher(label: str, launcher: Path, workdir: Path, started: list) -> Setup:
    """The launcher source at ``launcher`` in a JVM of its own, ready; added to ``started``
    (stopped by the caller, last first)."""
    port = promised_port()
    process = procs.wiremock_process(
        servers=[procs.WireMockServer(port=port, root_dir=workdir / label)],
        log_path=workdir / f"{label}.log",
        indexed=True,
    )
    process.argv = [str(launcher) if a == str(WIREMOCK_LAUNCHER) else a for a in process.argv]
    started.append(process.start())
    url = f"http://127.0.0.1:{port}"
    process.wait_ready(procs.http_ready(f"{url}/__admin/health"), timeout_s=120)
    return process, url


def post_stubs(url: str, stubs: list[dict]) -> None:
    for stub in stubs:
        httpx.post(f"{url}/__admin/mappings", json=stub, timeout=30).raise_for_status()


def _cpu_s(process: Any) -> float:
    times = psutil.Process(process.pid).cpu_times()
    return times.user + times.system


def interleaved_costs(
    setups: dict[str, Setup], serve: Serve, *, warmup: int, rounds: int, per_round: int
) -> tuple[dict[str, list[float]], int]:
    """Each setup warmed up, then ``rounds`` rounds of ``per_round`` requests in alternating
    order. -> (JVM CPU ms per request of each round, by label; the wrong answers)."""
    wrong = sum(serve(url, warmup) for _, url in setups.values())
    cost: dict[str, list[float]] = {label: [] for label in setups}
    for r in range(rounds):
        order = list(setups) if r % 2 == 0 else list(reversed(setups))
        for label in order:
            process, url = setups[label]
            before = _cpu_s(process)
            wrong += serve(url, per_round)
            cost[label].append((_cpu_s(process) - before) * 1000 / per_round)
    return cost, wrong


def cost_figures(area: str, cost: dict[str, list[float]]) -> dict[str, float]:
    """``area``'s figures: each launcher's median ms per request, and the median, min and
    max of the rounds' current/baseline ratios."""
    ratios = [c / b for c, b in zip(cost["current"], cost["baseline"], strict=True)]
    return {
        f"{area}.baseline.jvm_cpu_ms_per_request": round(statistics.median(cost["baseline"]), 3),
        f"{area}.current.jvm_cpu_ms_per_request": round(statistics.median(cost["current"]), 3),
        f"{area}.cpu_ratio": round(statistics.median(ratios), 3),
        f"{area}.cpu_ratio_min": round(min(ratios), 3),
        f"{area}.cpu_ratio_max": round(max(ratios), 3),
    }


def compare(
    area: str, start_all: StartAll, serve_with: Callable[[httpx.Client], Serve], *,
    warmup: int, rounds: int, per_round: int,
) -> tuple[dict[str, list[float]], int]:  # fmt: skip
    """The launchers ``start_all`` starts in a temporary directory, served side by side
    (:func:`interleaved_costs`) through one client, then stopped, last started first."""
    started: list = []
    with (
        tempfile.TemporaryDirectory(prefix=f"bench-{area}-") as tmp,
        httpx.Client(timeout=30) as client,
    ):
        try:
            setups = start_all(Path(tmp), started)
            return interleaved_costs(
                setups, serve_with(client), warmup=warmup, rounds=rounds, per_round=per_round
            )
        finally:
            for process in reversed(started):
                process.stop()
