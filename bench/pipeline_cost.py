"""CPU per first-seen exchange of the whole capture pipeline, in one process, with a real Redis.

``bench_ext_proc``'s breakdown times each step alone; this runs them as the collector
does: ``CapturePipeline`` with ``default_stages`` against a redis-server started on a
free port, every exchange new, from ``submit`` until it is in the stream (the pipeline
is drained by stopping it). Each stage is wrapped to take its own CPU time
(time.process_time), so what no step accounts for (queue entries, batches, the repeat
index, metrics, asyncio) is the remainder. One async worker, so a stage's time never
includes another worker's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from redis import asyncio as aioredis

from control_plane.local import procs
from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.pipeline import CapturePipeline, Stages, default_stages
from tests.support.processes import promised_port

QUEUE = "bench:pipeline"
# Exchanges through first, not measured: the script load, imports, caches.
WARM_UP = 10


class _Clock:
    """CPU seconds spent in each wrapped stage."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                self.spent[name] = self.spent.get(name, 0.0) + time.process_time() - started

        return timed

    def wrap_async(
        self, name: str, fn: Callable[..., Awaitable[Any]]
    ) -> Callable[..., Awaitable[Any]]:
        async def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.process_time()
            try:
                return await fn(*args, **kwargs)
            finally:
                self.spent[name] = self.spent.get(name, 0.0) + time.process_time() - started

        return timed


def _timed_stages(stages: Stages, clock: _Clock) -> Stages:
    assert stages.claim_and_enqueue is not None
    return dataclasses.replace(
        stages,
        sanitize=clock.wrap("sanitize", stages.sanitize),
        dedup=clock.wrap("dedup", stages.dedup),
        build_mapping=clock.wrap("mapping", stages.build_mapping),
        claim_and_enqueue=clock.wrap_async("write", stages.claim_and_enqueue),
    )


async def _through(config: CollectorConfig, stages: Stages, batch: Sequence[Exchange]) -> float:
    """CPU seconds from submitting ``batch`` until the pipeline has written it all."""
    pipe = CapturePipeline(config, stages=stages)
    pipe.start()
    started = time.process_time()
    for exchange in batch:
        if not pipe.submit(exchange):
            raise RuntimeError("pipeline cost: the buffer refused an exchange")
    await pipe.stop(drain_timeout_s=600)
    return time.process_time() - started


async def _measure(url: str, exchanges: Sequence[Exchange]) -> dict[str, float]:
    config = CollectorConfig(redis_url=url, redis_queue=QUEUE, async_workers=1)
    keys = RedisKeys(queue=QUEUE)
    redis = aioredis.Redis.from_url(url)
    try:
        clock = _Clock()
        stages = _timed_stages(default_stages(config, redis=redis, keys=keys), clock)
        await _through(config, stages, exchanges[:WARM_UP])
        clock.spent.clear()
        measured = exchanges[WARM_UP:]
        total_s = await _through(config, stages, measured)
        written = await redis.xlen(keys.stream)
    finally:
        await redis.aclose()
    if written != len(exchanges):
        raise RuntimeError(f"pipeline cost: {written} of {len(exchanges)} exchanges written")
    per_us = {name: spent / len(measured) * 1e6 for name, spent in clock.spent.items()}
    total_us = total_s / len(measured) * 1e6
    return {
        "first_seen": total_us,
        **{f"pipeline_{name}": per_us[name] for name in ("sanitize", "dedup", "mapping")},
        "write": per_us["write"],
        "pipeline_other": total_us - sum(per_us.values()),
    }


def first_seen_cost(exchanges: Sequence[Exchange]) -> dict[str, float]:
    """CPU µs per exchange (all new, more than ``WARM_UP``): ``first_seen`` end to end;
    ``pipeline_sanitize``, ``pipeline_dedup``, ``pipeline_mapping``, ``write`` (the Redis
    batch write: script call, claims, XADDs, reply) and ``pipeline_other`` (the rest:
    queue entries, batching, the repeat index, metrics, asyncio)."""
    with tempfile.TemporaryDirectory() as work:
        port = promised_port()
        process = procs.redis_process(
            port=port, data_dir=Path(work) / "redis", log_path=Path(work) / "redis.log"
        ).start()
        try:
            process.wait_ready(procs.tcp_ready("127.0.0.1", port), timeout_s=15)
            return asyncio.run(_measure(f"redis://127.0.0.1:{port}/0", exchanges))
        finally:
            process.stop(timeout_s=10)
