"""This loader's side of the Redis Stream consumer group.

Reading (``XREADGROUP``), taking back its own pending items after a Redis error,
reclaiming the items of dead consumers (``XAUTOCLAIM``), acknowledging (``XACK`` +
``XDEL`` in one transaction), dead-lettering, handing items back to the group
(``XCLAIM ... IDLE``), heart-beating what it holds, and leaving the group. The ack
of landed items also writes them to their shard's record (``record.py`` reads it).
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import socket
import time
from collections.abc import Callable, Sequence
from typing import Any

from redis import asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from ext_proc_server.core.config import LoaderConfig
from ext_proc_server.core.metrics import (
    LOADER_DEAD_LETTER,
    LOADER_PROCESSED,
    LOADER_QUEUE_LAG,
    LOADER_QUEUE_LENGTH,
)
from ext_proc_server.core.queue_entries import FIELD_ENQUEUED_AT
from ext_proc_server.core.redis_client import make_redis
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader.claims import release_claims
from ext_proc_server.loader.entries import QueueItem, as_text, entry_time_s, parse_entry
from ext_proc_server.loader.held_claims import hold_dead_lettered

log = logging.getLogger(__name__)

# XREADGROUP BLOCK: also how quickly an idle loader notices a stop.
READ_BLOCK_MS = 1000
# Consumers with nothing pending and idle this long are removed from the group.
STALE_CONSUMER_IDLE_S = 3600.0


def connect_redis(config: LoaderConfig) -> aioredis.Redis:
    """The loader's Redis client."""
    return make_redis(
        config.redis_url,
        pool_size=8,
        # Above READ_BLOCK_MS, so a blocking read is never cut short.
        timeout_s=max(5.0, READ_BLOCK_MS / 1000 * 3),
        tls=config.redis_tls,
    )


# Between a consumer's name and the fingerprint of its routing.
ROUTING_MARK = "~"


def consumer_name(routing: str = "") -> str:
    """hostname-pid-random: unique per process, recognisable in XINFO CONSUMERS; then
    ``~`` and the fingerprint of the loader's routing (``Router.fingerprint``), so that
    replicas see whether another one routes differently (``moves``)."""
    name = f"{socket.gethostname()}-{os.getpid()}-{random.getrandbits(24):06x}"
    return f"{name}{ROUTING_MARK}{routing}" if routing else name


def consumer_routing(name: str) -> str | None:
    """The routing fingerprint a consumer's name carries (None: none, an older version)."""
    _, mark, routing = name.rpartition(ROUTING_MARK)
    return routing if mark and routing else None


