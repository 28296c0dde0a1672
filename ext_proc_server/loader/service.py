"""The loader: moves queued mappings from the Redis Stream into WireMock, at least once.

How an item travels:

* ``XREADGROUP`` hands it to this consumer (several replicas share one group); the
  next batch is read while the current one is imported (``stream``).
* It is routed to a shard by its host (``routing``) and queued in that shard's
  bounded backlog, where the shard's own worker takes it (``workers``).
* It is checked against the shard's stub budget (``budget``) and imported in batches
  (``/__admin/mappings/import``, OVERWRITE: mapping ids are deterministic, so a replay
  is harmless); only what WireMock accepted is acknowledged (``loading``).
* The ack also writes it to its shard's record in Redis (``record``), from which a
  WireMock that restarted empty is reloaded within seconds (``resync``).
* Items of a loader that died are reclaimed by ``XAUTOCLAIM`` after ``claim_timeout_s``.
* SIGTERM: the in-flight import finishes (bounded by ``wiremock_timeout``) and is acked;
  items read but not imported are handed back at once (``XCLAIM ... IDLE``) so another
  replica takes them without waiting for ``claim_timeout_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from ext_proc_server.core.config import MockadoConfig
from ext_proc_server.core.errors import QueueError, WireMockError
from ext_proc_server.core.metrics import LOADER_ERRORS, NO_SHARD
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.core.tasks import cancel_and_wait, run_until_stopped, stop_on_signals
from ext_proc_server.loader.aging import StubAging
from ext_proc_server.loader.app import serve_app, unmatched_route
from ext_proc_server.loader.backup import BackupSchedule
from ext_proc_server.loader.budget import StubBudget
from ext_proc_server.loader.console_data import console_routes
from ext_proc_server.loader.entries import QueueItem
from ext_proc_server.loader.held_claims import HeldClaims
from ext_proc_server.loader.housekeeping import Housekeeping
from ext_proc_server.loader.lifecycle import StubLifecycle
from ext_proc_server.loader.loading import BatchLoader
from ext_proc_server.loader.miss_report import build_miss_recorder
from ext_proc_server.loader.moves import ShardMoves
from ext_proc_server.loader.record import ShardRecord
from ext_proc_server.loader.resync import ShardResync, reload_lock_ttl_s
from ext_proc_server.loader.retry import Retry
from ext_proc_server.loader.routing import Router, shard_urls
from ext_proc_server.loader.shards import build_shards
from ext_proc_server.loader.stream import StreamConsumer, connect_redis, consumer_name
from ext_proc_server.loader.wiremock_client import WireMockClient
from ext_proc_server.loader.workers import ShardWorkers
from ext_proc_server.mapping.noise import NoiseNormalizer

log = logging.getLogger(__name__)
# How long shutdown waits for a cancelled background task (relay, resync, moves, aging,
# backups, misses) before going on without it.
TASK_STOP_TIMEOUT_S = 5.0


class Loader:
    """Consume the queue into WireMock. ``await run(stop)``; ``await aclose()`` after.

    ``redis``, ``clients`` (by shard name) and ``consumer`` (the consumer name) replace
    what the config would build, e.g. to run against in-process fakes."""

    # Long because it wires every part of the loader in one visible list.
    def __init__(
        self,
        config: MockadoConfig,
        *,
        redis: aioredis.Redis | None = None,
        clients: dict[str, WireMockClient] | None = None,
        consumer: str | None = None,
    ) -> None:
        cfg = config.loader
        self.config = config
        # The one stop every part that waits watches; set by run()'s stop or by stop().
        self._stopping = asyncio.Event()
        urls, routes = shard_urls(config)
        self.router = Router(routes)
        # The parts, each handed the parts it works with.
        self.stream = StreamConsumer(
            redis or connect_redis(cfg),
            keys=RedisKeys(queue=cfg.redis_queue),
            name=consumer or consumer_name(self.router.fingerprint),
            batch_size=cfg.redis_batch_size,
            claim_timeout_s=cfg.claim_timeout_s,
        )
        record = ShardRecord(
            self.stream.redis,
            keys=self.stream.keys,
            lock_ttl_s=reload_lock_ttl_s(cfg.wiremock_timeout),
        )
        self.shards = build_shards(config, urls, clients or {}, self.router, forget=record.remove)
        self.retry = Retry(
            stop=self._stopping,
            stream=self.stream,
            base_s=cfg.retry_backoff,
            max_s=cfg.retry_max_delay,
        )
        self.budget = StubBudget(max_stubs=cfg.max_stubs, stream=self.stream, retry=self.retry)
        self.batches = BatchLoader(
            shards=self.shards,
            router=self.router,
            stream=self.stream,
            budget=self.budget,
            retry=self.retry,
            retry_attempts=cfg.retry_attempts,
            lifecycle=StubLifecycle(
                self.stream.redis,
                keys=self.stream.keys,
                normalizer=NoiseNormalizer(config.collector),
                namespaces=config.control_plane.namespaces.keys(),
            ),
        )
        self.workers = ShardWorkers(
            shards=self.shards,
            router=self.router,
            batches=self.batches,
            stream=self.stream,
            stop=self._stopping,
            backlog_items=cfg.shard_backlog_items,
            batch_size=cfg.redis_batch_size,
        )
        self.housekeeping = Housekeeping(stream=self.stream)
        self.resync = ShardResync(
            shards=self.shards,
            record=record,
            interval_s=cfg.resync_check_interval_s,
            batch_size=cfg.redis_batch_size,
            stop=self._stopping,
        )
        # Stubs whose host the routing now sends to another shard move there.
        self.moves = ShardMoves(
            self.stream.redis, keys=self.stream.keys, shards=self.shards, router=self.router,
            record=record, batch_size=cfg.redis_batch_size, stop=self._stopping,
            consumer=self.stream.name, max_stubs=cfg.max_stubs,
        )  # fmt: skip
        # Claims of refused and dead-lettered requests, let go when they can land.
        self.held_claims = HeldClaims(
            self.stream.redis, keys=self.stream.keys, shards=self.shards,
            max_stubs=cfg.max_stubs, stop=self._stopping,
        )  # fmt: skip
        self.aging = StubAging(
            self.stream.redis,
            keys=self.stream.keys,
            shards=self.shards,
            ttl_s=cfg.stub_ttl_s,
            interval_s=cfg.stub_refresh_interval_s,
            batch_size=cfg.redis_batch_size,
            stop=self._stopping,
        )
        self.backups = (
            BackupSchedule(
                {name: shard.client for name, shard in self.shards.items()},
                backup_path=cfg.backup_path,
                keep=cfg.backup_keep,
                interval_s=cfg.backup_interval,
            )
            if cfg.backup_enabled
            else None
        )
        # The miss report (None when loader.max_misses is 0): fed by the /unmatched webhook.
        self.misses = build_miss_recorder(
            config, redis=self.stream.redis, keys=self.stream.keys, record=record,
            router=self.router,
        )  # fmt: skip
        # The read-only web console's pages (served by the app beside /unmatched).
        self.console_routes = console_routes(
            config, redis=self.stream.redis, keys=self.stream.keys, record=record,
            clients={name: shard.client for name, shard in self.shards.items()},
        )  # fmt: skip

    # -- lifecycle -----------------------------------------------------------------------

    def describe(self) -> str:
        shards = ", ".join(f"{s.name}={s.client.display_url}" for s in self.shards.values())
        keys = self.stream.keys
        return (
            f"queue {keys.stream!r}, group {keys.group!r}, consumer {self.stream.name!r}, "
            f"wiremock {shards}"
        )

    async def ready_check(self) -> dict[str, bool]:
        checks = {"redis": await self.stream.ping()}
        for shard in self.shards.values():
            checks[f"wiremock_{shard.name}"] = await shard.client.health()
        return checks

    async def aclose(self) -> None:
        for shard in self.shards.values():
            await shard.client.aclose()
        await self.stream.aclose()

    def stop(self) -> None:
        """Like setting run()'s ``stop``: the in-flight import finishes, the rest goes back."""
        self._stopping.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set, then finish the in-flight batch and return."""
        log.info("loader started: %s", self.describe())
        relay = asyncio.create_task(self._stop_on(stop))
        resync = asyncio.create_task(self.resync.run())
        moves = asyncio.create_task(self.moves.run())
        aging = asyncio.create_task(self.aging.run())
        held = asyncio.create_task(self.held_claims.run())
        backups = asyncio.create_task(self.backups.run(self._stopping)) if self.backups else None
        misses = asyncio.create_task(self.misses.run(self._stopping)) if self.misses else None
        try:
            await self._consume()
        finally:
            stuck = await cancel_and_wait(
                (relay, resync, moves, aging, held, backups, misses), timeout_s=TASK_STOP_TIMEOUT_S
            )
            if stuck:
                log.warning("shutdown: %d background tasks did not stop", len(stuck))
        if self.backups is not None:
            await self.backups.write(reason="shutdown")
        await self.stream.leave_group()
        log.info("loader stopped")

    async def drain_once(self) -> int:
        """One read (reclaim first) and its processing, without blocking. -> items handled."""
        await self._prepare()
        items = await self.stream.fetch(block_ms=None)
        await self.batches.load_batch(items)
        return len(items)

    # -- the pump ------------------------------------------------------------------------

    async def _stop_on(self, stop: asyncio.Event) -> None:
        await stop.wait()
        self.stop()

    async def _consume(self) -> None:
        """Pump until stopped; a Redis outage is logged once and waited out, forever."""
        redis_attempt = 0
        while not self._stopping.is_set():
            try:
                await self._pump()
                redis_attempt = 0
            except (RedisError, QueueError) as exc:
                LOADER_ERRORS.labels(error_type="redis_error", shard=NO_SHARD).inc()
                await self.stream.lost(exc)
                await self.retry.pause(redis_attempt)
                redis_attempt += 1

    async def _prepare(self) -> None:
        await self.stream.join()
        for shard in self.shards.values():
            if shard.seeded:
                continue
            # Under the shard's lock: a move may seed it and import into it meanwhile, and
            # a listing read before that would forget what it added.
            async with shard.lock:
                try:
                    if not shard.seeded:
                        await shard.seed()
                except WireMockError as exc:
                    # Not fatal: the first import to this shard waits for it.
                    shard.mark_down(exc)

    async def _pump(self) -> None:
        await self._prepare()
        self.workers.start()
        graceful = False
        fetch: asyncio.Task[list[QueueItem]] | None = asyncio.create_task(self.stream.fetch())
        try:
            while True:
                assert fetch is not None
                items = await fetch
                fetch = None
                self.workers.check()
                if self._stopping.is_set():
                    await self.stream.give_back(items)
                    graceful = True
                    return
                # Read the next batch while the workers import this one.
                fetch = asyncio.create_task(self.stream.fetch())
                await self.workers.dispatch(items)
                self.workers.check()
                await self.housekeeping.tick()
        finally:
            if fetch is not None:
                # Let the read finish (it blocks at most READ_BLOCK_MS) and hand its items back.
                # On a Redis error they are reclaimed after claim_timeout_s instead.
                with contextlib.suppress(RedisError, QueueError):
                    await self.stream.give_back(await fetch)
            await self.workers.close(graceful=graceful)


async def _main(config: MockadoConfig) -> int:
    stop = stop_on_signals()
    loader = Loader(config)
    server = await serve_app(
        ready_check=loader.ready_check,
        port=config.loader.http_port,
        routes=[unmatched_route(loader.misses), *loader.console_routes],
    )
    return await run_until_stopped(loader, server, stop)


def main(config: MockadoConfig) -> int:
    """``mockado loader``: blocks until SIGTERM/SIGINT, then stops cleanly. -> exit code."""
    return asyncio.run(_main(config))
