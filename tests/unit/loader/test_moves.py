"""A host the routing sends to another shard now: its recorded stubs follow it."""

from __future__ import annotations

import asyncio
import json

from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader import DEFAULT_SHARD
from ext_proc_server.loader.moves import stub_host
from ext_proc_server.mapping.priority import PRIORITY_SCALE, SCALE_KEY
from tests.support.fake_wiremock import FakeWireMock
from tests.support.loader_rig import ORDERS_SHARD, FakeRedis, fake_loader, metric, queued

KEYS = RedisKeys(queue="mockado:mappings")
MOVED = "wiremock_loader_stubs_moved_total"


def captured(n: int, host: str):
    """Held item n, a stub mockado wrote for ``host``."""
    item = queued(n, host=host)
    assert item.mapping is not None
    item.mapping["metadata"] = {
        "mockado": {"host": host, SCALE_KEY: PRIORITY_SCALE, "last_seen": 1000.0 + n}
    }
    return item


def _loaded_on_one_shard(redis: FakeRedis, default: FakeWireMock) -> None:
    """Stubs of "api" and "orders" loaded while every host went to the default shard."""
    before = fake_loader(redis, default)

    async def load() -> None:
        await before.shards[DEFAULT_SHARD].seed()
        await before.batches.load_batch(
            [captured(1, "api"), captured(2, "orders"), captured(3, "orders")]
        )

    asyncio.run(load())


def _ids(n: int) -> str:
    return queued(n).mapping_id


def test_a_host_routed_to_a_new_shard_takes_its_stubs_there() -> None:
    redis, default, orders = FakeRedis(), FakeWireMock(), FakeWireMock()
    _loaded_on_one_shard(redis, default)
    before = metric(MOVED, shard=ORDERS_SHARD)
    # The config now sends "orders" to a shard of its own.
    loader = fake_loader(redis, default, orders=orders)

    async def start() -> int:
        for shard in loader.shards.values():
            await shard.seed()
        return await loader.moves.move_all()

    assert asyncio.run(start()) == 2
    moved = {_ids(2), _ids(3)}
    assert set(orders.recorded) == moved
    assert set(default.recorded) == {_ids(1)}
    assert set(redis.hashes[KEYS.shard_record(ORDERS_SHARD)]) == moved
    assert set(redis.hashes[KEYS.shard_record(DEFAULT_SHARD)]) == {_ids(1)}
    # Their last_seen goes with them: stub_ttl_s expires them on their new shard.
    assert redis.hashes[KEYS.seen_index(ORDERS_SHARD)] == {_ids(2): 1002.0, _ids(3): 1003.0}
    assert set(redis.hashes[KEYS.seen_index(DEFAULT_SHARD)]) == {_ids(1)}
    # The stubs still exist: their claims stay.
    assert redis.dropped_keys == []
    assert not [stream for stream, _ in redis.added if stream == KEYS.removed_stubs]
    assert moved <= loader.shards[ORDERS_SHARD].known_ids
    assert not moved & loader.shards[DEFAULT_SHARD].known_ids
    assert metric(MOVED, shard=ORDERS_SHARD) == before + 2
    # Nothing is left to move.
    assert asyncio.run(loader.moves.move_all()) == 0


def test_stubs_wait_on_their_old_shard_while_the_new_one_is_down() -> None:
    redis, default, orders = FakeRedis(), FakeWireMock(), FakeWireMock()
    _loaded_on_one_shard(redis, default)
    loader = fake_loader(redis, default, orders=orders)
    orders.down_for = 1000

    assert asyncio.run(loader.moves.move_all()) == 0
    assert set(default.recorded) == {_ids(1), _ids(2), _ids(3)}
    assert len(redis.hashes[KEYS.shard_record(DEFAULT_SHARD)]) == 3
    assert not redis.hashes.get(KEYS.shard_record(ORDERS_SHARD))
    assert not loader.shards[ORDERS_SHARD].available

    orders.down_for = 0
    assert asyncio.run(loader.moves.move_all()) == 2
    assert set(orders.recorded) == {_ids(2), _ids(3)}
    assert set(default.recorded) == {_ids(1)}


def test_the_record_of_a_shard_the_config_no_longer_names_is_moved() -> None:
    redis, default, orders = FakeRedis(), FakeWireMock(), FakeWireMock()
    earlier = fake_loader(redis, default, orders=orders)

    async def load() -> None:
        for shard in earlier.shards.values():
            await shard.seed()
        await earlier.batches.load_batch([captured(1, "api"), captured(2, "orders")])

    asyncio.run(load())
    assert set(redis.hashes[KEYS.shard_record(ORDERS_SHARD)]) == {_ids(2)}
    # The orders shard is dropped from the config: "orders" goes to the default shard.
    loader = fake_loader(redis, default)

    assert asyncio.run(loader.moves.move_all()) == 1
    assert set(default.recorded) == {_ids(1), _ids(2)}
    assert set(redis.hashes[KEYS.shard_record(DEFAULT_SHARD)]) == {_ids(1), _ids(2)}
    assert not redis.hashes[KEYS.shard_record(ORDERS_SHARD)]
    assert set(redis.hashes[KEYS.seen_index(DEFAULT_SHARD)]) == {_ids(1), _ids(2)}


def test_a_stub_without_a_known_host_stays_where_it_is() -> None:
    redis, default, orders = FakeRedis(), FakeWireMock(), FakeWireMock()
    plain = fake_loader(redis, default)
    asyncio.run(plain.batches.load_batch([queued(4, host="orders")]))
    loader = fake_loader(redis, default, orders=orders)

    assert asyncio.run(loader.moves.move_all()) == 0
    assert set(default.recorded) == {_ids(4)}
    assert set(redis.hashes[KEYS.shard_record(DEFAULT_SHARD)]) == {_ids(4)}


def test_stub_host_reads_the_captured_host() -> None:
    assert stub_host(json.dumps(captured(1, "orders").mapping)) == "orders"
    assert stub_host(json.dumps(queued(1).mapping)) is None
    assert stub_host("not json") is None
    assert stub_host("[1]") is None


def test_a_newer_capture_on_the_new_shard_is_not_replaced_by_the_moved_stub() -> None:
    redis, default, orders = FakeRedis(), FakeWireMock(), FakeWireMock()
    _loaded_on_one_shard(redis, default)
    loader = fake_loader(redis, default, orders=orders)
    newer = captured(2, "orders")
    assert newer.mapping is not None
    newer.mapping["response"]["body"] = "item 2, captured again"
    # The new routing landed a newer capture of stub 2 before the move ran.
    asyncio.run(loader.batches.load_batch([newer]))

    assert asyncio.run(loader.moves.move_all()) == 2
    assert orders.recorded[_ids(2)]["response"]["body"] == "item 2, captured again"
    recorded = json.loads(redis.hashes[KEYS.shard_record(ORDERS_SHARD)][_ids(2)])
    assert recorded["response"]["body"] == "item 2, captured again"
    assert set(orders.recorded) == {_ids(2), _ids(3)}
    assert set(default.recorded) == {_ids(1)}
    assert set(redis.hashes[KEYS.shard_record(DEFAULT_SHARD)]) == {_ids(1)}
