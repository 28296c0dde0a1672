"""Whether Redis still holds what this process queued; if not, the LRUs forget it all.

The in-process LRUs (``Deduplicator``, ``RepeatIndex``) take a request as recorded once
its stub is queued. A Redis that lost its data (restarted empty, no persistence) lost
the queue entries no loader had taken yet, and every claim: the LRUs would then answer
"recorded" for requests that have no stub anywhere, and their captures would be counted
as repeats, never recorded again, for up to ``dedup_ttl_s``.

Such a Redis no longer holds the state (``RedisKeys.stub_state``) of a stub queued, but
a state also goes on purpose (the loader deletes it when it removes the stub, and it
ends with its TTL), so a stub alone cannot tell. Redis holds a marker instead,
``RedisKeys.kept_marker``: a random token set once (SET NX) and never deleted. A Redis
that restarted empty has none until a collector sets a new one. :class:`KeptWrites`
reads it at most every :data:`CHECK_EVERY_S`: gone or another token than the one it
kept, Redis lost what was written before, and both LRUs forget every recorded request.

The token kept must be one Redis held when the stubs the LRUs remember were written. So
the first stub queued since the LRUs last forgot is a witness: the token is read, then
the witness's state asked for; found, no empty restart came
between the witness's write and the read, and the token is kept. Not found, Redis may
have restarted in between: the LRUs forget (a removal that fast costs only the full path
for the next captures). A restart redis-py reconnects through without an error is found
too. A Redis restored from an older snapshot is not empty: it holds the token read
before, and what it lost since is not found here.
"""

from __future__ import annotations

import logging
import secrets
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
        # The marker's token, read before the witness was found (None: not found yet).
        self._token: bytes | None = None
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
            kept = await self._kept(self._witness)
        except RedisError as exc:
            raise QueueError(
                f"redis: looking for a queued stub failed ({type(exc).__name__})"
            ) from exc
        self._checked_at = now
        if kept:
            return False
        self._witness, self._token = None, None
        self._forget()
        log.warning("redis no longer holds the stubs queued: forgot every recorded request")
        return True

    async def _kept(self, witness: str) -> bool:
        """Whether Redis still holds what was written since the witness."""
        marker = self._keys.kept_marker
        if self._token is not None:
            return await self._redis.get(marker) == self._token
        await self._redis.set(marker, secrets.token_hex(16), nx=True)
        token = await self._redis.get(marker)
        # Asked after the token was read: found, the token was there since its write.
        if token is None or not await self._redis.exists(self._keys.stub_state(witness)):
            return False
        self._token = token
        return True
