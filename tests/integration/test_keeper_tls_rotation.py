"""A WireMock pod's keeper follows its rotated TLS files (Secret ``mockado-files``, which
the kubelet updates in place): after Redis presents a certificate from a new CA and the
mounted CA file is swapped, the keeper still reloads its WireMock, with no restart.

Real TLS Redis and WireMock; the mount is laid out as the kubelet lays out a Secret volume
(``..data`` -> a timestamped directory, each file a symlink through it), and rotated the
way it rotates one: a new directory, then ``..data`` swapped atomically.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
import redis

from control_plane.local import procs
from ext_proc_server.core.config import MockadoConfig
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader import ShardKeeper
from ext_proc_server.loader.resync import Holding
from tests.support.processes import RedisHandle, WireMockHandle
from tests.support.tls_ca import ThrowawayCA, make_ca

pytestmark = pytest.mark.integration

SHARD = "default"
CA_KEY = "redis-ca.pem"


def publish(mount: Path, files: dict[str, bytes]) -> None:
    """What the kubelet does with a Secret volume: the files in a new timestamped
    directory, ``..data`` pointed at it in one rename, each name a symlink through it."""
    stamp = mount / f"..{time.strftime('%Y_%m_%d_%H_%M_%S')}.{time.monotonic_ns()}"
    stamp.mkdir(parents=True)
    for name, data in files.items():
        (stamp / name).write_bytes(data)
    staged = mount / "..data_tmp"
    staged.symlink_to(stamp.name)
    os.replace(staged, mount / "..data")
    for name in files:
        if not (mount / name).is_symlink():
            (mount / name).symlink_to(f"..data/{name}")


def tls_args(port: int, ca: ThrowawayCA) -> tuple[str, ...]:
    return ("--port", "0", "--tls-port", str(port), "--tls-cert-file", str(ca.server_cert),
            "--tls-key-file", str(ca.server_key), "--tls-ca-cert-file", str(ca.ca_file),
            "--tls-auth-clients", "no")  # fmt: skip


def stub(n: int) -> dict:
    return {"id": str(uuid.UUID(int=n)), "request": {"method": "GET", "url": f"/kept/{n}"},
            "response": {"status": 200, "body": f"kept {n}"}}  # fmt: skip


def recorded_urls(wm: WireMockHandle) -> set[str]:
    return {m["request"].get("url") for m in wm.mappings()} - {None}


@pytest.fixture
def cas(tmp_path: Path) -> tuple[ThrowawayCA, ThrowawayCA]:
    return make_ca(tmp_path / "old"), make_ca(tmp_path / "new", name="the rotated CA")


@pytest.fixture
def tls_redis(
    redis_factory: Callable[..., RedisHandle], cas: tuple[ThrowawayCA, ThrowawayCA]
) -> RedisHandle:
    port = procs.free_port()
    return redis_factory(port=port, extra_args=tls_args(port, cas[0]))


def test_the_keeper_reloads_its_wiremock_after_the_redis_ca_rotates(
    tls_redis: RedisHandle, wm: WireMockHandle, cas, tmp_path: Path
) -> None:
    old, new = cas
    mount = tmp_path / "secret-files"
    publish(mount, {CA_KEY: old.ca_file.read_bytes()})
    queue = f"mockado:rotation:{uuid.uuid4().hex[:8]}"
    url = f"rediss://127.0.0.1:{tls_redis.port}/0"
    admin = redis.Redis.from_url(url, ssl_ca_certs=str(old.ca_file))
    record = RedisKeys(queue=queue).shard_record(SHARD)
    admin.hset(record, mapping={m["id"]: json.dumps(m) for m in map(stub, range(3))})
    config = MockadoConfig.model_validate({"loader": {
        "redis_url": url, "redis_tls": {"enabled": True, "ca_file": str(mount / CA_KEY)},
        "redis_queue": queue, "wiremock_url": wm.url,
    }})  # fmt: skip
    expected = {f"/kept/{n}" for n in range(3)}

    async def scenario() -> tuple[Holding, Holding, Holding, bool]:
        keeper = ShardKeeper(config, shard=SHARD, wiremock_url=wm.url)
        try:
            first = await keeper.check()
            redis_before = keeper.redis
            unchanged = await keeper.check()
            same_clients = keeper.redis is redis_before
            # The rotation: Redis presents a certificate of the new CA from now on (to new
            # connections: the keeper's are cut), the Secret volume gets the new CA file.
            admin.execute_command("CONFIG", "SET", "tls-cert-file", str(new.server_cert),
                                  "tls-key-file", str(new.server_key),
                                  "tls-ca-cert-file", str(new.ca_file))  # fmt: skip
            admin.execute_command("CLIENT", "KILL", "TYPE", "normal")
            publish(mount, {CA_KEY: new.ca_file.read_bytes()})
            # Then this pod's WireMock restarts, empty.
            httpx.post(f"{wm.url}/__admin/reset", timeout=10).raise_for_status()
            after = await keeper.check()
            return first, unchanged, after, same_clients and keeper.ready
        finally:
            await keeper.aclose()

    first, unchanged, after, still_ready = asyncio.run(scenario())
    assert (first, unchanged) == (Holding.RELOADED, Holding.WHOLE)
    assert after == Holding.RELOADED, "the keeper could not read its record after the rotation"
    assert recorded_urls(wm) >= expected
    assert still_ready
