"""The console's data, read from this loader's Redis: every shard's record (what each
WireMock holds) and the miss report."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from redis import asyncio as aioredis
from starlette.routing import BaseRoute

from ext_proc_server.console import Console
from ext_proc_server.core.config import MockadoConfig
from ext_proc_server.core.errors import WireMockError
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader.drift import DriftRecord, drift_records, stub_lifecycle
from ext_proc_server.loader.record import ShardRecord
from ext_proc_server.loader.wiremock_client import WireMockClient
from ext_proc_server.misses import MissRecord, MissStore
from ext_proc_server.pipeline import HostSkips, read_skips, skipped_hosts

# Pages read every record at most this often.
STUBS_CACHE_S = 5.0
READ_CHUNK = 500
# Hosts whose skip records the console reads (the most recent first).
MAX_SKIPPED_HOSTS = 200


class RecordedStubs:
    """(shard, mapping) for every stub of every shard's record, and each shard's hit
    counts (from mockado's launcher; None from stock WireMock or a shard that is down),
    both cached briefly."""

    def __init__(self, record: ShardRecord, clients: Mapping[str, WireMockClient]) -> None:
        self._record = record
        self._clients = dict(clients)
        self._shards = list(clients)
        self._cached: tuple[float, list[tuple[str, dict[str, Any]]]] | None = None
        self._cached_hits: tuple[float, dict[str, dict[str, int] | None]] | None = None

    async def hits(self) -> Mapping[str, Mapping[str, int] | None]:
        cached = self._cached_hits
        if cached is not None and time.monotonic() - cached[0] < STUBS_CACHE_S:
            return cached[1]
        counts: dict[str, dict[str, int] | None] = {}
        for shard, client in self._clients.items():
            try:
                counts[shard] = await client.stub_hits()
            except WireMockError:
                counts[shard] = None
        self._cached_hits = (time.monotonic(), counts)
        return counts

    async def all(self) -> Sequence[tuple[str, Mapping[str, Any]]]:
        if self._cached is not None and time.monotonic() - self._cached[0] < STUBS_CACHE_S:
            return self._cached[1]
        stubs = [
            (shard, json.loads(raw))
            for shard in self._shards
            async for chunk in self._record.chunks(shard, size=READ_CHUNK)
            for _, raw in chunk
        ]
        self._cached = (time.monotonic(), stubs)
        return stubs


class SkipRecords:
    """Each host's record of captures that got no stub (``pipeline.read_skips``), for
    the hosts with the latest skips, cached briefly."""

    def __init__(self, redis: aioredis.Redis, keys: RedisKeys) -> None:
        self._redis = redis
        self._keys = keys
        self._cached: tuple[float, dict[str, HostSkips]] | None = None

    async def by_host(self) -> Mapping[str, HostSkips]:
        if self._cached is not None and time.monotonic() - self._cached[0] < STUBS_CACHE_S:
            return self._cached[1]
        hosts = await skipped_hosts(self._redis, keys=self._keys, limit=MAX_SKIPPED_HOSTS)
        records = {h: await read_skips(self._redis, keys=self._keys, host=h) for h in hosts}
        self._cached = (time.monotonic(), records)
        return records


def console_routes(
    config: MockadoConfig,
    *,
    redis: aioredis.Redis,
    keys: RedisKeys,
    record: ShardRecord,
    clients: Mapping[str, WireMockClient],
) -> list[BaseRoute]:
    store = MissStore(redis, keys=keys, max_misses=config.loader.max_misses)

    async def misses() -> Sequence[MissRecord]:
        return await store.records()

    recorded = RecordedStubs(record, clients)
    skips = SkipRecords(redis, keys)

    async def drift() -> Sequence[DriftRecord]:
        return await drift_records(redis, keys=keys)

    console = Console(
        config,
        stubs=recorded.all,
        misses=misses,
        hits=recorded.hits,
        skips=skips.by_host,
        drift=drift,
        lifecycle=stub_lifecycle,
    )
    return console.routes()
