"""Loader throughput against a direct import into the same WireMock, side by side.

One fresh WireMock and one redis-server are started on free ports. Each round:
N mappings go straight to ``/__admin/mappings/import`` in batches of
``redis_batch_size`` (the ceiling: WireMock's own import speed); WireMock is reset;
the same N are queued in Redis, then an in-process Loader moves them, timed until
every item is acknowledged (an item is acked only after WireMock accepted it).
Rounds alternate which side goes first, so both see the same JVM warm-up; the best
of each is kept.

Resync: a loader fills another WireMock with N stubs (recorded in Redis as they land);
that WireMock is SIGKILLed and started again, empty, on its port. ``loader.resync_s``
is the time from the restarted WireMock's first answer to all N stubs (and the
catch-all) back, with nobody acting: detection (``resync_check_interval_s``, default
2 s) plus the reload. ``loader.resync_reload_s`` is the reload alone, as the loader
reports it; ``loader.record_bytes_per_stub`` is the record's Redis memory per stub.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import time
import uuid
from pathlib import Path

from prometheus_client import REGISTRY

from control_plane.local import procs
from ext_proc_server.core.config import load_config
from ext_proc_server.core.errors import WireMockError
from ext_proc_server.core.queue_entries import encode_entry
from ext_proc_server.core.redis_client import make_redis
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader import Loader, WireMockClient
from ext_proc_server.pipeline.queue_writer import enqueue_batch
from tests.support.processes import promised_port

BATCH_SIZE = 500


def build_mappings(count: int) -> list[dict]:
    """Mappings shaped like the generator's: matchers on method, path, query, a header."""
    out = []
    for n in range(count):
        mapping_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench/{n}"))
        out.append(
            {
                "id": mapping_id,
                "uuid": mapping_id,
                "name": f"GET /api/orders/{n}",
                "priority": 5,
                "request": {
                    "method": "GET",
                    "urlPath": f"/api/orders/{n}",
                    "queryParameters": {"expand": {"equalTo": "items"}},
                    "headers": {"Accept": {"contains": "json"}},
                },
                "response": {
                    "status": 200,
                    "headers": {"Content-Type": "application/json"},
                    "jsonBody": {"id": n, "status": "SHIPPED", "items": [{"sku": "A-1", "qty": 2}]},
                },
                "metadata": {"mockado": {"host": "orders.shop.svc", "hash": f"{n:016x}"}},
            }
        )
    return out


async def _direct(client: WireMockClient, mappings: list[dict]) -> float:
    await client.reset()
    started = time.perf_counter()
    for i in range(0, len(mappings), BATCH_SIZE):
        await client.import_mappings(mappings[i : i + BATCH_SIZE])
    elapsed = time.perf_counter() - started
    assert await client.count_stubs() == len(mappings)
    return len(mappings) / elapsed


async def _through_loader(
    client: WireMockClient, mappings: list[dict], *, redis_url: str, wiremock_url: str, queue: str
) -> float:
    await client.reset()
    redis = make_redis(redis_url)
    keys = RedisKeys(queue=queue)
    entries = [encode_entry(m, host="orders.shop.svc") for m in mappings]
    for i in range(0, len(entries), 2000):
        await enqueue_batch(redis, keys=keys, entries=entries[i : i + 2000])
    config = load_config(
        env={},
        overrides={
            "loader.redis_url": redis_url,
            "loader.wiremock_url": wiremock_url,
            "loader.redis_queue": queue,
            "loader.redis_batch_size": BATCH_SIZE,
            "loader.max_stubs": len(mappings) * 2,
        },
    )
    loader = Loader(config)
    stop = asyncio.Event()
    started = time.perf_counter()
    task = asyncio.create_task(loader.run(stop))
    while await redis.xlen(queue) > 0:
        await asyncio.sleep(0.01)
    elapsed = time.perf_counter() - started
    stop.set()
    await task
    await loader.aclose()
    await redis.aclose()
    # Every mapping, plus the shard's catch-all stub the loader installs.
    assert await client.count_stubs() == len(mappings) + 1
    return len(mappings) / elapsed


async def _measure(*, count: int, rounds: int, redis_url: str, wiremock_url: str) -> dict:
    mappings = build_mappings(count)
    async with WireMockClient(wiremock_url, timeout_s=60) as client:
        # JVM warm-up, not timed.
        await client.import_mappings(mappings[:BATCH_SIZE])
        direct, loaded = [], []
        for n in range(rounds):
            # WireMock keeps getting faster as its JIT warms: alternate which side goes
            # first so neither always meets the warmer JVM.
            sides = [
                lambda: _direct(client, mappings),
                lambda n=n: _through_loader(
                    client, mappings, redis_url=redis_url, wiremock_url=wiremock_url,
                    queue=f"bench-loader-{n}",
                ),
            ]  # fmt: skip
            order = (0, 1) if n % 2 == 0 else (1, 0)
            for side in order:
                (direct if side == 0 else loaded).append(await sides[side]())
    best_direct, best_loader = max(direct), max(loaded)
    return {
        "loader.direct_import_per_s": round(best_direct, 1),
        "loader.mappings_per_s": round(best_loader, 1),
        "loader.ratio_to_direct": round(best_loader / best_direct, 3),
    }


