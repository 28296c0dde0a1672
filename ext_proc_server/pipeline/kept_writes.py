"""Whether Redis still holds what this process queued; if not, the LRUs forget it all.

The in-process LRUs (``Deduplicator``, ``RepeatIndex``) take a request as recorded once
its stub is queued. A Redis that lost its data (restarted empty, no persistence) lost
the queue entries no loader had taken yet, and every claim: the LRUs would then answer
"recorded" for requests that have no stub anywhere, and their captures would be counted
as repeats, never recorded again, for up to ``dedup_ttl_s``.

So the stub state (``RedisKeys.stub_state``, set with each queued stub) of one stub this
process queued is a witness: :class:`KeptWrites` asks Redis whether it still exists at
most every :data:`CHECK_EVERY_S`. Gone, Redis lost what was written before it (or the
loader removed that stub, or its state expired: then forgetting costs only the full path
for the next captures): both LRUs forget every recorded request, and the next stub queued
is the new witness. A restart redis-py reconnects through without an error is found too.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from ext_proc_server.core.errors import QueueError
from ext_proc_server.core.redis_keys import RedisKeys

log = logging.getLogger(__name__)

# How often the witness is looked for, at most.
CHECK_EVERY_S = 1.0


class KeptWrites:
    """``queued(id)`` after each write Redis accepted; ``await check()`` about once per
    flush interval -> True when Redis lost what was queued (``forget`` was then called:
    the LRUs forget every recorded request)."""

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        keys: RedisKeys,
        forget: Callable[[], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis, self._keys = redis, keys
        self._forget, self._clock = forget, clock
        # The mapping id of the first stub queued since the LRUs last forgot (None: none).
        self._witness: str | None = None
        self._checked_at: float | None = None

    def queued(self, mapping_id: str) -> None:
        """A stub Redis accepted; the first one since the last forget is the witness."""
        if self._witness is None:
            self._witness = mapping_id

    async def check(self) -> bool:
        """Raises QueueError when Redis cannot answer (tried again at the next call)."""
        now = self._clock()
        if self._witness is None or (
            self._checked_at is not None and now - self._checked_at < CHECK_EVERY_S
        ):
            return False
        try:
            kept = await self._redis.exists(self._keys.stub_state(self._witness))
        except RedisError as exc:
            raise QueueError(
                f"redis: looking for a queued stub failed ({type(exc).__name__})"
            ) from exc
        self._checked_at = now
        if kept:
            return False
        self._witness = None
        self._forget()
        log.warning("redis no longer holds the stubs queued: forgot every recorded request")
        return True
