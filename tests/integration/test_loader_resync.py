"""The loader against real Redis and WireMock: a shard's record, its reload after a
WireMock restart with nobody acting, and WireMock admin credentials."""

from __future__ import annotations

import json
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest

from control_plane.local import procs
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader.backup import write_local_backup
from tests.support.loader_rig import (
    POISON,
    LoaderThread,
    config_for,
    enqueue,
    metric,
    queue_done,
    stub,
    stubs_in,
    wait_for,
)
from tests.support.processes import WireMockHandle, start_on_promised_ports

pytestmark = pytest.mark.integration
ORDERS_SHARD = "shard-1"
USER, PASSWORD = "mockado", "s3cr3t #1"


@pytest.fixture
def queue() -> str:
    return f"test-resync-{uuid.uuid4().hex[:8]}"


def expected(mappings: list[dict]) -> dict[str, dict]:
    return {m["id"]: {"request": m["request"], "response": m["response"]} for m in mappings}


class Feeder:
    """Queues items for both shards, a small batch every few milliseconds, until stopped."""

    def __init__(self, redis_url: str, queue: str) -> None:
        self._redis_url, self._queue = redis_url, queue
        self.sent: dict[str, list[dict]] = {"api": [], "orders": []}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="feeder", daemon=True)

    def _run(self) -> None:
        n = 0
        while not self._stop.is_set():
            for host in ("api", "orders"):
                batch = [stub(n + i, run=f"{self._queue}-{host}") for i in range(10)]
                enqueue(self._redis_url, self._queue, batch, host=f"{host}.shop")
                self.sent[host] += batch
            n += 10
            time.sleep(0.1)

    def __enter__(self) -> Feeder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(10)


def test_a_killed_shard_restarted_empty_gets_every_stub_back_with_nobody_acting(
    redis_server, wiremock, wiremock_factory, rclient, queue
):
    wiremock.reset()
    orders = wiremock_factory()
    config = config_for(
        redis_server.url, wiremock.url, queue, redis_batch_size=50, resync_check_interval_s=0.5,
        shards=[{"host": "orders.*", "wiremock_url": orders.url}],
    )  # fmt: skip
    resyncs = metric("wiremock_loader_resyncs_total", shard=ORDERS_SHARD)
    with LoaderThread(config):
        with Feeder(redis_server.url, queue) as feeder:
            wait_for(lambda: len(stubs_in(orders.url)) >= 200, what="orders stubs loaded")
            orders.process.kill()  # SIGKILL: its stubs lived in memory only
            api_at_kill = len(stubs_in(wiremock.url))
            # The other shard keeps loading while this one is down.
            wait_for(
                lambda: len(stubs_in(wiremock.url)) >= api_at_kill + 200,
                what="api shard loading during the outage",
            )
            restarted = wiremock_factory(port=orders.port)  # a new, empty root dir
            # Items keep arriving after the restart too.
            sent_at_restart = len(feeder.sent["orders"])
            wait_for(lambda: len(feeder.sent["orders"]) >= sent_at_restart + 50, what="feeding")
        wait_for(queue_done(rclient, queue), what="queue drained")
        wait_for(
            lambda: len(stubs_in(restarted.url)) == len(feeder.sent["orders"]),
            what="every orders stub back",
        )
    # 0 lost: exact ids and bodies, on both shards (and nothing dead-lettered).
    assert stubs_in(restarted.url) == expected(feeder.sent["orders"])
    assert stubs_in(wiremock.url) == expected(feeder.sent["api"])
    assert rclient.xlen(RedisKeys(queue=queue).dead_letter) == 0
    assert metric("wiremock_loader_resyncs_total", shard=ORDERS_SHARD) >= resyncs + 1
    assert metric("wiremock_loader_resync_stubs_reloaded_total", shard=ORDERS_SHARD) >= 200


def test_the_record_holds_what_landed_as_imported_and_never_a_refused_stub(
    redis_server, wiremock, rclient, queue
):
    wiremock.reset()
    good = [stub(i, run=queue) for i in range(120)]
    enqueue(redis_server.url, queue, [*good[:60], POISON, *good[60:]])
    config = config_for(
        redis_server.url, wiremock.url, queue, redis_batch_size=50, retry_attempts=1
    )
    with LoaderThread(config):
        wait_for(queue_done(rclient, queue), what="queue drained")
    record = rclient.hgetall(RedisKeys(queue=queue).shard_record("default"))
    assert {k.decode(): json.loads(v) for k, v in record.items()} == {m["id"]: m for m in good}
    assert POISON["id"].encode() not in record
    assert rclient.xlen(RedisKeys(queue=queue).dead_letter) == 1
    assert stubs_in(wiremock.url) == expected(good)


