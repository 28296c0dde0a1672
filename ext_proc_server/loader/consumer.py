"""The loader: moves queued mappings from the Redis Stream into WireMock, at least once.

How an item travels:

* ``XREADGROUP`` hands it to this consumer (several replicas share one group); the
  next batch is read while the current one is imported.
* Items are routed to a shard by their host (``loader.shards``), checked against the
  shard's stub budget, and imported in batches (``/__admin/mappings/import``,
  OVERWRITE: mapping ids are deterministic, so a replay is harmless).
* Each shard has its own worker and a bounded in-memory backlog
  (``shard_backlog_items``): a WireMock that is down holds back only its own items
  while the other shards keep loading. Past the bound, reading waits, so memory stays
  bounded; waiting items stay pending in Redis and are heart-beaten like any held item.
* Only what WireMock accepted is acknowledged (``XACK`` + ``XDEL`` in one transaction).
* WireMock down (connect error, timeout, 5xx): the batch stays held and is retried with
  backoff, forever, without touching the poison budget. The held ids are re-claimed
  every few seconds so no other replica steals them while this one is alive.
* WireMock refuses a batch (4xx): it is split to isolate the bad item; the rest lands.
  The bad item is handed back to the group with a backoff (its idle time is set so the
  periodic ``XAUTOCLAIM`` redelivers it later) and goes to the dead-letter stream once
  its delivery count reaches ``retry_attempts``. A crash while holding an item counts
  as a delivery too, so an item that kills loaders cannot loop forever.
* Items of a loader that died are reclaimed by ``XAUTOCLAIM`` after ``claim_timeout_s``.
* SIGTERM: the in-flight import finishes (bounded by ``wiremock_timeout``) and is acked;
  items read but not imported are handed back at once (``XCLAIM ... IDLE``) so another
  replica takes them without waiting for ``claim_timeout_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import fnmatch
import hashlib
import json
import logging
import os
import random
import re
import signal
import socket
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from redis import asyncio as aioredis
from redis.exceptions import RedisError, ResponseError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ext_proc_server.core.config import LoaderConfig, MockadoConfig
from ext_proc_server.core.errors import MockadoError, QueueError, WireMockError
from ext_proc_server.core.metrics import (
    LOADER_DEAD_LETTER,
    LOADER_ERRORS,
    LOADER_PROCESSED,
    LOADER_QUEUE_LAG,
    LOADER_QUEUE_LENGTH,
    LOADER_SHARD_BACKLOG,
    LOADER_STUB_COUNT,
    LOADER_STUBS_REJECTED,
    SERVING_UNMATCHED,
    method_label,
)
from ext_proc_server.core.queue_entries import (
    FIELD_ENQUEUED_AT,
    FIELD_HOST,
    FIELD_MAPPING,
    decode_entry,
)
from ext_proc_server.core.redis_client import make_redis
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader import backup as backup_mod
from ext_proc_server.loader.wiremock_client import WireMockClient, encode_mapping, error_index
from ext_proc_server.mapping.catch_all import catch_all_mapping

log = logging.getLogger(__name__)

DEFAULT_SHARD = "default"
# The probe app's endpoint that each shard's catch-all webhook calls on a miss.
UNMATCHED_PATH = "/unmatched"
# How often to check that each shard still has its catch-all (one cheap GET per shard).
CATCH_ALL_CHECK_INTERVAL_S = 5.0
# XREADGROUP BLOCK: also how quickly an idle loader notices a stop.
READ_BLOCK_MS = 1000
METRICS_INTERVAL_S = 2.0
BUDGET_LOG_INTERVAL_S = 60.0
# meta.total is re-read at most this often after imports; counted locally in between.
COUNT_REFRESH_INTERVAL_S = 5.0
# At the budget edge the known ids are re-listed from WireMock at most this often.
RESEED_INTERVAL_S = 30.0
# Consumers with nothing pending and idle this long are removed from the group.
STALE_CONSUMER_IDLE_S = 3600.0
_ID_NAMESPACE = uuid.UUID("6f1c3c1e-5b7a-4d0e-9a51-6d6f636b6164")


def consumer_name() -> str:
    """hostname-pid-random: unique per process, recognisable in XINFO CONSUMERS."""
    return f"{socket.gethostname()}-{os.getpid()}-{random.getrandbits(24):06x}"


def backoff_s(attempt: int, *, base_s: float, max_s: float) -> float:
    """Exponential backoff with "equal jitter": half fixed, half random, capped at max_s."""
    delay = min(max_s, base_s * (2 ** min(attempt, 30)))
    return delay / 2 + random.uniform(0, delay / 2)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


def _entry_ms(entry_id: str) -> int:
    return int(entry_id.split("-", 1)[0])


@dataclass(slots=True)
class QueueItem:
    """One stream entry this consumer holds."""

    entry_id: str
    deliveries: int
    host: str = ""
    mapping: dict[str, Any] | None = None
    # ``mapping`` as compact JSON: the queue's own text when the loader left it as is.
    encoded: str = ""
    # Why the entry could not be used (bounded text: no content).
    invalid_reason: str | None = None

    @property
    def mapping_id(self) -> str:
        return str(self.mapping["id"]) if self.mapping else ""

    def mapping_json(self) -> str:
        return self.encoded or (encode_mapping(self.mapping) if self.mapping else "")


def parse_entry(entry_id: str, fields: Any, *, deliveries: int) -> QueueItem:
    """A stream entry -> QueueItem; a bad entry keeps ``invalid_reason`` instead of raising."""
    fields = fields or {}
    host = _text(fields.get(FIELD_HOST.encode(), fields.get(FIELD_HOST, b"")))
    try:
        mapping, host = decode_entry(fields)
    except QueueError as exc:
        return QueueItem(entry_id, deliveries, host=host, invalid_reason=str(exc))
    mapping_id = mapping.get("id", mapping.get("uuid"))
    changed = "id" not in mapping
    if mapping_id is None:
        # The generator sets deterministic ids; derive one from the content otherwise so
        # a replay still overwrites instead of duplicating.
        canonical = json.dumps(mapping, sort_keys=True, separators=(",", ":")).encode()
        mapping_id = str(uuid.uuid5(_ID_NAMESPACE, hashlib.sha256(canonical).hexdigest()))
        mapping = {**mapping, "id": mapping_id}
    elif not isinstance(mapping_id, str) or not mapping_id:
        return QueueItem(
            entry_id, deliveries, host=host, invalid_reason="mapping id is not a string"
        )
    elif "id" not in mapping:
        mapping = {**mapping, "id": mapping_id}
    for part in ("request", "response"):
        if part in mapping and not isinstance(mapping[part], dict):
            return QueueItem(
                entry_id, deliveries, host=host, invalid_reason=f"{part} is not an object"
            )
    raw = fields.get(FIELD_MAPPING.encode(), fields.get(FIELD_MAPPING))
    encoded = encode_mapping(mapping) if changed else _text(raw)
    return QueueItem(entry_id, deliveries, host=host, mapping=mapping, encoded=encoded)


# -- shards and routing ----------------------------------------------------------------


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "shard"


def shard_urls(config: MockadoConfig) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """-> ({shard name: wiremock url}, [(host pattern, shard name), ...] in config order).

    Routes sharing a WireMock URL share one shard. The loader's own wiremock_url is
    "default"; other URLs take the name of the ``serving.shard_groups`` group that lists
    the route's host pattern, else "shard-<n>" in order of appearance.
    """
    loader = config.loader
    names_by_url = {loader.wiremock_url: DEFAULT_SHARD}
    urls = {DEFAULT_SHARD: loader.wiremock_url}
    routes: list[tuple[str, str]] = []
    for route in loader.shards:
        name = names_by_url.get(route.wiremock_url)
        if name is None:
            groups = [g for g, hosts in config.serving.shard_groups.items() if route.host in hosts]
            name = _safe_name(groups[0]) if len(groups) == 1 else f"shard-{len(urls)}"
            while name in urls:
                name = f"{name}-{len(urls)}"
            names_by_url[route.wiremock_url] = name
            urls[name] = route.wiremock_url
        routes.append((route.host.lower(), name))
    return urls, routes


class Router:
    """Host -> shard name, first matching fnmatch pattern wins (case-insensitive)."""

    def __init__(self, routes: Sequence[tuple[str, str]], *, cache_size: int = 4096) -> None:
        self._routes = list(routes)
        self._cache: dict[str, str] = {}
        self._cache_size = cache_size

    def shard_for(self, host: str) -> str:
        found = self._cache.get(host)
        if found is not None:
            return found
        lowered = host.lower()
        found = next(
            (name for pattern, name in self._routes if fnmatch.fnmatchcase(lowered, pattern)),
            DEFAULT_SHARD,
        )
        if len(self._cache) >= self._cache_size:
            self._cache.clear()
        self._cache[host] = found
        return found


@dataclass
class Shard:
    name: str
    client: WireMockClient
    # Ids WireMock holds: an overwrite of one of them does not grow the store.
    known_ids: set[str] = field(default_factory=set)
    stub_count: int = 0
    seeded: bool = False
    available: bool = True
    down_since: float = 0.0
    last_count_at: float = 0.0
    last_seed_at: float = 0.0
    # One import at a time per shard keeps the stub count and budget exact.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # The lowest-priority stub answering misses at once (mapping_catch_all).
    catch_all: dict[str, Any] | None = None

    def set_count(self, count: int) -> None:
        self.stub_count = count
        LOADER_STUB_COUNT.labels(shard=self.name).set(count)

    async def seed(self) -> None:
        """Known ids from WireMock's own list: at startup and after WireMock came back."""
        mappings = await self.client.list_mappings()
        self.known_ids = {str(m.get("id") or m.get("uuid")) for m in mappings}
        if self.catch_all is not None and self.catch_all["id"] not in self.known_ids:
            # A fresh or restarted WireMock: put the catch-all back before anything is served.
            await self.client.import_mappings([self.catch_all])
            self.known_ids.add(self.catch_all["id"])
            mappings.append(self.catch_all)
        self.set_count(len(mappings))
        now = time.monotonic()
        self.last_seed_at = self.last_count_at = now
        self.seeded = True


