"""The bounded buffer and its workers: batches, bounds, retries, shutdown."""

import asyncio
import dataclasses

from ext_proc_server.core import metrics
from ext_proc_server.core.errors import QueueError
from ext_proc_server.mapping.stubs import mapping_id
from ext_proc_server.pipeline import CapturePipeline
from tests.unit.pipeline.pipeline_helpers import FakeRedis, cfg, dropped, exchange, stages, wait_for


def test_exchanges_reach_redis_once_each():
    async def go():
        redis = FakeRedis()
        pipe = CapturePipeline(cfg(), stages=stages(redis))
        pipe.start()
        for n in range(25):
            assert pipe.submit(exchange(f"/p{n}"))
        assert pipe.submit(exchange("/p3"))  # a local duplicate: never written twice
        await wait_for(lambda: len(redis.entries) == 25 and pipe.held == 0)
        await pipe.stop()
        return redis

    redis = asyncio.run(go())
    assert sorted(e["host"] for e in redis.entries) == ["api.example"] * 25
    assert len({e["mapping"] for e in redis.entries}) == 25


def test_buffer_full_drops_and_counts_never_blocks():
    async def go():
        redis = FakeRedis()
        redis.down = True
        pipe = CapturePipeline(cfg(buffer_size=20), stages=stages(redis))
        pipe.start()
        before = dropped("buffer_full")
        accepted = sum(pipe.submit(exchange(f"/p{n}")) for n in range(50))
        await asyncio.sleep(0.1)
        accepted += sum(pipe.submit(exchange(f"/q{n}")) for n in range(50))
        assert pipe.held <= 20
        assert accepted == 20
        assert dropped("buffer_full") - before == 80
        assert pipe.redis_failing
        # Redis comes back: what was accepted is flushed without help.
        redis.down = False
        await wait_for(lambda: len(redis.entries) == 20 and pipe.held == 0)
        assert not pipe.redis_failing
        # ... and new captures flow again.
        assert pipe.submit(exchange("/after"))
        await wait_for(lambda: len(redis.entries) == 21)
        await pipe.stop()

    asyncio.run(go())


def test_claimed_batches_are_not_reclaimed_when_enqueue_fails():
    """A claim that succeeded is not retried (it would then say "duplicate" and lose
    the capture): only the failed XADD step is."""

    async def go():
        redis = FakeRedis()
        failures = {"n": 2}
        real_enqueue = redis.enqueue

        async def flaky_enqueue(entries):
            if failures["n"]:
                failures["n"] -= 1
                raise QueueError("redis: timeout")
            await real_enqueue(entries)

        st = stages(redis)
        st = dataclasses.replace(st, enqueue=flaky_enqueue)
        pipe = CapturePipeline(cfg(), stages=st)
        pipe.start()
        for n in range(5):
            pipe.submit(exchange(f"/c{n}"))
        await wait_for(lambda: len(redis.entries) == 5, timeout_s=10)
        await pipe.stop()

    asyncio.run(go())


def test_stop_flushes_what_is_held_then_counts_the_rest():
    async def go():
        redis = FakeRedis()
        pipe = CapturePipeline(cfg(flush_interval=0.5), stages=stages(redis))
        pipe.start()
        for n in range(7):
            pipe.submit(exchange(f"/s{n}"))
        await pipe.stop(drain_timeout_s=3)
        assert len(redis.entries) == 7
        assert not pipe.submit(exchange("/late"))

        redis2 = FakeRedis()
        redis2.down = True
        pipe2 = CapturePipeline(cfg(), stages=stages(redis2))
        pipe2.start()
        for n in range(4):
            pipe2.submit(exchange(f"/d{n}"))
        before = dropped("shutdown")
        await pipe2.stop(drain_timeout_s=0.3)
        # Accepted, never written: counted apart from Redis errors.
        assert dropped("shutdown") - before == 4
        assert pipe2.held == 0

    asyncio.run(go())


