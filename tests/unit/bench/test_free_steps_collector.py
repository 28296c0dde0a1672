"""The bench's free-steps collector: mockado's server, repeat path, buffer and Redis
writes as a process, with sanitize, dedup and mapping replaced by stand-ins. Each new
exchange must reach a real Redis as a full-size stub, repeats end in the stream, and
the count file must count every stream, repeats included."""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

import orjson
import redis as redis_sync
import yaml

from bench.ext_proc_breakdown import bench_stream
from control_plane.local import procs
from ext_proc_server.core.queue_entries import decode_entry
from ext_proc_server.core.redis_keys import RedisKeys
from tests.support.ext_proc_streams import send_streams
from tests.support.processes import promised_port

REPO = Path(__file__).resolve().parents[3]
QUEUE = "bench:free-steps"


def _count(path: Path) -> int:
    return int(path.read_text() or 0) if path.exists() else -1


def _wait_for(check, *, timeout_s: float = 15.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check() and time.monotonic() < deadline:
        time.sleep(0.1)


def test_writes_each_new_exchange_as_a_stub_and_counts_repeats(tmp_path: Path) -> None:
    grpc_port, redis_port = promised_port(), promised_port()
    redis = procs.redis_process(
        port=redis_port, data_dir=tmp_path / "redis", log_path=tmp_path / "redis.log"
    ).start()
    config = tmp_path / "mockado.yaml"
    config.write_text(
        yaml.safe_dump(
            {"collector": {"redis_url": f"redis://127.0.0.1:{redis_port}/0", "redis_queue": QUEUE}}
        )
    )
    count_file = tmp_path / "count.txt"
    argv = [sys.executable, "-m", "bench.ext_proc_free_steps", "--free-steps-collector",
            str(grpc_port), "--config", str(config), "--floor-count-file", str(count_file)]  # fmt: skip
    process = procs.ManagedProcess("free-steps", argv, log_path=tmp_path / "log", cwd=REPO)
    client = redis_sync.Redis(port=redis_port)
    stream = RedisKeys(queue=QUEUE).stream
    try:
        redis.wait_ready(procs.tcp_ready("127.0.0.1", redis_port), timeout_s=15)
        process.start()
        process.wait_ready(lambda: _count(count_file) == 0, timeout_s=30)
        process.wait_ready(procs.tcp_ready("127.0.0.1", grpc_port), timeout_s=30)
        asyncio.run(send_streams(grpc_port, [bench_stream(n) for n in range(3)]))
        _wait_for(lambda: client.xlen(stream) == 3)
        assert client.xlen(stream) == 3
        # Recorded: the same stream again is a repeat, ended by the stream itself.
        asyncio.run(send_streams(grpc_port, [bench_stream(1)]))
        _wait_for(lambda: _count(count_file) == 4)
        assert _count(count_file) == 4
        time.sleep(0.5)  # past the pipeline's flush: a repeat must not be written
        assert client.xlen(stream) == 3
        mappings = [decode_entry(fields)[0] for _, fields in client.xrange(stream)]
        # The stand-in stub: the real stub of exchange 0, under each exchange's own id.
        assert len({m["id"] for m in mappings}) == 3
        bodies = {orjson.dumps(m["request"]) for m in mappings}
        assert len(bodies) == 1
        assert all(len(orjson.dumps(m)) > 2048 for m in mappings)
        assert process.alive
    finally:
        client.close()
        process.stop(timeout_s=10)
        redis.stop(timeout_s=10)
