"""A host moved to another shard by a config change: after a loader restart, its stubs
are served by its new shard and gone from the old one, with real Redis and two real
WireMocks, and nothing done by hand."""

from __future__ import annotations

import uuid

import httpx
import pytest

from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader import DEFAULT_SHARD
from ext_proc_server.mapping.priority import PRIORITY_SCALE, SCALE_KEY
from tests.support.loader_rig import (
    LoaderThread,
    config_for,
    enqueue,
    ids_in,
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
