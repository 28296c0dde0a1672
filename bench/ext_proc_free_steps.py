"""mockado's collector with its three per-exchange steps free: the lower bound of any
sanitizer, dedup and mapping, however fast, inside this collector.

Everything else runs as ``mockado ext-proc`` runs it: the server, servicer and stream
assembly, the repeat fast path, the bounded buffer and its batches, the queue entry
(orjson) and the one-script Redis write to a real Redis. Only ``Stages.sanitize``,
``dedup`` and ``build_mapping`` are replaced, through the public ``Stages``, by stand-ins
that cost next to nothing: the exchange marked sanitized as it is, a digest of its path
as the dedup hash, and a real stub of a bench exchange (built once at start) with that
hash as its id, so each queue entry is as large as mockado's own.

``python -m bench.ext_proc_free_steps --free-steps-collector PORT --config PATH
--floor-count-file PATH``.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import hashlib
from pathlib import Path
from typing import Any

from ext_proc_server.core.exchange import Exchange
from ext_proc_server.pipeline import Keyed, Stages


def streams_seen() -> int:
    """Streams this process's servicer counted (``collector_requests_total``, every
    label, as far as flushed): repeats too, which end in the stream, not the pipeline."""
    from ext_proc_server.core import metrics

    return int(
        sum(
            sample.value
            for metric in metrics.COLLECTOR_REQUESTS.collect()
            for sample in metric.samples
            if sample.name.endswith("_total")
        )
    )


def free_stages(stages: Stages, *, template: dict[str, Any]) -> Stages:
    """``stages`` with sanitize, dedup and mapping replaced by near-free stand-ins;
    ``template``: a real stub, copied with each exchange's dedup hash as its id."""

    def sanitize(exchange: Exchange) -> Exchange:
        return exchange.replace(sanitized=True)

    def dedup(exchange: Exchange) -> Keyed:
        request = exchange.request
        digest = hashlib.blake2b(request.path.encode(), digest_size=16)
        for name, value in request.query:
            digest.update(f"\x00{name}={value}".encode())
        return Keyed(exchange, digest.hexdigest())

    def build_mapping(keyed: Keyed) -> dict[str, Any]:
        return {**template, "id": keyed.dedup_hash}

    return dataclasses.replace(stages, sanitize=sanitize, dedup=dedup, build_mapping=build_mapping)


def bench_template(stages: Stages) -> dict[str, Any]:
    """The real stub of the bench's first exchange, through the real steps."""
    from bench.ext_proc_breakdown import bench_stream
    from ext_proc_server.capture import CaptureFilter, StreamAssembler, StreamMeta, dispatch
    from ext_proc_server.core.config import CollectorConfig

    config = CollectorConfig()
    assembler = StreamAssembler(
        config=config, capture_filter=CaptureFilter(config), meta=StreamMeta(), repeats=None
    )
    for message in bench_stream(0):
        done = dispatch(assembler, message)
    mapping = stages.build_mapping(stages.dedup(stages.sanitize(done.exchange)))
    if mapping is None:
        raise RuntimeError("free steps: the bench exchange gave no stub")
    return mapping


def free_steps_main(port: int, config_path: Path, count_path: Path) -> None:
    """mockado's ``CaptureServer`` (same options, GC tuning) whose sink is the real
    pipeline with :func:`free_stages`; the streams it saw written to ``count_path``
    twice a second, as the floor does."""
    from ext_proc_server.capture import CaptureServer, run_until_signal
    from ext_proc_server.core.config import load_config
    from ext_proc_server.core.redis_client import make_redis
    from ext_proc_server.core.redis_keys import RedisKeys
    from ext_proc_server.pipeline import CapturePipeline, default_stages

    config = load_config(config_path, overrides={"collector.grpc_port": port})
    collector = config.collector

    async def write_count_forever(server: CaptureServer) -> None:
        while True:
            server.flush_metrics()
            count_path.write_text(str(streams_seen()))
            await asyncio.sleep(0.5)

    async def main() -> None:
        redis = make_redis(collector.redis_url, pool_size=collector.redis_pool_size)
        real = default_stages(collector, redis=redis, keys=RedisKeys(queue=collector.redis_queue))
        stages = free_stages(real, template=bench_template(real))
        server = CaptureServer(
            config, sink=CapturePipeline(collector, stages=stages), serve_http=False
        )
        writer = asyncio.get_running_loop().create_task(write_count_forever(server))
        try:
            await run_until_signal(server)
        finally:
            writer.cancel()
            await redis.aclose()

    asyncio.run(main())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--free-steps-collector", type=int, required=True, help="gRPC port")
    parser.add_argument("--config", type=Path, required=True, help="mockado.yaml")
    parser.add_argument("--floor-count-file", type=Path, required=True)
    args = parser.parse_args()
    free_steps_main(args.free_steps_collector, args.config, args.floor_count_file)
