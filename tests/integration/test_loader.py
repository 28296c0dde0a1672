"""The loader against real Redis and WireMock: outages, crashes, poison, budget, backups."""

from __future__ import annotations

import asyncio
import subprocess
import uuid

import httpx
import pytest
import redis
import yaml

from control_plane.local import procs
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader import Loader
from tests.support.loader_rig import (
    POISON,
    LoaderThread,
    config_for,
    enqueue,
    ids_in,
    metric,
    queue_done,
    stub,
    wait_for,
)
from tests.support.processes import promised_port

pytestmark = pytest.mark.integration
ERRORS = "wiremock_loader_mappings_errors_total"


@pytest.fixture
def queue() -> str:
    return f"test-loader-{uuid.uuid4().hex[:8]}"


def test_wiremock_restart_mid_load_loses_nothing_and_duplicates_nothing(
    redis_server, wiremock_factory, rclient, queue
):
    wm = wiremock_factory()
    n = 1200
    mappings = [stub(i, run=queue, persistent=True) for i in range(n)]
    enqueue(redis_server.url, queue, mappings)
    config = config_for(redis_server.url, wm.url, queue, redis_batch_size=50)
    outages = metric(ERRORS, error_type="wiremock_unavailable", shard="default")
    with LoaderThread(config):
        wait_for(lambda: len(ids_in(wm.url)) >= 150, what="first stubs")
        wm.process.stop()
        assert rclient.xlen(queue) > 0, "the load finished before WireMock stopped"
        # The loader meets the outage (and holds its batch) before WireMock is back.
        wait_for(
            lambda: metric(ERRORS, error_type="wiremock_unavailable", shard="default") > outages,
            what="the loader to meet the outage",
        )
        restarted = wiremock_factory(port=wm.port, root_dir=wm.root_dir)
        wait_for(queue_done(rclient, queue), what="queue drained")
        ids = ids_in(restarted.url)
    assert len(ids) == n
    assert sorted(ids) == sorted(m["id"] for m in mappings)
    assert rclient.xlen(RedisKeys(queue=queue).dead_letter) == 0


def test_a_down_shard_does_not_hold_back_the_others(
    redis_server, wiremock, wiremock_factory, rclient, queue
):
    wiremock.reset()
    orders_port = promised_port()  # its WireMock starts only later
    n = 400
    api = [stub(i, run=f"{queue}-api") for i in range(n)]
    orders = [stub(i, run=f"{queue}-orders") for i in range(n)]
    # Interleaved, so nearly every batch holds items for both shards.
    for i in range(0, n, 50):
        enqueue(redis_server.url, queue, orders[i : i + 50], host="orders.shop")
        enqueue(redis_server.url, queue, api[i : i + 50], host="api.shop")
    config = config_for(
        redis_server.url, wiremock.url, queue, redis_batch_size=40,
        shards=[{"host": "orders.*", "wiremock_url": f"http://127.0.0.1:{orders_port}"}],
    )  # fmt: skip
    with LoaderThread(config):
        wait_for(lambda: len(ids_in(wiremock.url)) == n, timeout_s=60, what="api shard loaded")
        # Every orders item is still in Redis, held by this live loader: none lost.
        assert rclient.xlen(queue) == n
        assert metric("wiremock_loader_shard_backlog", shard="shard-1") == n
        late = wiremock_factory(port=orders_port)
        wait_for(queue_done(rclient, queue), timeout_s=90, what="orders shard loaded")
        assert sorted(ids_in(late.url)) == sorted(m["id"] for m in orders)
    assert sorted(ids_in(wiremock.url)) == sorted(m["id"] for m in api)
    assert rclient.xlen(RedisKeys(queue=queue).dead_letter) == 0


def test_a_second_loader_takes_over_from_a_killed_one(
    redis_server, wiremock, rclient, queue, mockado_bin, clean_env, tmp_path, logs_dir
):
    wiremock.reset()
    n = 1500
    mappings = [stub(i, run=queue) for i in range(n)]
    enqueue(redis_server.url, queue, mappings)
    config = {
        "loader": {
            "redis_url": redis_server.url,
            "wiremock_url": wiremock.url,
            "redis_queue": queue,
            "redis_batch_size": 25,
            "claim_timeout_s": 2,
            "retry_backoff": 0.05,
        }
    }
    config_path = tmp_path / "loader.yaml"
    config_path.write_text(yaml.safe_dump(config))
    group = RedisKeys(queue=queue).group

    def start(name: str, port: int) -> procs.ManagedProcess:
        argv = [mockado_bin, "loader", "--config", str(config_path), "--http-port", str(port)]
        process = procs.ManagedProcess(name, argv, log_path=logs_dir / f"{queue}-{name}.log")
        process.env = clean_env
        return process.start()

    first = start("first", promised_port())
    try:

        def mid_batch() -> bool:
            pending = rclient.xpending(queue, group)["pending"]
            return pending > 0 and len(ids_in(wiremock.url)) >= 100

        wait_for(mid_batch, what="first loader mid-load")
        first.kill()  # SIGKILL: no chance to hand anything back
    finally:
        first.stop()
    held = rclient.xpending(queue, group)["pending"]
    assert held > 0
    assert len(ids_in(wiremock.url)) < n

    second_port = promised_port()
    second = start("second", second_port)
    try:
        wait_for(queue_done(rclient, queue), what="second loader drained the queue")
        ready = httpx.get(f"http://127.0.0.1:{second_port}/readyz", timeout=5)
        assert ready.status_code == 200, ready.text
        text = httpx.get(f"http://127.0.0.1:{second_port}/metrics", timeout=5).text
        assert 'wiremock_loader_mappings_processed_total{status="loaded"}' in text
        assert "wiremock_loader_stub_count" in text
    finally:
        assert second.stop() == 0
    assert "reclaimed" in second.log_text()
    assert f"queue {queue!r}" in second.log_text()  # the start line
    ids = ids_in(wiremock.url)
    assert sorted(ids) == sorted(m["id"] for m in mappings)
    assert rclient.xlen(RedisKeys(queue=queue).dead_letter) == 0


