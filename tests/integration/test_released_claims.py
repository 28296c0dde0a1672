"""Claims of a stub the loader removed, against a real Redis: the dedup and repeat claims
stop saying "already recorded" for every replica, a replica's in-process memory of the
stub goes within a read of the log of removed stubs, and a stub retired when its repeats
are stamped lets go of its claims."""

from __future__ import annotations

import asyncio
import dataclasses
import json

from redis import asyncio as aioredis

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.core.queue_entries import decode_entry, encode_entry
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader.aging import StubAging
from ext_proc_server.loader.claims import release_claims
from ext_proc_server.loader.shards import Shard
from ext_proc_server.mapping.dedup import claim_batch
from ext_proc_server.mapping.removals import READ_EVERY_S
from ext_proc_server.pipeline import CapturePipeline, ClaimAndEnqueue, default_stages
from ext_proc_server.pipeline.queue_writer import RepeatClaims
from tests.support.fake_wiremock import FakeWireMock

SECRET = "sk_live_51HqQ7a2eZvKYlo2C9xW3"


def _exchange(n: int) -> Exchange:
    return Exchange(
        id=str(n),
        request=HttpRequest(
            method="GET",
            path="/accounts/7",
            authority="api.example",
            headers=(("authorization", f"Bearer {SECRET}"),),
        ),
        response=HttpResponse(
            status=200, headers=(("content-type", "application/json"),), body=b'{"ok":1}'
        ),
    )


async def _release(redis: aioredis.Redis, keys: RedisKeys, stub_id: str) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        release_claims(pipe, keys=keys, mapping_ids=[stub_id])
        await pipe.execute()


async def _drop(redis: aioredis.Redis, keys: RedisKeys) -> None:
    async for key in redis.scan_iter(match=f"{keys.queue}:*"):
        await redis.delete(key)


def test_the_claims_without_the_script_hold_a_stub_only_while_it_exists(redis_server):
    keys = RedisKeys(queue="test:released:claims")

    async def go():
        redis = aioredis.Redis.from_url(redis_server.url)

        async def claim(dedup_hash: str, stub: str, *, error: bool = False) -> bool:
            stubs = [(stub, error)]
            return (
                await claim_batch(redis, keys=keys, hashes=[dedup_hash], ttl_s=60, stubs=stubs)
            )[0]

        try:
            out = [await claim("h1", "stub-1"), await claim("h1", "stub-1")]
            ttl = (
                await redis.ttl(keys.dedup_claim("h1")),
                await redis.ttl(keys.stub_state("stub-1")),
            )
            await _release(redis, keys, "stub-1")
            out += [await claim("h1", "stub-1"), await claim("h1", "stub-1")]
            # An error answer holds no stub: its success is claimed again, once.
            out += [await claim("h2", "stub-2", error=True), await claim("h2", "stub-2")]
            out += [await claim("h2", "stub-2"), await claim("h2", "stub-2", error=True)]
            # One batch: the second item of a hash is a duplicate of the first.
            both = await claim_batch(
                redis, keys=keys, hashes=["h3", "h3"], ttl_s=60,
                stubs=[("stub-3", False), ("stub-3", False)],
            )  # fmt: skip
            return out, ttl, both
        finally:
            await _drop(redis, keys)
            await redis.aclose()

    out, ttl, both = asyncio.run(go())
    assert out[:2] == [True, False]
    assert all(0 < left <= 60 for left in ttl)
    # Released: the next capture is claimed (and queued) again, once.
    assert out[2:4] == [True, False]
    assert out[4:] == [True, True, False, False]
    assert both == [True, False]


def test_a_released_stub_s_claims_no_longer_hold_it(redis_server):
    keys = RedisKeys(queue="test:released:script")

    async def go():
        redis = aioredis.Redis.from_url(redis_server.url)
        try:
            script = ClaimAndEnqueue(redis, keys=keys, ttl_s=60)
            lookup = RepeatClaims(redis, keys=keys)
            entry = [encode_entry({"n": 1}, host="api")]
            item = {"seen": [("r1", "f1:stub-1")], "stubs": [("stub-1", False)]}
            out = [await script(["h1"], entry, **item), await script(["h1"], entry, **item)]
            out.append(await lookup(["r1", "r2"]))
            await _release(redis, keys, "stub-1")
            out.append(await lookup(["r1"]))
            out += [await script(["h1"], entry, **item), await script(["h1"], entry, **item)]
            out.append(await lookup(["r1"]))
            log = [fields for _, fields in await redis.xrange(keys.removed_stubs)]
            return out, await redis.xlen(keys.stream), log
        finally:
            await _drop(redis, keys)
            await redis.aclose()

    out, queued, log = asyncio.run(go())
    assert out[:3] == [[True], [False], [b"f1:stub-1", None]]
    # Released: the repeat claim says nothing, and the next capture is queued again, once.
    assert out[3:] == [[None], [True], [False], [b"f1:stub-1"]]
    assert queued == 2
    assert log == [{b"ids": b"stub-1"}]


