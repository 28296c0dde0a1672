"""The bench's capture-only collector: mockado's server and assembly as a process, each
finished exchange counted, none passed on (no Redis write happens: none is running)."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import yaml

from bench.ext_proc_breakdown import bench_stream
from control_plane.local import procs
from tests.support.ext_proc_streams import send_streams
from tests.support.processes import promised_port

REPO = Path(__file__).resolve().parents[3]


def _count(path: Path) -> int:
    return int(path.read_text() or 0) if path.exists() else -1


def test_counts_each_finished_exchange_and_stores_none(tmp_path: Path) -> None:
    grpc_port = promised_port()
    redis_port = promised_port()
    config = tmp_path / "mockado.yaml"
    # A Redis nobody listens on: the counting sink must never need it.
    config.write_text(
        yaml.safe_dump({"collector": {"redis_url": f"redis://127.0.0.1:{redis_port}/0"}})
    )
    count_file = tmp_path / "count.txt"
    argv = [sys.executable, "-m", "bench.ext_proc_servers", "--capture-only-collector",
            str(grpc_port), "--config", str(config), "--floor-count-file", str(count_file)]  # fmt: skip
    process = procs.ManagedProcess("capture-only", argv, log_path=tmp_path / "log", cwd=REPO)
    process.start()
    try:
        process.wait_ready(lambda: _count(count_file) == 0, timeout_s=30)
        process.wait_ready(procs.tcp_ready("127.0.0.1", grpc_port), timeout_s=30)
        asyncio.run(send_streams(grpc_port, [bench_stream(n) for n in range(3)]))
        deadline = time.monotonic() + 10
        while _count(count_file) < 3 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _count(count_file) == 3
        assert process.alive
    finally:
        process.stop(timeout_s=10)
