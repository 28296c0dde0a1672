"""Resync: a WireMock that restarted empty or lost stubs is noticed by cheap checks and
reloaded from its shard's record, once, whichever replica gets there first."""

from __future__ import annotations

import asyncio
import json
import logging

from redis.exceptions import ConnectionError as RedisConnectionError

from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader import DEFAULT_SHARD
from ext_proc_server.mapping.catch_all import catch_all_id
from tests.support.fake_wiremock import FakeWireMock, mapping
from tests.support.loader_rig import FakeLock, FakeRedis, fake_loader, metric, queued

KEYS = RedisKeys(queue="mockado:mappings")
RESYNCS = "wiremock_loader_resyncs_total"
RELOADED = "wiremock_loader_resync_stubs_reloaded_total"


def loaded(count: int, **loader: object):
    """A loader on fakes whose default shard landed ``count`` items."""
    wiremock, redis = FakeWireMock(), FakeRedis()
    loader_ = fake_loader(redis, wiremock, **loader)

    async def load() -> None:
        await loader_.shards[DEFAULT_SHARD].seed()  # installs the catch-all
        await loader_.batches.load_batch([queued(n) for n in range(count)])

    asyncio.run(load())
    assert len(wiremock.recorded) == count
    return loader_, wiremock, redis


def check(loader) -> bool:
    return asyncio.run(loader.resync.check(loader.shards[DEFAULT_SHARD]))


def test_a_shard_that_holds_its_record_costs_two_small_calls_and_no_import():
    loader, wiremock, _ = loaded(30)
    before = (wiremock.imports, metric(RESYNCS, shard="default"))
    wiremock.calls.clear()
    assert check(loader) is False
    assert (wiremock.imports, metric(RESYNCS, shard="default")) == before
    # The catch-all by id, then meta.total of a one-stub page: never the full list.
    assert wiremock.calls == [
        f"GET /__admin/mappings/{catch_all_id('default')}",
        "GET /__admin/mappings?limit=1",
    ]
    assert metric("wiremock_loader_record_size", shard="default") == 30


def test_a_wiremock_restarted_empty_gets_every_stub_and_its_catch_all_back(caplog):
    loader, wiremock, _ = loaded(1200, redis_batch_size=500)
    held = dict(wiremock.stubs)
    resyncs, reloaded = metric(RESYNCS, shard="default"), metric(RELOADED, shard="default")
    wiremock.restart()
    wiremock.imports = 0
    caplog.set_level(logging.INFO, logger="ext_proc_server.loader")
    assert check(loader) is True
    assert wiremock.stubs == held  # ids and bodies, catch-all included
    # The catch-all, then the record in batches of redis_batch_size.
    assert wiremock.imports == 1 + 3
    assert metric(RESYNCS, shard="default") == resyncs + 1
    assert metric(RELOADED, shard="default") == reloaded + 1200
    assert metric("wiremock_loader_resync_last_duration_seconds", shard="default") > 0
    assert metric("wiremock_loader_stub_count", shard="default") == 1201
    # One line, with counts and never content.
    [line] = [r.getMessage() for r in caplog.records if "resynced" in r.getMessage()]
    assert "reloaded 1200 stubs" in line and "no catch-all" in line
    assert "/item/" not in line and "item 1" not in line
    # Back in sync: the next round does nothing.
    assert check(loader) is False


def test_lost_stubs_are_noticed_by_the_count_even_with_the_catch_all_still_there():
    loader, wiremock, _ = loaded(20)
    for n in (3, 7, 11):
        del wiremock.stubs[mapping(n)["id"]]
    assert check(loader) is True
    assert sorted(wiremock.recorded) == sorted(mapping(n)["id"] for n in range(20))


def test_a_replica_that_finds_the_shard_being_reloaded_carries_on():
    loader, wiremock, redis = loaded(10)
    wiremock.restart()
    other = FakeLock(redis, KEYS.resync_lock("default"))
    assert asyncio.run(other.acquire())
    assert check(loader) is False
    assert wiremock.stubs == {}
    asyncio.run(other.release())
    assert check(loader) is True
    assert len(wiremock.recorded) == 10
    assert redis.locks == {}  # released after the reload


def test_two_replicas_noticing_at_once_reload_once():
    first, wiremock, redis = loaded(50)
    second = fake_loader(redis, wiremock)
    wiremock.restart()
    wiremock.imported_stubs = 0

    async def both() -> list[bool]:
        return list(
            await asyncio.gather(
                first.resync.check(first.shards[DEFAULT_SHARD]),
                second.resync.check(second.shards[DEFAULT_SHARD]),
            )
        )

    assert sorted(asyncio.run(both())) == [False, True]
    # Both noticed; one took the lock and reloaded, the other found it taken.
    assert (redis.lock_attempts, redis.lock_acquisitions) == (2, 1)
    assert len(wiremock.recorded) == 50
    assert wiremock.imported_stubs == 50 + 1  # each stub once, and the catch-all


def test_a_stub_wiremock_refuses_on_reload_leaves_the_record_and_is_counted():
    loader, wiremock, redis = loaded(5)
    record = redis.hashes[KEYS.shard_record("default")]
    # A stub the WireMock of today refuses (say a newer version dropped a matcher).
    refused = mapping(99, bad=True)
    record[refused["id"]] = json.dumps(refused)
    rejected = metric(
        "wiremock_loader_mappings_errors_total", error_type="wiremock_rejected", shard="default"
    )
    wiremock.restart()
    assert check(loader) is True
    assert sorted(wiremock.recorded) == sorted(mapping(n)["id"] for n in range(5))
    assert refused["id"] not in record and len(record) == 5
    assert (
        metric(
            "wiremock_loader_mappings_errors_total", error_type="wiremock_rejected", shard="default"
        )
        == rejected + 1
    )
    assert check(loader) is False  # no reload loop over a stub that cannot load


def test_a_down_wiremock_is_marked_down_and_reloaded_once_it_answers():
    loader, wiremock, _ = loaded(8)
    shard = loader.shards[DEFAULT_SHARD]
    unavailable = metric(
        "wiremock_loader_mappings_errors_total", error_type="wiremock_unavailable", shard="default"
    )
    wiremock.restart()
    wiremock.down_for = 1
    assert check(loader) is False
    assert shard.available is False
    assert (
        metric(
            "wiremock_loader_mappings_errors_total",
            error_type="wiremock_unavailable",
            shard="default",
        )
        == unavailable + 1
    )
    assert check(loader) is True
    assert shard.available is True and len(wiremock.recorded) == 8


def test_a_redis_error_skips_the_round_without_touching_wiremock():
    loader, wiremock, redis = loaded(3)
    wiremock.restart()
    wiremock.calls.clear()
    redis.failure = RedisConnectionError("redis gone")
    assert check(loader) is False
    assert wiremock.calls == []
    redis.failure = None
    assert check(loader) is True


def test_the_watchers_run_until_stop():
    loader, wiremock, _ = loaded(4, resync_check_interval_s=0.1)
    wiremock.restart()

    async def scenario() -> None:
        watching = asyncio.create_task(loader.resync.run())
        while len(wiremock.recorded) < 4:
            await asyncio.sleep(0.01)
        loader.stop()
        await asyncio.wait_for(watching, timeout=5)

    asyncio.run(scenario())
    assert catch_all_id("default") in wiremock.stubs