def test_every_replica_records_a_removed_stub_again_at_its_next_capture(redis_server):
    """Replica A records the request; replica B takes it as recorded from A's repeat claim
    and remembers it. The loader removes the stub: B's next capture is queued again (once),
    and A takes it as recorded again from B's claim."""
    keys = RedisKeys(queue="test:released:replicas")
    config = CollectorConfig(
        redis_url=redis_server.url, redis_queue=keys.queue, flush_interval=0.01,
        batch_size=50, dedup_key="k" * 32,
    )  # fmt: skip

    async def go():
        redis = aioredis.Redis.from_url(redis_server.url)
        replicas = [
            CapturePipeline(config, stages=default_stages(config, redis=redis, keys=keys))
            for _ in range(2)
        ]
        try:
            for pipe in replicas:
                pipe.start()
            written, n = [], 0
            for turn in ("a", "b", "b", "release", "b", "a", "b"):
                if turn == "release":
                    stub_id = decode_entry((await redis.xrange(keys.stream))[0][1])[0]["id"]
                    await _release(redis, keys, stub_id)
                    await asyncio.sleep(READ_EVERY_S + 1.0)  # one read of the log, at least
                    continue
                n += 1
                assert replicas["ab".index(turn)].submit(_exchange(n))
                while any(pipe.held for pipe in replicas):
                    await asyncio.sleep(0.01)
                written.append(await redis.xlen(keys.stream))
            values = [v async for k in redis.scan_iter(match=f"{keys.queue}:*")
                      for v in [await redis.dump(k)]]  # fmt: skip
            return written, values
        finally:
            for pipe in replicas:
                await pipe.stop()
            await _drop(redis, keys)
            await redis.aclose()

    written, values = asyncio.run(go())
    assert written == [1, 1, 1, 2, 2, 2]
    # Nothing raw in Redis: the secret was sanitized, the log holds mapping ids.
    assert not any(SECRET.encode() in value for value in values if value)


def test_without_the_script_a_removed_stub_is_recorded_again_at_its_next_capture(redis_server):
    """The two-round-trip path (claims, then XADDs) lets go of a removed stub as the
    one-round-trip script does."""
    keys = RedisKeys(queue="test:released:two-trips")
    config = CollectorConfig(
        redis_url=redis_server.url, redis_queue=keys.queue, flush_interval=0.01, batch_size=50
    )

    async def go():
        redis = aioredis.Redis.from_url(redis_server.url)
        stages = default_stages(config, redis=redis, keys=keys)
        pipe = CapturePipeline(config, stages=dataclasses.replace(stages, claim_and_enqueue=None))
        try:
            pipe.start()
            written = []
            for n, turn in enumerate(("capture", "capture", "release", "capture", "capture")):
                if turn == "release":
                    stub_id = decode_entry((await redis.xrange(keys.stream))[0][1])[0]["id"]
                    await _release(redis, keys, stub_id)
                    await asyncio.sleep(READ_EVERY_S + 1.0)  # one read of the log, at least
                    continue
                assert pipe.submit(_exchange(n))
                while pipe.held:
                    await asyncio.sleep(0.01)
                written.append(await redis.xlen(keys.stream))
            return written
        finally:
            await pipe.stop()
            await _drop(redis, keys)
            await redis.aclose()

    assert asyncio.run(go()) == [1, 1, 2, 2]


def test_an_old_stub_retired_when_its_repeats_are_stamped_releases_its_claims(redis_server):
    """The loader stamps a recorded stub's repeats by importing it again: an old-format
    stub that cannot be made faithful is retired there, out of the record, its claims
    let go; the others are stamped."""
    keys = RedisKeys(queue="test:released:aging")
    wiremock = FakeWireMock()
    current = {"id": "listing", "request": {"method": "GET", "urlPath": "/listing"},
               "response": {"status": 200},
               "metadata": {"mockado": {"priority_scale": 2, "first_seen": 1.0}}}  # fmt: skip
    upload = {"id": "upload", "request": {"method": "POST", "urlPath": "/upload"},
              "response": {"status": 200}, "metadata": {"mockado": {"first_seen": 1.0}}}  # fmt: skip

    async def go():
        redis = aioredis.Redis.from_url(redis_server.url)
        try:
            record = keys.shard_record("default")
            await redis.hset(record, mapping={m["id"]: json.dumps(m) for m in (current, upload)})
            await redis.hset(keys.last_seen, mapping={"listing": "5.0", "upload": "5.0"})
            for stub_id in ("listing", "upload"):
                await redis.set(keys.stub_state(stub_id), "o")
            async with wiremock.client() as client:
                aging = StubAging(
                    redis, keys=keys, shards={"default": Shard(name="default", client=client)},
                    ttl_s=None, interval_s=1.0, batch_size=10, stop=asyncio.Event(),
                )  # fmt: skip
                stamped = await aging.stamp_repeats()
            states = [await redis.exists(keys.stub_state(i)) for i in ("listing", "upload")]
            log = [fields for _, fields in await redis.xrange(keys.removed_stubs)]
            indexed = await redis.zrange(keys.seen_index("default"), 0, -1)
            return stamped, sorted(await redis.hkeys(record)), states, log, indexed
        finally:
            await _drop(redis, keys)
            await redis.aclose()

    stamped, recorded, states, log, indexed = asyncio.run(go())
    assert stamped == 1
    assert recorded == [b"listing"] and indexed == [b"listing"]
    assert set(wiremock.recorded) == {"listing"}
    assert states == [1, 0]
    assert log == [{b"ids": b"upload"}]