def _start_wiremock(port: int, root: Path, log_path: Path) -> procs.ManagedProcess:
    # Started on the main thread: procs children die with the thread that started them.
    return procs.wiremock_process(
        servers=[procs.WireMockServer(port=port, root_dir=root)], log_path=log_path, heap_mb=1024
    ).start()


async def _until(check, *, timeout_s: float, what: str, poll_s: float = 0.02) -> float:
    """Poll ``await check()`` until true. -> the perf_counter when it was (to ``poll_s``)."""
    deadline = time.perf_counter() + timeout_s
    while time.perf_counter() < deadline:
        with contextlib.suppress(WireMockError):
            if await check():
                return time.perf_counter()
        await asyncio.sleep(poll_s)
    raise TimeoutError(f"bench: {what} not within {timeout_s:.0f}s")


async def _measure_resync(count: int, *, root: Path, redis_url: str) -> dict:
    port, queue = promised_port(), "bench-loader-resync"
    mappings = build_mappings(count)
    redis = make_redis(redis_url)
    entries = [encode_entry(m, host="orders.shop.svc") for m in mappings]
    for i in range(0, len(entries), 2000):
        await enqueue_batch(redis, keys=RedisKeys(queue=queue), entries=entries[i : i + 2000])
    wiremock = _start_wiremock(port, root / "resync-1", root / "resync-1.log")
    url = f"http://127.0.0.1:{port}"
    config = load_config(
        env={},
        overrides={
            "loader.redis_url": redis_url, "loader.wiremock_url": url,
            "loader.redis_queue": queue, "loader.redis_batch_size": BATCH_SIZE,
            "loader.max_stubs": count * 2,
        },
    )  # fmt: skip
    async with WireMockClient(url, timeout_s=60) as probe:
        await _until(probe.health, timeout_s=60, what="wiremock up")
        loader, stop = Loader(config), asyncio.Event()
        task = asyncio.create_task(loader.run(stop))
        try:
            # Counting stubs is O(stubs) in WireMock: polled gently, not to slow the import.
            await _until(
                lambda: _stubs_are(probe, count + 1), timeout_s=600, what="first load", poll_s=0.25
            )
            record = RedisKeys(queue=queue).shard_record("default")
            bytes_per_stub = (await redis.memory_usage(record, samples=0)) / count
            wiremock.kill()
            wiremock = _start_wiremock(port, root / "resync-2", root / "resync-2.log")
            answered = await _until(probe.health, timeout_s=60, what="wiremock restarted")
            back = await _until(
                lambda: _stubs_are(probe, count + 1), timeout_s=600, what="stubs back", poll_s=0.25
            )
        finally:
            stop.set()
            await task
            await loader.aclose()
            await redis.aclose()
            wiremock.stop()
    reload_s = REGISTRY.get_sample_value(
        "wiremock_loader_resync_last_duration_seconds", {"shard": "default"}
    )
    return {
        "loader.resync_stubs": count,
        "loader.resync_s": round(back - answered, 2),
        "loader.resync_reload_s": round(reload_s or 0.0, 2),
        "loader.record_bytes_per_stub": round(bytes_per_stub),
    }


async def _stubs_are(client: WireMockClient, count: int) -> bool:
    return await client.count_stubs() == count


def run(*, quick: bool = False) -> dict[str, float | int | str]:
    count, rounds = (3000, 1) if quick else (10_000, 2)
    logging.getLogger("ext_proc_server.loader").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="bench-loader-") as tmp:
        root = Path(tmp)
        redis_port, wiremock_port = promised_port(), promised_port()
        redis_proc = procs.redis_process(
            port=redis_port, data_dir=root / "redis", log_path=root / "redis.log"
        ).start()
        wiremock_proc = procs.wiremock_process(
            servers=[procs.WireMockServer(port=wiremock_port, root_dir=root / "wiremock")],
            log_path=root / "wiremock.log", heap_mb=1024,
        ).start()  # fmt: skip
        try:
            redis_proc.wait_ready(procs.tcp_ready("127.0.0.1", redis_port), timeout_s=15)
            wiremock_url = f"http://127.0.0.1:{wiremock_port}"
            wiremock_proc.wait_ready(
                procs.http_ready(f"{wiremock_url}/__admin/health"), timeout_s=60
            )
            redis_url = f"redis://127.0.0.1:{redis_port}/0"
            figures = asyncio.run(
                _measure(count=count, rounds=rounds, redis_url=redis_url, wiremock_url=wiremock_url)
            )
            wiremock_proc.stop()  # one JVM at a time on this box
            figures.update(asyncio.run(_measure_resync(count, root=root, redis_url=redis_url)))
            return figures
        finally:
            wiremock_proc.stop()
            redis_proc.stop()


if __name__ == "__main__":
    import json
    import sys

    print(json.dumps(run(quick="--quick" in sys.argv), indent=2))
