"""The miss recorder against a real Redis: one entry per logical miss, counts that add up,
the bound, and the closest stub looked for again once a recording appears."""

from __future__ import annotations

import asyncio
import json
import uuid

from redis import asyncio as aioredis

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.mapping.noise import NoiseNormalizer
from ext_proc_server.misses import (
    MissRecorder,
    MissStore,
    describe_miss,
    miss_sanitizer,
    parse_miss_event,
)
from ext_proc_server.misses.recorder import MAX_LOOKUPS_PER_FLUSH
from tests.support.loader_rig import metric

SANITIZER = miss_sanitizer(CollectorConfig())
NORMALIZER = NoiseNormalizer(CollectorConfig())
DROPPED = "mockado_misses_dropped_total"


def event(method: str, url: str, *, at: float = 100.0):
    body = {"shard": "default", "method": method, "host": "api.shop.local", "url": url,
            "headers": {"Authorization": "Bearer s3cr3t-t0ken"}, "body": ""}  # fmt: skip
    return parse_miss_event(json.dumps(body).encode(), now_s=at)


def recorder(redis, keys: RedisKeys, stubs: list[dict], *, max_misses: int) -> MissRecorder:
    async def stubs_for(_host: str) -> list[dict]:
        return stubs

    return MissRecorder(
        store=MissStore(redis, keys=keys, max_misses=max_misses),
        describe=lambda e: describe_miss(e, sanitizer=SANITIZER, normalizer=NORMALIZER),
        stubs_for=stubs_for,
        namespaces_for=lambda host: ["shop"],
        closest_refresh_s=0.0,
    )


def test_logical_misses_counts_bound_and_closest(redis_server):
    keys = RedisKeys(queue=f"test-misses-{uuid.uuid4().hex[:8]}")
    stubs: list[dict] = []

    async def scenario() -> None:
        redis = aioredis.Redis.from_url(redis_server.url)
        misses = recorder(redis, keys, stubs, max_misses=2)
        for user_id, at in ((1, 100.0), (2, 105.0), (3, 101.0)):
            misses.offer(event("GET", f"/users/{user_id}?token=s3cr3t-t0ken", at=at))
        misses.offer(event("POST", "/orders"))
        assert await misses.flush() == 4
        [users, orders] = await misses.store.records()
        assert (users.path, users.query_keys, users.count) == ("/users/{id}", ("token",), 3)
        assert users.last_seen_s == 105.0 and users.first_seen_s == 105.0
        assert users.closest is None and users.namespaces == ("shop",)
        assert orders.count == 1

        # The report is full: a new logical miss is counted as dropped, known ones still add.
        before = metric(DROPPED, reason="report_full")
        misses.offer(event("DELETE", "/users/9"))
        misses.offer(event("GET", "/users/77?token=other", at=200.0))
        assert await misses.flush() == 1
        assert metric(DROPPED, reason="report_full") == before + 1
        [users, _] = await misses.store.records()
        assert users.count == 4 and users.last_seen_s == 200.0 and users.first_seen_s == 105.0

        # A recording appears: the next flush finds it as the closest stub.
        stubs.append({"id": "u1", "request": {"method": "GET", "urlPath": "/users/1"}})
        misses.offer(event("GET", "/users/5?token=x"))
        await misses.flush()
        [users, _] = await misses.store.records()
        assert users.closest is not None and users.closest["stub_id"] == "u1"
        assert [d["kind"] for d in users.closest["differences"]] == ["path segment"]
        stored = json.dumps({k.decode(): v.decode() for k, v in
                             (await redis.hgetall(keys.misses)).items()})  # fmt: skip
        assert "s3cr3t" not in stored and "Bearer" not in stored
        await redis.aclose()

    asyncio.run(scenario())


def test_a_burst_of_new_misses_is_looked_up_a_flush_at_a_time(redis_server):
    keys = RedisKeys(queue=f"test-misses-{uuid.uuid4().hex[:8]}")
    stubs = [{"id": "home", "request": {"method": "GET", "urlPath": "/home"}}]
    burst = MAX_LOOKUPS_PER_FLUSH + 5

    async def scenario() -> None:
        redis = aioredis.Redis.from_url(redis_server.url)
        misses = recorder(redis, keys, stubs, max_misses=1000)
        for n in range(burst):
            misses.offer(event("GET", f"/page-{chr(97 + n % 26)}/x{n // 26}"))
        await misses.flush()
        records = await misses.store.records()
        assert len(records) == burst
        pending = [r for r in records if r.closest_pending]
        assert len(pending) == 5 and all(r.closest is None for r in pending)
        assert all(r.closest and r.closest["stub_id"] == "home"
                   for r in records if not r.closest_pending)  # fmt: skip
        # When they recur, they are looked up.
        for record in pending:
            misses.offer(event("GET", record.path))
        await misses.flush()
        assert not [r for r in await misses.store.records() if r.closest_pending]
        await redis.aclose()

    asyncio.run(scenario())
