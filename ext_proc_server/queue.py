"""The capture queue's wire format and its producer side.

Each stream entry carries one WireMock mapping as compact JSON, plus the
destination host (for shard routing) and the enqueue time (for queue lag).
The loader (``ext_proc_server.loader``) is the consumer side.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from typing import Any

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from ext_proc_server.errors import QueueError
from ext_proc_server.redis_keys import RedisKeys

FIELD_MAPPING = "mapping"
FIELD_HOST = "host"
FIELD_ENQUEUED_AT = "enqueued_at_s"


def encode_entry(mapping: Mapping[str, Any], *, host: str = "") -> dict[str, str]:
    return {
        FIELD_MAPPING: json.dumps(mapping, separators=(",", ":"), ensure_ascii=False),
        FIELD_HOST: host,
        FIELD_ENQUEUED_AT: f"{time.time():.3f}",
    }


def decode_entry(fields: Mapping[bytes | str, bytes | str]) -> tuple[dict[str, Any], str]:
    """-> (mapping, host). Raises QueueError for an entry that is not a mapping."""
    norm = {
        (k.decode() if isinstance(k, bytes) else k): (v.decode() if isinstance(v, bytes) else v)
        for k, v in fields.items()
    }
    try:
        mapping = json.loads(norm[FIELD_MAPPING])
    except (KeyError, ValueError) as exc:
        raise QueueError("queue entry: not a JSON mapping") from exc
    if not isinstance(mapping, dict):
        raise QueueError("queue entry: mapping is not an object")
    return mapping, norm.get(FIELD_HOST, "")


async def enqueue_batch(
    redis: aioredis.Redis,
    *,
    keys: RedisKeys,
    entries: Sequence[Mapping[str, str]],
) -> None:
    """XADD every entry in one pipelined round trip. The stream is never trimmed:
    trimming would silently drop queued mappings."""
    if not entries:
        return
    try:
        async with redis.pipeline(transaction=False) as pipe:
            for entry in entries:
                pipe.xadd(keys.stream, dict(entry))
            await pipe.execute()
    except RedisError as exc:
        raise QueueError(
            f"redis: enqueue of {len(entries)} mappings failed ({type(exc).__name__})"
        ) from exc
