"""The miss report in Redis: bounded, one entry per logical miss.

Three hashes keyed by miss id (``RedisKeys.misses``, ``miss_counts``, ``miss_last_seen``):
the sanitized description with its closest stub, the count, and the last-seen time. The
description hash holds at most ``max_misses`` entries; the other two only ids it holds.
Several loader replicas may write at once: counts add up (HINCRBY), a description is
replaced whole, and the bound may be passed by the misses of one flush per replica.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis import asyncio as aioredis

from ext_proc_server.core.redis_keys import RedisKeys


@dataclass(frozen=True, slots=True)
class MissRecord:
    """One logical miss as the report shows it. Every value in it was sanitized."""

    miss_id: str
    host: str
    method: str
    path: str
    query_keys: tuple[str, ...]
    namespaces: tuple[str, ...]
    count: int
    first_seen_s: float
    last_seen_s: float
    closest: Mapping[str, Any] | None
    # True while the closest stub was not looked for yet (see recorder).
    closest_pending: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.miss_id,
            "host": self.host,
            "method": self.method,
            "path": self.path,
            "query_keys": list(self.query_keys),
            "namespaces": list(self.namespaces),
            "count": self.count,
            "first_seen_s": self.first_seen_s,
            "last_seen_s": self.last_seen_s,
            "closest": dict(self.closest) if self.closest else None,
            "closest_pending": self.closest_pending,
        }


@dataclass(frozen=True, slots=True)
class MissUpdate:
    """What one flush adds for one miss: ``description`` only when it is new or its
    closest stub was looked for again."""

    miss_id: str
    count: int
    last_seen_s: float
    description: Mapping[str, Any] | None = None


class MissStore:
    def __init__(self, redis: aioredis.Redis, *, keys: RedisKeys, max_misses: int) -> None:
        self._redis = redis
        self._keys = keys
        self.max_misses = max_misses

    async def descriptions(self, miss_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The stored descriptions of those of ``miss_ids`` the report holds."""
        if not miss_ids:
            return {}
        found = await self._redis.hmget(self._keys.misses, list(miss_ids))
        return {i: json.loads(raw) for i, raw in zip(miss_ids, found, strict=True) if raw}

    async def room(self) -> int:
        """How many new misses the report takes before reaching ``max_misses``."""
        return max(0, self.max_misses - int(await self._redis.hlen(self._keys.misses)))

    async def write(self, updates: Collection[MissUpdate]) -> None:
        if not updates:
            return
        keys = self._keys
        async with self._redis.pipeline(transaction=False) as pipe:
            for update in updates:
                if update.description is not None:
                    pipe.hset(keys.misses, update.miss_id, json.dumps(update.description))
                pipe.hincrby(keys.miss_counts, update.miss_id, update.count)
                pipe.hset(keys.miss_last_seen, update.miss_id, repr(update.last_seen_s))
            await pipe.execute()

    async def records(self) -> list[MissRecord]:
        """Every recorded miss, the most frequent first."""
        keys = self._keys
        async with self._redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(keys.misses)
            pipe.hgetall(keys.miss_counts)
            pipe.hgetall(keys.miss_last_seen)
            described, counts, seen = await pipe.execute()
        out = []
        for raw_id, raw in described.items():
            miss_id = _text(raw_id)
            item = json.loads(raw)
            out.append(
                MissRecord(
                    miss_id=miss_id,
                    host=str(item["host"]),
                    method=str(item["method"]),
                    path=str(item["path"]),
                    query_keys=tuple(item.get("query_keys") or ()),
                    namespaces=tuple(item.get("namespaces") or ()),
                    count=int(counts.get(raw_id, 0)),
                    first_seen_s=float(item.get("first_seen_s") or 0.0),
                    last_seen_s=float(seen.get(raw_id, 0.0)),
                    closest=item.get("closest"),
                    closest_pending=bool(item.get("closest_pending")),
                )
            )
        out.sort(key=lambda r: (-r.count, r.host, r.path, r.method))
        return out


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
