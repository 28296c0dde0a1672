"""The keeper beside each WireMock (``mockado keep-shard``): its pod is Ready only once
its WireMock holds the shard's record, and stays Ready while it serves."""

from __future__ import annotations

import asyncio
import json
import logging

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from ext_proc_server.core.config import load_config
from ext_proc_server.core.errors import ConfigError
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader import ShardKeeper
from ext_proc_server.mapping.catch_all import catch_all_id
from tests.support.fake_wiremock import FakeWireMock, mapping
from tests.support.loader_rig import FakeRedis

KEYS = RedisKeys(queue="mockado:mappings")
ORDERS_URL = "http://wm-orders:8080"


def keeper_on(redis: FakeRedis, wiremock: FakeWireMock, *, shard: str = "orders") -> ShardKeeper:
    """The keeper of the ``orders`` shard (serving.shard_groups), on fakes."""
    config = load_config(env={}, overrides={
        "serving.shard_groups": {"orders": ["orders.*"]},
        "loader.shards": [{"host": "orders.*", "wiremock_url": ORDERS_URL}],
    })  # fmt: skip
    return ShardKeeper(
        config, shard=shard, wiremock_url="http://127.0.0.1:8080", redis=redis,
        client=wiremock.client(),
    )  # fmt: skip


def recorded(redis: FakeRedis, count: int, *, shard: str = "orders") -> list[dict]:
    """``count`` stubs the loader landed on the shard: its record."""
    stubs = [mapping(n) for n in range(count)]
    redis.hashes[KEYS.shard_record(shard)] = {m["id"]: json.dumps(m) for m in stubs}
    return stubs


def check(keeper: ShardKeeper) -> str:
    return asyncio.run(keeper.check()).value


def test_a_new_wiremock_is_ready_only_once_it_holds_the_record_and_its_catch_all():
    redis, wiremock = FakeRedis(), FakeWireMock()
    stubs = recorded(redis, 30)
    keeper = keeper_on(redis, wiremock)
    assert keeper.ready is False  # an empty WireMock's open port proves nothing
    assert check(keeper) == "reloaded"
    assert keeper.ready is True
    assert sorted(wiremock.recorded) == sorted(m["id"] for m in stubs)
    assert catch_all_id("orders") in wiremock.stubs
    assert asyncio.run(keeper.ready_check()) == {"shard_loaded": True}
    assert check(keeper) == "whole"


def test_an_empty_record_still_needs_the_catch_all_before_ready():
    redis, wiremock = FakeRedis(), FakeWireMock()
    keeper = keeper_on(redis, wiremock)
    assert check(keeper) == "reloaded"
    assert keeper.ready is True
    assert list(wiremock.stubs) == [catch_all_id("orders")]


def test_a_wiremock_restarted_in_its_pod_is_not_ready_until_it_holds_the_shard_again():
    redis, wiremock = FakeRedis(), FakeWireMock()
    recorded(redis, 5)
    keeper = keeper_on(redis, wiremock)
    check(keeper)
    wiremock.restart()
    wiremock.down_for = 1  # the JVM is starting: the port does not answer yet
    assert check(keeper) == "down"
    assert keeper.ready is False
    # Another replica holds the reload lock: still empty, still not ready.
    redis.locks[KEYS.resync_lock("orders")] = "someone-else"
    assert check(keeper) == "emptied"
    assert keeper.ready is False
    del redis.locks[KEYS.resync_lock("orders")]
    assert check(keeper) == "reloaded"
    assert keeper.ready is True and len(wiremock.recorded) == 5


def test_a_wiremock_still_starting_beside_it_is_no_outage_in_the_log(caplog):
    redis, wiremock = FakeRedis(), FakeWireMock()
    recorded(redis, 2)
    keeper = keeper_on(redis, wiremock)
    wiremock.down_for = 3
    with caplog.at_level(logging.INFO, logger="ext_proc_server.loader"):
        assert [check(keeper) for _ in range(4)] == ["down", "down", "down", "reloaded"]
    assert not [
        r for r in caplog.records if r.levelno >= logging.WARNING and "unavailable" in r.message
    ]
    assert any("wiremock shard orders back after" in r.message for r in caplog.records)
    # Once it answered, losing it is an outage again.
    wiremock.down_for = 1
    with caplog.at_level(logging.WARNING, logger="ext_proc_server.loader"):
        assert check(keeper) == "down"
    assert any("wiremock shard orders unavailable" in r.message for r in caplog.records)


def test_a_serving_wiremock_that_lags_its_record_stays_ready():
    redis, wiremock = FakeRedis(), FakeWireMock()
    stubs = recorded(redis, 5)
    keeper = keeper_on(redis, wiremock)
    check(keeper)
    del wiremock.stubs[stubs[0]["id"]]
    redis.locks[KEYS.resync_lock("orders")] = "someone-else"
    assert check(keeper) == "short"
    assert keeper.ready is True  # the only pod of the shard keeps serving
    del redis.locks[KEYS.resync_lock("orders")]
    assert check(keeper) == "reloaded"
    assert stubs[0]["id"] in wiremock.stubs


def test_redis_not_answering_changes_nothing():
    redis, wiremock = FakeRedis(), FakeWireMock()
    recorded(redis, 3)
    keeper = keeper_on(redis, wiremock)
    redis.failure = RedisConnectionError("redis gone")
    assert check(keeper) == "unknown"
    assert keeper.ready is False  # a pod waiting for its stubs keeps waiting
    redis.failure = None
    check(keeper)
    redis.failure = RedisConnectionError("redis gone")
    assert check(keeper) == "unknown"
    assert keeper.ready is True  # a pod that serves keeps serving


def test_the_keeper_runs_until_stop_and_checks_at_once():
    redis, wiremock = FakeRedis(), FakeWireMock()
    recorded(redis, 4)
    keeper = keeper_on(redis, wiremock)

    async def scenario() -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(keeper.run(stop))
        while not keeper.ready:
            await asyncio.sleep(0.01)
        stop.set()
        await asyncio.wait_for(running, timeout=5)

    asyncio.run(scenario())
    assert len(wiremock.recorded) == 4


def test_a_shard_the_loader_does_not_have_is_refused_by_name():
    with pytest.raises(
        ConfigError, match=r"--shard 'ordres': not one of the loader's shards \(default, orders\)"
    ):
        keeper_on(FakeRedis(), FakeWireMock(), shard="ordres")
