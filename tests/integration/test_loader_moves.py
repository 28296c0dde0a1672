"""A host moved to another shard by a config change: after a loader restart, its stubs
are served by its new shard and gone from the old one, with real Redis and two real
WireMocks, and nothing done by hand."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest

from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader import DEFAULT_SHARD, Loader
from ext_proc_server.mapping.priority import PRIORITY_SCALE, SCALE_KEY
from tests.support.loader_rig import (
    LoaderThread,
    config_for,
    enqueue,
    ids_in,
    metric,
    queue_done,
    stub,
    wait_for,
)

pytestmark = pytest.mark.integration

ORDERS_SHARD = "shard-1"


@pytest.fixture
def queue() -> str:
    return f"test-moves-{uuid.uuid4().hex[:8]}"


def captured(n: int, *, run: str, host: str) -> dict:
    """A stub as mockado writes it: it names the host it was captured for."""
    mapping = stub(n, run=run)
    mapping["metadata"] = {"mockado": {"host": host, SCALE_KEY: PRIORITY_SCALE}}
    return mapping


def _answer(url: str, mapping: dict) -> int:
    return httpx.get(f"{url}{mapping['request']['urlPath']}", timeout=10).status_code


def test_a_host_moved_to_another_shard_is_served_there_after_a_restart(
    redis_server, wiremock_factory, rclient, queue
):
    first, second = wiremock_factory(), wiremock_factory()
    api = [captured(i, run=f"{queue}-api", host="api.shop") for i in range(30)]
    orders = [captured(i, run=f"{queue}-orders", host="orders.shop") for i in range(70)]
    enqueue(redis_server.url, queue, api, host="api.shop")
    enqueue(redis_server.url, queue, orders, host="orders.shop")
    keys = RedisKeys(queue=queue)
    # A collector's claim on one orders stub: it must outlive the move.
    state = keys.stub_state(orders[0]["id"])
    rclient.set(state, "o")

    # Every host on one shard.
    with LoaderThread(config_for(redis_server.url, first.url, queue, redis_batch_size=25)):
        wait_for(queue_done(rclient, queue), what="queue drained")
    assert len(ids_in(first.url)) == 100

    # The operator gives "orders.*" a shard of its own and restarts the loader.
    config = config_for(
        redis_server.url, first.url, queue, redis_batch_size=25, resync_check_interval_s=0.5,
        shards=[{"host": "orders.*", "wiremock_url": second.url}],
    )  # fmt: skip
    with LoaderThread(config):
        wait_for(
            lambda: sorted(ids_in(second.url)) == sorted(m["id"] for m in orders),
            timeout_s=30,
            what="orders stubs on their new shard",
        )
        wait_for(
            lambda: sorted(ids_in(first.url)) == sorted(m["id"] for m in api),
            timeout_s=30,
            what="orders stubs gone from the old shard",
        )
        assert _answer(second.url, orders[5]) == 200
        assert _answer(first.url, orders[5]) != 200
        assert _answer(first.url, api[5]) == 200
        recorded = {k.decode() for k in rclient.hkeys(keys.shard_record(ORDERS_SHARD))}
        assert recorded == {m["id"] for m in orders}
        recorded = {k.decode() for k in rclient.hkeys(keys.shard_record(DEFAULT_SHARD))}
        assert recorded == {m["id"] for m in api}
        # The stubs still exist: their claims were not released.
        assert rclient.get(state) == b"o"

        # The new shard's WireMock restarts empty: its record puts the orders stubs back.
        second.process.stop()
        restarted = wiremock_factory(port=second.port, root_dir=second.root_dir)
        wait_for(
            lambda: sorted(ids_in(restarted.url)) == sorted(m["id"] for m in orders),
            timeout_s=30,
            what="the new shard reloaded",
        )
    assert sorted(ids_in(first.url)) == sorted(m["id"] for m in api)


def test_stubs_moved_to_a_full_shard_wait_in_their_old_record_until_it_has_room(
    redis_server, wiremock_factory, rclient, queue
):
    first, second = wiremock_factory(), wiremock_factory()
    orders = [captured(i, run=f"{queue}-orders", host="orders.shop") for i in range(10)]
    enqueue(redis_server.url, queue, orders, host="orders.shop")
    keys = RedisKeys(queue=queue)
    with LoaderThread(config_for(redis_server.url, first.url, queue, redis_batch_size=4)):
        wait_for(queue_done(rclient, queue), what="queue drained")

    # "orders.*" gets a shard of its own, with room for five stubs beside its catch-all.
    routes = [{"host": "orders.*", "wiremock_url": second.url}]
    config = config_for(
        redis_server.url, first.url, queue, redis_batch_size=4, max_stubs=6, shards=routes
    )
    with LoaderThread(config):
        # The gauge is the process's: another test may have left it at 5, so the records
        # must show this loader's move too.
        wait_for(
            lambda: rclient.hlen(keys.shard_record(ORDERS_SHARD)) == 5
            and rclient.hlen(keys.shard_record(DEFAULT_SHARD)) == 5
            and metric("wiremock_loader_moves_waiting", shard=ORDERS_SHARD) == 5,
            timeout_s=30, what="five stubs moved and five waiting for room",
        )  # fmt: skip
    moved = {k.decode() for k in rclient.hkeys(keys.shard_record(ORDERS_SHARD))}
    assert len(moved) == 5
    assert set(ids_in(second.url)) == moved
    # Nothing lost: the others wait in the old shard's record (and its WireMock).
    left = {k.decode() for k in rclient.hkeys(keys.shard_record(DEFAULT_SHARD))}
    assert left == {m["id"] for m in orders} - moved
    assert set(ids_in(first.url)) == left

    # Room for all of them: the rest move.
    config = config_for(
        redis_server.url, first.url, queue, redis_batch_size=4, max_stubs=20, shards=routes
    )
    with LoaderThread(config):
        wait_for(lambda: len(ids_in(second.url)) == 10, timeout_s=30, what="the rest moved")
    assert rclient.hlen(keys.shard_record(DEFAULT_SHARD)) == 0


def test_a_move_before_the_new_shard_was_seeded_puts_its_catch_all_first(
    redis_server, wiremock_factory, rclient, queue
):
    """The first check of moves runs beside the pump, which seeds each shard: a move that
    comes first installs the new shard's catch-all itself, before any moved stub, and
    counts it against ``max_stubs`` like every other path does."""
    first, second = wiremock_factory(), wiremock_factory()
    orders = [captured(i, run=f"{queue}-orders", host="orders.shop") for i in range(10)]
    keys = RedisKeys(queue=queue)
    config = config_for(
        redis_server.url, first.url, queue, redis_batch_size=4, max_stubs=6,
        shards=[{"host": "orders.*", "wiremock_url": second.url}],
    )  # fmt: skip

    async def move_before_any_seed() -> int:
        loader = Loader(config)
        try:
            await loader.stream.join()
            rclient.hset(keys.shard_record(DEFAULT_SHARD),
                         mapping={m["id"]: json.dumps(m) for m in orders})  # fmt: skip
            return await loader.moves.move_all()
        finally:
            await loader.aclose()

    moved = asyncio.run(move_before_any_seed())
    held = httpx.get(f"{second.url}/__admin/mappings", timeout=10).json()["mappings"]
    catch_all = [m for m in held if m.get("metadata", {}).get("mockado", {}).get("catch_all")]
    assert len(catch_all) == 1
    assert len(held) == 6  # max_stubs: the catch-all and five moved stubs
    assert moved == 5
    assert metric("wiremock_loader_moves_waiting", shard=ORDERS_SHARD) == 5
    assert rclient.hlen(keys.shard_record(ORDERS_SHARD)) == 5
    assert rclient.hlen(keys.shard_record(DEFAULT_SHARD)) == 5


def _hkeys_calls(rclient) -> int:
    return int(rclient.info("commandstats").get("cmdstat_hkeys", {}).get("calls", 0))


def test_records_are_read_again_only_while_a_replica_routes_otherwise(
    redis_server, wiremock_factory, rclient, queue
):
    """Once every loader routes alike, a check reads no record (no HKEYS); while one
    routes otherwise (a rollout) each check reads what was recorded since, and once more
    after it left."""
    first, second = wiremock_factory(), wiremock_factory()
    api = [captured(i, run=f"{queue}-api", host="api.shop") for i in range(20)]
    late = captured(0, run=f"{queue}-late", host="orders.shop")
    keys = RedisKeys(queue=queue)
    config = config_for(
        redis_server.url, first.url, queue,
        shards=[{"host": "orders.*", "wiremock_url": second.url}],
    )  # fmt: skip

    async def go() -> tuple[list[int], list[int]]:
        loader = Loader(config)
        try:
            await loader.stream.join()
            await loader.stream.fetch(block_ms=None)  # joins the group as a consumer
            for shard in loader.shards.values():
                await shard.seed()
            rclient.hset(keys.shard_record(DEFAULT_SHARD),
                         mapping={m["id"]: json.dumps(m) for m in api})  # fmt: skip
            reads, moved = [], []

            async def check() -> None:
                before = _hkeys_calls(rclient)
                moved.append(await loader.moves.move_all())
                reads.append(_hkeys_calls(rclient) - before)

            await check()  # the first check reads every record
            await check()  # every loader routes alike: nothing read
            # A replica still on the old routing joins and records an orders stub on the
            # default shard.
            rclient.xgroup_createconsumer(queue, keys.group, "old-1-abcdef~0123456789")
            rclient.hset(keys.shard_record(DEFAULT_SHARD), late["id"], json.dumps(late))
            await check()
            rclient.xgroup_delconsumer(queue, keys.group, "old-1-abcdef~0123456789")
            await check()  # once more after it left
            await check()
            # A replica of a version that does not say its routing.
            rclient.xgroup_createconsumer(queue, keys.group, "older-2-abcdef")
            await check()
            return reads, moved
        finally:
            await loader.aclose()

    reads, moved = asyncio.run(go())
    assert reads == [2, 0, 2, 2, 0, 2]  # both shards' records, when read
    assert moved == [0, 0, 1, 0, 0, 0]
    assert ids_in(second.url) == [late["id"]]
