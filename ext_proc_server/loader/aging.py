"""Stub staleness: repeats stamped on the stubs in batches, and stubs nobody sees expired.

Collectors report repeats per mapping id (``queue_writer.ReportSeen``: the
``<queue>:last-seen`` and ``<queue>:seen-count`` hashes). Every
``loader.stub_refresh_interval_s`` the loader takes both hashes in one transaction and,
per shard, stamps ``last_seen`` and ``capture_count`` on the stubs its record holds: one
``HMGET``, one WireMock import and one Redis transaction per batch. Each shard's seen
index (a sorted set scored by ``last_seen``) then names the stubs past
``loader.stub_ttl_s`` without reading a single mapping; they are deleted from WireMock,
then from the record and the index, so no later backup or reload has them, and their
claims are released (``claims.py``): their next capture records them again.

Everything runs under the shard's lock, so an import of a newer stub (drift) never
interleaves with a stamp or a removal of the same stub.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from ext_proc_server.core.errors import QueueError, WireMockError
from ext_proc_server.core.metrics import LOADER_STUBS_EXPIRED
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader.claims import release_claims
from ext_proc_server.loader.drift import mockado_metadata, stub_lifecycle
from ext_proc_server.loader.entries import as_text
from ext_proc_server.loader.shards import Shard
from ext_proc_server.loader.wiremock_client import encode_mapping
from ext_proc_server.mapping.stubs import exact_repeats_id

log = logging.getLogger(__name__)

Reports = tuple[dict[str, float], dict[str, int]]


class StubAging:
    """``await run()`` until ``stop``; ``await tick()`` does one round (tests, drain)."""

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        keys: RedisKeys,
        shards: dict[str, Shard],
        ttl_s: float | None,
        interval_s: float,
        batch_size: int,
        stop: asyncio.Event,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._shards = shards
        self._ttl_s = ttl_s
        self._interval_s = interval_s
        self._batch_size = batch_size
        self._stop = stop
        self._clock = clock

    async def run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self._interval_s)
                return
            try:
                await self.tick()
            except (RedisError, QueueError, WireMockError) as exc:
                # The pump and resync report outages; the next round tries again.
                log.debug("stub refresh skipped (%s)", type(exc).__name__)

    async def tick(self) -> tuple[int, int]:
        """-> (stubs stamped, stubs expired)."""
        stamped = await self.stamp_repeats()
        expired = await self.expire() if self._ttl_s is not None else 0
        return stamped, expired

    # -- repeats ---------------------------------------------------------------------

    async def _take_reports(self) -> Reports:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.hgetall(self._keys.last_seen)
            pipe.hgetall(self._keys.seen_counts)
            pipe.delete(self._keys.last_seen, self._keys.seen_counts)
            seen_raw, counts_raw, _ = await pipe.execute()
        seen = {as_text(k): float(v) for k, v in (seen_raw or {}).items()}
        counts = {as_text(k): int(v) for k, v in (counts_raw or {}).items()}
        return seen, counts

    async def _put_back(self, ids: Sequence[str], reports: Reports) -> None:
        """Reports a shard could not take (its WireMock is down): for the next round."""
        seen, counts = reports
        async with self._redis.pipeline(transaction=False) as pipe:
            for mapping_id in ids:
                if mapping_id in seen:
                    pipe.hset(self._keys.last_seen, mapping_id, f"{seen[mapping_id]:.3f}")
                if mapping_id in counts:
                    pipe.hincrby(self._keys.seen_counts, mapping_id, counts[mapping_id])
            await pipe.execute()

    async def stamp_repeats(self) -> int:
        """Stamp the reported repeats on every shard that holds their stubs. -> stamped."""
        reports = await self._take_reports()
        ids = sorted(set(reports[0]) | set(reports[1]))
        stamped = 0
        for start in range(0, len(ids), self._batch_size):
            chunk = ids[start : start + self._batch_size]
            for shard in self._shards.values():
                try:
                    stamped += await self._stamp(shard, chunk, reports)
                except WireMockError:
                    await self._put_back(chunk, reports)
                    raise
        return stamped

    async def _stamp(self, shard: Shard, ids: Sequence[str], reports: Reports) -> int:
        record = self._keys.shard_record(shard.name)
        async with shard.lock:
            stamped: dict[str, str] = {}
            index: dict[str, float] = {}
            for mapping_id, (mapping, seen_s, count) in (
                await self._reported(record, ids, reports)
            ).items():
                lifecycle = stub_lifecycle(mapping)
                meta = mockado_metadata(mapping)
                meta["last_seen"] = max(float(lifecycle["last_seen"] or 0), seen_s)
                meta["capture_count"] = int(lifecycle["capture_count"] or 0) + count
                mapping["metadata"] = {**(mapping.get("metadata") or {}), "mockado": meta}
                stamped[mapping_id] = encode_mapping(mapping)
                index[mapping_id] = meta["last_seen"]
            if not stamped:
                return 0
            left_out = await shard.client.import_encoded(list(stamped.values()))
            # Old-format stubs that cannot be made faithful: retired (counted by the client).
            retired = [list(stamped)[at] for at in left_out]
            for mapping_id in retired:
                del stamped[mapping_id], index[mapping_id]
            async with self._redis.pipeline(transaction=True) as pipe:
                if stamped:
                    pipe.hset(record, mapping=stamped)
                    pipe.zadd(self._keys.seen_index(shard.name), index)
                if retired:
                    pipe.hdel(record, *retired)
                    pipe.zrem(self._keys.seen_index(shard.name), *retired)
                    release_claims(pipe, keys=self._keys, mapping_ids=retired)
                await pipe.execute()
            shard.known_ids.difference_update(retired)
        return len(stamped)

    async def _reported(
        self, record: str, ids: Sequence[str], reports: Reports
    ) -> dict[str, tuple[dict[str, Any], float, int]]:
        """The stubs of ``ids`` this shard's record holds -> (mapping, last repeat, repeats).
        Beside each stub computing an SQS send's MD5s, the stub answering its exact repeats
        (``stubs.exact_repeats_id``): a repeat is counted for the first stub only (the
        repeat fast path names one stub), and the second answers the same request, so its
        ``last_seen`` follows the first's; it would age out first otherwise."""
        seen, counts = reports
        found: dict[str, tuple[dict[str, Any], float, int]] = {}
        for mapping_id, raw in zip(ids, await self._redis.hmget(record, ids), strict=True):
            if raw is not None:  # else not this shard's, or expired meanwhile
                mapping = json.loads(as_text(raw))
                found[mapping_id] = (mapping, seen.get(mapping_id, 0.0), counts.get(mapping_id, 0))
        beside: dict[str, float] = {}
        for mapping, seen_s, _count in found.values():
            twin = exact_repeats_id(mapping)
            if twin is not None:
                beside[twin] = max(beside.get(twin, 0.0), seen_s)
        for twin, seen_s in beside.items():
            if twin in found:
                mapping, own_s, count = found[twin]
                found[twin] = (mapping, max(own_s, seen_s), count)
        unread = [twin for twin in beside if twin not in found]
        if unread:
            # Its own repeats (if reported) are added where its id is: only the time here.
            for twin, raw in zip(unread, await self._redis.hmget(record, unread), strict=True):
                if raw is not None:  # a send whose message was sanitized has none
                    found[twin] = (json.loads(as_text(raw)), beside[twin], 0)
        return found

    # -- expiry ----------------------------------------------------------------------

    async def expire(self) -> int:
        """Remove the stubs not seen for ``ttl_s`` from every shard. -> removed."""
        assert self._ttl_s is not None
        cutoff = self._clock() - self._ttl_s
        removed = 0
        for shard in self._shards.values():
            removed += await self._expire(shard, cutoff)
        return removed

    async def _expire(self, shard: Shard, cutoff: float) -> int:
        index = self._keys.seen_index(shard.name)
        removed = 0
        async with shard.lock:
            while True:
                raw = await self._redis.zrangebyscore(
                    index, "-inf", cutoff, start=0, num=self._batch_size
                )
                ids = [as_text(i) for i in raw]
                if not ids:
                    break
                for mapping_id in ids:
                    await shard.client.delete_mapping(mapping_id)
                async with self._redis.pipeline(transaction=True) as pipe:
                    pipe.hdel(self._keys.shard_record(shard.name), *ids)
                    pipe.zrem(index, *ids)
                    release_claims(pipe, keys=self._keys, mapping_ids=ids)
                    await pipe.execute()
                shard.known_ids.difference_update(ids)
                shard.set_count(max(0, shard.stub_count - len(ids)))
                removed += len(ids)
        if removed:
            LOADER_STUBS_EXPIRED.labels(shard=shard.name).inc(removed)
            log.info(
                "shard %s: removed %d stubs not seen for %ss", shard.name, removed, self._ttl_s
            )
        return removed
