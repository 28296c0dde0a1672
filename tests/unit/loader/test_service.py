"""The Loader's own surface: readiness and its start line."""

from __future__ import annotations

import asyncio

from tests.support.fake_wiremock import FakeWireMock
from tests.support.loader_rig import ORDERS_SHARD, FakeRedis, fake_loader


def test_ready_check_names_redis_and_every_shard():
    default, orders = FakeWireMock(), FakeWireMock()
    orders.down_for = 10**6
    loader = fake_loader(FakeRedis(), default, orders=orders)

    async def scenario() -> dict[str, bool]:
        try:
            return await loader.ready_check()
        finally:
            await loader.aclose()

    assert asyncio.run(scenario()) == {
        "redis": True,
        "wiremock_default": True,
        f"wiremock_{ORDERS_SHARD}": False,
    }


def test_the_start_line_names_queue_group_consumer_and_shards():
    loader = fake_loader(FakeRedis(), FakeWireMock(), orders=FakeWireMock())
    described = loader.describe()
    assert "queue 'mockado:mappings'" in described
    assert "group 'mockado-loaders'" in described
    assert "consumer 't'" in described
    assert f"default=http://wiremock.test, {ORDERS_SHARD}=http://wiremock.test" in described
