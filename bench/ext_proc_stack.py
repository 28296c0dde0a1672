"""The ext_proc bench's stack: a collector under test behind two Envoys 1.40 (one captures
every request, one none), a tiny upstream and a real Redis, each a process of its own;
and how a side-by-side round reads a collector (:class:`~bench.ext_proc_paired.Side`).

``kind`` picks the collector: mockado as users run it (``mockado ext-proc``), the floor
(a trivial recording server), mockado's capture alone, or mockado with its three steps
free. ``env``: environment overrides for the collector process only (``MOCKADO_*``
settings, or ``PYTHONPATH`` to run another checkout's code), as ``bench.ext_proc_ab``
compares two of them.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import redis as redis_sync
import yaml

from bench.ext_proc_backlog import held
from bench.ext_proc_cpu import cpu_s, loop_thread_cpu_s
from bench.ext_proc_paired import Side
from control_plane.local import procs
from control_plane.render import LocalEnvoy, UpstreamService, render_local_envoy
from ext_proc_server.core.config import load_config
from tests.support.processes import promised_port

REPO = Path(__file__).resolve().parent.parent
QUEUE = "bench:ext_proc"
# Every port comes from promised_port, as the tests': a port picked but not bound yet (the
# processes start after every pick) is never handed out twice in this run.


class Stack:
    def __init__(self, work: Path) -> None:
        self.work = work
        self.processes: list[procs.ManagedProcess] = []

    def start(self, process: procs.ManagedProcess) -> procs.ManagedProcess:
        self.processes.append(process.start())
        return process

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop(timeout_s=10)


# The collectors the bench runs: mockado as users run it, the floor, mockado's capture
# alone (its server, servicer and assembly; a sink that counts each exchange and drops it),
# and mockado with sanitize, dedup and mapping free (bench.ext_proc_free_steps).
MOCKADO, FLOOR, CAPTURE_ONLY, FREE_STEPS = "mockado", "floor", "capture-only", "free-steps"
COUNTED_ARGV = {
    CAPTURE_ONLY: ("bench.ext_proc_servers", "--capture-only-collector"),
    FREE_STEPS: ("bench.ext_proc_free_steps", "--free-steps-collector"),
}


def collector_argv(work: Path, *, grpc_port: int, http_port: int, workers: int | str,
                    kind: str, collector: dict) -> list[str]:  # fmt: skip
    """The command line of the collector under test (``kind``: :data:`MOCKADO`...)."""
    count_file = ["--floor-count-file", str(work / "floor-count.txt")]
    if kind == FLOOR:
        return [sys.executable, "-m", "bench.ext_proc_servers", "--floor-collector",
                str(grpc_port), *count_file]  # fmt: skip
    cfg_path = work / "mockado.yaml"
    cfg_path.write_text(yaml.safe_dump({"collector": collector}), encoding="utf-8")
    if kind in COUNTED_ARGV:
        module, flag = COUNTED_ARGV[kind]
        return [sys.executable, "-m", module, flag, str(grpc_port), "--config", str(cfg_path),
                *count_file]  # fmt: skip
    mockado = str(Path(sys.executable).parent / "mockado")
    return [mockado, "ext-proc", "--config", str(cfg_path), "--grpc-port", str(grpc_port),
            "--http-port", str(http_port), "--workers", str(workers)]  # fmt: skip


def write_capture_pair(
    work: Path,
    collector: Mapping[str, Any],
    *,
    upstream_port: int,
    grpc_port: int,
    timing_logs: Mapping[str, Path] | None = None,
) -> dict[str, tuple[Path, int, int]]:
    """The same bootstrap twice, written under ``work``: "on" captures every request, "off"
    none (every path excluded); ``collector``: the collector settings both render with;
    ``timing_logs``: an access log of timings per name. -> {name: (config path, listen
    port, admin port)}."""
    config = load_config(
        None, env={}, overrides={f"collector.{k}": v for k, v in collector.items()}
    )
    written = {}
    for name, excluded in (("on", ()), ("off", ("/",))):
        port, admin = promised_port(), promised_port()
        path = work / f"envoy-{name}.yaml"
        envoy = LocalEnvoy(
            listen_port=port,
            admin_port=admin,
            upstream=UpstreamService(host="127.0.0.1", port=upstream_port, http2=False),
            collector_port=grpc_port,
            exclude_paths=excluded,
            timing_log_path=str(timing_logs[name]) if timing_logs else None,
        )
        path.write_text(render_local_envoy(config, envoy), encoding="utf-8")
        written[name] = (path, port, admin)
    return written


def start_envoys(stack: Stack, collector: dict, *, upstream_port: int, grpc_port: int) -> dict:
    """:func:`write_capture_pair`, each started and ready. -> {name: (listen port, admin
    port)}."""
    envoys = {}
    pair = write_capture_pair(
        stack.work, collector, upstream_port=upstream_port, grpc_port=grpc_port
    )
    for name, (path, port, admin) in pair.items():
        process = stack.start(
            procs.envoy_process(config_path=path, log_path=stack.work / f"envoy-{name}.log")
        )
        process.wait_ready(procs.http_ready(f"http://127.0.0.1:{admin}/ready"), timeout_s=30)
        envoys[name] = (port, admin)
    return envoys


def start_stack(
    stack: Stack,
    *,
    workers: int | str = 1,
    kind: str = MOCKADO,
    env: Mapping[str, str] | None = None,
) -> dict:
    """Start the stack; ``env`` overrides the collector process's environment."""
    work = stack.work
    redis_port, upstream_port = promised_port(), promised_port()
    grpc_port, http_port = promised_port(), promised_port()
    redis = stack.start(
        procs.redis_process(port=redis_port, data_dir=work / "redis", log_path=work / "redis.log")
    )
    upstream = stack.start(
        procs.ManagedProcess(
            "upstream",
            [sys.executable, "-m", "bench.ext_proc_servers", "--upstream", str(upstream_port)],
            log_path=work / "upstream.log",
            cwd=REPO,
        )
    )
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    collector = {"redis_url": redis_url, "redis_queue": QUEUE}
    argv = collector_argv(work, grpc_port=grpc_port, http_port=http_port, workers=workers,
                           kind=kind, collector=collector)  # fmt: skip
    ext = stack.start(
        procs.ManagedProcess(
            "ext-proc",
            argv,
            log_path=work / "ext-proc.log",
            cwd=REPO,
            env={**os.environ, **(env or {})},
        )
    )
    envoys = start_envoys(stack, collector, upstream_port=upstream_port, grpc_port=grpc_port)
    redis.wait_ready(procs.tcp_ready("127.0.0.1", redis_port), timeout_s=15)
    upstream.wait_ready(procs.tcp_ready("127.0.0.1", upstream_port), timeout_s=15)
    # /readyz: every worker listens (and Redis answers).
    floor_count = work / "floor-count.txt"
    if kind != MOCKADO:
        ext.wait_ready(floor_count.exists, timeout_s=30)
    else:
        ext.wait_ready(procs.http_ready(f"http://127.0.0.1:{http_port}/readyz"), timeout_s=30)
    return {
        "stack": stack,
        "upstream_port": upstream_port,
        "collector": collector,
        "redis_url": redis_url,
        "floor_count": floor_count,
        "ext": ext,
        "envoys": {name: ports[0] for name, ports in envoys.items()},
        "admin_on": envoys["on"][1],
        "metrics_url": f"http://127.0.0.1:{http_port}/metrics",
    }


