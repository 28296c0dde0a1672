"""A host's stub-skip record as the capture left it in Redis, read from a test."""

from __future__ import annotations

import asyncio

from redis import asyncio as aioredis

from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.pipeline import read_skips


def skip_record(
    redis_url: str, queue: str, *, host: str = "127.0.0.1"
) -> tuple[dict[str, int], list[str]]:
    """(counts by reason, the recent entries newest first) of ``host``."""

    async def read() -> tuple[dict[str, int], list[str]]:
        redis = aioredis.Redis.from_url(redis_url)
        try:
            record = await read_skips(redis, keys=RedisKeys(queue=queue), host=host)
        finally:
            await redis.aclose()
        return record.counts, [entry for _, entry in record.recent]

    return asyncio.run(read())
