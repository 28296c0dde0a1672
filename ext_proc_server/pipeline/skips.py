"""The per-host record of stubs not written (see ``mapping.faithful``), in Redis.

``collector_stubs_skipped_total{reason}`` counts skips without saying where (no host in
a metric label); this record says where, for tooling to show. It stays bounded:

* per host, a hash of reason -> count (the reasons are a fixed vocabulary) and a sorted
  set of the latest ``RECENT_PER_HOST`` "reason method path", scored by time;
* a sorted set of hosts scored by their last skip, capped at ``MAX_HOSTS``;
* every key expires ``RECORD_TTL_S`` after its last skip.

Only sanitized values are written: the canonical host and the sanitized path. Writing
is best effort (the metric has already counted); :func:`read_skips` and
:func:`skipped_hosts` are the public way to read it back.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

from ext_proc_server.core.errors import QueueError
from ext_proc_server.core.redis_keys import RedisKeys

RECORD_TTL_S = 7 * 86_400
MAX_HOSTS = 1_000
RECENT_PER_HOST = 32
# A recorded path longer than this is cut (the record is for people to read).
_MAX_PATH_CHARS = 256


@dataclass(frozen=True, slots=True)
class Skipped:
    """One exchange that got no stub: where it went (sanitized) and why."""

    host: str
    reason: str
    method: str = ""
    path: str = ""

    @property
    def entry(self) -> str:
        return f"{self.reason} {self.method} {self.path[:_MAX_PATH_CHARS]}".rstrip()


@dataclass(frozen=True, slots=True)
class HostSkips:
    """What the record holds for one host."""

    host: str
    # reason -> exchanges skipped for it (within the record's TTL).
    counts: dict[str, int]
    # The latest skips, newest first: (time_s, "reason method path").
    recent: list[tuple[float, str]]


async def record_skips(
    redis: Any, *, keys: RedisKeys, skipped: Sequence[Skipped], now_s: float | None = None
) -> None:
    """Add a batch of skips to the record in one round trip; raises QueueError."""
    if not skipped:
        return
    now_s = time.time() if now_s is None else now_s
    counts = Counter((item.host, item.reason) for item in skipped)
    latest = {(item.host, item.entry): now_s for item in skipped}
    try:
        async with redis.pipeline(transaction=False) as pipe:
            for (host, reason), count in counts.items():
                pipe.hincrby(keys.skip_counts(host), reason, count)
            for host, entry in latest:
                pipe.zadd(keys.skip_recent(host), {entry: now_s})
            for host in {host for host, _ in counts}:
                pipe.zremrangebyrank(keys.skip_recent(host), 0, -RECENT_PER_HOST - 1)
                pipe.expire(keys.skip_counts(host), RECORD_TTL_S)
                pipe.expire(keys.skip_recent(host), RECORD_TTL_S)
                pipe.zadd(keys.skipped_hosts, {host: now_s})
            pipe.zremrangebyrank(keys.skipped_hosts, 0, -MAX_HOSTS - 1)
            pipe.expire(keys.skipped_hosts, RECORD_TTL_S)
            await pipe.execute()
    except RedisError as exc:
        raise QueueError(
            f"redis: recording {len(skipped)} skipped stubs failed ({type(exc).__name__})"
        ) from exc


async def read_skips(redis: Any, *, keys: RedisKeys, host: str) -> HostSkips:
    """The record of one host (empty when it has none); raises QueueError."""
    try:
        async with redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(keys.skip_counts(host))
            pipe.zrevrange(keys.skip_recent(host), 0, -1, withscores=True)
            counts, recent = await pipe.execute()
    except RedisError as exc:
        raise QueueError(f"redis: reading skipped stubs failed ({type(exc).__name__})") from exc
    return HostSkips(
        host=host,
        counts={_text(reason): int(count) for reason, count in counts.items()},
        recent=[(float(score), _text(entry)) for entry, score in recent],
    )


async def skipped_hosts(redis: Any, *, keys: RedisKeys, limit: int = 100) -> list[str]:
    """Hosts with skips on record, the most recent first; raises QueueError."""
    try:
        hosts = await redis.zrevrange(keys.skipped_hosts, 0, max(0, limit - 1))
    except RedisError as exc:
        raise QueueError(f"redis: reading skipped hosts failed ({type(exc).__name__})") from exc
    return [_text(host) for host in hosts]


def _text(value: bytes | str) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else value
