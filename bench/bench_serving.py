"""Serving the mocks: one stock WireMock versus mockado's serving topology.

In one run, on the same box:
1. generate 10,000 stubs across 10 destination services with the real mapping
   generator (host-matched mappings);
2. load them into one stock WireMock (default flags: request journal on,
   default heap), and separately into mockado's serving topology as `mockado up`
   starts it: one shard per service with mockado's serving flags (no journal, no
   request logging, bounded heap, catch-all stub), all in one JVM running
   mockado's launcher with indexed stubs (``serving.sharded.indexed`` 1), or one
   stock JVM per shard where java cannot compile the launcher (0);
3. drive random matching requests at both, then requests that match nothing.
   Each measurement starts after the same warm-up per JVM: every JVM has served
   ``WARMUP_REQUESTS_PER_JVM`` requests (``_warm``), as a long-running one has.

Throughput is a ratio measured side by side; JVM CPU per request comes from
the processes' CPU time, so neither depends on how busy the box is.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil

from bench.loadgen import Request, closed_loop
from control_plane.local import procs
from control_plane.local.stack import shared_jvm_heap_mb
from control_plane.render import wiremock_heap_mb
from ext_proc_server.core.config import CollectorConfig, MockadoConfig
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.mapping import Deduplicator, NoiseNormalizer, build_mapping, catch_all_mapping

SERVICES = 10
WARMUP_WINDOW_S = 4.0
# The JIT compiles by invocation counts: one 1,000-stub shard alone stopped getting
# cheaper after some 20,000-40,000 requests. Each JVM gets the same count (ten stock
# shard JVMs, where there is no launcher, warm up ten times as long as one).
WARMUP_REQUESTS_PER_JVM = 20_000


def service_host(i: int) -> str:
    return f"svc{i}.shop.svc.cluster.local"


def generate_mappings(*, stubs_per_service: int) -> dict[str, list[dict]]:
    config = CollectorConfig()
    normalizer = NoiseNormalizer(config)
    dedup = Deduplicator(config, normalizer=normalizer)
    out: dict[str, list[dict]] = {}
    for s in range(SERVICES):
        host = service_host(s)
        mappings = []
        for n in range(stubs_per_service):
            body = f'{{"service":{s},"item":{n},"name":"item {n}","price":"{n % 97}.90"}}'
            exchange = Exchange(
                id=f"{s}-{n}",
                request=HttpRequest(
                    method="GET", path=f"/api/v1/items/{n}", query=(("lang", "pt"),), authority=host
                ),
                response=HttpResponse(
                    status=200, headers=(("content-type", "application/json"),), body=body.encode()
                ),
                sanitized=True,
            )
            mapping = build_mapping(
                exchange, dedup_hash=dedup.hash(exchange), config=config, normalizer=normalizer
            )
            assert mapping is not None
            mappings.append(mapping)
        out[host] = mappings
    return out


def import_mappings(url: str, mappings: list[dict]) -> None:
    with httpx.Client(timeout=600) as client:
        for i in range(0, len(mappings), 1000):
            client.post(
                f"{url}/__admin/mappings/import",
                json={
                    "mappings": mappings[i : i + 1000],
                    "importOptions": {
                        "duplicatePolicy": "OVERWRITE",
                        "deleteAllNotInImport": False,
                    },
                },
            ).raise_for_status()


def stock_wiremock(*, port: int, root: Path, log: Path) -> procs.ManagedProcess:
    """WireMock as its README starts it: default heap, journal and logging."""
    (root / "mappings").mkdir(parents=True, exist_ok=True)
    argv = [procs.find_java(), "-jar", str(procs.find_wiremock_jar()),
            "--port", str(port), "--root-dir", str(root), "--disable-banner"]  # fmt: skip
    return procs.ManagedProcess("wiremock-stock", argv, log_path=log)


def jvm_cpu_s(processes: list[procs.ManagedProcess]) -> float:
    total = 0.0
    for p in processes:
        times = psutil.Process(p.pid).cpu_times()
        total += times.user + times.system
    return total


def measure(
    *,
    label: str,
    processes: list[procs.ManagedProcess],
    port_for_host: dict[str, int],
    stubs_per_service: int,
    duration_s: float,
    concurrency: int,
    miss: bool,
    warmup_requests_per_jvm: int,
    warmup_max_s: float,
) -> dict[str, float]:
    hosts = list(port_for_host)

    def next_request(rng: random.Random) -> Request:
        host = rng.choice(hosts)
        n = rng.randrange(stubs_per_service)
        path = f"/api/v1/nothing/{n}?lang=pt" if miss else f"/api/v1/items/{n}?lang=pt"
        return Request(host=host, port=port_for_host[host], path=path)

    def check(request: Request, status: int, body: bytes) -> bool:
        if miss:
            return status == 404
        item = request.path.split("/")[4].split("?")[0]
        return status == 200 and f'"item":{item},'.encode() in body

    # The same number of requests per JVM before measuring (see _warm).
    warm = _warm(
        processes, next_request, concurrency=concurrency,
        requests=warmup_requests_per_jvm * len(processes), max_s=warmup_max_s,
    )  # fmt: skip
    cpu_before = jvm_cpu_s(processes)
    result = asyncio.run(
        closed_loop(next_request, duration_s=duration_s, concurrency=concurrency, check=check)
    )
    cpu_used = jvm_cpu_s(processes) - cpu_before
    done = max(result.ok, 1)
    return {
        f"serving.{label}.rps": round(result.rps, 1),
        f"serving.{label}.p99_ms": round(result.quantile_ms(0.99), 2),
        f"serving.{label}.p50_ms": round(result.quantile_ms(0.50), 2),
        f"serving.{label}.jvm_cpu_ms_per_request": round(cpu_used * 1000 / done, 3),
        f"serving.{label}.wrong_or_failed": result.sent - result.ok,
        **{f"serving.{label}.{key}": value for key, value in warm.items()},
    }


def _warm(
    processes: list[procs.ManagedProcess],
    next_request: Callable[[random.Random], Request],
    *,
    concurrency: int,
    requests: int,
    max_s: float,
) -> dict[str, float]:
    """Drive requests in windows until ``requests`` were served, or ``max_s``.

    A fixed warm-up time favours stock: its one JVM sees every request, while ten
    shards on two cores each see a tenth and compile their hot paths ten times over.
    A shard in a cluster runs warm on its own CPU; this measures that. Reports the
    warm-up time, the requests served, whether the count was reached, and the JVM
    CPU per request of the first and last windows (the warm-up curve)."""
    costs: list[float] = []
    spent_s, served = 0.0, 0
    while served < requests and spent_s < max_s:
        cpu_before = jvm_cpu_s(processes)
        window = asyncio.run(
            closed_loop(
                next_request, duration_s=WARMUP_WINDOW_S, concurrency=concurrency,
                seed=len(costs) + 100,
            )
        )  # fmt: skip
        spent_s += WARMUP_WINDOW_S
        served += window.sent
        costs.append((jvm_cpu_s(processes) - cpu_before) / max(window.sent, 1))
    return {
        "warmup_s": spent_s,
        "warmup_requests": served,
        "warm": int(served >= requests),
        "warmup_first_window_cpu_ms": round(costs[0] * 1000, 3) if costs else 0.0,
        "warmup_last_window_cpu_ms": round(costs[-1] * 1000, 3) if costs else 0.0,
    }


def run(*, quick: bool = False) -> dict[str, float | int | str]:
    stubs_per_service = 300 if quick else 1000
    hit_s, miss_s = (4.0, 4.0) if quick else (10.0, 8.0)
    # Warm-up per JVM (see _warm), and a bound on its time for a very slow box.
    warmup_per_jvm = 2_000 if quick else WARMUP_REQUESTS_PER_JVM
    warmup_max_s = 30.0 if quick else 300.0
    mappings = generate_mappings(stubs_per_service=stubs_per_service)
    figures: dict[str, float | int | str] = {
        "serving.stubs": stubs_per_service * SERVICES,
        "serving.services": SERVICES,
    }
    with tempfile.TemporaryDirectory(prefix="mockado-bench-serving-") as tmp:
        root = Path(tmp)
        started: list[procs.ManagedProcess] = []
        try:
            stock_port = procs.free_port()
            stock = stock_wiremock(port=stock_port, root=root / "stock", log=root / "stock.log")
            started.append(stock.start())
            stock.wait_ready(
                procs.http_ready(f"http://127.0.0.1:{stock_port}/__admin/health"), timeout_s=90
            )

            # mockado's serving topology, as `mockado up` starts it: one shard per service,
            # all in one JVM running mockado's launcher (indexed stubs) where java can
            # compile it, else one stock JVM per shard.
            indexed = procs.wiremock_launcher_available()
            shard_ports: dict[str, int] = {}
            for host in mappings:
                shard_ports[host] = procs.free_port(avoid={stock_port, *shard_ports.values()})
            per_shard_heap_mb = wiremock_heap_mb(MockadoConfig())
            if indexed:
                shard_procs = [
                    procs.wiremock_process(
                        servers=[
                            procs.WireMockServer(port=port, root_dir=root / f"shard{i}")
                            for i, port in enumerate(shard_ports.values())
                        ],
                        log_path=root / "shards.log",
                        heap_mb=shared_jvm_heap_mb(per_shard_heap_mb, shards=SERVICES),
                        indexed=True,
                    )
                ]
            else:
                shard_procs = [
                    procs.wiremock_process(
                        servers=[procs.WireMockServer(port=port, root_dir=root / f"shard{i}")],
                        log_path=root / f"shard{i}.log",
                        heap_mb=per_shard_heap_mb,
                        indexed=False,
                    )
                    for i, port in enumerate(shard_ports.values())
                ]
            for process in shard_procs:
                started.append(process.start())
            shard_procs[0].wait_ready(
                procs.all_ready(
                    [
                        procs.http_ready(f"http://127.0.0.1:{p}/__admin/health")
                        for p in shard_ports.values()
                    ]
                ),
                timeout_s=120,
            )
            figures["serving.sharded.jvms"] = len(shard_procs)
            figures["serving.sharded.indexed"] = int(indexed)

            t0 = time.process_time()
            everything = [m for ms in mappings.values() for m in ms]
            import_mappings(f"http://127.0.0.1:{stock_port}", everything)
            for i, (host, ms) in enumerate(mappings.items()):
                port = shard_ports[host]
                import_mappings(
                    f"http://127.0.0.1:{port}", [*ms, catch_all_mapping(shard=f"shard{i}")]
                )
            figures["serving.load_client_cpu_s"] = round(time.process_time() - t0, 2)

            stock_ports = dict.fromkeys(mappings, stock_port)
            hits = {
                "stubs_per_service": stubs_per_service,
                "warmup_requests_per_jvm": warmup_per_jvm,
                "warmup_max_s": warmup_max_s,
            }
            # Misses run on JVMs the hits warmed; the miss path gets a short warm-up of its
            # own (stock answers about 10 misses/s, so it stops at the time bound).
            misses = {**hits, "warmup_requests_per_jvm": 2_000, "warmup_max_s": 20.0}
            figures.update(measure(label="stock", processes=[stock], port_for_host=stock_ports,
                                   duration_s=hit_s, concurrency=8, miss=False, **hits))  # fmt: skip
            figures.update(measure(label="sharded", processes=shard_procs, port_for_host=shard_ports,
                                   duration_s=hit_s, concurrency=8, miss=False, **hits))  # fmt: skip
            figures.update(measure(label="stock_miss", processes=[stock], port_for_host=stock_ports,
                                   duration_s=miss_s, concurrency=2, miss=True, **misses))  # fmt: skip
            figures.update(measure(label="sharded_miss", processes=shard_procs, port_for_host=shard_ports,
                                   duration_s=miss_s, concurrency=8, miss=True, **misses))  # fmt: skip
        finally:
            for p in reversed(started):
                p.stop(timeout_s=10)
    stock_rps = max(float(figures["serving.stock.rps"]), 1e-9)
    stock_miss_rps = max(float(figures["serving.stock_miss.rps"]), 1e-9)
    figures["serving.rps_ratio_to_stock"] = round(
        float(figures["serving.sharded.rps"]) / stock_rps, 2
    )
    figures["serving.miss_rps_ratio_to_stock"] = round(
        float(figures["serving.sharded_miss.rps"]) / stock_miss_rps, 2
    )
    figures["serving.p99_ms"] = figures["serving.sharded.p99_ms"]
    figures["serving.stock_p99_ms"] = figures["serving.stock.p99_ms"]
    return figures


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick=True), indent=2))
