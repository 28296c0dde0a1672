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
import socket
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
from tests.support.chaos_envoys import start_capture_pair
from tests.support.processes import promised_port, start_on_promised_ports

REPO = Path(__file__).resolve().parent.parent
QUEUE = "bench:ext_proc"
# Every port comes from promised_port, as the tests': a port picked but not bound yet is
# never handed out twice in this run. Another program may still bind one before the part
# does: the part then exits and starts again on fresh ones (start_part).
# What an HTTP/2 client sends first (RFC 9113 3.4): the preface, then its SETTINGS.
HTTP2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
EMPTY_SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"
SETTINGS_FRAME = 0x4


class Stack:
    def __init__(self, work: Path) -> None:
        self.work = work
        # Every process started, failed starts included: stopped in reverse order.
        self.processes: list[procs.ManagedProcess] = []

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


def http2_ready(port: int) -> Callable[[], bool]:
    """An HTTP/2 server (gRPC) answers on ``port`` with its SETTINGS: another process
    that took the port first would accept a bare connect, never answer the preface."""

    def check() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.settimeout(0.5)
            sock.sendall(HTTP2_PREFACE + EMPTY_SETTINGS)
            frame = sock.recv(9)
            return len(frame) == 9 and frame[3] == SETTINGS_FRAME

    return check


def start_part(
    stack: Stack, part: str, launch: procs.Launch, *, count: int = 1, timeout_s: float = 30
) -> tuple[procs.ManagedProcess, list[int]]:
    """Start ``part`` on ``count`` promised ports, ready -> it and the ports it listens on:
    on fresh ones when another process took one before it bound them."""
    return start_on_promised_ports(
        part, launch, started=stack.processes.append, timeout_s=timeout_s, count=count
    )


def start_collector(
    stack: Stack,
    *,
    workers: int | str,
    kind: str,
    collector: dict,
    env: Mapping[str, str] | None = None,
    name: str = "ext-proc",
) -> tuple[procs.ManagedProcess, list[int]]:
    """The collector under test, ready -> it and its gRPC and HTTP ports (mockado: every
    worker listens and Redis answers; the others: they serve gRPC and write their count).
    Only mockado listens on its HTTP port: the others' is promised and left free."""
    work = stack.work
    floor_count = work / "floor-count.txt"
    own_ports = 2 if kind == MOCKADO else 1
    free = [] if kind == MOCKADO else [promised_port()]

    def launch(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
        grpc_port, http_port = [*ports, *free]
        floor_count.unlink(missing_ok=True)  # a failed start's count is no sign of this one
        argv = collector_argv(work, grpc_port=grpc_port, http_port=http_port, workers=workers,
                              kind=kind, collector=collector)  # fmt: skip
        process = procs.ManagedProcess(name, argv, log_path=work / f"{name}.log", cwd=REPO, env=env)
        if kind == MOCKADO:
            return process, procs.http_ready(f"http://127.0.0.1:{http_port}/readyz")
        return process, procs.all_ready([floor_count.exists, http2_ready(grpc_port)])

    process, ports = start_part(stack, name, launch, count=own_ports)
    return process, [*ports, *free]


def start_envoys(stack: Stack, collector: dict, *, upstream_port: int, grpc_port: int) -> dict:
    """The capture pair (``tests.support.chaos_envoys``) in front of the upstream, each
    started and ready. -> {name: (listen port, admin port)}."""
    pair = start_capture_pair(
        stack.work, collector, upstream_port=upstream_port, grpc_port=grpc_port,
        log_path=lambda name: stack.work / f"{name}.log", started=stack.processes.append,
    )  # fmt: skip
    return {name: (envoy.port, envoy.admin_port) for name, envoy in pair.items()}


def start_stack(
    stack: Stack,
    *,
    workers: int | str = 1,
    kind: str = MOCKADO,
    env: Mapping[str, str] | None = None,
) -> dict:
    """Start the stack, each part ready before the next (the Envoys render the ports the
    collector listens on); ``env`` overrides the collector process's environment."""
    work = stack.work

    def launch_redis(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
        process = procs.redis_process(
            port=ports[0], data_dir=work / "redis", log_path=work / "redis.log"
        )
        return process, procs.redis_ready("127.0.0.1", ports[0])

    def launch_upstream(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
        argv = [sys.executable, "-m", "bench.ext_proc_servers", "--upstream", str(ports[0])]
        process = procs.ManagedProcess("upstream", argv, log_path=work / "upstream.log", cwd=REPO)
        return process, procs.http_ready(f"http://127.0.0.1:{ports[0]}/")

    _, [redis_port] = start_part(stack, "redis", launch_redis, timeout_s=15)
    _, [upstream_port] = start_part(stack, "upstream", launch_upstream, timeout_s=15)
    redis_url = f"redis://127.0.0.1:{redis_port}/0"
    collector = {"redis_url": redis_url, "redis_queue": QUEUE}
    ext, [grpc_port, http_port] = start_collector(
        stack, workers=workers, kind=kind, collector=collector, env={**os.environ, **(env or {})}
    )
    envoys = start_envoys(stack, collector, upstream_port=upstream_port, grpc_port=grpc_port)
    return {
        "stack": stack,
        "upstream_port": upstream_port,
        "collector": collector,
        "redis_url": redis_url,
        "floor_count": work / "floor-count.txt",
        "ext": ext,
        "grpc_port": grpc_port,
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
    (work := stack.work / "beside").mkdir(exist_ok=True)
    beside = Stack(work)
    beside.processes = stack.processes  # stopped with the rest
    ext, [grpc_port, _] = start_collector(
        beside, workers=1, kind=FLOOR, collector=parts["collector"], name="floor"
    )
    envoys = start_envoys(
        beside, parts["collector"], upstream_port=parts["upstream_port"], grpc_port=grpc_port
    )
    return {"ext": ext, "floor_count": work / "floor-count.txt", "port": envoys["on"][0]}
