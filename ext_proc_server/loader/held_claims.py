"""Claims of requests the loader did not record, and when they are let go.

A request whose stub the stub budget refused, or that was dead-lettered, is not in any
WireMock, yet its claims (``mapping.dedup``) keep telling every collector "recorded" for
``collector.dedup_ttl_s``. Letting them go at once would queue every later capture of the
request again, only to be refused again: a full shard would flood the queue. So they wait,
each for the moment its request can land:

- **Refused by the budget**: the id joins the shard's refused set
  (``RedisKeys.refused_stubs``) in the transaction that acknowledges it. Once the shard
  has room again (stubs expired, retired or moved away, ``max_stubs`` raised), the oldest
  refusals are let go, as many as there is room for: those requests are recorded at their
  next capture, and no more of them than fit.
- **Dead-lettered**: WireMock refused the stub itself. The id is held for
  ``DEAD_LETTER_HOLD_S`` (``RedisKeys.dead_lettered_stubs``), then let go: a request
  whose stub WireMock keeps refusing costs one item (and its retries) per hold, and one
  whose cause was fixed meanwhile (a WireMock upgrade, a mapping fix) is recorded again.

Letting go is :func:`claims.release_claims`: the stub's state goes, and its id joins the
log collectors follow to forget it in-process. Only mapping ids are written.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from ext_proc_server.core.errors import WireMockError
from ext_proc_server.core.metrics import LOADER_CLAIMS_RELEASED
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader.claims import release_claims
from ext_proc_server.loader.entries import as_text
from ext_proc_server.loader.shards import Shard

log = logging.getLogger(__name__)

# How long a dead-lettered request's claims hold before it may be recorded again.
DEAD_LETTER_HOLD_S = 3600.0
# How often held claims are looked at (one ZCARD per shard and one ZRANGEBYSCORE).
RELEASE_CHECK_INTERVAL_S = 30.0
# Refusals kept per shard (about 60 bytes each); older ones keep their claims until
# the claims' own TTL.
REFUSED_KEPT = 100_000


def hold_refused(pipe: Any, *, keys: RedisKeys, shard: str, mapping_ids: Sequence[str],
                 now_s: float) -> None:  # fmt: skip
    """Queue, on ``pipe``, the refusal of these new stubs by ``shard``'s budget, in their
    order (the first refusal's time is kept)."""
    if not mapping_ids:
        return
    key = keys.refused_stubs(shard)
    # A microsecond apart: one batch's refusals keep their queue order.
    order = {mapping_id: now_s + n * 1e-6 for n, mapping_id in enumerate(mapping_ids)}
    pipe.zadd(key, order, nx=True)
    pipe.zremrangebyrank(key, 0, -REFUSED_KEPT - 1)


def hold_dead_lettered(pipe: Any, *, keys: RedisKeys, mapping_id: str, now_s: float,
                       hold_s: float = DEAD_LETTER_HOLD_S) -> None:  # fmt: skip
    """Queue, on ``pipe``, the hold of a dead-lettered stub's claims until ``now_s + hold_s``."""
    pipe.zadd(keys.dead_lettered_stubs, {mapping_id: now_s + hold_s})


class HeldClaims:
    """Lets go of held claims when their request can land. ``await run()`` until ``stop``;
    ``await release()`` is one round. ``clock`` gives epoch seconds."""

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        max_stubs: int,
        keys: RedisKeys,
        shards: dict[str, Shard],
        stop: asyncio.Event,
        interval_s: float = RELEASE_CHECK_INTERVAL_S,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._shards = shards
        self._max_stubs = max_stubs
        self._stop = stop
        self._interval_s = interval_s
        self._clock = clock

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.release()
            except RedisError as exc:
                # The pump reports Redis outages; the next round tries again.
                log.debug("held claims not checked (%s)", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self._interval_s)

    async def release(self) -> int:
        """Let go of the dead-letter holds that are over and of the refusals that fit
        their shard now. -> claims let go."""
        released = await self._release_dead_lettered()
        for shard in self._shards.values():
            released += await self._release_refused(shard)
        return released

    async def _release_dead_lettered(self) -> int:
        key = self._keys.dead_lettered_stubs
        due = [as_text(raw) for raw in await self._redis.zrangebyscore(key, "-inf", self._clock())]
        await self._let_go(key, due)
        LOADER_CLAIMS_RELEASED.labels(reason="dead_letter_hold").inc(len(due))
        return len(due)

    async def _release_refused(self, shard: Shard) -> int:
        key = self._keys.refused_stubs(shard.name)
        if not await self._redis.zcard(key):
            return 0
        try:
            # What WireMock holds now: expiry, moves or another replica may have changed it.
            shard.set_count(await shard.client.count_stubs())
        except WireMockError:
            return 0  # down: the next round
        room = self._max_stubs - shard.stub_count
        if room <= 0:
            return 0
        oldest = [as_text(raw) for raw in await self._redis.zrange(key, 0, room - 1)]
        await self._let_go(key, oldest)
        LOADER_CLAIMS_RELEASED.labels(reason="budget_room").inc(len(oldest))
        if oldest:
            log.info(
                "shard %s has room for %d stubs: %d refused requests are recorded again at "
                "their next capture", shard.name, room, len(oldest),
            )  # fmt: skip
        return len(oldest)

    async def _let_go(self, key: str, mapping_ids: Sequence[str]) -> None:
        if not mapping_ids:
            return
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.zrem(key, *mapping_ids)
            release_claims(pipe, keys=self._keys, mapping_ids=mapping_ids, now_s=self._clock())
            await pipe.execute()
