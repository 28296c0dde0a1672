"""The per-shard stub budget: new ids past max_stubs are refused (acked, counted);
overwrites always pass."""

from __future__ import annotations

import asyncio

from ext_proc_server.loader import DEFAULT_SHARD, QueueItem
from tests.support.fake_wiremock import FakeWireMock, mapping
from tests.support.loader_rig import FakeRedis, fake_loader, metric, queued


def test_the_stub_budget_refuses_new_ids_and_lets_overwrites_through():
    wiremock, redis = FakeWireMock(), FakeRedis()
    for n in (1, 2):
        wiremock.stubs[mapping(n)["id"]] = mapping(n)
    # 2 recorded + the catch-all the seed installs: room for two more.
    loader = fake_loader(redis, wiremock, max_stubs=5)
    shard = loader.shards[DEFAULT_SHARD]
    before = metric("wiremock_loader_stubs_rejected_total", shard="default")

    async def scenario() -> None:
        await shard.seed()
        overwrite = QueueItem("1-1", 1, mapping={**mapping(1), "response": {"status": 204}})
        items = [overwrite, queued(3), queued(4), queued(5), queued(6)]
        await loader.batches.load_batch(items)

    asyncio.run(scenario())
    assert sorted(wiremock.recorded) == sorted(mapping(n)["id"] for n in (1, 2, 3, 4))
    assert wiremock.stubs[mapping(1)["id"]]["response"] == {"status": 204}
    # Refused ones are acked (a counted drop), not retried.
    assert sorted(redis.acked) == sorted(["1-1", "3-0", "4-0", "5-0", "6-0"])
    assert metric("wiremock_loader_stubs_rejected_total", shard="default") == before + 2
    assert shard.stub_count == 5
    assert metric("wiremock_loader_stub_count", shard="default") == 5


def test_the_budget_counts_a_repeated_new_id_once():
    wiremock, redis = FakeWireMock(), FakeRedis()
    # The catch-all takes one of the two places (the budget counts every stub WireMock holds).
    loader = fake_loader(redis, wiremock, max_stubs=2)

    async def scenario() -> None:
        await loader.shards[DEFAULT_SHARD].seed()
        repeated = QueueItem("7-1", 1, mapping=mapping(7))
        await loader.batches.load_batch([queued(7), repeated, queued(8)])

    asyncio.run(scenario())
    assert list(wiremock.recorded) == [mapping(7)["id"]]
    assert sorted(redis.acked) == ["7-0", "7-1", "8-0"]


def test_at_the_edge_the_budget_waits_out_an_outage_before_refusing():
    wiremock, redis = FakeWireMock(), FakeRedis()
    loader = fake_loader(redis, wiremock, max_stubs=2)

    async def scenario() -> None:
        await loader.shards[DEFAULT_SHARD].seed()
        # The count refresh at the edge meets a WireMock that is down for a while.
        wiremock.down_for = 3
        await loader.batches.load_batch([queued(1), queued(2)])

    asyncio.run(scenario())
    assert list(wiremock.recorded) == [mapping(1)["id"]]
    assert sorted(redis.acked) == ["1-0", "2-0"]
    assert loader.shards[DEFAULT_SHARD].available
