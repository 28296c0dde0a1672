"""A slow collector: the real capture server, reading each ext_proc message late.

``python -m tests.support.slow_collector --config mockado.yaml --grpc-port P
--http-port Q [--delay-s 0.2]`` runs what ``mockado ext-proc`` runs (the default
sink, Redis, the probe app), with one gRPC interceptor: the servicer gets each
message ``delay_s`` after it arrived, one message after another, as from a
collector stalled on its CPU. A stream of several messages then outlasts Envoy's
deferred close (1 s); Envoy closes it early and the server counts it incomplete.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import grpc
import yaml

from control_plane.local import procs
from tests.support.capture_seams import ContextInterceptor
from tests.support.ext_proc_rig import ExtProcProcess
from tests.support.paths import REPO

DELAY_S = 0.2


class _SlowContext:
    """A servicer context whose ``read`` waits ``delay_s`` after each message."""

    def __init__(self, context: grpc.aio.ServicerContext, delay_s: float) -> None:
        self._context = context
        self._delay_s = delay_s

    async def read(self) -> Any:
        message = await self._context.read()
        if message is not grpc.aio.EOF:
            await asyncio.sleep(self._delay_s)
        return message

    def __getattr__(self, name: str) -> Any:
        return getattr(self._context, name)


class SlowReads(ContextInterceptor):
    """Every streaming RPC reads its messages ``delay_s`` late."""

    def __init__(self, delay_s: float) -> None:
        self._delay_s = delay_s

    def wrap(self, context: grpc.aio.ServicerContext) -> Any:
        return _SlowContext(context, self._delay_s)


def argv(
    config_path: Path, *, grpc_port: int, http_port: int, delay_s: float = DELAY_S
) -> list[str]:
    """The command line of a slow collector (run it with ``cwd=REPO``)."""
    return [sys.executable, "-m", "tests.support.slow_collector", "--config", str(config_path),
            "--grpc-port", str(grpc_port), "--http-port", str(http_port),
            "--delay-s", str(delay_s)]  # fmt: skip


def start(
    collector: dict,
    *,
    work: Path,
    log_path: Path,
    env: dict[str, str],
    started: Callable[[procs.ManagedProcess], Any],
    delay_s: float = DELAY_S,
) -> ExtProcProcess:
    """Start a slow collector for ``collector`` settings (as ``collector_settings`` makes)
    and wait until it is healthy. ``started`` gets the process as soon as it runs (to stop
    it at the end, whatever happens)."""
    config_path = work / "mockado.yaml"
    settings = {k: v for k, v in collector.items() if k not in ("grpc_port", "http_port")}
    config_path.write_text(yaml.safe_dump({"collector": settings}), encoding="utf-8")
    command = argv(
        config_path,
        grpc_port=collector["grpc_port"],
        http_port=collector["http_port"],
        delay_s=delay_s,
    )
    process = procs.ManagedProcess("ext-proc-slow", command, log_path=log_path, env=env, cwd=REPO)
    started(process.start())
    process.wait_ready(
        procs.http_ready(f"http://127.0.0.1:{collector['http_port']}/healthz"), timeout_s=30
    )
    return ExtProcProcess(
        process,
        grpc_port=collector["grpc_port"],
        http_port=collector["http_port"],
        queue=collector["redis_queue"],
        redis_url=collector["redis_url"],
    )


def main(args: Sequence[str] | None = None) -> int:
    from ext_proc_server.capture import CaptureServer, run_until_signal
    from ext_proc_server.core.config import load_config
    from ext_proc_server.core.logs import setup_logging

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--grpc-port", type=int, required=True)
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--delay-s", type=float, default=DELAY_S)
    parser.add_argument("--log-level", default="INFO")
    options = parser.parse_args(args)
    config = load_config(
        options.config,
        overrides={
            "collector.grpc_port": options.grpc_port,
            "collector.http_port": options.http_port,
        },
    )
    setup_logging(component="ext-proc", level=options.log_level)
    server = CaptureServer(config, interceptors=[SlowReads(options.delay_s)])
    asyncio.run(run_until_signal(server))
    return 0


if __name__ == "__main__":
    sys.exit(main())
