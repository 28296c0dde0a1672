"""Claims of requests the loader did not record, with real Redis and a real WireMock: a
request the stub budget refused is recorded again once its shard has room (and only as
many as fit), a dead-lettered one once its hold is over; neither floods the queue
meanwhile."""

from __future__ import annotations

import asyncio
import time
import uuid

import pytest
from redis import asyncio as aioredis

from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader.held_claims import DEAD_LETTER_HOLD_S, HeldClaims
from ext_proc_server.mapping.dedup import claim_batch
from tests.support.loader_rig import (
    POISON,
    LoaderThread,
    config_for,
    enqueue,
    ids_in,
    queue_done,
    stub,
    wait_for,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def queue() -> str:
    return f"test-held-{uuid.uuid4().hex[:8]}"


def _claim(url: str, keys: RedisKeys, pairs: list[tuple[str, str]]) -> list[bool]:
    """Claim (dedup hash, stub id) pairs as a collector does before queueing:
    True where the request would be queued."""

    async def go() -> list[bool]:
        redis = aioredis.Redis.from_url(url)
        try:
            return await claim_batch(
                redis, keys=keys, hashes=[h for h, _ in pairs], ttl_s=86400,
                stubs=[(stub_id, False) for _, stub_id in pairs],
            )  # fmt: skip
        finally:
            await redis.aclose()

    return asyncio.run(go())


def _removed_ids(rclient, keys: RedisKeys) -> set[str]:
    return {
        stub_id
        for _, fields in rclient.xrange(keys.removed_stubs)
        for stub_id in fields[b"ids"].decode().split()
    }


def test_a_request_the_budget_refused_is_recorded_again_once_its_shard_has_room(
    redis_server, wm, rclient, queue
):
    keys = RedisKeys(queue=queue)
    stubs = [stub(n, run=queue) for n in range(4)]
    pairs = [(f"hash-{n}", m["id"]) for n, m in enumerate(stubs)]
    # The collector claimed each request when it queued it.
    assert _claim(redis_server.url, keys, pairs) == [True] * 4
    enqueue(redis_server.url, queue, stubs)

    # Room for two stubs beside the catch-all: the last two are refused.
    with LoaderThread(config_for(redis_server.url, wm.url, queue, max_stubs=3)):
        wait_for(queue_done(rclient, queue), what="queue drained")
    assert sorted(ids_in(wm.url)) == sorted(m["id"] for m in stubs[:2])
    # While the shard is full their captures are still taken as recorded: no flood.
    assert _claim(redis_server.url, keys, pairs[2:]) == [False, False]

    # The operator raises max_stubs by one: one refused request (the oldest) is let go.
    with LoaderThread(config_for(redis_server.url, wm.url, queue, max_stubs=4)):
        wait_for(lambda: stubs[2]["id"] in _removed_ids(rclient, keys), timeout_s=20,
                 what="the oldest refusal let go")  # fmt: skip
    assert rclient.exists(keys.stub_state(stubs[3]["id"])) == 1
    assert _removed_ids(rclient, keys) == {stubs[2]["id"]}
    # Its next capture is queued again (once); the other one still waits for room.
    assert _claim(redis_server.url, keys, pairs[2:]) == [True, False]
    assert _claim(redis_server.url, keys, pairs[2:3]) == [False]


def test_a_dead_lettered_request_is_recorded_again_once_its_hold_is_over(
    redis_server, wm, rclient, queue
):
    keys = RedisKeys(queue=queue)
    pair = ("hash-poison", POISON["id"])
    assert _claim(redis_server.url, keys, [pair]) == [True]
    enqueue(redis_server.url, queue, [POISON])
    before_s = time.time()
    with LoaderThread(config_for(redis_server.url, wm.url, queue, retry_attempts=1)):
        wait_for(lambda: rclient.xlen(keys.dead_letter) == 1, what="dead-lettered")
    # Held: its next captures are taken as recorded (WireMock would refuse them again).
    assert _claim(redis_server.url, keys, [pair]) == [False]
    release_at = rclient.zscore(keys.dead_lettered_stubs, POISON["id"])
    assert release_at is not None
    assert before_s + DEAD_LETTER_HOLD_S <= release_at <= time.time() + DEAD_LETTER_HOLD_S

    async def one_round(now_s: float) -> int:
        redis = aioredis.Redis.from_url(redis_server.url)
        held = HeldClaims(
            redis, keys=keys, shards={}, max_stubs=10, stop=asyncio.Event(),
            clock=lambda: now_s,
        )  # fmt: skip
        try:
            return await held.release()
        finally:
            await redis.aclose()

    assert asyncio.run(one_round(release_at - 1)) == 0
    assert _claim(redis_server.url, keys, [pair]) == [False]
    assert asyncio.run(one_round(release_at + 1)) == 1
    assert _removed_ids(rclient, keys) == {POISON["id"]}
    assert rclient.zcard(keys.dead_lettered_stubs) == 0
    # Recorded again at its next capture, once.
    assert _claim(redis_server.url, keys, [pair]) == [True]
    assert _claim(redis_server.url, keys, [pair]) == [False]
