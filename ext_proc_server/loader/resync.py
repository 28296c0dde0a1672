"""Putting back what a WireMock shard lost: its stubs live in memory, so a restart
empties it.

Every ``resync_check_interval_s`` each shard gets two cheap checks, whatever its
size: its catch-all, the stub with a known id the loader always installs, is asked
for by id (``GET /__admin/mappings/{id}``): without it the WireMock is new (restarted
empty, or reset). Then its stub count (``meta.total``) is compared with its record's
size (``HLEN``): fewer stubs than recorded means some were lost.

Either way the shard is reloaded from its record (``record.py``): the catch-all
first, then every recorded mapping, in batches through the same import as the queue
(OVERWRITE, so a stub still there is only replaced by itself). The reload holds the
shard's own lock, so this loader's imports to that shard wait for it, and a short
Redis lock per shard, so of several replicas that notice at once one reloads and the
others carry on. A mapping WireMock refuses on reload (not one it accepted before,
unless WireMock changed) leaves the record, counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import logging
import time

from redis.asyncio.lock import Lock
from redis.exceptions import LockError, RedisError

from ext_proc_server.core.errors import WireMockError
from ext_proc_server.core.metrics import (
    LOADER_ERRORS,
    LOADER_RECORD_SIZE,
    LOADER_RESYNC_DURATION,
    LOADER_RESYNC_STUBS,
    LOADER_RESYNCS,
)
from ext_proc_server.loader.record import ShardRecord
from ext_proc_server.loader.shards import Shard
from ext_proc_server.loader.wiremock_client import import_isolating

log = logging.getLogger(__name__)

# The reload lock's TTL is renewed after every batch; a batch takes at most a few
# WireMock timeouts, so a replica that died mid-reload frees the shard after this long.
MIN_LOCK_TTL_S = 30.0


def reload_lock_ttl_s(wiremock_timeout_s: float) -> float:
    return max(MIN_LOCK_TTL_S, 3 * wiremock_timeout_s)


class ReloadCut(Exception):
    """A reload stopped early: the loader is stopping, or another replica took over."""


class Holding(enum.Enum):
    """What one check found, and did, about a shard."""

    WHOLE = "whole"  # it holds its record and its fallbacks
    RELOADED = "reloaded"  # it had lost stubs, and this check put them back
    EMPTIED = "emptied"  # a new WireMock (no catch-all), not reloaded by this check
    SHORT = "short"  # it lost some stubs, not put back by this check
    DOWN = "down"  # WireMock did not answer (or refused the credentials)
    UNKNOWN = "unknown"  # Redis did not answer: the record could not be read


class ShardResync:
    """Watches every shard (``await run()`` until ``stop``) and reloads the ones that
    lost stubs. ``check(shard)`` is one round for one shard."""

    def __init__(
        self,
        *,
        shards: dict[str, Shard],
        record: ShardRecord,
        interval_s: float,
        batch_size: int,
        stop: asyncio.Event,
    ) -> None:
        self._shards = shards
        self._record = record
        self._interval_s = interval_s
        self._batch_size = batch_size
        self._stop = stop

    async def run(self) -> None:
        """One watcher per shard: a slow or hung WireMock delays only its own checks."""
        await asyncio.gather(*(self._watch(shard) for shard in self._shards.values()))

    async def _watch(self, shard: Shard) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self._interval_s)
                return
            await self.check(shard)

    async def check(self, shard: Shard) -> bool:
        """Reload the shard if it lost stubs. -> True when this call reloaded it."""
        return await self.holding(shard) is Holding.RELOADED

    async def holding(self, shard: Shard) -> Holding:
        """One check of the shard, reloading it if it lost stubs. -> what it found."""
        try:
            lost = await self._lost(shard)
            shard.mark_up()
            if lost is None:
                return Holding.WHOLE
            reason, emptied = lost
            if await self._reload(shard, reason=reason):
                return Holding.RELOADED
            return Holding.EMPTIED if emptied else Holding.SHORT
        except WireMockError as exc:
            # Counted and logged once per outage; the next round checks again.
            shard.mark_down(exc)
            return Holding.DOWN
        except RedisError as exc:
            # The pump logs Redis outages; the next round checks again.
            log.debug("shard %s: resync check skipped (%s)", shard.name, type(exc).__name__)
            return Holding.UNKNOWN

    async def _lost(self, shard: Shard) -> tuple[str, bool] | None:
        """-> (what the shard lost, counts only; whether it is a new WireMock), or None
        when it holds its record."""
        # The record first: an item is recorded only after it landed, so a count read
        # after it includes every recorded stub WireMock still holds.
        recorded = await self._record.size(shard.name)
        LOADER_RECORD_SIZE.labels(shard=shard.name).set(recorded)
        if shard.catch_all is not None and not await shard.client.has_mapping(
            shard.catch_all["id"]
        ):
            return f"a new wiremock (no catch-all), {recorded} stubs recorded", True
        recorded += len(shard.fallbacks)
        held = await shard.client.count_stubs()
        if held < recorded:
            return f"holds {held} of {recorded} stubs", False
        return None

    async def _reload(self, shard: Shard, *, reason: str) -> bool:
        started = time.perf_counter()
        async with shard.lock:
            lock = self._record.reload_lock(shard.name)
            if not await lock.acquire():
                return False  # another replica is reloading this shard
            try:
                reloaded, refused = await self._put_back(shard, lock)
            except ReloadCut:
                return False
            finally:
                with contextlib.suppress(LockError, RedisError):
                    await lock.release()
            shard.set_count(await shard.client.count_stubs())
        elapsed = time.perf_counter() - started
        LOADER_RESYNCS.labels(shard=shard.name).inc()
        LOADER_RESYNC_STUBS.labels(shard=shard.name).inc(reloaded)
        LOADER_RESYNC_DURATION.labels(shard=shard.name).set(elapsed)
        log.warning(
            "shard %s resynced (%s): reloaded %d stubs from its record in %.2fs, "
            "%d refused by wiremock and dropped from the record",
            shard.name, reason, reloaded, elapsed, refused,
        )  # fmt: skip
        return True

    async def _put_back(self, shard: Shard, lock: Lock) -> tuple[int, int]:
        """The fallbacks (catch-all, pass-throughs), then the record batch by batch.
        -> (reloaded, refused)."""
        if shard.fallbacks:
            await shard.client.import_mappings(shard.fallbacks)
            shard.known_ids.update(m["id"] for m in shard.fallbacks)

        retired: list[str] = []

        async def send(chunk: list[tuple[str, str]]) -> None:
            left_out = await shard.client.import_encoded(
                [mapping_json for _, mapping_json in chunk]
            )
            retired.extend(chunk[at][0] for at in left_out)  # old stubs, counted by the client

        reloaded = 0
        refused: list[str] = []
        async for chunk in self._record.chunks(shard.name, size=self._batch_size):
            if self._stop.is_set():
                raise ReloadCut
            bad = [mapping_id for mapping_id, _ in await import_isolating([chunk], send)]
            refused += bad
            reloaded += len(chunk) - len(bad)
            shard.known_ids.update(mapping_id for mapping_id, _ in chunk)
            shard.known_ids.difference_update(bad)
            try:
                await lock.reacquire()
            except LockError as exc:
                raise ReloadCut from exc  # held too long: another replica may be at it
        if refused:
            LOADER_ERRORS.labels(error_type="wiremock_rejected", shard=shard.name).inc(len(refused))
            await self._record.remove(shard.name, refused)
        if retired:
            # Not faithful: out of the record too, or every check would reload the shard.
            shard.known_ids.difference_update(retired)
            await self._record.remove(shard.name, retired)
        return reloaded, len(refused)
