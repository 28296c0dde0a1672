"""Each shard's record in Redis: every mapping its WireMock should hold.

One hash per shard (``RedisKeys.shard_record``): mapping id -> the mapping JSON exactly
as it was imported. ``StreamConsumer.ack`` writes it in the transaction that
acknowledges landed items, so it holds every acked stub and nothing WireMock refused;
a replay or an overwrite (same id) replaces the entry. The shard's catch-all is not in
it: the loader builds that from its config. This module reads the record back to
reload a WireMock that lost its stubs (``resync.py``), and drops stubs from it for good
(their claims released: ``claims.py``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection

from redis import asyncio as aioredis
from redis.asyncio.lock import Lock

from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader.claims import release_claims
from ext_proc_server.loader.entries import as_text


class ShardRecord:
    """Reads each shard's record, drops entries, and lends the per-shard reload lock."""

    def __init__(self, redis: aioredis.Redis, *, keys: RedisKeys, lock_ttl_s: float) -> None:
        self._redis = redis
        self._keys = keys
        self._lock_ttl_s = lock_ttl_s

    async def size(self, shard: str) -> int:
        """How many mappings the shard should hold (HLEN: O(1))."""
        return int(await self._redis.hlen(self._keys.shard_record(shard)))

    async def chunks(self, shard: str, *, size: int) -> AsyncIterator[list[tuple[str, str]]]:
        """The record in chunks of about ``size`` (id, mapping JSON) pairs (HSCAN: entries
        written meanwhile may or may not be seen; an entry is never yielded twice)."""
        key = self._keys.shard_record(shard)
        seen: set[str] = set()
        cursor: int = 0
        while True:
            cursor, found = await self._redis.hscan(key, cursor, count=size)
            chunk = []
            for raw_id, raw_json in found.items():
                mapping_id = as_text(raw_id)
                if mapping_id not in seen:
                    seen.add(mapping_id)
                    chunk.append((mapping_id, as_text(raw_json)))
            for start in range(0, len(chunk), size):
                yield chunk[start : start + size]
            if not cursor:
                return

    async def remove(self, shard: str, mapping_ids: Collection[str]) -> None:
        """Drop stubs from the record for good: their claims go with them, so a capture of
        their requests records them again (``claims``)."""
        if not mapping_ids:
            return
        ids = list(mapping_ids)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hdel(self._keys.shard_record(shard), *ids)
            release_claims(pipe, keys=self._keys, mapping_ids=ids)
            await pipe.execute()

    def reload_lock(self, shard: str) -> Lock:
        """A lock one replica holds while it reloads the shard: ``await acquire()`` answers
        at once (False: another replica is at it); ``reacquire()`` renews its TTL. A
        replica that dies holding it frees it after ``lock_ttl_s``."""
        return self._redis.lock(
            self._keys.resync_lock(shard), timeout=self._lock_ttl_s, blocking=False
        )