class StreamConsumer:
    """One consumer of the loaders' group. Remembers the items it holds (read, not yet
    acknowledged or handed back) so it can keep them claimed and never take one twice."""

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        keys: RedisKeys,
        name: str,
        batch_size: int,
        claim_timeout_s: float,
    ) -> None:
        self.redis = redis
        self.keys = keys
        self.name = name
        self._batch_size = batch_size
        self._claim_timeout_s = claim_timeout_s
        self.claim_timeout_ms = max(1, int(claim_timeout_s * 1000))
        self._held: dict[str, QueueItem] = {}
        self._group_ready = False
        self._redis_down_since: float | None = None
        self._reclaim_cursor = "0-0"
        self._next_reclaim_at = 0.0
        self._next_heartbeat_at = 0.0
        # Set after a Redis error: where to resume reading this consumer's own pending items.
        self._own_cursor: str | None = None

    # -- joining, and losing Redis -------------------------------------------------------

    async def join(self) -> None:
        """Create the group if needed (MKSTREAM); log when Redis is back after an outage."""
        if not self._group_ready:
            try:
                await self.redis.xgroup_create(
                    self.keys.stream, self.keys.group, id="0", mkstream=True
                )
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise
            self._group_ready = True
        if self._redis_down_since is not None:
            log.info("redis back after %.1fs", time.monotonic() - self._redis_down_since)
            self._redis_down_since = None

    async def lost(self, exc: Exception) -> None:
        """After a Redis error: what was held stays pending in Redis (reclaimed after
        claim_timeout_s, so stop heart-beating it); the next read resumes this consumer's
        own pending items first, without waiting for claim_timeout_s."""
        self._group_ready = False
        self._held.clear()
        self._own_cursor = "-"
        # Pooled connections died with Redis.
        with contextlib.suppress(RedisError, OSError):
            await self.redis.connection_pool.disconnect()
        if self._redis_down_since is None:
            self._redis_down_since = time.monotonic()
            log.warning("redis unavailable (%s); retrying with backoff", type(exc).__name__)

    async def ping(self) -> bool:
        try:
            return bool(await self.redis.ping())
        except RedisError:
            return False

    # -- reading -----------------------------------------------------------------------

    async def fetch(self, *, block_ms: int | None = READ_BLOCK_MS) -> list[QueueItem]:
        """Up to batch_size items: own pending ones after a Redis error, else reclaimed ones
        (every few seconds), topped up with new ones. Blocks only when it has none."""
        items: list[QueueItem] = []
        now = time.monotonic()
        if self._own_cursor is not None:
            items = await self._recover_own()
        elif now >= self._next_reclaim_at:
            self._next_reclaim_at = now + min(self._claim_timeout_s / 2, 5.0)
            items = await self._reclaim()
        want = self._batch_size - len(items)
        if want > 0:
            try:
                reply = await self.redis.xreadgroup(
                    self.keys.group,
                    self.name,
                    {self.keys.stream: ">"},
                    count=want,
                    block=None if items or block_ms is None else block_ms,
                )
            except ResponseError as exc:
                if "NOGROUP" in str(exc):  # Redis lost its data: recreate the group
                    self._group_ready = False
                raise
            for _stream, entries in reply or []:
                for raw_id, fields in entries:
                    items.append(parse_entry(as_text(raw_id), fields, deliveries=1))
        for item in items:
            self._held[item.entry_id] = item
        return items

    async def _recover_own(self) -> list[QueueItem]:
        """This consumer's pending items (held when Redis failed), with their delivery counts
        unchanged: an outage of Redis uses no poison budget."""
        pending = await self.redis.xpending_range(
            self.keys.stream,
            self.keys.group,
            min=self._own_cursor or "-",
            max="+",
            count=self._batch_size,
            consumername=self.name,
        )
        if len(pending) < self._batch_size:
            self._own_cursor = None
        else:
            self._own_cursor = "(" + as_text(pending[-1]["message_id"])
        counts = {as_text(p["message_id"]): int(p["times_delivered"]) for p in pending}
        wanted = [entry_id for entry_id in counts if entry_id not in self._held]
        if not wanted:
            return []
        async with self.redis.pipeline(transaction=False) as pipe:
            for entry_id in wanted:
                pipe.xrange(self.keys.stream, min=entry_id, max=entry_id)
            replies = await pipe.execute()
        items, gone = [], []
        for entry_id, reply in zip(wanted, replies, strict=True):
            if reply:
                items.append(parse_entry(entry_id, reply[0][1], deliveries=counts[entry_id]))
            else:
                gone.append(entry_id)
        await self._forget_deleted(gone)
        return items

    async def _reclaim(self) -> list[QueueItem]:
        """XAUTOCLAIM entries idle longer than claim_timeout_s, with their delivery counts."""
        reply = await self.redis.xautoclaim(
            self.keys.stream,
            self.keys.group,
            self.name,
            min_idle_time=self.claim_timeout_ms,
            start_id=self._reclaim_cursor,
            count=self._batch_size,
        )
        self._reclaim_cursor = as_text(reply[0])
        entries = [(as_text(i), f) for i, f in reply[1] if i is not None]
        gone = [as_text(i) for i in (reply[2] if len(reply) > 2 else [])]
        # Redis 6.2 reports deleted entries with empty fields instead of in reply[2].
        gone += [i for i, f in entries if not f]
        await self._forget_deleted(gone)
        # Already in flight here (an import slower than claim_timeout_s): not twice.
        entries = [(i, f) for i, f in entries if f and i not in self._held]
        if not entries:
            return []
        # XAUTOCLAIM does not return delivery counts: one exact XPENDING per entry.
        async with self.redis.pipeline(transaction=False) as pipe:
            for entry_id, _fields in entries:
                pipe.xpending_range(
                    self.keys.stream, self.keys.group, min=entry_id, max=entry_id, count=1
                )
            replies = await pipe.execute()
        deliveries = {
            as_text(p["message_id"]): int(p["times_delivered"]) for reply in replies for p in reply
        }
        log.info("reclaimed %d items idle longer than %.0fs", len(entries), self._claim_timeout_s)
        return [parse_entry(i, f, deliveries=deliveries.get(i, 2)) for i, f in entries]

    async def _forget_deleted(self, entry_ids: list[str]) -> None:
        """Pending entries deleted from the stream meanwhile: nothing left to load."""
        if entry_ids:
            await self.redis.xack(self.keys.stream, self.keys.group, *entry_ids)

    # -- acknowledging, dead-lettering, handing back -------------------------------------

    async def ack(
        self,
        items: Sequence[QueueItem],
        *,
        landed_on: str | None = None,
        also: Callable[[Any], object] | None = None,
        retired: Sequence[QueueItem] = (),
    ) -> None:
        """XACK and XDEL in one transaction: acknowledged entries leave the stream.

        ``landed_on``: the shard whose WireMock accepted the items. The same transaction
        then writes them to its record (id -> the JSON imported; a replay replaces), so
        the record holds every acked stub and nothing WireMock refused. ``also(pipe)``
        queues more writes in that transaction (the stubs' lifecycle and drift).
        ``retired``: items acked too, but left out of the import (old stubs that cannot
        be made faithful): never recorded, their claims released (``claims``)."""
        ids = [i.entry_id for i in [*items, *retired]]
        if not ids:
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(self.keys.stream, self.keys.group, *ids)
            pipe.xdel(self.keys.stream, *ids)
            if landed_on is not None and items:
                # In batch order: of two items with one id, the later one is what WireMock kept.
                landed = {i.mapping_id: i.mapping_json() for i in items}
                pipe.hset(self.keys.shard_record(landed_on), mapping=landed)
            if retired:
                release_claims(pipe, keys=self.keys, mapping_ids=[i.mapping_id for i in retired])
            if also is not None:
                also(pipe)
            await pipe.execute()
        for entry_id in ids:
            self._held.pop(entry_id, None)

    async def dead_letter(
        self, item: QueueItem, *, error_type: str, reason: str, status_code: int | None = None
    ) -> None:
        """XADD to the dead-letter stream and ack, in one transaction: never lost, never twice."""
        now_s = time.time()
        entry: dict[str, str] = {
            "source_id": item.entry_id,
            "error_type": error_type,
            "reason": reason,
            "status_code": "" if status_code is None else str(status_code),
            "deliveries": str(item.deliveries),
            "host": item.host,
            "dead_lettered_at_s": f"{now_s:.3f}",
        }
        if item.mapping is not None:
            # The mapping was sanitized before it was queued; an undecodable entry's raw
            # fields are not kept: nothing proves they are clean.
            entry["mapping"] = item.mapping_json()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(self.keys.dead_letter, entry)
            if item.mapping is not None:
                # Its request is recorded again once the hold is over (held_claims).
                hold_dead_lettered(pipe, keys=self.keys, mapping_id=item.mapping_id, now_s=now_s)
            pipe.xack(self.keys.stream, self.keys.group, item.entry_id)
            pipe.xdel(self.keys.stream, item.entry_id)
            await pipe.execute()
        self._held.pop(item.entry_id, None)
        LOADER_PROCESSED.labels(status="dead_lettered").inc()
        log.warning(
            "dead-lettered one mapping to %r: %s after %d deliveries",
            self.keys.dead_letter, reason, item.deliveries,
        )  # fmt: skip

    async def release(self, items: Sequence[QueueItem], *, idle_ms: int) -> None:
        """Keep items pending but set their idle time, so XAUTOCLAIM takes them when it says."""
        ids = [i.entry_id for i in items]
        if ids:
            await self.redis.xclaim(
                self.keys.stream, self.keys.group, self.name, 0, ids, idle=idle_ms, justid=True
            )
        for entry_id in ids:
            self._held.pop(entry_id, None)

    async def give_back(self, items: Sequence[QueueItem]) -> None:
        """Items read but not imported: claimable by any replica right away (no delivery used)."""
        if items:
            await self.release(items, idle_ms=self.claim_timeout_ms)

    async def heartbeat(self) -> None:
        """Reset the idle time of held items so no live replica reclaims them from us."""
        now = time.monotonic()
        if now < self._next_heartbeat_at or not self._held:
            return
        self._next_heartbeat_at = now + self._claim_timeout_s / 3
        with contextlib.suppress(RedisError):
            await self.redis.xclaim(
                self.keys.stream, self.keys.group, self.name, 0, list(self._held), justid=True
            )

    # -- the group's upkeep --------------------------------------------------------------

    async def update_queue_metrics(self) -> dict[str, float]:
        """Queue length, dead-letter length and lag (acked entries are deleted, so the
        stream's first entry is the oldest one not yet acknowledged)."""
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.xlen(self.keys.stream)
            pipe.xlen(self.keys.dead_letter)
            pipe.xrange(self.keys.stream, count=1)
            length, dead, first = await pipe.execute()
        lag = 0.0
        if first:
            entry_id, fields = first[0]
            raw = fields.get(FIELD_ENQUEUED_AT.encode()) or fields.get(FIELD_ENQUEUED_AT)
            try:
                enqueued = float(as_text(raw)) if raw else entry_time_s(as_text(entry_id))
            except ValueError:
                enqueued = entry_time_s(as_text(entry_id))
            lag = max(0.0, time.time() - enqueued)
        LOADER_QUEUE_LENGTH.set(length)
        LOADER_DEAD_LETTER.set(dead)
        LOADER_QUEUE_LAG.set(lag)
        return {"length": length, "dead_letter": dead, "lag_s": lag}

    async def remove_stale_consumers(self) -> None:
        """Each restart adds a consumer name; drop old ones that hold nothing."""
        with contextlib.suppress(RedisError):
            for info in await self.redis.xinfo_consumers(self.keys.stream, self.keys.group):
                name = as_text(info["name"])
                if (
                    name != self.name
                    and info["pending"] == 0
                    and info["idle"] > STALE_CONSUMER_IDLE_S * 1000
                ):
                    await self.redis.xgroup_delconsumer(self.keys.stream, self.keys.group, name)

    async def leave_group(self) -> None:
        """On a clean stop, drop this consumer if it holds nothing (else it waits for reclaim)."""
        with contextlib.suppress(RedisError):
            mine = await self.redis.xpending_range(
                self.keys.stream,
                self.keys.group,
                min="-",
                max="+",
                count=1,
                consumername=self.name,
            )
            if not mine:
                await self.redis.xgroup_delconsumer(self.keys.stream, self.keys.group, self.name)

    async def aclose(self) -> None:
        await self.redis.aclose()
