"""One worker and bounded backlog per shard: a down shard holds back only its own items."""

from __future__ import annotations

import asyncio

import pytest

from tests.support.fake_wiremock import FakeWireMock
from tests.support.loader_rig import ORDERS_SHARD, FakeRedis, fake_loader, metric, queued

BACKLOG = "wiremock_loader_shard_backlog"


async def wait_until(check, *, timeout_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.005)


def shard_tasks() -> list[asyncio.Task]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("loader-shard-")]


def test_a_down_shard_holds_back_only_its_own_items():
    default, orders, redis = FakeWireMock(), FakeWireMock(), FakeRedis()
    orders.down_for = 10**6
    loader = fake_loader(redis, default, orders=orders)

    async def scenario() -> None:
        loader.workers.start()
        # Batch after batch mixes both shards; the orders WireMock refuses connections.
        for batch in range(5):
            await loader.workers.dispatch(
                [queued(batch * 10 + n, host="orders" if n % 2 else "api") for n in range(10)]
            )
        await wait_until(lambda: len(default.recorded) == 25)
        assert orders.recorded == {}
        assert metric(BACKLOG, shard=ORDERS_SHARD) >= 24
        orders.down_for = 0  # back: its backlog lands too, in order
        await wait_until(lambda: len(orders.recorded) == 25)
        loader.stop()
        await loader.workers.close(graceful=True)

    asyncio.run(scenario())
    assert sorted(redis.acked) == sorted(f"{n}-0" for n in range(50))
    assert redis.released == {} and redis.added == []
    assert metric(BACKLOG, shard=ORDERS_SHARD) == 0


def test_a_full_backlog_makes_reading_wait_and_stop_hands_everything_back():
    default, orders, redis = FakeWireMock(), FakeWireMock(), FakeRedis()
    orders.down_for = 10**6
    loader = fake_loader(redis, default, orders=orders, shard_backlog_items=4, claim_timeout_s=7)

    async def scenario() -> None:
        loader.workers.start()
        items = [queued(n, host="orders") for n in range(10)]
        dispatch = asyncio.create_task(loader.workers.dispatch(items))
        await asyncio.sleep(0.1)
        # Four queued, the fifth waits for room: the pump would read nothing more.
        assert not dispatch.done()
        assert metric(BACKLOG, shard=ORDERS_SHARD) == 4
        loader.stop()
        await asyncio.wait_for(dispatch, timeout=5)
        await asyncio.wait_for(loader.workers.close(graceful=True), timeout=5)

    asyncio.run(scenario())
    assert redis.acked == [] and orders.recorded == {}
    # Nothing lost: every item read is handed back, claimable at once by any replica.
    assert redis.released == {f"{n}-0": 7000 for n in range(10)}


def test_a_worker_failure_reaches_the_pump():
    default, orders, redis = FakeWireMock(), FakeWireMock(), FakeRedis()
    redis.failure = RuntimeError("redis gone")
    loader = fake_loader(redis, default, orders=orders)

    async def scenario() -> list[asyncio.Task]:
        loader.workers.start()
        assert len(shard_tasks()) == 2
        await loader.workers.dispatch([queued(1)])
        await wait_until(lambda: loader.workers.failure is not None)
        with pytest.raises(RuntimeError, match="redis gone"):
            loader.workers.check()
        await loader.workers.close(graceful=True)
        return shard_tasks()

    assert asyncio.run(scenario()) == []
    assert redis.acked == []
    assert len(default.recorded) == 1  # imported, then the ack failed: it stays pending
