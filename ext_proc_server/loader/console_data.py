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
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader.record import ShardRecord
from ext_proc_server.misses import MissRecord, MissStore

# Pages read every record at most this often.
STUBS_CACHE_S = 5.0
READ_CHUNK = 500


class RecordedStubs:
    """(shard, mapping) for every stub of every shard's record, cached briefly."""

    def __init__(self, record: ShardRecord, shards: Sequence[str]) -> None:
        self._record = record
        self._shards = list(shards)
        self._cached: tuple[float, list[tuple[str, dict[str, Any]]]] | None = None

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


def console_routes(
    config: MockadoConfig,
    *,
    redis: aioredis.Redis,
    keys: RedisKeys,
    record: ShardRecord,
    shards: Sequence[str],
) -> list[BaseRoute]:
    store = MissStore(redis, keys=keys, max_misses=config.loader.max_misses)

    async def misses() -> Sequence[MissRecord]:
        return await store.records()

    console = Console(config, stubs=RecordedStubs(record, shards).all, misses=misses)
    return console.routes()
