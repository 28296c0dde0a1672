"""The one-round-trip claim + XADD script against a real Redis."""

import asyncio

import pytest
from redis import asyncio as aioredis

from ext_proc_server.core import metrics
from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.errors import QueueError
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.core.queue_entries import decode_entry, encode_entry
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.pipeline import CapturePipeline, ClaimAndEnqueue, ReportSeen, default_stages

_BODIES = {200: b'{"ok":1}', 503: b'{"error":"unavailable"}', 201: b'{"ok":1,"extra":2}'}


def _answered(n: int, status: int, *, path: str) -> Exchange:
    """Exchange ``n`` of ``GET path`` answered ``status`` (201 stands for a second
    success shape: the same request, another answer)."""
    return Exchange(
        id=f"{status}-{n}",
        request=HttpRequest(method="GET", path=path, authority="api.example"),
        response=HttpResponse(
            status=status, headers=(("content-type", "application/json"),), body=_BODIES[status]
        ),
    )


async def _settled(replicas) -> None:
    """Until no replica holds a capture (at most 10 s)."""
    deadline = asyncio.get_running_loop().time() + 10
    while any(pipe.held for pipe in replicas):
        assert asyncio.get_running_loop().time() < deadline
        await asyncio.sleep(0.02)


def test_claim_and_enqueue_queues_each_new_hash_once(redis_server):
    keys = RedisKeys(queue="test:script:once")

    async def go():
        redis = aioredis.Redis.from_url(redis_server.url)
        try:
            script = ClaimAndEnqueue(redis, keys=keys, ttl_s=60)
            entries = [encode_entry({"n": n}, host=f"h{n}") for n in range(4)]
            # "b" twice in one batch: the second is a duplicate of the first.
            first = await script(["a", "b", "b", "c"], entries)
            # A later batch (another replica, or a retry) finds a, c claimed.
            second = await script(["c", "d", "a"], entries[:3])
            length = await redis.xlen(keys.stream)
            items = await redis.xrange(keys.stream)
            ttl = await redis.ttl(keys.dedup_claim("a"))
            return first, second, length, items, ttl
        finally:
            await redis.delete(keys.stream, *(keys.dedup_claim(h) for h in "abcd"))
            await redis.aclose()

    first, second, length, items, ttl = asyncio.run(go())
    assert first == [True, True, False, True]
    assert second == [False, True, False]
    assert length == 4
    decoded = [decode_entry(fields) for _, fields in items]
    assert decoded == [({"n": 0}, "h0"), ({"n": 1}, "h1"), ({"n": 3}, "h3"), ({"n": 1}, "h1")]
    assert 0 < ttl <= 60


def test_pipeline_writes_through_the_script_and_counts_dedup(redis_server):
    keys = RedisKeys(queue="test:script:pipeline")
    config = CollectorConfig(
        redis_url=redis_server.url, redis_queue=keys.queue, flush_interval=0.01, batch_size=50
    )
    unique = metrics.COLLECTOR_DEDUPLICATION.labels(result="unique")
    enqueued = metrics.COLLECTOR_ENQUEUED

    def exchange(n):
        return Exchange(
            id=str(n),
            request=HttpRequest(method="GET", path=f"/items/{n}", authority="api.example"),
            response=HttpResponse(
                status=200, headers=(("content-type", "application/json"),), body=b'{"ok":1}'
            ),
        )

    async def go():
        redis = aioredis.Redis.from_url(redis_server.url)
        try:
            stages = default_stages(config, redis=redis, keys=keys)
            assert stages.claim_and_enqueue is not None
            before = (unique._value.get(), enqueued._value.get())
            pipe = CapturePipeline(config, stages=stages)
            pipe.start()
            for n in (1, 2, 3, 2):
                assert pipe.submit(exchange(n))
            deadline = asyncio.get_running_loop().time() + 10
            while await redis.xlen(keys.stream) < 3 or pipe.held:
                assert asyncio.get_running_loop().time() < deadline
                await asyncio.sleep(0.02)
            await pipe.stop()
            after = (unique._value.get(), enqueued._value.get())
            mappings = [decode_entry(f)[0] for _, f in await redis.xrange(keys.stream)]
            return before, after, mappings
        finally:
            await redis.delete(keys.stream)
            async for key in redis.scan_iter(match=f"{keys.dedup_prefix}*"):
                await redis.delete(key)
            await redis.aclose()

    before, after, mappings = asyncio.run(go())
    assert sorted(m["request"]["urlPath"] for m in mappings) == ["/items/1", "/items/2", "/items/3"]
    assert after[0] - before[0] == 3
    assert after[1] - before[1] == 3


