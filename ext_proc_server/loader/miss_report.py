"""The loader's side of the miss report: a MissRecorder wired to this loader's Redis,
shard records and routes (see ``ext_proc_server.misses``)."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from ext_proc_server.core.config import MockadoConfig, canary_host, cluster_hosts
from ext_proc_server.core.errors import QueueError
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader.record import ShardRecord
from ext_proc_server.loader.routing import Router
from ext_proc_server.loader.stream import connect_redis
from ext_proc_server.mapping.noise import NoiseNormalizer
from ext_proc_server.misses import (
    MissEvent,
    MissRecord,
    MissRecorder,
    MissSample,
    MissStore,
    describe_miss,
)
from ext_proc_server.misses import miss_sanitizer as build_sanitizer

# A shard's stubs are read from its record at most this often for closest-stub lookups.
STUBS_CACHE_S = 5.0
READ_CHUNK = 500


def canary_namespaces(config: MockadoConfig) -> dict[str, list[str]]:
    """Host (lower-case) -> the namespaces whose canary calls it, under every name a miss
    may carry: the routed name (a Service's full name, an outside host without its final
    dot) and each shorter name of the Service, since a miss keeps the Host it was called by."""
    cp = config.control_plane
    hosts = cluster_hosts(config.collector, namespaces=(*cp.namespaces, cp.mockado_namespace))
    out: dict[str, list[str]] = {}
    for name, namespace in cp.namespaces.items():
        for host in namespace.canary.hosts if namespace.canary else ():
            routed = canary_host(hosts, host, namespace=name)
            for alias in dict.fromkeys((routed, *hosts.aliases(routed))):
                out.setdefault(alias, []).append(name)
    return out


class ShardStubs:
    """The recorded stubs serving a host: its shard's record, cached for a few seconds."""

    def __init__(self, record: ShardRecord, router: Router) -> None:
        self._record = record
        self._router = router
        self._cache: dict[str, tuple[float, list[dict[str, Any]]]] = {}

    async def for_host(self, host: str) -> Sequence[Mapping[str, Any]]:
        shard = self._router.shard_for(host)
        cached = self._cache.get(shard)
        if cached is not None and time.monotonic() - cached[0] < STUBS_CACHE_S:
            return cached[1]
        stubs = [
            json.loads(raw)
            async for chunk in self._record.chunks(shard, size=READ_CHUNK)
            for _, raw in chunk
        ]
        self._cache[shard] = (time.monotonic(), stubs)
        return stubs


def build_miss_recorder(
    config: MockadoConfig,
    *,
    redis: aioredis.Redis,
    keys: RedisKeys,
    record: ShardRecord,
    router: Router,
) -> MissRecorder | None:
    """The recorder, or None when ``loader.max_misses`` is 0 (the report is off)."""
    if config.loader.max_misses == 0:
        return None
    sanitizer = build_sanitizer(config.collector)
    normalizer = NoiseNormalizer(config.collector)
    namespaces = canary_namespaces(config)

    def describe(event: MissEvent) -> MissSample:
        return describe_miss(event, sanitizer=sanitizer, normalizer=normalizer)

    return MissRecorder(
        store=MissStore(redis, keys=keys, max_misses=config.loader.max_misses),
        describe=describe,
        stubs_for=ShardStubs(record, router).for_host,
        namespaces_for=lambda host: namespaces.get(host.lower(), []),
    )


async def read_misses(
    config: MockadoConfig, *, namespace: str | None = None, host: str | None = None
) -> list[MissRecord]:
    """The miss report from Redis, most frequent first; ``namespace``/``host`` keep only
    the misses of that namespace (its canary, or the closest stub's capture) or host
    (on any of its ports)."""
    redis = connect_redis(config.loader)
    try:
        store = MissStore(
            redis,
            keys=RedisKeys(queue=config.loader.redis_queue),
            max_misses=config.loader.max_misses,
        )
        records = await store.records()
    except RedisError as exc:
        raise QueueError(
            f"reading the miss report from Redis failed ({type(exc).__name__})"
        ) from exc
    finally:
        await redis.aclose()
    wanted_host = host.lower() if host else None
    return [
        r
        for r in records
        if (namespace is None or namespace in r.namespaces)
        and (wanted_host is None or wanted_host in (r.host, r.host.rpartition(":")[0]))
    ]
