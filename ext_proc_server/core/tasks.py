"""Stopping background tasks without waiting forever."""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Iterable
from typing import Any, Protocol

log = logging.getLogger(__name__)


async def cancel_and_wait(
    tasks: Iterable[asyncio.Task[Any] | None], *, timeout_s: float
) -> set[asyncio.Task[Any]]:
    """Cancel ``tasks`` (None entries are skipped) and wait at most ``timeout_s`` for them
    to end; returns those still running. An error a task had ended with is logged, not
    raised. Bounded because a library can swallow a cancel
    (redis-py 8.2 does inside a pipelined write) and leave its task looping."""
    running = {task for task in tasks if task is not None}
    for task in running:
        task.cancel()
    if not running:
        return set()
    done, pending = await asyncio.wait(running, timeout=timeout_s)
    for task in done:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            log.error("task %s had failed: %r", task.get_name(), error)
    return pending


class Service(Protocol):
    """A long-running part with its own probe server: the loader, a shard's keeper."""

    async def run(self, stop: asyncio.Event) -> None: ...

    async def aclose(self) -> None: ...


def stop_on_signals() -> asyncio.Event:
    """An event set by SIGTERM or SIGINT (the kubelet's stop, or Ctrl-C)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def run_until_stopped(service: Service, server: Any, stop: asyncio.Event) -> int:
    """Run ``service`` until ``stop``, then end its probe server (a uvicorn server) and
    close it. -> exit code."""
    try:
        await service.run(stop)
    finally:
        server.should_exit = True
        await service.aclose()
    return 0
