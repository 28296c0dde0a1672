"""Where the ext_proc bench's CPU per exchange goes besides gRPC: each in-process step
timed on the bench's own 2 KiB JSON exchanges (``ext_proc.breakdown_*_us``)."""

from __future__ import annotations

import contextlib
import gc
import time

from bench.ext_proc_servers import json_body
from ext_proc_server.capture import protos
from ext_proc_server.capture.server import GC_THRESHOLDS

QUEUE = "bench:ext_proc"


def bench_stream(n: int) -> list:
    """The ext_proc messages of one bench exchange, as Envoy sends them."""

    def headers(pairs: list[tuple[str, str]]) -> protos.HeaderMap:
        return protos.HeaderMap(
            headers=[protos.HeaderValue(key=k, raw_value=v.encode()) for k, v in pairs]
        )

    req = [(":method", "POST"), (":path", f"/api/b/order{n}?page={n}"),
           (":authority", "orders.bench"), (":scheme", "http"),
           ("content-type", "application/json"), ("x-request-id", f"id-{n}")]  # fmt: skip
    resp = [(":status", "200"), ("content-type", "application/json")]
    return [
        protos.ProcessingRequest(request_headers=protos.HttpHeaders(headers=headers(req))),
        protos.ProcessingRequest(
            request_body=protos.HttpBody(body=json_body(n), end_of_stream=True)
        ),
        protos.ProcessingRequest(response_headers=protos.HttpHeaders(headers=headers(resp))),
        protos.ProcessingRequest(
            response_body=protos.HttpBody(body=json_body(0), end_of_stream=True)
        ),
    ]


@contextlib.contextmanager
def collector_gc():
    """The collector's GC tuning (``capture.server.tune_gc``) while in-process steps are
    timed: a full collection of this bench process's own heap is not the collector's cost."""
    thresholds = gc.get_threshold()
    gc.collect()
    gc.freeze()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


def breakdown(count: int = 300) -> dict[str, float]:
    with collector_gc():
        return _breakdown_steps(count)


def _breakdown_steps(count: int) -> dict[str, float]:
    """CPU per exchange of each in-process step, for the same 2 KiB JSON exchanges:
    where ``cpu_us_per_exchange`` goes besides gRPC itself. ``assemble_repeat``: what a
    repeat of a recorded exchange costs in all (assembly, its key and fingerprint).
    ``first_seen``, ``write``, ``pipeline_*``: whole pipeline, real Redis (pipeline_cost)."""
    from bench.pipeline_cost import first_seen_cost
    from ext_proc_server.capture import CaptureFilter, StreamAssembler, StreamMeta, dispatch
    from ext_proc_server.core.config import CollectorConfig
    from ext_proc_server.core.queue_entries import encode_entry
    from ext_proc_server.core.redis_keys import RedisKeys
    from ext_proc_server.pipeline import default_stages

    config = CollectorConfig()
    capture_filter, meta = CaptureFilter(config), StreamMeta()
    stages = default_stages(config, redis=None, keys=RedisKeys(queue=QUEUE))
    streams = [bench_stream(n) for n in range(count)]
    timings: dict[str, float] = {}

    def timed(name: str, fn, items: list) -> list:
        started = time.process_time()
        results = [fn(item) for item in items]
        timings[name] = (time.process_time() - started) / len(items) * 1e6
        return results

    def assemble(messages: list, repeats=None):
        assembler = StreamAssembler(
            config=config, capture_filter=capture_filter, meta=meta, repeats=repeats
        )
        for message in messages:
            done = dispatch(assembler, message)
        return done

    exchanges = [done.exchange for done in timed("assemble", assemble, streams)]
    repeats = stages.repeats
    assert repeats is not None
    for exchange in exchanges:
        repeats.remember(repeats.key_of(exchange), "recorded")
    done = timed("assemble_repeat", lambda m: assemble(m, repeats), streams)
    assert all(d.repeat for d in done), "the recorded exchanges did not repeat"
    clean = timed("sanitize", stages.sanitize, exchanges)
    # dedup then build_mapping per exchange, as the pipeline calls them (shared parts).
    clock = time.process_time
    mappings, spent = [], {"dedup_hash": 0.0, "mapping": 0.0}
    for exchange in clean:
        started = clock()
        keyed = stages.dedup(exchange)
        hashed = clock()
        mappings.append(stages.build_mapping(keyed))
        spent["dedup_hash"] += hashed - started
        spent["mapping"] += clock() - hashed
    timings.update({name: total_s / len(clean) * 1e6 for name, total_s in spent.items()})
    timed("encode", lambda m: encode_entry(m, host="orders.bench"), mappings)
    timings.update(first_seen_cost(exchanges))
    return {f"ext_proc.breakdown_{k}_us": round(v, 1) for k, v in timings.items()}