@pytest.fixture
def guarded_wiremock(tmp_path: Path, logs_dir: Path, process_registry) -> Iterator[WireMockHandle]:
    """A WireMock whose admin API wants HTTP Basic credentials (WireMock's own option)."""

    def launch(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
        process = procs.wiremock_process(
            servers=[procs.WireMockServer(port=ports[0], root_dir=tmp_path / "guarded")],
            log_path=logs_dir / f"wiremock-guarded-{ports[0]}.log",
            extra_args=("--admin-api-basic-auth", f"{USER}:{PASSWORD}"),
        )
        # Up when its admin API refuses an anonymous caller.
        health = f"http://127.0.0.1:{ports[0]}/__admin/health"
        return process, procs.http_ready(health, expect_status=401)

    process, [port] = start_on_promised_ports(
        "wiremock-guarded", launch, started=process_registry.add, timeout_s=60
    )
    yield WireMockHandle(port=port, root_dir=tmp_path / "guarded", process=process)
    process.stop()


def test_a_guarded_wiremock_whose_port_was_taken_starts_on_another(
    squatter, guarded_wiremock, logs_dir
):
    assert squatter.ports and guarded_wiremock.port not in squatter.ports
    first = (logs_dir / f"wiremock-guarded-{squatter.ports[0]}.log").read_text(errors="replace")
    assert "Failed to bind" in first  # the first one could not listen there
    health = f"{guarded_wiremock.url}/__admin/health"
    assert httpx.get(health, auth=(USER, PASSWORD), timeout=10).status_code == 200


def unauthorized() -> float:
    return metric(
        "wiremock_loader_mappings_errors_total", error_type="wiremock_unauthorized", shard="default"
    )


def test_a_wiremock_with_admin_credentials_refuses_a_loader_without_them_and_loses_nothing(
    redis_server, guarded_wiremock, rclient, queue, caplog
):
    url, auth = guarded_wiremock.url, (USER, PASSWORD)
    mappings = [stub(i, run=queue) for i in range(60)]
    enqueue(redis_server.url, queue, mappings)
    before = unauthorized()
    caplog.set_level("WARNING", logger="ext_proc_server.loader")
    with LoaderThread(config_for(redis_server.url, url, queue, retry_attempts=1)):
        wait_for(lambda: unauthorized() >= before + 3, what="refusals counted")
        assert stubs_in(url, auth=auth) == {}
    # Clear, counted, and no data lost: every item still queued, none dead-lettered.
    assert any("refused the credentials" in r.getMessage() for r in caplog.records)
    assert PASSWORD not in caplog.text
    assert rclient.xlen(queue) == len(mappings)
    assert rclient.xlen(RedisKeys(queue=queue).dead_letter) == 0
    assert not rclient.exists(RedisKeys(queue=queue).shard_record("default"))

    with_credentials = config_for(
        redis_server.url, url, queue, resync_check_interval_s=0.5,
        wiremock_admin_user=USER, wiremock_admin_password=PASSWORD,
    )  # fmt: skip
    with LoaderThread(with_credentials):
        wait_for(queue_done(rclient, queue), what="queue drained")
        assert stubs_in(url, auth=auth) == expected(mappings)
        # Its resync checks use them too: stubs deleted behind its back come back.
        httpx.delete(f"{url}/__admin/mappings", auth=auth, timeout=10).raise_for_status()
        wait_for(lambda: stubs_in(url, auth=auth) == expected(mappings), what="resynced")


def test_restore_sends_the_credentials_from_the_environment(
    guarded_wiremock, mockado_bin, clean_env, tmp_path
):
    url, auth = guarded_wiremock.url, (USER, PASSWORD)
    mappings = [stub(i, run="restore-auth") for i in range(5)]
    backup = write_local_backup({"default": mappings}, root=tmp_path / "backups", keep=1)

    def restore(env: dict[str, str]) -> subprocess.CompletedProcess:
        return subprocess.run(
            [mockado_bin, "restore", str(backup), "--wiremock-url", url],
            env={**clean_env, **env}, capture_output=True, text=True, timeout=60,
        )  # fmt: skip

    refused = restore({})
    assert refused.returncode == 2
    assert "refused the credentials" in refused.stderr
    done = restore(
        {
            "MOCKADO_LOADER__WIREMOCK_ADMIN_USER": USER,
            "MOCKADO_LOADER__WIREMOCK_ADMIN_PASSWORD": PASSWORD,
        }
    )
    assert done.returncode == 0, done.stderr
    assert PASSWORD not in done.stderr
    assert stubs_in(url, auth=auth) == expected(mappings)
