"""Retrying Redis writes until Redis accepts them, and naming why one failed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ext_proc_server.core import metrics
from ext_proc_server.core.errors import QueueError

log = logging.getLogger(__name__)

RETRY_FIRST_S = 0.1
RETRY_MAX_S = 5.0


def _cause(exc: BaseException) -> BaseException:
    return exc.__cause__ if isinstance(exc, QueueError) and exc.__cause__ else exc


def redis_error_kind(exc: BaseException) -> str:
    """A failed Redis write -> "oom", "unavailable" or "other" (the metric's label)."""
    cause = _cause(exc)
    if isinstance(cause, OutOfMemoryError) or "OOM command not allowed" in str(cause):
        return "oom"
    if isinstance(cause, RedisConnectionError | RedisTimeoutError | OSError):
        return "unavailable"
    return "other"


class RedisRetry:
    """Runs a write until Redis accepts it, with backoff (0.1 s doubling to 5 s).
    Counts each failure (``collector_redis_errors_total``) and logs once per outage
    and cause, never the error text (it may quote data)."""

    def __init__(self) -> None:
        # Redis is failing: writes are being retried (for /readyz and tests).
        self.failing = False
        self._kind = ""

    async def run(self, attempt: Callable[[], Awaitable[Any]]) -> Any:
        """-> ``attempt``'s result. Only cancelling the caller ends the retries."""
        delay_s = RETRY_FIRST_S
        while True:
            try:
                result = await attempt()
            except (QueueError, RedisError, OSError) as exc:
                self._failed(exc)
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, RETRY_MAX_S)
                continue
            if self.failing:
                log.info("redis: writes resumed")
            self.failing = False
            self._kind = ""
            return result

    def _failed(self, exc: BaseException) -> None:
        kind = redis_error_kind(exc)
        metrics.COLLECTOR_REDIS_ERRORS.labels(error=kind).inc()
        if not self.failing or kind != self._kind:
            if kind == "oom":
                log.error(
                    "redis: write refused, Redis is out of memory (OOM: maxmemory "
                    "reached, policy noeviction); captures are held, then dropped as "
                    "buffer_full, until it has room; retrying"
                )
            else:
                log.warning(
                    "redis: write failed (%s, %s); retrying", kind, type(_cause(exc)).__name__
                )
        self._kind = kind
        self.failing = True