def test_a_poison_item_is_dead_lettered_while_the_rest_flows(
    redis_server, wiremock, rclient, queue
):
    wiremock.reset()
    good = [stub(i, run=queue) for i in range(300)]
    enqueue(redis_server.url, queue, [*good[:150], POISON, *good[150:]])
    rclient.xadd(queue, {"mapping": "{broken", "host": "api"})
    config = config_for(
        redis_server.url, wiremock.url, queue,
        redis_batch_size=100, retry_attempts=2, claim_timeout_s=1,
    )  # fmt: skip
    with LoaderThread(config):
        wait_for(queue_done(rclient, queue), what="queue drained")
    assert sorted(ids_in(wiremock.url)) == sorted(m["id"] for m in good)
    dead = {
        fields[b"error_type"].decode(): fields
        for _, fields in rclient.xrange(RedisKeys(queue=queue).dead_letter)
    }
    assert set(dead) == {"wiremock_rejected", "invalid_item"}
    rejected = dead["wiremock_rejected"]
    assert rejected[b"reason"] == b"WireMockError HTTP 422"
    assert rejected[b"deliveries"] == b"2"  # retried once through the group, then parked
    assert POISON["id"] in rejected[b"mapping"].decode()
    assert b"mapping" not in dead["invalid_item"]


def test_loader_errors_name_the_shard_whose_wiremock_failed(redis_server, wiremock, rclient, queue):
    wiremock.reset()
    orders_url = f"http://127.0.0.1:{promised_port()}"  # no WireMock there
    enqueue(redis_server.url, queue, [stub(0, run=f"{queue}-orders")], host="orders.shop")
    enqueue(redis_server.url, queue, [stub(0, run=f"{queue}-api"), POISON], host="api.shop")
    rclient.xadd(queue, {"mapping": "{broken", "host": "api.shop"})
    config = config_for(
        redis_server.url, wiremock.url, queue, retry_attempts=1,
        shards=[{"host": "orders.*", "wiremock_url": orders_url}],
    )  # fmt: skip
    kinds = [("wiremock_unavailable", "shard-1"), ("wiremock_unavailable", "default"),
             ("wiremock_rejected", "default"), ("wiremock_rejected", "shard-1"),
             ("invalid_item", "none")]  # fmt: skip

    def errors() -> list[float]:
        return [metric(ERRORS, error_type=kind, shard=shard) for kind, shard in kinds]

    before = errors()
    with LoaderThread(config):
        wait_for(lambda: errors()[0] >= before[0] + 2, what="the orders shard's outage counted")
        wait_for(lambda: errors()[2] > before[2], what="the poison stub refused")
        wait_for(lambda: errors()[4] > before[4], what="the broken entry counted")
    gained = [after - was for after, was in zip(errors(), before, strict=True)]
    # Each on its shard; the shard that answered met no outage, the one down refused nothing.
    assert gained[0] >= 2 and gained[2] >= 1 and gained[4] == 1
    assert gained[1] == 0 and gained[3] == 0


def test_the_stub_budget_refuses_growth_but_not_overwrites(redis_server, wiremock, rclient, queue):
    wiremock.reset()
    first = [stub(i, run=queue) for i in range(40)]
    enqueue(redis_server.url, queue, first)
    # Room for 50 recordings: the budget also counts the shard's catch-all stub.
    config = config_for(redis_server.url, wiremock.url, queue, max_stubs=51)
    rejected_before = metric("wiremock_loader_stubs_rejected_total", shard="default")
    budget_before = metric("wiremock_loader_mappings_processed_total", status="rejected_budget")
    with LoaderThread(config):
        wait_for(queue_done(rclient, queue), what="first load")
        assert len(ids_in(wiremock.url)) == 40
        overwrites = [stub(i, run=queue, body="changed") for i in range(10)]
        new = [stub(i, run=queue) for i in range(100, 120)]
        enqueue(redis_server.url, queue, overwrites + new)
        wait_for(queue_done(rclient, queue), what="second load")
    ids = ids_in(wiremock.url)
    assert len(ids) == 50
    assert sorted(ids) == sorted(m["id"] for m in first + new[:10])
    assert httpx.get(f"{wiremock.url}/{queue}/item/3", timeout=5).text == "changed"
    assert metric("wiremock_loader_stubs_rejected_total", shard="default") == rejected_before + 10
    assert (
        metric("wiremock_loader_mappings_processed_total", status="rejected_budget")
        == budget_before + 10
    )
    assert metric("wiremock_loader_stub_count", shard="default") == 51


