"""mockado's clients follow their rotated TLS files (Secret ``mockado-files``, which the
kubelet updates in place): after Redis (or WireMock) presents a certificate from a new CA
and the mounted CA file is swapped, a WireMock pod's keeper still reloads its WireMock, the
loader still moves the queue into WireMock, and any Redis client mockado makes (the
collector's too) reconnects, with no restart.

Real TLS Redis and WireMock; the mount is laid out as the kubelet lays out a Secret volume
(``..data`` -> a timestamped directory, each file a symlink through it), and rotated the
way it rotates one: a new directory, then ``..data`` swapped atomically.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import uuid
from pathlib import Path

import httpx
import pytest
import redis

from ext_proc_server.core.config import MockadoConfig, TLSClient
from ext_proc_server.core.queue_entries import encode_entry
from ext_proc_server.core.redis_client import make_redis
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader import ShardKeeper
from ext_proc_server.loader.resync import Holding
from tests.support.loader_rig import LoaderThread, config_for, wait_for
from tests.support.loader_rig import stub as queued_stub
from tests.support.processes import RedisHandle, WireMockHandle
from tests.support.secret_volume import present_new_redis_certificate, publish
from tests.support.tls_ca import ThrowawayCA, make_ca
from tests.support.tls_servers import start_https_wiremock, start_tls_redis

pytestmark = pytest.mark.integration

SHARD = "default"
CA_KEY = "redis-ca.pem"


def stub(n: int) -> dict:
    return {"id": str(uuid.UUID(int=n)), "request": {"method": "GET", "url": f"/kept/{n}"},
            "response": {"status": 200, "body": f"kept {n}"}}  # fmt: skip


def recorded_urls(wm: WireMockHandle) -> set[str]:
    return {m["request"].get("url") for m in wm.mappings()} - {None}


@pytest.fixture
def cas(tmp_path: Path) -> tuple[ThrowawayCA, ThrowawayCA]:
    return make_ca(tmp_path / "old"), make_ca(tmp_path / "new", name="the rotated CA")


@pytest.fixture
def mount(tmp_path: Path, cas: tuple[ThrowawayCA, ThrowawayCA]) -> Path:
    """The Secret volume, holding the old CA file."""
    path = tmp_path / "secret-files"
    publish(path, {CA_KEY: cas[0].ca_file.read_bytes()})
    return path


def rotation_queue() -> str:
    return f"mockado:rotation:{uuid.uuid4().hex[:8]}"


@pytest.fixture
def tls_redis(
    cas: tuple[ThrowawayCA, ThrowawayCA], tmp_path: Path, logs_dir: Path, process_registry
) -> RedisHandle:
    return start_tls_redis(cas[0], data_dir=tmp_path / "redis-data",
                           log_path=logs_dir / f"tls-redis-{tmp_path.name}.log",
                           started=process_registry.add)  # fmt: skip


def test_the_keeper_reloads_its_wiremock_after_the_redis_ca_rotates(
    tls_redis: RedisHandle, wm: WireMockHandle, cas, mount: Path
) -> None:
    old, new = cas
    queue = rotation_queue()
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
            present_new_redis_certificate(admin, new)
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


def rediss_url(handle: RedisHandle) -> str:
    return f"rediss://127.0.0.1:{handle.port}/0"


def test_a_redis_client_reconnects_with_the_rotated_ca_file(tls_redis: RedisHandle, cas, mount):
    """What the collector, the loader and the keeper connect with (``make_redis``)."""
    old, new = cas
    tls = TLSClient(enabled=True, ca_file=str(mount / CA_KEY))
    admin = redis.Redis.from_url(rediss_url(tls_redis), ssl_ca_certs=str(old.ca_file))

    async def scenario() -> tuple[bool, bytes | None]:
        client = make_redis(rediss_url(tls_redis), tls=tls, timeout_s=5.0)
        try:
            before = await client.set("rotation", "before")
            present_new_redis_certificate(admin, new)
            publish(mount, {CA_KEY: new.ca_file.read_bytes()})
            await client.set("rotation", "after")
            return bool(before), await client.get("rotation")
        finally:
            await client.aclose()

    assert asyncio.run(scenario()) == (True, b"after")


def test_the_loader_goes_on_after_the_redis_ca_rotates(
    tls_redis: RedisHandle, wm: WireMockHandle, cas, mount: Path
) -> None:
    old, new = cas
    queue = rotation_queue()
    first, second = (queued_stub(n, run=queue) for n in range(2))
    config = config_for(rediss_url(tls_redis), wm.url, queue,
                        redis_tls={"enabled": True, "ca_file": str(mount / CA_KEY)})  # fmt: skip
    admin = redis.Redis.from_url(rediss_url(tls_redis), ssl_ca_certs=str(old.ca_file))
    ids = lambda: {m["id"] for m in wm.mappings()}  # noqa: E731
    with LoaderThread(config):
        admin.xadd(queue, encode_entry(first, host="api"))
        wait_for(lambda: first["id"] in ids(), timeout_s=30, what="the first stub loaded")
        present_new_redis_certificate(admin, new)
        publish(mount, {CA_KEY: new.ca_file.read_bytes()})
        rotated = redis.Redis.from_url(rediss_url(tls_redis), ssl_ca_certs=str(new.ca_file))
        rotated.xadd(queue, encode_entry(second, host="api"))
        wait_for(lambda: second["id"] in ids(), timeout_s=30,
                 what="a stub queued after the rotation loaded")  # fmt: skip
        wait_for(lambda: rotated.xlen(queue) == 0, timeout_s=30, what="the queue acked")


def https_ids(https_url: str, ca: ThrowawayCA) -> set[str]:
    trusting = ssl.create_default_context(cafile=str(ca.ca_file))
    resp = httpx.get(f"{https_url}/__admin/mappings", verify=trusting, timeout=30)
    resp.raise_for_status()
    return {m["id"] for m in resp.json()["mappings"]}


def test_the_loader_goes_on_after_the_wiremock_ca_rotates(
    redis_server: RedisHandle, cas, mount, tmp_path: Path, logs_dir: Path, process_registry
) -> None:
    old, new = cas

    def start(ca: ThrowawayCA, ports: list[int] | None = None) -> tuple[WireMockHandle, str]:
        return start_https_wiremock(ca, root_dir=tmp_path / "wiremock-root",
                                    log_path=logs_dir / f"https-wiremock-{tmp_path.name}.log",
                                    started=process_registry.add, ports=ports)  # fmt: skip

    wm, https_url = start(old)
    queue = rotation_queue()
    first, second = (queued_stub(n, run=queue) for n in range(2))
    config = config_for(redis_server.url, https_url, queue,
                        wiremock_tls={"enabled": True, "ca_file": str(mount / CA_KEY)})  # fmt: skip
    admin = redis.Redis.from_url(redis_server.url)
    with LoaderThread(config):
        admin.xadd(queue, encode_entry(first, host="api"))
        wait_for(lambda: first["id"] in https_ids(https_url, old), timeout_s=30,
                 what="the first stub loaded")  # fmt: skip
        # The rotation: WireMock restarts with a certificate of the new CA, the Secret
        # volume gets the new CA file.
        wm.process.stop()
        publish(mount, {CA_KEY: new.ca_file.read_bytes()})
        start(new, ports=[wm.port, int(https_url.rsplit(":", 1)[1])])  # where it was
        admin.xadd(queue, encode_entry(second, host="api"))
        wait_for(lambda: second["id"] in https_ids(https_url, new), timeout_s=30,
                 what="a stub queued after the rotation loaded")  # fmt: skip
