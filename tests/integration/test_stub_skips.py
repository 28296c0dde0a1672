"""The per-host skip record against a real Redis: counted per reason, the latest skips
kept in order, every key bounded and expiring, read back through the public functions."""

from __future__ import annotations

import asyncio

import pytest
from redis import asyncio as aioredis

from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.pipeline import Skipped, read_skips, skipped_hosts
from ext_proc_server.pipeline.skips import MAX_HOSTS, RECENT_PER_HOST, RECORD_TTL_S, record_skips

pytestmark = pytest.mark.integration


def test_skips_are_recorded_per_host_bounded_and_read_back(redis_server) -> None:
    keys = RedisKeys(queue="skips-test")

    async def go() -> None:
        redis = aioredis.Redis.from_url(redis_server.url)
        try:
            await redis.delete(keys.skipped_hosts)
            batch = [
                Skipped("api.shop.svc.cluster.local", "response_truncated", "GET", "/export"),
                Skipped("api.shop.svc.cluster.local", "response_truncated", "GET", "/export"),
                Skipped("api.shop.svc.cluster.local", "request_truncated", "POST", "/upload"),
                Skipped("cdn.example", "response_structured_binary", "GET", "/a.pdf"),
            ]
            await record_skips(redis, keys=keys, skipped=batch, now_s=1000.0)
            shop = await read_skips(redis, keys=keys, host="api.shop.svc.cluster.local")
            assert shop.counts == {"response_truncated": 2, "request_truncated": 1}
            assert sorted(entry for _, entry in shop.recent) == [
                "request_truncated POST /upload",
                "response_truncated GET /export",
            ]
            # Same time: Redis orders ties by member, newest first.
            hosts = await skipped_hosts(redis, keys=keys)
            assert hosts == ["cdn.example", "api.shop.svc.cluster.local"]
            for key in (keys.skip_counts("cdn.example"), keys.skip_recent("cdn.example")):
                assert 0 < await redis.ttl(key) <= RECORD_TTL_S
            assert 0 < await redis.ttl(keys.skipped_hosts) <= RECORD_TTL_S

            # Bounds: the latest RECENT_PER_HOST skips of a host, the latest MAX_HOSTS hosts.
            many = [
                Skipped("api.shop.svc.cluster.local", "response_truncated", "GET", f"/p/{n}")
                for n in range(RECENT_PER_HOST + 10)
            ]
            for n, item in enumerate(many):
                await record_skips(redis, keys=keys, skipped=[item], now_s=2000.0 + n)
            shop = await read_skips(redis, keys=keys, host="api.shop.svc.cluster.local")
            assert len(shop.recent) == RECENT_PER_HOST
            assert shop.recent[0][1] == f"response_truncated GET /p/{RECENT_PER_HOST + 9}"
            assert shop.counts["response_truncated"] == 2 + RECENT_PER_HOST + 10
            hosts = [Skipped(f"h{n}.example", "response_truncated") for n in range(MAX_HOSTS + 5)]
            await record_skips(redis, keys=keys, skipped=hosts, now_s=5000.0)
            assert await redis.zcard(keys.skipped_hosts) == MAX_HOSTS
            assert await read_skips(redis, keys=keys, host="nobody.example") == type(shop)(
                host="nobody.example", counts={}, recent=[]
            )
        finally:
            await redis.aclose()

    asyncio.run(go())
