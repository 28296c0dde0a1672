"""Retrying with backoff: the one backoff of the loader and restore, and waiting out a
WireMock shard that is down while the items this loader holds stay claimed."""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from ext_proc_server.core.errors import WireMockError
from ext_proc_server.loader.shards import Shard
from ext_proc_server.loader.stream import StreamConsumer

T = TypeVar("T")


def backoff_s(attempt: int, *, base_s: float, max_s: float) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random, capped at max_s."""
    delay = min(max_s, base_s * (2 ** min(attempt, 30)))
    return delay / 2 + random.uniform(0, delay / 2)


class Stopped(Exception):
    """The loader was asked to stop while a call was waiting for WireMock."""


class Retry:
    """Backoff between attempts (``retry_backoff`` doubling up to ``retry_max_delay``);
    every wait ends early when ``stop`` is set."""

    def __init__(
        self, *, stop: asyncio.Event, stream: StreamConsumer, base_s: float, max_s: float
    ) -> None:
        self._stop = stop
        self._stream = stream
        self._base_s = base_s
        self._max_s = max_s

    def delay_s(self, attempt: int) -> float:
        return backoff_s(attempt, base_s=self._base_s, max_s=self._max_s)

    async def pause(self, attempt: int) -> None:
        """Sleep the backoff of this attempt, waking early on stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=self.delay_s(attempt))

    async def through_outages(
        self,
        shard: Shard,
        call: Callable[[], Awaitable[T]],
        *,
        held: int = 0,
        refusals_wait: bool = False,
    ) -> T:
        """``call()`` until WireMock answers, forever (an outage uses no poison budget).

        A refusal (4xx) raises, unless ``refusals_wait``: a read refused (401/403 from a
        proxy...) is no mapping's fault and is waited out like an outage. Raises Stopped
        when stopped meanwhile. The caller marks the shard up (``Shard.mark_up``)."""
        attempt = 0
        while True:
            try:
                return await call()
            except WireMockError as exc:
                if exc.is_terminal and not refusals_wait:
                    shard.mark_up()
                    raise
                shard.mark_down(exc, held=held)
                if self._stop.is_set():
                    raise Stopped from exc
                await self.pause(attempt)
                attempt += 1
                if self._stop.is_set():
                    raise Stopped from exc
                await self._stream.heartbeat()