class _Stopped(Exception):
    """The loader was asked to stop while a batch was waiting for WireMock."""


# -- the loader --------------------------------------------------------------------------


class Loader:
    """Consume the queue into WireMock. ``await run(stop)``; ``await aclose()`` after."""

    def __init__(
        self,
        config: MockadoConfig,
        *,
        redis: aioredis.Redis | None = None,
        clients: dict[str, WireMockClient] | None = None,
        consumer: str | None = None,
    ) -> None:
        self.config = config
        self.cfg: LoaderConfig = config.loader
        self.keys = RedisKeys(queue=self.cfg.redis_queue)
        self.consumer = consumer or consumer_name()
        self.redis = redis or make_redis(
            self.cfg.redis_url,
            pool_size=8,
            # Above READ_BLOCK_MS, so a blocking read is never cut short.
            timeout_s=max(5.0, READ_BLOCK_MS / 1000 * 3),
            tls=self.cfg.redis_tls,
        )
        urls, routes = shard_urls(config)
        self.router = Router(routes)
        notify_url = (
            config.serving.unmatched_webhook_url
            or f"http://127.0.0.1:{self.cfg.http_port}{UNMATCHED_PATH}"
        )
        self.shards = {
            name: Shard(
                name=name,
                client=(clients or {}).get(name)
                or WireMockClient(
                    url, timeout_s=self.cfg.wiremock_timeout, tls=self.cfg.wiremock_tls
                ),
                catch_all=catch_all_mapping(shard=name, notify_url=notify_url),
            )
            for name, url in urls.items()
        }
        self.claim_timeout_ms = max(1, int(self.cfg.claim_timeout_s * 1000))
        self._held: dict[str, QueueItem] = {}
        self._stop = asyncio.Event()
        self._group_ready = False
        self._reclaim_cursor = "0-0"
        self._next_reclaim_at = 0.0
        self._next_metrics_at = 0.0
        self._next_heartbeat_at = 0.0
        self._next_housekeeping_at = 0.0
        self._next_catch_all_check_at = 0.0
        self._budget_rejected_unlogged = 0
        self._budget_logged_at = 0.0
        self._redis_down_since: float | None = None
        # Set after a Redis error: where to resume reading this consumer's own pending items.
        self._own_cursor: str | None = None
        # Per-shard workers while the pump runs (see _start_workers).
        self._backlogs: dict[str, asyncio.Queue[QueueItem | None]] = {}
        self._room: dict[str, asyncio.Semaphore] = {}
        # Items dispatched to a shard and not yet landed or handed back.
        self._waiting: dict[str, int] = {}
        self._workers: dict[str, asyncio.Task[None]] = {}
        self._worker_failed = asyncio.Event()
        self._worker_error: BaseException | None = None
        self._full_logged: set[str] = set()

    # -- lifecycle -------------------------------------------------------------------

    def describe(self) -> str:
        shards = ", ".join(f"{s.name}={s.client.display_url}" for s in self.shards.values())
        return (
            f"queue {self.keys.stream!r}, group {self.keys.group!r}, consumer {self.consumer!r}, "
            f"wiremock {shards}"
        )

    async def aclose(self) -> None:
        for shard in self.shards.values():
            await shard.client.aclose()
        await self.redis.aclose()

    async def ready_check(self) -> dict[str, bool]:
        checks: dict[str, bool] = {}
        try:
            checks["redis"] = bool(await self.redis.ping())
        except RedisError:
            checks["redis"] = False
        for shard in self.shards.values():
            checks[f"wiremock_{shard.name}"] = await shard.client.health()
        return checks

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until ``stop`` is set, then finish the in-flight batch and return."""
        self._stop = stop
        log.info("loader started: %s", self.describe())
        backups = asyncio.create_task(self._backup_loop(stop)) if self.cfg.backup_enabled else None
        redis_attempt = 0
        try:
            while not stop.is_set():
                try:
                    await self._pump(stop)
                    redis_attempt = 0
                except (RedisError, QueueError) as exc:
                    LOADER_ERRORS.labels(error_type="redis_error").inc()
                    self._group_ready = False
                    # What was held stays pending in Redis and is reclaimed after
                    # claim_timeout_s; stop heart-beating it.
                    self._held.clear()
                    # Resume this consumer's own pending items first, without waiting for
                    # claim_timeout_s; and drop pooled connections that died with Redis.
                    self._own_cursor = "-"
                    with contextlib.suppress(RedisError, OSError):
                        await self.redis.connection_pool.disconnect()
                    if self._redis_down_since is None:
                        self._redis_down_since = time.monotonic()
                        log.warning(
                            "redis unavailable (%s); retrying with backoff", type(exc).__name__
                        )
                    await self._sleep(self._backoff_s(redis_attempt))
                    redis_attempt += 1
        finally:
            if backups is not None:
                backups.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await backups
        if self.cfg.backup_enabled:
            await self._backup_once(reason="shutdown")
        await self._leave_group()
        log.info("loader stopped")

    async def drain_once(self) -> int:
        """One read (reclaim first) and its processing, without blocking. -> items handled."""
        await self._prepare()
        items = await self._fetch(block_ms=None)
        await self._process(items)
        return len(items)

    # -- the pump --------------------------------------------------------------------

    async def _prepare(self) -> None:
        if not self._group_ready:
            await self._ensure_group()
        if self._redis_down_since is not None:
            log.info("redis back after %.1fs", time.monotonic() - self._redis_down_since)
            self._redis_down_since = None
        for shard in self.shards.values():
            if not shard.seeded:
                try:
                    await shard.seed()
                except WireMockError as exc:
                    # Not fatal: the first import to this shard waits for it.
                    self._shard_down(shard, exc)

    async def _pump(self, stop: asyncio.Event) -> None:
        await self._prepare()
        self._start_workers()
        graceful = False
        fetch: asyncio.Task[list[QueueItem]] | None = asyncio.create_task(self._fetch())
        try:
            while True:
                assert fetch is not None
                items = await fetch
                fetch = None
                self._raise_worker_error()
                if stop.is_set():
                    await self._give_back(items)
                    graceful = True
                    return
                # Read the next batch while the workers import this one.
                fetch = asyncio.create_task(self._fetch())
                await self._dispatch(items)
                self._raise_worker_error()
                await self._periodic()
        finally:
            if fetch is not None:
                # Let the read finish (it blocks at most READ_BLOCK_MS) and hand its items back.
                # On a Redis error they are reclaimed after claim_timeout_s instead.
                with contextlib.suppress(RedisError, QueueError):
                    await self._give_back(await fetch)
            await self._stop_workers(graceful=graceful)

    # -- per-shard workers -----------------------------------------------------------

    def _start_workers(self) -> None:
        self._worker_error = None
        self._worker_failed = asyncio.Event()
        for name, shard in self.shards.items():
            self._backlogs[name] = asyncio.Queue()
            self._room[name] = asyncio.Semaphore(self.cfg.shard_backlog_items)
            self._set_waiting(name, 0)
            task = asyncio.create_task(self._shard_worker(shard), name=f"loader-shard-{name}")
            task.add_done_callback(self._worker_done)
            self._workers[name] = task

    def _worker_done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        if self._worker_error is None:
            self._worker_error = task.exception()
        self._worker_failed.set()

    def _raise_worker_error(self) -> None:
        if self._worker_error is not None:
            raise self._worker_error

    async def _stop_workers(self, *, graceful: bool) -> None:
        """Graceful: each worker finishes its in-flight import and hands back the rest.
        Otherwise (a Redis error) they are cancelled: what they held stays pending in
        Redis under this consumer and is read again by _recover_own."""
        workers = list(self._workers.values())
        if graceful and self._worker_error is None:
            for backlog in self._backlogs.values():
                backlog.put_nowait(None)
            # Bounded: an import in flight gives up after wiremock_timeout, and a
            # worker waiting out an outage wakes on stop.
            await asyncio.gather(*workers, return_exceptions=True)
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for name in self._backlogs:
            self._set_waiting(name, 0)
        self._workers.clear()
        self._backlogs.clear()
        self._room.clear()

    async def _dispatch(self, items: list[QueueItem]) -> None:
        """Route items to their shards' backlogs, waiting for room where one is full.
        On stop, what could not be queued is handed back at once."""
        valid = await self._drop_invalid(items)
        for index, item in enumerate(valid):
            name = self.router.shard_for(item.host)
            if not await self._take_room(name):
                await self._give_back(valid[index:])
                return
            self._backlogs[name].put_nowait(item)
            self._set_waiting(name, self._waiting[name] + 1)

    def _set_waiting(self, name: str, count: int) -> None:
        self._waiting[name] = count
        LOADER_SHARD_BACKLOG.labels(shard=name).set(count)

    async def _take_room(self, name: str) -> bool:
        """One slot in the shard's backlog; False if the loader stops or a worker failed
        first."""
        room = self._room[name]
        if not room.locked():
            await room.acquire()  # free: returns at once
            return True
        if name not in self._full_logged:
            self._full_logged.add(name)
            log.warning(
                "shard %s: %d items wait for its wiremock; reading the queue waits too",
                name, self.cfg.shard_backlog_items,
            )  # fmt: skip
        acquire = asyncio.ensure_future(room.acquire())
        stopped = asyncio.ensure_future(self._stop.wait())
        failed = asyncio.ensure_future(self._worker_failed.wait())
        try:
            await asyncio.wait({acquire, stopped, failed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            failed.cancel()
            if not acquire.done():
                acquire.cancel()
        got = acquire.done() and not acquire.cancelled()
        if got and (self._stop.is_set() or self._worker_error is not None):
            room.release()
            got = False
        if got:
            self._full_logged.discard(name)
        return got

    async def _shard_worker(self, shard: Shard) -> None:
        backlog, room = self._backlogs[shard.name], self._room[shard.name]
        ending = False
        while not ending:
            first = await backlog.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self.cfg.redis_batch_size and not backlog.empty():
                following = backlog.get_nowait()
                if following is None:
                    ending = True
                    break
                batch.append(following)
            try:
                if self._stop.is_set():
                    await self._give_back(batch)
                    break
                await self._load_shard(shard, batch)
            finally:
                for _ in batch:
                    room.release()
                self._set_waiting(shard.name, self._waiting[shard.name] - len(batch))
        # Stopping: items still queued were read but not imported.
        left: list[QueueItem] = []
        while not backlog.empty():
            queued = backlog.get_nowait()
            if queued is not None:
                left.append(queued)
        await self._give_back(left)

    async def _ensure_group(self) -> None:
        try:
            await self.redis.xgroup_create(self.keys.stream, self.keys.group, id="0", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise
        self._group_ready = True

    async def _fetch(self, *, block_ms: int | None = READ_BLOCK_MS) -> list[QueueItem]:
        items: list[QueueItem] = []
        now = time.monotonic()
        if self._own_cursor is not None:
            items = await self._recover_own()
        elif now >= self._next_reclaim_at:
            self._next_reclaim_at = now + min(self.cfg.claim_timeout_s / 2, 5.0)
            items = await self._reclaim()
        want = self.cfg.redis_batch_size - len(items)
        if want > 0:
            try:
                reply = await self.redis.xreadgroup(
                    self.keys.group,
                    self.consumer,
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
                    items.append(parse_entry(_text(raw_id), fields, deliveries=1))
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
            count=self.cfg.redis_batch_size,
            consumername=self.consumer,
        )
        if len(pending) < self.cfg.redis_batch_size:
            self._own_cursor = None
        else:
            self._own_cursor = "(" + _text(pending[-1]["message_id"])
        counts = {_text(p["message_id"]): int(p["times_delivered"]) for p in pending}
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
        if gone:  # deleted from the stream meanwhile: nothing left to load
            await self.redis.xack(self.keys.stream, self.keys.group, *gone)
        return items

    async def _reclaim(self) -> list[QueueItem]:
        """XAUTOCLAIM entries idle longer than claim_timeout_s, with their delivery counts."""
        reply = await self.redis.xautoclaim(
            self.keys.stream,
            self.keys.group,
            self.consumer,
            min_idle_time=self.claim_timeout_ms,
            start_id=self._reclaim_cursor,
            count=self.cfg.redis_batch_size,
        )
        self._reclaim_cursor = _text(reply[0])
        entries = [(_text(i), f) for i, f in reply[1] if i is not None]
        gone = [_text(i) for i in (reply[2] if len(reply) > 2 else [])]
        # Redis 6.2 reports deleted entries with empty fields instead of in reply[2].
        gone += [i for i, f in entries if not f]
        entries = [(i, f) for i, f in entries if f]
        if gone:
            await self.redis.xack(self.keys.stream, self.keys.group, *gone)
        # Already in flight here (an import slower than claim_timeout_s): not twice.
        entries = [(i, f) for i, f in entries if i not in self._held]
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
            _text(p["message_id"]): int(p["times_delivered"]) for reply in replies for p in reply
        }
        log.info(
            "reclaimed %d items idle longer than %.0fs", len(entries), self.cfg.claim_timeout_s
        )
        return [parse_entry(i, f, deliveries=deliveries.get(i, 2)) for i, f in entries]

    # -- one batch -------------------------------------------------------------------

    async def _drop_invalid(self, items: list[QueueItem]) -> list[QueueItem]:
        """Dead-letter undecodable items. -> the others."""
        for item in items:
            if item.mapping is None:
                # Decoding is deterministic: retrying an undecodable entry cannot help.
                LOADER_ERRORS.labels(error_type="invalid_item").inc()
                await self._dead_letter(
                    item, error_type="invalid_item", reason=item.invalid_reason or "invalid"
                )
        return [i for i in items if i.mapping is not None]

    async def _process(self, items: list[QueueItem]) -> None:
        """Load one batch to the end, every shard at once (``drain_once``; the running
        loader hands batches to its shard workers instead)."""
        by_shard: dict[str, list[QueueItem]] = {}
        for item in await self._drop_invalid(items):
            by_shard.setdefault(self.router.shard_for(item.host), []).append(item)
        results = await asyncio.gather(
            *(self._load_shard(self.shards[name], group) for name, group in by_shard.items()),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def _load_shard(self, shard: Shard, items: list[QueueItem]) -> None:
        async with shard.lock:
            try:
                accepted = await self._apply_budget(shard, items)
            except _Stopped:
                await self._give_back(items)
                return
            # A work stack: a refused chunk is split and its halves pushed back.
            stack = [accepted] if accepted else []
            while stack:
                chunk = stack.pop()
                try:
                    await self._import_with_retry(shard, chunk, rest=stack)
                except _Stopped:
                    await self._give_back([i for part in [chunk, *stack] for i in part])
                    return
                except WireMockError as exc:
                    LOADER_ERRORS.labels(error_type="wiremock_rejected").inc()
                    if len(chunk) == 1:
                        await self._poisoned(chunk[0], exc)
                    else:
                        stack.extend(reversed(_split(chunk, error_index(exc))))
                    continue
                await self._landed(shard, chunk)

    async def _import_with_retry(
        self, shard: Shard, chunk: list[QueueItem], *, rest: list[list[QueueItem]]
    ) -> None:
        """Import until WireMock answers. Terminal refusals raise; outages wait (no budget)."""
        attempt = 0
        while True:
            try:
                await shard.client.import_encoded([i.mapping_json() for i in chunk])
            except WireMockError as exc:
                if exc.is_terminal:
                    self._shard_up(shard)
                    raise
                self._shard_down(shard, exc, held=len(chunk) + sum(len(p) for p in rest))
                if self._stop.is_set():
                    raise _Stopped from exc
                await self._sleep(self._backoff_s(attempt))
                attempt += 1
                if self._stop.is_set():
                    raise _Stopped from exc
                await self._heartbeat()
                continue
            if not shard.available:
                self._shard_up(shard)
                # WireMock may have restarted empty: re-learn what it holds.
                with contextlib.suppress(WireMockError):
                    await shard.seed()
            return

    def _shard_down(self, shard: Shard, exc: WireMockError, *, held: int = 0) -> None:
        LOADER_ERRORS.labels(error_type="wiremock_unavailable").inc()
        if shard.available:
            shard.available = False
            shard.down_since = time.monotonic()
            log.warning(
                "wiremock shard %s unavailable (%s); holding %d items and retrying",
                shard.name, exc, held,
            )  # fmt: skip

    def _shard_up(self, shard: Shard) -> None:
        if not shard.available:
            shard.available = True
            log.info(
                "wiremock shard %s back after %.1fs",
                shard.name,
                time.monotonic() - shard.down_since,
            )

    async def _apply_budget(self, shard: Shard, items: list[QueueItem]) -> list[QueueItem]:
        """Refuse mappings that would grow the shard past max_stubs; overwrites always pass."""
        new_ids = {i.mapping_id for i in items} - shard.known_ids
        # Counts every stub WireMock holds, the catch-all included: that is what it pays for.
        limit = self.cfg.max_stubs
        if not new_ids or shard.stub_count + len(new_ids) <= limit:
            return items
        # At the edge: get the real numbers before refusing anything.
        await self._with_wiremock(shard, shard.client.count_stubs, on_ok=shard.set_count)
        if time.monotonic() - shard.last_seed_at >= RESEED_INTERVAL_S:
            await self._with_wiremock(shard, shard.seed)
        new_ids -= shard.known_ids
        room = max(0, limit - shard.stub_count)
        allowed: set[str] = set()
        accepted: list[QueueItem] = []
        rejected: list[QueueItem] = []
        for item in items:
            mapping_id = item.mapping_id
            if mapping_id not in new_ids or mapping_id in allowed:
                accepted.append(item)
            elif len(allowed) < room:
                allowed.add(mapping_id)
                accepted.append(item)
            else:
                rejected.append(item)
        if rejected:
            await self._ack(rejected)
            LOADER_STUBS_REJECTED.labels(shard=shard.name).inc(len(rejected))
            LOADER_PROCESSED.labels(status="rejected_budget").inc(len(rejected))
            self._note_budget_rejections(shard, len(rejected))
        return accepted

    def _note_budget_rejections(self, shard: Shard, count: int) -> None:
        self._budget_rejected_unlogged += count
        now = time.monotonic()
        if now - self._budget_logged_at >= BUDGET_LOG_INTERVAL_S:
            log.warning(
                "stub budget: dropped %d new mappings (acked, counted) because shard %s holds "
                "%d of max_stubs=%d stubs; overwrites still load",
                self._budget_rejected_unlogged, shard.name, shard.stub_count, self.cfg.max_stubs,
            )  # fmt: skip
            self._budget_rejected_unlogged = 0
            self._budget_logged_at = now

    async def _with_wiremock(self, shard: Shard, call: Any, *, on_ok: Any = None) -> None:
        """Run a read-only admin call, waiting out outages like an import does."""
        attempt = 0
        while True:
            try:
                value = await call()
            except WireMockError as exc:
                # A read refused (401/403 from a proxy...) is no mapping's fault: wait it out.
                self._shard_down(shard, exc)
                if self._stop.is_set():
                    raise _Stopped from exc
                await self._sleep(self._backoff_s(attempt))
                attempt += 1
                await self._heartbeat()
                continue
            self._shard_up(shard)
            if on_ok is not None:
                on_ok(value)
            return

    async def _landed(self, shard: Shard, chunk: list[QueueItem]) -> None:
        await self._ack(chunk)
        LOADER_PROCESSED.labels(status="loaded").inc(len(chunk))
        new_ids = {i.mapping_id for i in chunk} - shard.known_ids
        shard.known_ids |= new_ids
        now = time.monotonic()
        if now - shard.last_count_at >= COUNT_REFRESH_INTERVAL_S:
            shard.last_count_at = now
            try:
                shard.set_count(await shard.client.count_stubs())
                return
            except WireMockError:
                pass  # counted locally below; refreshed after the next import
        shard.set_count(shard.stub_count + len(new_ids))

    async def _poisoned(self, item: QueueItem, exc: WireMockError) -> None:
        """WireMock refused this one item: retry later via the group, or dead-letter it."""
        if item.deliveries >= self.cfg.retry_attempts:
            await self._dead_letter(
                item,
                error_type="wiremock_rejected",
                reason=f"WireMockError HTTP {exc.status_code}",
                status_code=exc.status_code,
            )
            return
        # Hand it back with an idle time that makes XAUTOCLAIM redeliver it after the backoff.
        delay_ms = int(1000 * self._backoff_s(item.deliveries - 1))
        await self._release([item], idle_ms=max(0, self.claim_timeout_ms - delay_ms))
        log.info(
            "mapping refused by wiremock (HTTP %s), delivery %d of %d; retrying later",
            exc.status_code, item.deliveries, self.cfg.retry_attempts,
        )  # fmt: skip

    # -- acknowledging, dead-lettering, handing back ----------------------------------

    async def _ack(self, items: Sequence[QueueItem]) -> None:
        ids = [i.entry_id for i in items]
        if not ids:
            return
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xack(self.keys.stream, self.keys.group, *ids)
            pipe.xdel(self.keys.stream, *ids)
            await pipe.execute()
        for entry_id in ids:
            self._held.pop(entry_id, None)

    async def _dead_letter(
        self, item: QueueItem, *, error_type: str, reason: str, status_code: int | None = None
    ) -> None:
        """XADD to the dead-letter stream and ack, in one transaction: never lost, never twice."""
        entry: dict[str, str] = {
            "source_id": item.entry_id,
            "error_type": error_type,
            "reason": reason,
            "status_code": "" if status_code is None else str(status_code),
            "deliveries": str(item.deliveries),
            "host": item.host,
            "dead_lettered_at_s": f"{time.time():.3f}",
        }
        if item.mapping is not None:
            # The mapping was sanitized before it was queued; an undecodable entry's raw
            # fields are not kept: nothing proves they are clean.
            entry["mapping"] = item.mapping_json()
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.xadd(self.keys.dead_letter, entry)
            pipe.xack(self.keys.stream, self.keys.group, item.entry_id)
            pipe.xdel(self.keys.stream, item.entry_id)
            await pipe.execute()
        self._held.pop(item.entry_id, None)
        LOADER_PROCESSED.labels(status="dead_lettered").inc()
        log.warning(
            "dead-lettered one mapping to %r: %s after %d deliveries",
            self.keys.dead_letter, reason, item.deliveries,
        )  # fmt: skip

    async def _release(self, items: Sequence[QueueItem], *, idle_ms: int) -> None:
        """Keep items pending but set their idle time, so XAUTOCLAIM takes them when it says."""
        ids = [i.entry_id for i in items]
        if ids:
            await self.redis.xclaim(
                self.keys.stream, self.keys.group, self.consumer, 0, ids, idle=idle_ms, justid=True
            )
        for entry_id in ids:
            self._held.pop(entry_id, None)

    async def _give_back(self, items: Sequence[QueueItem]) -> None:
        """Items read but not imported: claimable by any replica right away (no delivery used)."""
        if items:
            await self._release(items, idle_ms=self.claim_timeout_ms)

    async def _heartbeat(self) -> None:
        """Reset the idle time of held items so no live replica reclaims them from us."""
        now = time.monotonic()
        if now < self._next_heartbeat_at or not self._held:
            return
        self._next_heartbeat_at = now + self.cfg.claim_timeout_s / 3
        with contextlib.suppress(RedisError):
            await self.redis.xclaim(
                self.keys.stream, self.keys.group, self.consumer, 0, list(self._held), justid=True
            )

    # -- periodic work -------------------------------------------------------------------

    async def _periodic(self) -> None:
        # Items waiting in a down shard's backlog stay claimed by this live consumer.
        await self._heartbeat()
        now = time.monotonic()
        if now >= self._next_metrics_at:
            self._next_metrics_at = now + METRICS_INTERVAL_S
            await self.update_queue_metrics()
        if now >= self._next_catch_all_check_at:
            self._next_catch_all_check_at = now + CATCH_ALL_CHECK_INTERVAL_S
            await self.ensure_catch_alls()
        if now >= self._next_housekeeping_at:
            self._next_housekeeping_at = now + 300.0
            await self._remove_stale_consumers()

    async def ensure_catch_alls(self) -> None:
        """Put each shard's catch-all back if WireMock lost it (a restart forgets API stubs)."""
        for shard in self.shards.values():
            if shard.catch_all is None or not shard.available:
                continue
            with contextlib.suppress(WireMockError):
                if not await shard.client.has_mapping(shard.catch_all["id"]):
                    await shard.client.import_mappings([shard.catch_all])
                    shard.known_ids.add(shard.catch_all["id"])

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
                enqueued = float(_text(raw)) if raw else _entry_ms(_text(entry_id)) / 1000
            except ValueError:
                enqueued = _entry_ms(_text(entry_id)) / 1000
            lag = max(0.0, time.time() - enqueued)
        LOADER_QUEUE_LENGTH.set(length)
        LOADER_DEAD_LETTER.set(dead)
        LOADER_QUEUE_LAG.set(lag)
        return {"length": length, "dead_letter": dead, "lag_s": lag}

    async def _remove_stale_consumers(self) -> None:
        """Each restart adds a consumer name; drop old ones that hold nothing."""
        with contextlib.suppress(RedisError):
            for info in await self.redis.xinfo_consumers(self.keys.stream, self.keys.group):
                name = _text(info["name"])
                if (
                    name != self.consumer
                    and info["pending"] == 0
                    and info["idle"] > STALE_CONSUMER_IDLE_S * 1000
                ):
                    await self.redis.xgroup_delconsumer(self.keys.stream, self.keys.group, name)

    async def _leave_group(self) -> None:
        """On a clean stop, drop this consumer if it holds nothing (else it waits for reclaim)."""
        with contextlib.suppress(RedisError):
            mine = await self.redis.xpending_range(
                self.keys.stream,
                self.keys.group,
                min="-",
                max="+",
                count=1,
                consumername=self.consumer,
            )
            if not mine:
                await self.redis.xgroup_delconsumer(
                    self.keys.stream, self.keys.group, self.consumer
                )

    def _backoff_s(self, attempt: int) -> float:
        return backoff_s(attempt, base_s=self.cfg.retry_backoff, max_s=self.cfg.retry_max_delay)

    async def _sleep(self, seconds: float) -> None:
        """Sleep, waking early on stop."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop.wait(), timeout=seconds)

    # -- backups ---------------------------------------------------------------------

    async def _backup_loop(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self.cfg.backup_interval)
                return
            await self._backup_once(reason="interval")

    async def _backup_once(self, *, reason: str) -> None:
        try:
            where = await backup_mod.write_backup(
                {s.name: s.client for s in self.shards.values()},
                backup_path=self.cfg.backup_path,
                keep=self.cfg.backup_keep,
            )
        except MockadoError as exc:
            log.warning("backup (%s) failed: %s", reason, exc)
            return
        log.info("backup (%s) written to %s", reason, where)


def _split(chunk: list[QueueItem], blamed: int | None) -> list[list[QueueItem]]:
    """Isolate the item WireMock blamed when it said which; else bisect."""
    if blamed is not None and 0 <= blamed < len(chunk):
        parts = [chunk[:blamed], chunk[blamed : blamed + 1], chunk[blamed + 1 :]]
        return [p for p in parts if p]
    middle = len(chunk) // 2
    return [chunk[:middle], chunk[middle:]]


# -- entry point -------------------------------------------------------------------------


async def count_unmatched(request: Request) -> Response:
    """WireMock's catch-all webhook: one call per request no recording matched."""
    try:
        event = json.loads(await request.body())
        shard, method = str(event["shard"]), method_label(str(event["method"]))
    except (ValueError, KeyError, TypeError):
        return Response(status_code=400)
    SERVING_UNMATCHED.labels(shard=_safe_name(shard)[:64], method=method).inc()
    return Response(status_code=204)


async def _main(config: MockadoConfig) -> int:
    from ext_proc_server.core.probes import serve_probes

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    loader = Loader(config)
    probes = await asyncio.wait_for(
        serve_probes(
            ready_check=loader.ready_check,
            host="0.0.0.0",
            port=config.loader.http_port,
            extra_routes=[Route(UNMATCHED_PATH, count_unmatched, methods=["POST"])],
        ),
        timeout=15,
    )
    try:
        await loader.run(stop)
    finally:
        probes.should_exit = True
        await loader.aclose()
    return 0


def main(config: MockadoConfig) -> int:
    """``mockado loader``: blocks until SIGTERM/SIGINT, then stops cleanly. -> exit code."""
    return asyncio.run(_main(config))
