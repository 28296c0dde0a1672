"""A new shard's keeper, with real Redis and two real WireMocks: its pod turns Ready only
once its WireMock holds the stubs other shards' records keep for its hosts, since the
loader can move them only through the shard's Service (Ready pods only)."""

from __future__ import annotations

import asyncio
import uuid

import httpx
import pytest

from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader import DEFAULT_SHARD, Loader
from ext_proc_server.loader.keeper import ShardKeeper
from ext_proc_server.loader.resync import Holding
from ext_proc_server.mapping.priority import PRIORITY_SCALE, SCALE_KEY
from tests.support.loader_rig import (
    LoaderThread,
    config_for,
    enqueue,
    ids_in,
    keeper_check,
    metric,
    queue_done,
    stub,
    wait_for,
)

pytestmark = pytest.mark.integration

ORDERS_SHARD = "shard-1"
# mockado_serving_requests_total{answer}: the stub that answered.
ANSWERS = ("recorded", "catch_all", "passthrough")


def captured(n: int, *, run: str, host: str) -> dict:
    mapping = stub(n, run=run)
    mapping["metadata"] = {"mockado": {"host": host, SCALE_KEY: PRIORITY_SCALE}}
    return mapping


def served() -> dict[str, float]:
    """The default shard's served counts, by answer."""
    return {a: metric("mockado_serving_requests_total", shard=DEFAULT_SHARD, answer=a)
            for a in ANSWERS}  # fmt: skip


def call(url: str, times: int, status: int) -> None:
    for _ in range(times):
        assert httpx.get(url, timeout=10).status_code == status


async def served_after_reload(keeper: ShardKeeper, base_url: str, *, item: int) -> dict:
    """The keeper puts an emptied WireMock's stubs back; then one hit on recorded ``item``
    and one miss, and the served counts after its next round."""
    assert await keeper.check() is Holding.RELOADED
    call(f"{base_url}/item/{item}", 1, 200)
    call(f"{base_url}/never-recorded", 1, 404)
    await keeper.check()
    return served()


def loaded_queue(redis_server, rclient, wiremock_url: str):
    """Two recorded stubs loaded into ``wiremock_url`` -> (queue, loader config)."""
    queue = f"test-served-{uuid.uuid4().hex[:8]}"
    enqueue(redis_server.url, queue, [stub(i, run=queue) for i in range(2)])
    config = config_for(redis_server.url, wiremock_url, queue)
    with LoaderThread(config):
        wait_for(queue_done(rclient, queue), what="queue drained")
    return queue, config


def test_a_new_shard_is_ready_only_once_it_holds_the_stubs_of_its_hosts(
    redis_server, wiremock_factory, rclient
):
    queue = f"test-keeper-{uuid.uuid4().hex[:8]}"
    keys = RedisKeys(queue=queue)
    first, second = wiremock_factory(), wiremock_factory()
    api = [captured(i, run=f"{queue}-api", host="api.shop") for i in range(5)]
    orders = [captured(i, run=f"{queue}-orders", host="orders.shop") for i in range(12)]
    enqueue(redis_server.url, queue, api, host="api.shop")
    enqueue(redis_server.url, queue, orders, host="orders.shop")
    with LoaderThread(config_for(redis_server.url, first.url, queue)):
        wait_for(queue_done(rclient, queue), what="queue drained")

    # "orders.*" gets a shard of its own: its pod starts (no loader can reach it yet).
    routes = [{"host": "orders.*", "wiremock_url": second.url}]
    config = config_for(redis_server.url, first.url, queue, shards=routes)

    before = metric("mockado_keeper_stubs_taken_total", shard=ORDERS_SHARD)
    ready, holding = keeper_check(config, shard=ORDERS_SHARD, wiremock_url=second.url)
    held = ids_in(second.url)
    assert holding == "reloaded"  # its catch-all; its own record is empty
    assert ready is True
    assert sorted(held) == sorted(m["id"] for m in orders)
    assert metric("mockado_keeper_stubs_taken_total", shard=ORDERS_SHARD) == before + 12
    assert metric("mockado_keeper_ready", shard=ORDERS_SHARD) == 1
    # Copies only: the records are the loader's to change.
    assert rclient.hlen(keys.shard_record(DEFAULT_SHARD)) == 17

    # The loader on the new routing moves them: into the new shard's record, out of the
    # old shard's WireMock.
    with LoaderThread(config):
        wait_for(
            lambda: sorted(ids_in(first.url)) == sorted(m["id"] for m in api),
            timeout_s=30, what="orders stubs gone from the old shard",
        )  # fmt: skip
    recorded = {k.decode() for k in rclient.hkeys(keys.shard_record(ORDERS_SHARD))}
    assert recorded == {m["id"] for m in orders}
    assert sorted(ids_in(second.url)) == sorted(m["id"] for m in orders)


def test_a_new_shard_takes_no_more_stubs_than_its_budget(redis_server, wiremock_factory, rclient):
    queue = f"test-keeper-{uuid.uuid4().hex[:8]}"
    first, second = wiremock_factory(), wiremock_factory()
    orders = [captured(i, run=f"{queue}-orders", host="orders.shop") for i in range(8)]
    enqueue(redis_server.url, queue, orders, host="orders.shop")
    with LoaderThread(config_for(redis_server.url, first.url, queue)):
        wait_for(queue_done(rclient, queue), what="queue drained")
    routes = [{"host": "orders.*", "wiremock_url": second.url}]
    # Room for five beside the catch-all.
    config = config_for(redis_server.url, first.url, queue, shards=routes, max_stubs=6)

    assert keeper_check(config, shard=ORDERS_SHARD, wiremock_url=second.url)[0] is True
    assert len(ids_in(second.url)) == 5


