"""Stopping background tasks without waiting forever."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

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
