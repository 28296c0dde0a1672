"""Stubs follow their host to the shard the routing names now.

A change of ``loader.shards`` (a new shard group, a host moved between groups) leaves
a host's stubs in the record and the WireMock of the shard that used to get its
requests, and the new shard misses them. The loader moves them at start, then checks
again every ``MOVE_CHECK_INTERVAL_S``: each shard's record, and the record of every
shard the config no longer names, is read; a stub is routed by the host it was
captured for (``metadata.mockado.host``: a stub without one stays), and the ones that
belong elsewhere now move, in batches of ``redis_batch_size``:

1. imported into their new shard's WireMock (OVERWRITE: a repeat is harmless), unless
   the new shard recorded the stub meanwhile (a newer capture, kept as it is);
2. in one transaction, written to the new shard's record and seen index and dropped
   from the old shard's: the stub still exists, so its claims stay;
3. deleted from the old shard's WireMock.

A stub is in one record at every moment, so nothing is lost: while the new shard does
not answer, the stubs stay where they are and checks come every
``MOVE_RETRY_INTERVAL_S`` until they have moved. A stub the
old WireMock could not delete is one no route sends its host to any more, and a
restarted old WireMock does not get it back (its record no longer holds it). An old
stub that cannot be made faithful is retired on the way (left out of the import, its
claims released). Both shards' locks are held over a batch, and the old shard's reload
lock, so no reload or expiry of the old shard interleaves with a move. A new shard not
seeded yet (the first check runs beside the pump's start) is seeded first, under its lock:
its catch-all before any moved stub. Moved stubs count against the new shard's
``max_stubs``, its fallbacks included: those that do not fit wait where they are (counted)
until it has room, and are tried again at the next check.

A stub already checked is not read again, and once every loader of the group routes alike
(each consumer name carries its routing's fingerprint: ``stream.consumer_name``) no record
is read at all: only a replica of another routing (a rollout) records stubs on the wrong
shard, so records are read while one is in the group, and once more after it left.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Sequence

from redis import asyncio as aioredis
from redis.exceptions import LockError, RedisError, ResponseError

from ext_proc_server.core.errors import WireMockError
from ext_proc_server.core.metrics import LOADER_MOVES_WAITING, LOADER_STUBS_MOVED
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader.claims import release_claims
from ext_proc_server.loader.drift import mockado_metadata
from ext_proc_server.loader.entries import as_text
from ext_proc_server.loader.record import ShardRecord
from ext_proc_server.loader.routing import Router
from ext_proc_server.loader.shards import Shard
from ext_proc_server.loader.stream import consumer_routing

log = logging.getLogger(__name__)

# A config change needs a restart; a later check catches what a replica still running
# the old routing recorded on the old shard meanwhile (a rollout).
MOVE_CHECK_INTERVAL_S = 30.0
# While stubs wait for their new shard (its WireMock does not answer yet, a new pod
# starting), or for another replica's reload of the old one, they are tried this often.
MOVE_RETRY_INTERVAL_S = 2.0


def stub_host(mapping_json: str) -> str | None:
    """The canonical host a recorded stub was captured for (None: not known)."""
    try:
        mapping = json.loads(mapping_json)
    except ValueError:
        return None
    host = mockado_metadata(mapping).get("host") if isinstance(mapping, dict) else None
    return host if isinstance(host, str) and host else None


async def recorded_shards(redis: aioredis.Redis, keys: RedisKeys) -> list[str]:
    """Every shard with a record in Redis, named by the config or not (a ``SCAN``)."""
    prefix = keys.shard_record("")
    found: set[str] = set()
    async for raw in redis.scan_iter(match=f"{prefix}*", count=1000):
        name = as_text(raw)[len(prefix) :]
        if name and ":" not in name:
            found.add(name)
    return sorted(found)


async def stubs_routed_to(
    shard: str, *, redis: aioredis.Redis, keys: RedisKeys, record: ShardRecord, router: Router,
    batch_size: int,
) -> AsyncIterator[list[str]]:  # fmt: skip
    """The JSON of the stubs other shards' records hold that the routing sends to
    ``shard`` (a new shard's, before a loader moved them), in chunks of about
    ``batch_size``: every other record is read once."""
    for name in await recorded_shards(redis, keys):
        if name == shard:
            continue
        async for chunk in record.chunks(name, size=batch_size):
            found = [
                mapping_json
                for _, mapping_json in chunk
                if (host := stub_host(mapping_json)) is not None and router.shard_for(host) == shard
            ]
            if found:
                yield found


class ShardMoves:
    """``await run()`` until ``stop``; ``await move_all()`` is one check of every record.
    -> stubs moved. ``consumer``: this loader's name in the consumer group."""

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        router: Router,
        record: ShardRecord,
        shards: dict[str, Shard],
        keys: RedisKeys,
        batch_size: int,
        stop: asyncio.Event,
        consumer: str,
        max_stubs: int,
        interval_s: float = MOVE_CHECK_INTERVAL_S,
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._shards = shards
        self._router = router
        self._record = record
        self._batch_size = batch_size
        self._stop = stop
        self._consumer = consumer
        self._max_stubs = max_stubs
        self._interval_s = interval_s
        # Per recorded shard, the ids checked and staying (the routing does not change
        # while the loader runs, and a stub's id follows its request, host included).
        self._staying: dict[str, set[str]] = {}
        # Per recorded shard, the ids checked and leaving but not moved yet -> their shard.
        self._leaving: dict[str, dict[str, str]] = {}
        # Records of shards the config no longer names: looked for once, at the first check.
        self._orphans: list[str] | None = None
        # Stubs left to move by the last check (their new shard did not answer...).
        self._waiting = False
        # Whether the last check saw a replica routing otherwise (or of unknown routing).
        self._others_seen = True
        # Per shard, stubs routed to it that wait in another record for room.
        self._over_budget: dict[str, int] = {}

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.move_all()
            except (RedisError, WireMockError) as exc:
                # The pump and resync report outages; the next round tries again.
                log.debug("stub moves skipped (%s)", type(exc).__name__)
                self._waiting = True
            wait_s = MOVE_RETRY_INTERVAL_S if self._waiting else self._interval_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=min(wait_s, self._interval_s))

    async def move_all(self) -> int:
        """Move every recorded stub whose host is routed to another shard. -> moved."""
        first = self._orphans is None
        if self._orphans is None:
            self._orphans = await self._unnamed_records()
        # Once every replica routes alike, only this loader's own routing wrote the records
        # since the last read: no need to read them again (a replica of another routing,
        # or of a version that does not say, has them read at every check, and once more
        # after it left).
        others = await self._others_route_otherwise()
        read = first or others or self._others_seen
        self._others_seen = others
        self._waiting = False
        self._over_budget = {}
        moved = 0
        for name in [*self._shards, *self._orphans]:
            moved += await self._move_from(name, read=read)
        if self._orphans:
            # A record emptied by its moves is gone from Redis.
            held = [name for name in self._orphans if await self._record.size(name)]
            self._orphans = held
        for name in self._shards:
            over = self._over_budget.get(name, 0)
            LOADER_MOVES_WAITING.labels(shard=name).set(over)
            if over:
                log.warning(
                    "shard %s is at max_stubs=%d: %d stubs routed to it wait in the record "
                    "of the shard they were on until it has room", name, self._max_stubs, over,
                )  # fmt: skip
        return moved

    async def _others_route_otherwise(self) -> bool:
        """Whether a loader of the group routes otherwise, or does not say (XINFO CONSUMERS:
        a few hundred bytes, whatever the records hold)."""
        try:
            consumers = await self._redis.xinfo_consumers(self._keys.stream, self._keys.group)
        except ResponseError:
            return True  # no group yet: nothing known of the others
        mine = self._router.fingerprint
        return any(
            consumer_routing(as_text(info["name"])) != mine
            for info in consumers
            if as_text(info["name"]) != self._consumer
        )

    async def _unnamed_records(self) -> list[str]:
        """Shards with a record that the config does not name (renamed or dropped)."""
        names = await recorded_shards(self._redis, self._keys)
        return [name for name in names if name not in self._shards]

    async def _move_from(self, name: str, *, read: bool) -> int:
        """Move the stubs of shard ``name``'s record that are routed elsewhere; ``read``:
        read the entries recorded since the last read first. -> moved."""
        staying = self._staying.setdefault(name, set())
        leaving = self._leaving.setdefault(name, {})
        if read:
            async for mapping_id, mapping_json in self._unchecked(name, staying, leaving):
                host = stub_host(mapping_json)
                target = self._router.shard_for(host) if host is not None else name
                if target == name or target not in self._shards:
                    staying.add(mapping_id)
                else:
                    leaving[mapping_id] = target
        by_target: dict[str, list[str]] = {}
        for mapping_id, target in leaving.items():
            by_target.setdefault(target, []).append(mapping_id)
        moved = 0
        for target, stubs in by_target.items():
            try:
                done = await self._move(name, self._shards[target], stubs)
            except WireMockError as exc:
                # The new shard does not answer: the stubs stay, the next check moves them.
                self._shards[target].mark_down(exc)
                self._waiting = True
                continue
            moved += len(done)
            for mapping_id in done:
                leaving.pop(mapping_id, None)
        if moved:
            log.warning(
                "shard %s: moved %d stubs to the shards their hosts are routed to now",
                name, moved,
            )  # fmt: skip
        return moved

    async def _unchecked(
        self, name: str, staying: set[str], leaving: dict[str, str]
    ) -> AsyncIterator[tuple[str, str]]:
        """The record's entries not already checked: ids first (HKEYS), then the new
        entries' JSON (HMGET), so a later check reads only what was recorded since."""
        key = self._keys.shard_record(name)
        ids = [as_text(raw) for raw in await self._redis.hkeys(key)]
        staying.intersection_update(ids)
        present = set(ids)
        for gone in [mapping_id for mapping_id in leaving if mapping_id not in present]:
            del leaving[gone]
        fresh = [i for i in ids if i not in staying and i not in leaving]
        for start in range(0, len(fresh), self._batch_size):
            chunk = fresh[start : start + self._batch_size]
            for mapping_id, raw in zip(chunk, await self._redis.hmget(key, chunk), strict=True):
                if raw is not None:  # removed meanwhile
                    yield mapping_id, as_text(raw)

    async def _move(self, name: str, target: Shard, stubs: Sequence[str]) -> set[str]:
        """Stubs of ``name``'s record into ``target``, batch by batch, under the old
        shard's reload lock. -> the ids done with (none while another replica reloads the
        old shard; not those waiting for room on ``target``)."""
        lock = self._record.reload_lock(name)
        if not await lock.acquire():
            self._waiting = True
            return set()  # the next check moves them
        done: set[str] = set()
        try:
            for start in range(0, len(stubs), self._batch_size):
                if self._stop.is_set():
                    break
                batch = stubs[start : start + self._batch_size]
                done |= await self._move_batch(name, target, batch)
                await lock.reacquire()
        except LockError:
            self._waiting = True  # held too long: the next check carries on
        finally:
            with contextlib.suppress(LockError, RedisError):
                await lock.release()
        return done

    async def _move_batch(self, name: str, target: Shard, ids: Sequence[str]) -> set[str]:
        """-> the ids done with: moved, retired, or gone from the old record meanwhile."""
        source = self._shards.get(name)
        async with contextlib.AsyncExitStack() as held:
            if source is not None:
                await held.enter_async_context(source.lock)
            await held.enter_async_context(target.lock)
            if not target.seeded:
                # A check can come before the pump seeded the shard: its fallbacks go in
                # first, so no moved stub is served without its catch-all beside it, and
                # the budget counts them as it does on every other path.
                await target.seed()
            stubs, newer = await self._still_to_move(name, target.name, ids)
            gone = set(ids) - set(stubs) - set(newer)
            stubs = await self._fitting(target, stubs)
            left_out: set[int] = set()
            if stubs:
                left_out = set(await target.client.import_encoded(list(stubs.values())))
                target.mark_up()
            retired = [mapping_id for at, mapping_id in enumerate(stubs) if at in left_out]
            kept = {k: v for k, v in stubs.items() if k not in retired}
            leaving = [*stubs, *newer]
            await self._commit(name, target.name, leaving, kept, retired)
            added = [mapping_id for mapping_id in kept if mapping_id not in target.known_ids]
            target.known_ids.update(kept)
            target.set_count(target.stub_count + len(added))
            if source is not None:
                await self._delete(source, leaving)
        moved = len(kept) + len(newer)
        LOADER_STUBS_MOVED.labels(shard=target.name).inc(moved)
        return {*leaving, *gone}

    async def _fitting(self, target: Shard, stubs: dict[str, str]) -> dict[str, str]:
        """The stubs ``target``'s budget (``max_stubs``) has room for, in order; a stub its
        WireMock holds already takes none. The others stay where they are and are
        counted (they move once the shard has room: refusing them would lose them)."""
        new = [mapping_id for mapping_id in stubs if mapping_id not in target.known_ids]
        if not new:
            return stubs
        target.set_count(await target.client.count_stubs())
        room = max(0, self._max_stubs - target.stub_count)
        over = set(new[room:])
        if over:
            self._over_budget[target.name] = self._over_budget.get(target.name, 0) + len(over)
        return {k: v for k, v in stubs.items() if k not in over}

    async def _still_to_move(
        self, name: str, target: str, ids: Sequence[str]
    ) -> tuple[dict[str, str], list[str]]:
        """Read again under the locks. -> (id -> the old record's JSON, for the stubs to
        import; ids the new shard recorded meanwhile, a newer capture: only dropped from
        the old shard). A stub gone from the old record meanwhile (expired) is neither."""
        old = await self._redis.hmget(self._keys.shard_record(name), list(ids))
        new = await self._redis.hmget(self._keys.shard_record(target), list(ids))
        stubs: dict[str, str] = {}
        newer: list[str] = []
        for mapping_id, was, now in zip(ids, old, new, strict=True):
            if was is None:
                continue
            if now is None:
                stubs[mapping_id] = as_text(was)
            else:
                newer.append(mapping_id)
        return stubs, newer

    async def _commit(
        self, name: str, target: str, ids: list[str], kept: dict[str, str], retired: list[str]
    ) -> None:
        """Out of the old record and seen index, into the new ones, in one transaction."""
        if not ids:
            return
        old_index = self._keys.seen_index(name)
        scores = await self._redis.zmscore(old_index, ids)
        seen = {
            mapping_id: float(score)
            for mapping_id, score in zip(ids, scores, strict=True)
            if score is not None and mapping_id in kept
        }
        async with self._redis.pipeline(transaction=True) as pipe:
            if kept:
                pipe.hset(self._keys.shard_record(target), mapping=kept)
            if seen:
                pipe.zadd(self._keys.seen_index(target), seen)
            pipe.hdel(self._keys.shard_record(name), *ids)
            pipe.zrem(old_index, *ids)
            release_claims(pipe, keys=self._keys, mapping_ids=retired)
            await pipe.execute()

    async def _delete(self, source: Shard, ids: Sequence[str]) -> None:
        """Out of the old WireMock; one that does not answer keeps them, unrouted."""
        try:
            for mapping_id in ids:
                await source.client.delete_mapping(mapping_id)
        except WireMockError as exc:
            log.warning(
                "shard %s: moved stubs not deleted from its wiremock (%s); no route sends "
                "their hosts there and its record no longer holds them",
                source.name, type(exc).__name__,
            )  # fmt: skip
            return
        source.known_ids.difference_update(ids)
        source.set_count(max(0, source.stub_count - len(ids)))
