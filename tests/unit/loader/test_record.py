"""Each shard's record: written with the ack of what landed, never with what WireMock refused."""

from __future__ import annotations

import asyncio
import json

import pytest

from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader import QueueItem, parse_entry
from ext_proc_server.loader.record import ShardRecord
from tests.support.fake_wiremock import FakeWireMock, mapping
from tests.support.loader_rig import ORDERS_SHARD, FakeRedis, fake_loader, queued

KEYS = RedisKeys(queue="mockado:mappings")


def record_of(redis: FakeRedis, shard: str = "default") -> dict[str, dict]:
    return {k: json.loads(v) for k, v in redis.hashes.get(KEYS.shard_record(shard), {}).items()}


def test_landed_stubs_are_recorded_per_shard_and_refused_ones_never():
    default, orders, redis = FakeWireMock(), FakeWireMock(), FakeRedis()
    loader = fake_loader(redis, default, orders=orders, retry_attempts=1)
    items = [queued(1), queued(2, bad=True), queued(3), queued(4, host="orders")]
    asyncio.run(loader.batches.load_batch(items))
    # The poison item was dead-lettered (acked too), but it is in no record.
    assert len(redis.added) == 1
    assert sorted(redis.acked) == ["1-0", "2-0", "3-0", "4-0"]
    assert record_of(redis) == {mapping(n)["id"]: mapping(n) for n in (1, 3)}
    assert record_of(redis, ORDERS_SHARD) == {mapping(4)["id"]: mapping(4)}
    # What WireMock holds is what the record says it should hold.
    assert default.recorded == record_of(redis)


def test_the_record_keeps_the_json_exactly_as_imported_and_a_replay_replaces_it():
    wiremock, redis = FakeWireMock(), FakeRedis()
    loader = fake_loader(redis, wiremock)
    # The queue's own text (key order, spacing) is what WireMock got and what is kept.
    text = '{"response": {"status": 200, "body": "v1"}, "id": "abc", "request": {"url": "/a"}}'
    first = parse_entry("1-0", {b"mapping": text.encode(), b"host": b"api"}, deliveries=1)
    asyncio.run(loader.batches.load_batch([first]))
    assert redis.hashes[KEYS.shard_record("default")] == {"abc": text}
    overwrite = QueueItem(
        "2-0", 1, host="api", mapping={**first.mapping, "response": {"status": 204}}
    )
    asyncio.run(loader.batches.load_batch([overwrite]))
    assert record_of(redis) == {"abc": {**first.mapping, "response": {"status": 204}}}


def test_budget_refusals_are_acked_but_not_recorded():
    wiremock, redis = FakeWireMock(), FakeRedis()
    # The catch-all and two recordings fill it.
    loader = fake_loader(redis, wiremock, max_stubs=3)

    async def scenario() -> None:
        await loader.shards["default"].seed()
        await loader.batches.load_batch([queued(n) for n in range(4)])

    asyncio.run(scenario())
    assert sorted(redis.acked) == ["0-0", "1-0", "2-0", "3-0"]
    assert sorted(record_of(redis)) == sorted(mapping(n)["id"] for n in (0, 1))


def test_a_failed_ack_records_nothing():
    wiremock, redis = FakeWireMock(), FakeRedis()
    redis.failure = RuntimeError("redis gone")
    loader = fake_loader(redis, wiremock)
    with pytest.raises(RuntimeError, match="redis gone"):
        asyncio.run(loader.batches.load_batch([queued(1)]))
    # Imported, but neither acked nor recorded: the item stays pending and is replayed.
    assert len(wiremock.recorded) == 1
    assert redis.acked == [] and redis.hashes == {}


def test_chunks_cover_the_record_once_in_batches_and_remove_drops_entries():
    redis = FakeRedis()
    redis.hashes[KEYS.shard_record("pay")] = {f"id-{n}": f'{{"n":{n}}}' for n in range(25)}
    record = ShardRecord(redis, keys=KEYS, lock_ttl_s=30)

    async def read() -> list[list[tuple[str, str]]]:
        return [chunk async for chunk in record.chunks("pay", size=10)]

    chunks = asyncio.run(read())
    assert [len(c) for c in chunks] == [10, 10, 5]
    assert (
        dict(pair for chunk in chunks for pair in chunk) == redis.hashes[KEYS.shard_record("pay")]
    )
    asyncio.run(record.remove("pay", ["id-3", "id-4"]))
    assert asyncio.run(record.size("pay")) == 23