def streams_handled(metrics_url: str) -> float:
    """Streams the collector saw (collector_requests_total, every label)."""
    text = httpx.get(metrics_url, timeout=10).text
    return sum(
        float(v) for v in re.findall(r"^collector_requests_total\{[^}]*\} ([0-9.e+]+)$", text, re.M)
    )


def mockado_side(parts: dict) -> Side:
    """mockado in a side-by-side round: streams from its /metrics, its pipeline's backlog."""
    url = parts["metrics_url"]
    return Side(
        handled=lambda: streams_handled(url),
        cpu_s=lambda: cpu_s(parts["ext"]),
        loop_cpu_s=lambda: loop_thread_cpu_s(parts["ext"]),
        holds=lambda: held(url) > 0,
    )


def counted_side(parts: dict) -> Side:
    """A collector that writes its count to a file (the floor, the capture alone: the
    exchanges its sink took; the three steps free: the streams it saw, repeats included)."""
    return Side(
        handled=lambda: int(parts["floor_count"].read_text() or 0),
        cpu_s=lambda: cpu_s(parts["ext"]),
        loop_cpu_s=lambda: loop_thread_cpu_s(parts["ext"]),
    )


def with_stack(
    workers: int | str,
    body: Callable[[dict, redis_sync.Redis], Any],
    *,
    kind: str = MOCKADO,
    env: Mapping[str, str] | None = None,
) -> Any:
    """``body(parts, redis client)`` on a stack of its own, stopped after."""
    stack = Stack(Path(tempfile.mkdtemp(prefix="mockado-bench-ext-proc-")))
    try:
        parts = start_stack(stack, workers=workers, kind=kind, env=env)
        client = redis_sync.Redis.from_url(parts["redis_url"])
        try:
            return body(parts, client)
        finally:
            client.close()
    finally:
        stack.stop()


def floor_beside(parts: dict) -> dict:
    """The floor server and its own Envoy, started beside the collector under test (same
    upstream), for a side-by-side run. -> the parts ``_floor_step`` reads, and its port."""
    stack: Stack = parts["stack"]
    grpc_port = promised_port()
    (work := stack.work / "beside").mkdir(exist_ok=True)
    argv = collector_argv(work, grpc_port=grpc_port, http_port=0, workers=1, kind=FLOOR,
                           collector=parts["collector"])  # fmt: skip
    ext = stack.start(procs.ManagedProcess("floor", argv, log_path=work / "floor.log", cwd=REPO))
    beside = Stack(work)
    beside.processes = stack.processes  # stopped with the rest
    envoys = start_envoys(
        beside, parts["collector"], upstream_port=parts["upstream_port"], grpc_port=grpc_port
    )
    ext.wait_ready((count := work / "floor-count.txt").exists, timeout_s=30)
    return {"ext": ext, "floor_count": count, "port": envoys["on"][0]}