def test_queue_size_gauge_tracks_what_is_held():
    async def go():
        redis = FakeRedis()
        redis.down = True
        pipe = CapturePipeline(cfg(), stages=stages(redis))
        for n in range(3):
            pipe.submit(exchange(f"/g{n}"))
        assert metrics.COLLECTOR_QUEUE_SIZE._value.get() == 3
        await pipe.stop(drain_timeout_s=0.1)
        assert metrics.COLLECTOR_QUEUE_SIZE._value.get() == 0

    asyncio.run(go())


def test_combined_claim_and_enqueue_is_one_call_per_batch_and_retried():
    async def go():
        redis = FakeRedis()
        calls = {"n": 0, "fail": 1}

        async def combined(hashes, entries, seen=(), stubs=()):
            calls["n"] += 1
            if calls["fail"]:
                calls["fail"] -= 1
                raise QueueError("redis: timeout")
            claimed = await redis.claim(hashes)
            await redis.enqueue([e for e, ok in zip(entries, claimed, strict=True) if ok])
            return claimed

        st = stages(redis)
        st = dataclasses.replace(st, claim_and_enqueue=combined)
        pipe = CapturePipeline(cfg(batch_size=50, flush_interval=0.05), stages=st)
        before = metrics.COLLECTOR_ENQUEUED._value.get()
        for n in range(6):
            pipe.submit(exchange(f"/k{n}"))
        pipe.start()
        await wait_for(lambda: len(redis.entries) == 6 and pipe.held == 0, timeout_s=10)
        await pipe.stop()
        return redis, calls, metrics.COLLECTOR_ENQUEUED._value.get() - before

    redis, calls, enqueued = asyncio.run(go())
    assert calls["n"] == 2  # the failed attempt, then one call for the whole batch
    assert sorted(e["host"] for e in redis.entries) == ["api.example"] * 6
    assert enqueued == 6


def test_duplicates_found_after_sanitizing_are_reported_as_seen_again():
    redis, reported = FakeRedis(), []

    async def seen_again(counts):
        reported.append(dict(counts))

    async def go():
        wired = dataclasses.replace(stages(redis), seen_again=seen_again)
        pipe = CapturePipeline(cfg(), stages=wired)
        pipe.start()
        for _ in range(3):  # the first is queued, the next two are local duplicates
            assert pipe.submit(exchange("/a"))
        redis.claimed.add("/b")  # another replica recorded /b: its claim fails here
        assert pipe.submit(exchange("/b"))
        await wait_for(lambda: pipe.held == 0 and reported)
        await pipe.stop()

    asyncio.run(go())
    totals = {}
    for counts in reported:
        for stub_id, count in counts.items():
            totals[stub_id] = totals.get(stub_id, 0) + count
    assert totals == {mapping_id("/a"): 2, mapping_id("/b"): 1}
    assert len(redis.entries) == 1


def test_a_batch_is_sanitized_whole_before_any_of_it_is_mapped():
    """One step at a time over a batch (its code stays in the CPU caches); a dropped
    exchange leaves the others of its batch to be mapped and written."""
    steps = []

    def sanitize(ex):
        steps.append(("sanitize", ex.request.path))
        if ex.request.path == "/p2":
            return ex  # not marked sanitized: dropped, counted as unsanitizable
        return ex.replace(sanitized=True)

    async def go():
        redis = FakeRedis()
        wired = stages(redis, sanitize=sanitize)
        mapped = wired.build_mapping
        wired = dataclasses.replace(
            wired,
            build_mapping=lambda keyed: steps.append(("map", keyed.dedup_hash)) or mapped(keyed),
        )
        pipe = CapturePipeline(cfg(batch_size=5, async_workers=1), stages=wired)
        before = dropped("unsanitizable")
        for n in range(5):
            assert pipe.submit(exchange(f"/p{n}"))
        pipe.start()
        await wait_for(lambda: len(redis.entries) == 4 and pipe.held == 0)
        await pipe.stop()
        assert dropped("unsanitizable") - before == 1
        return redis

    redis = asyncio.run(go())
    kinds = [kind for kind, _ in steps]
    assert kinds == ["sanitize"] * 5 + ["map"] * 4
    assert [path for kind, path in steps if kind == "map"] == ["/p0", "/p1", "/p3", "/p4"]
    assert len({e["mapping"] for e in redis.entries}) == 4
