"""Per-stream CPU of mockado's gRPC server against the floor's, through real grpc.aio.

Both servers run at once, each in its own process: mockado's ``CaptureServer`` as
``mockado ext-proc`` runs it (server options, ``maximum_concurrent_rpcs``, the health
service, metrics, the tuned GC), with a sink that records every new exchange at once (so
the repeats take the fast path, and no Redis is needed), and the floor
(``bench.ext_proc_servers``). A grpc.aio client in this process sends each stream's
serialized Envoy messages (``bench.ext_proc_streams.envoy_stream``) to both, interleaved,
a few streams at a time; each server's CPU time over the streams it served is compared.
No Envoy: this isolates what the collector process itself spends per stream.

``python -m bench.ext_proc_grpc_pair`` prints ``ext_proc.grpc_repeat_us``,
``grpc_floor_us`` and their ratio (median of ROUNDS rounds).
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path
from typing import Any

import psutil

from bench.ext_proc_streams import STREAMS, envoy_stream
from control_plane.local import procs
from ext_proc_server.core.exchange import Exchange
from tests.support.processes import promised_port

REPO = Path(__file__).resolve().parent.parent
METHOD = "/envoy.service.ext_proc.v3.ExternalProcessor/Process"
ROUNDS = 5
# Each round sends the bench's streams this many times (CPU times tick every 10 ms).
PASSES = 4
# Streams in flight per server (Envoy opens one per proxied request).
CONCURRENCY = 8
METADATA = (("x-mockado-namespace", "local"), ("x-mockado-workload", "mockado-up"))


class RecordingSink:
    """Records every exchange it is handed (its repeat key remembered at once)."""

    def __init__(self, repeats: Any) -> None:
        self.repeats = repeats

    def submit(self, exchange: Exchange) -> bool:
        self.repeats.remember(self.repeats.key_of(exchange), "recorded")
        return True

    def start(self) -> None:
        pass

    async def stop(self, *, drain_timeout_s: float) -> None:
        pass


def _serve_ours(port: int) -> None:
    from ext_proc_server.capture.server import CaptureServer, run_until_signal
    from ext_proc_server.core.config import load_config
    from ext_proc_server.mapping.repeats import RepeatIndex

    config = load_config(
        None,
        env={},
        overrides={"collector.grpc_port": port, "collector.redis_url": "redis://127.0.0.1:9/0"},
    )
    sink = RecordingSink(RepeatIndex(config.collector))
    server = CaptureServer(config, sink=sink, serve_http=False)
    asyncio.run(run_until_signal(server))


async def _one(channel: Any, messages: list[bytes]) -> None:
    import grpc

    async def requests():
        for message in messages:
            yield message

    call = channel.stream_stream(METHOD, request_serializer=None, response_deserializer=None)(
        requests(), metadata=METADATA
    )
    try:
        async for _ in call:
            pass
    except grpc.aio.AioRpcError:
        pass  # the server closed the stream before the last message: as with Envoy


async def _send(ports: dict[str, int], streams: list[list[bytes]]) -> None:
    """Each stream to every server, CONCURRENCY streams at a time per server."""
    import grpc

    channels = {
        name: grpc.aio.insecure_channel(f"127.0.0.1:{port}") for name, port in ports.items()
    }
    queue: asyncio.Queue = asyncio.Queue()
    for messages in streams:
        for name in channels:
            queue.put_nowait((name, messages))

    async def worker() -> None:
        while not queue.empty():
            name, messages = queue.get_nowait()
            await _one(channels[name], messages)

    await asyncio.gather(*(worker() for _ in range(CONCURRENCY * len(channels))))
    for channel in channels.values():
        await channel.close()


def _cpu_s(pid: int) -> float:
    times = psutil.Process(pid).cpu_times()
    return times.user + times.system


def grpc_pair(rounds: int = ROUNDS) -> dict[str, float]:
    work = Path(tempfile.mkdtemp(prefix="mockado-grpc-pair-"))
    ports = {"ours": promised_port(), "floor": promised_port()}
    argv = {
        "ours": [sys.executable, "-m", "bench.ext_proc_grpc_pair", "serve", str(ports["ours"])],
        "floor": [sys.executable, "-m", "bench.ext_proc_servers", "--floor-collector",
                  str(ports["floor"]), "--floor-count-file", str(work / "floor-count.txt")],
    }  # fmt: skip
    servers = {
        name: procs.ManagedProcess(name, args, log_path=work / f"{name}.log", cwd=REPO).start()
        for name, args in argv.items()
    }
    try:
        for name, server in servers.items():
            server.wait_ready(procs.tcp_ready("127.0.0.1", ports[name]), timeout_s=30)
        streams = [envoy_stream(n) for n in range(STREAMS)]
        asyncio.run(_send(ports, streams))  # records mockado's, warms both
        ratios, costs = [], {"ours": [], "floor": []}
        for _ in range(rounds):
            before = {name: _cpu_s(server.pid) for name, server in servers.items()}
            asyncio.run(_send(ports, streams))
            spent = {
                name: (_cpu_s(s.pid) - before[name]) / STREAMS * 1e6 for name, s in servers.items()
            }
            for name, us in spent.items():
                costs[name].append(us)
            ratios.append(spent["ours"] / spent["floor"])
    finally:
        for server in servers.values():
            server.stop(timeout_s=10)

    def median(values: list[float]) -> float:
        return sorted(values)[len(values) // 2]

    return {
        "ext_proc.grpc_repeat_us": round(median(costs["ours"]), 1),
        "ext_proc.grpc_floor_us": round(median(costs["floor"]), 1),
        "ext_proc.grpc_repeat_ratio_to_floor": round(median(ratios), 3),
        "ext_proc.grpc_repeat_ratio_to_floor_spread": round(max(ratios) - min(ratios), 3),
    }


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        _serve_ours(int(sys.argv[2]))
    else:
        print(grpc_pair(int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS))