def test_a_backup_is_served_by_stock_wiremock_and_restores_through_the_cli(
    redis_server, wiremock, wiremock_factory, rclient, queue, tmp_path, mockado_bin, clean_env
):
    wiremock.reset()
    mappings = [stub(i, run=queue) for i in range(30)]
    enqueue(redis_server.url, queue, mappings)
    backups = tmp_path / "backups"
    config = config_for(
        redis_server.url, wiremock.url, queue,
        backup_enabled=True, backup_path=str(backups), backup_interval=3600, backup_keep=2,
    )  # fmt: skip
    with LoaderThread(config):
        wait_for(queue_done(rclient, queue), what="load")
    # The clean stop wrote a backup: the 30 recordings and the shard's catch-all.
    [backup] = [p for p in backups.iterdir() if not p.name.startswith(".")]
    assert len(list((backup / "mappings").glob("*.json"))) == 31

    served = wiremock_factory(root_dir=backup)
    assert httpx.get(f"{served.url}/{queue}/item/7", timeout=5).text == "item 7"
    # The backup also answers misses at once, as the shard did.
    assert httpx.get(f"{served.url}/never/recorded", timeout=5).status_code == 404
    served.process.stop()

    wiremock.reset()
    assert ids_in(wiremock.url) == []
    result = subprocess.run(
        [mockado_bin, "restore", str(backup / "mappings"), "--wiremock-url", wiremock.url],
        env=clean_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "restored 31 of 31" in result.stderr
    assert sorted(ids_in(wiremock.url)) == sorted(m["id"] for m in mappings)
    assert httpx.get(f"{wiremock.url}/{queue}/item/29", timeout=5).text == "item 29"


def test_restore_of_a_missing_dir_fails_with_a_message(mockado_bin, clean_env, tmp_path, wiremock):
    result = subprocess.run(
        [mockado_bin, "restore", str(tmp_path / "nope"), "--wiremock-url", wiremock.url],
        env=clean_env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2
    assert "no mappings/ directory" in result.stderr


def test_a_redis_outage_is_logged_once_and_the_loader_resumes(
    redis_factory, wiremock, queue, caplog
):
    wiremock.reset()
    own = redis_factory()
    first = [stub(i, run=queue) for i in range(100)]
    enqueue(own.url, queue, first)
    config = config_for(own.url, wiremock.url, queue, retry_max_delay=0.3)
    caplog.set_level("INFO", logger="ext_proc_server.loader")
    with LoaderThread(config):
        client = redis.Redis.from_url(own.url)
        wait_for(queue_done(client, queue), what="first load")
        own.process.kill()
        # Redis is back only once the loader met its absence.
        wait_for(
            lambda: any("redis unavailable" in r.getMessage() for r in caplog.records),
            what="the loader to log the outage",
        )
        restarted = redis_factory(port=own.port)  # empty: the group must be recreated
        second = [stub(i, run=queue) for i in range(100, 200)]
        enqueue(restarted.url, queue, second)
        wait_for(queue_done(client, queue), what="load after the restart")
        client.close()
    assert sorted(ids_in(wiremock.url)) == sorted(m["id"] for m in first + second)
    messages = [r.getMessage() for r in caplog.records]
    assert sum("redis unavailable" in m for m in messages) == 1
    assert any("redis back" in m for m in messages)


def test_after_a_redis_error_the_loader_resumes_its_own_pending_items_at_once(
    redis_server, wiremock, rclient, queue
):
    wiremock.reset()
    mappings = [stub(i, run=queue) for i in range(10)]
    enqueue(redis_server.url, queue, mappings)
    config = config_for(redis_server.url, wiremock.url, queue, claim_timeout_s=3600)

    async def scenario() -> tuple[int, int]:
        loader = Loader(config)
        try:
            await loader.stream.join()
            held = await loader.stream.fetch(block_ms=None)  # read, then "Redis failed"
            await loader.stream.lost(redis.ConnectionError("gone"))
            handled = await loader.drain_once()
            return len(held), handled
        finally:
            await loader.aclose()

    held, handled = asyncio.run(scenario())
    assert held == handled == 10
    assert queue_done(rclient, queue)()
    assert sorted(ids_in(wiremock.url)) == sorted(m["id"] for m in mappings)