def test_the_keeper_counts_what_its_wiremock_served_by_answer(
    redis_server, wiremock_factory, rclient
):
    """The served counts behind the miss ratio, from the launcher's per-stub hit counts: a
    recorded stub's hits, the catch-all's (misses), and counts that start anew when
    WireMock restarts and gets its stubs back."""
    wiremock = wiremock_factory()
    queue, config = loaded_queue(redis_server, rclient, wiremock.url)

    async def rounds() -> list[dict[str, float]]:
        keeper = ShardKeeper(config, shard=DEFAULT_SHARD, wiremock_url=wiremock.url)
        seen = [served()]
        try:
            call(f"{wiremock.url}/{queue}/item/0", 2, 200)  # before the first round: its baseline
            assert await keeper.check() is Holding.WHOLE
            seen.append(served())
            call(f"{wiremock.url}/{queue}/item/0", 3, 200)
            call(f"{wiremock.url}/{queue}/item/1", 1, 200)
            call(f"{wiremock.url}/{queue}/never-recorded", 2, 404)
            await keeper.check()
            seen.append(served())
            # WireMock restarts empty: the keeper puts the same stubs back, counts from 0.
            wiremock.process.kill()
            wiremock_factory(port=wiremock.port)
            seen.append(await served_after_reload(keeper, f"{wiremock.url}/{queue}", item=1))
        finally:
            await keeper.aclose()
        return seen

    start, baseline, first, restarted = asyncio.run(rounds())
    assert baseline == start  # hits before the first round are its baseline
    assert {a: first[a] - baseline[a] for a in ANSWERS} == {
        "recorded": 4, "catch_all": 2, "passthrough": 0,
    }  # fmt: skip
    assert {a: restarted[a] - first[a] for a in ANSWERS} == {
        "recorded": 1, "catch_all": 1, "passthrough": 0,
    }  # fmt: skip


def test_hits_of_a_stub_the_loader_removes_between_two_rounds_are_counted(
    redis_server, wiremock_factory, rclient
):
    """A stub removed between two rounds (here moved to another shard, as drift, aging and
    resync remove stubs too) keeps its hits in the launcher's listing: the next round adds
    them, and a stub that comes back under the same id counts on from there."""
    queue = f"test-served-{uuid.uuid4().hex[:8]}"
    first, second = wiremock_factory(), wiremock_factory()
    orders = captured(0, run=queue, host="orders.shop")
    enqueue(redis_server.url, queue, [orders], host="orders.shop")
    config = config_for(redis_server.url, first.url, queue)
    with LoaderThread(config):
        wait_for(queue_done(rclient, queue), what="queue drained")
    # "orders.*" moves to a shard of its own; then back.
    moved = config_for(redis_server.url, first.url, queue,
                       shards=[{"host": "orders.*", "wiremock_url": second.url}])  # fmt: skip
    path = orders["request"]["urlPath"]

    async def move(loader_config) -> int:
        loader = Loader(loader_config)
        try:
            await loader.stream.join()
            return await loader.moves.move_all()
        finally:
            await loader.aclose()

    async def rounds() -> list[dict[str, float]]:
        keeper = ShardKeeper(config, shard=DEFAULT_SHARD, wiremock_url=first.url)
        try:
            await keeper.check()  # the baseline
            seen = [served()]
            call(f"{first.url}{path}", 3, 200)
            assert await move(moved) == 1  # gone from this WireMock before the next round
            call(f"{first.url}{path}", 1, 404)  # a miss now
            await keeper.check()
            seen.append(served())
            call(f"{first.url}{path}", 2, 404)
            assert await move(config) == 1  # back, under the same id
            call(f"{first.url}{path}", 1, 200)
            await keeper.check()
            seen.append(served())
        finally:
            await keeper.aclose()
        return seen

    baseline, away, back = asyncio.run(rounds())
    assert {a: away[a] - baseline[a] for a in ANSWERS} == {
        "recorded": 3, "catch_all": 1, "passthrough": 0,
    }  # fmt: skip
    assert {a: back[a] - away[a] for a in ANSWERS} == {
        "recorded": 1, "catch_all": 2, "passthrough": 0,
    }  # fmt: skip


def test_hits_taken_before_a_wiremock_reset_are_counted(redis_server, wiremock_factory, rclient):
    """An admin reset (POST /__admin/reset) removes every stub but keeps the launcher's hit
    counts: the keeper puts the stubs back, and its next round adds the hits taken between
    its last read and the reset as well as those after, so the served counts only grow."""
    wiremock = wiremock_factory(indexed=True)
    queue, config = loaded_queue(redis_server, rclient, wiremock.url)

    async def rounds() -> list[dict[str, float]]:
        keeper = ShardKeeper(config, shard=DEFAULT_SHARD, wiremock_url=wiremock.url)
        try:
            call(f"{wiremock.url}/{queue}/item/0", 2, 200)  # before the first round: its baseline
            await keeper.check()
            seen = [served()]
            call(f"{wiremock.url}/{queue}/item/0", 3, 200)
            call(f"{wiremock.url}/{queue}/never-recorded", 2, 404)
            httpx.post(f"{wiremock.url}/__admin/reset", timeout=10).raise_for_status()
            # No stub, no catch-all: WireMock's own 404.
            call(f"{wiremock.url}/{queue}/item/0", 1, 404)
            seen.append(await served_after_reload(keeper, f"{wiremock.url}/{queue}", item=0))
        finally:
            await keeper.aclose()
        return seen

    baseline, after_reset = asyncio.run(rounds())
    assert {a: after_reset[a] - baseline[a] for a in ANSWERS} == {
        "recorded": 4, "catch_all": 3, "passthrough": 0,
    }  # fmt: skip