def test_report_seen_stamps_last_seen_and_adds_to_the_counts(redis_server):
    keys = RedisKeys(queue="test:script:seen")

    async def go():
        redis = aioredis.Redis.from_url(redis_server.url, decode_responses=True)
        try:
            report = ReportSeen(redis, keys=keys)
            await report({}, now_s=1.0)  # nothing to report: no write
            empty = await redis.exists(keys.last_seen, keys.seen_counts)
            held = [await report({"m1": 3, "m2": 1}, now_s=100.25)]
            await redis.set(keys.stub_state("m2"), "e")
            await redis.set(keys.stub_state("m3"), "o")
            held.append(await report({"m2": 4, "m3": 2}, now_s=200.5))
            last_seen = await redis.hgetall(keys.last_seen)
            return empty, last_seen, await redis.hgetall(keys.seen_counts), held
        finally:
            await redis.delete(keys.last_seen, keys.seen_counts)
            await redis.delete(keys.stub_state("m2"), keys.stub_state("m3"))
            await redis.aclose()

    empty, last_seen, counts, held = asyncio.run(go())
    assert empty == 0
    assert last_seen == {"m1": "100.250", "m2": "200.500", "m3": "200.500"}
    assert counts == {"m1": "3", "m2": "5", "m3": "2"}
    # m2's stub was last queued from an error answer, m3's from a success.
    assert held == [[], ["m2"]]


def test_report_seen_names_a_redis_failure():
    async def go():
        redis = aioredis.Redis(port=1, socket_connect_timeout=0.2)
        try:
            await ReportSeen(redis, keys=RedisKeys(queue="q"))({"m1": 1}, now_s=1.0)
        finally:
            await redis.aclose()

    with pytest.raises(QueueError, match="reporting 1 repeated mappings failed"):
        asyncio.run(go())


def test_a_success_back_after_an_error_is_queued_again_once_across_replicas(redis_server):
    """200, a 503 for a while, the 200 again: the 200 is queued again (it replaces the
    503's stub), once for two replicas sharing one Redis; the 503 and the 200 seen once
    more are not, and neither are two success shapes alternating (each queued once)."""
    keys = RedisKeys(queue="test:script:error-back")
    config = CollectorConfig(
        redis_url=redis_server.url, redis_queue=keys.queue, flush_interval=0.01, batch_size=50
    )

    async def go():
        redis = aioredis.Redis.from_url(redis_server.url)
        try:
            replicas = [
                CapturePipeline(config, stages=default_stages(config, redis=redis, keys=keys))
                for _ in range(2)
            ]
            for pipe in replicas:
                pipe.start()
            written = []
            for phase, status in enumerate((200, 503, 200, 503, 200, 201, 200, 201)):
                for pipe in replicas:  # both replicas see each phase twice
                    for n in range(2):
                        assert pipe.submit(_answered(10 * phase + n, status, path="/items/7"))
                await _settled(replicas)
                written.append(await redis.xlen(keys.stream))
            for pipe in replicas:
                await pipe.stop()
            entries = await redis.xrange(keys.stream)
            return written, [decode_entry(f)[0]["response"]["status"] for _, f in entries]
        finally:
            await redis.delete(keys.stream)
            for pattern in (f"{keys.dedup_prefix}*", f"{keys.queue}:stub-state:*"):
                async for key in redis.scan_iter(match=pattern):
                    await redis.delete(key)
            await redis.aclose()

    written, statuses = asyncio.run(go())
    assert written == [1, 2, 3, 3, 3, 4, 4, 4]
    assert statuses == [200, 503, 200, 201]


def test_a_replica_that_saw_only_the_success_queues_it_again_after_another_s_error(
    redis_server,
):
    """Replica A sees the 200, then a 503 (queued: the stub now answers 503). Replica B saw
    only the 200, and keeps seeing it as a repeat of a recorded exchange. When B reports
    those repeats, Redis tells it the stub was last queued from an error answer, and B's
    next 200 replaces the 503's stub, once; with the repeat claims shared in Redis."""
    keys = RedisKeys(queue="test:script:error-elsewhere")
    config = CollectorConfig(
        redis_url=redis_server.url,
        redis_queue=keys.queue,
        flush_interval=0.01,
        batch_size=50,
        dedup_key="a-key-every-replica-shares-0123456789",
    )

    def exchange(n: int, status: int) -> Exchange:
        return _answered(n, status, path="/items/9")

    async def go():
        redis = aioredis.Redis.from_url(redis_server.url)
        try:
            a, b = (
                CapturePipeline(config, stages=default_stages(config, redis=redis, keys=keys))
                for _ in range(2)
            )
            a.start()
            b.start()
            for n, pipe in enumerate((a, b, b)):
                assert pipe.submit(exchange(n, 200))
                await _settled([a, b])
            assert await redis.xlen(keys.stream) == 1
            for n in range(2):
                assert a.submit(exchange(10 + n, 503))
                await _settled([a, b])
            assert await redis.xlen(keys.stream) == 2
            # B keeps seeing the 200; it learns of the 503 at its next report.
            deadline = asyncio.get_running_loop().time() + 10
            n = 20
            while await redis.xlen(keys.stream) < 3:
                assert asyncio.get_running_loop().time() < deadline, "the 503 kept the stub"
                assert b.submit(exchange(n, 200))
                n += 1
                await _settled([a, b])
                await asyncio.sleep(0.03)
            for m in range(5):  # then both see it as recorded again
                for pipe in (a, b):
                    assert pipe.submit(exchange(100 + m, 200))
                await _settled([a, b])
                await asyncio.sleep(0.03)
            await a.stop()
            await b.stop()
            entries = await redis.xrange(keys.stream)
            return [decode_entry(f)[0]["response"]["status"] for _, f in entries]
        finally:
            async for key in redis.scan_iter(match=f"{keys.queue}*"):
                await redis.delete(key)
            await redis.aclose()

    assert asyncio.run(go()) == [200, 503, 200]
