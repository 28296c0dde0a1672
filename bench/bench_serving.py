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
3. drive random matching requests at both, then requests that match nothing, with
   ``wrk`` (native: a Python client could not drive the shards past ~7,000 req/s;
   ``serving.loadgen_cpu_share`` shows how much of the box it took);
4. the ceiling: the same matching requests at the same topology (launcher, JVM,
   flags, heap) where each shard holds one stub that answers every request (no
   matching work at all): what WireMock's HTTP path itself costs, the best any stub
   store inside WireMock can do (``serving.ceiling_rps``,
   ``serving.ceiling_rps_ratio_to_stock``).

Each measurement starts after the same warm-up per JVM: every JVM has served
``WARMUP_REQUESTS_PER_JVM`` requests and stopped getting cheaper (``_warm``), as a
long-running one has.

Hits are then measured in ``HIT_ROUNDS`` interleaved rounds (stock, launcher, ceiling;
launcher, ceiling, stock; ...; ``HIT_ROUND_S`` each, every JVM kept running and warm), so
that the box getting faster or slower moves all three setups of a round alike. Each
ratio (``serving.rps_ratio_to_stock``, ``ceiling_rps_ratio_to_stock``,
``rps_ratio_to_ceiling``, ``cpu_ratio_to_stock``, ``ceiling_cpu_ratio_to_stock``) is
the median of its per-round ratios, with their range in ``<key>_min`` and ``<key>_max``.
A setup's own figures (``serving.<setup>.rps``, ``p50_ms``, ``p99_ms``,
``jvm_cpu_ms_per_request``) are the median of its rounds; ``wrong_or_failed`` counts
every round; ``loadgen_cpu_share`` and ``loadgen_cpu_us_per_request`` (wrk's CPU) cover
all its rounds. Misses are measured once per setup, as before.

Throughput is a ratio measured side by side, but it moves with the box's load
(stock, at milliseconds of CPU a request, loses more to other processes than the
launcher). JVM CPU per request comes from the processes' CPU time and moves much less
within a run (``serving.cpu_ratio_to_stock`` and ``serving.ceiling_cpu_ratio_to_stock``
are the figures to trust on a busy box), though stock's own grows with the box's load
(its scan of every stub shares the caches with the other work): see docs/serving.md.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psutil

from bench.loadgen import WrkTarget, wrk_available, wrk_closed_loop
from control_plane.local import procs
from control_plane.local.stack import shared_jvm_heap_mb
from control_plane.render import wiremock_heap_mb
from ext_proc_server.core.config import CollectorConfig, MockadoConfig
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.mapping import Deduplicator, NoiseNormalizer, build_mapping, catch_all_mapping
from tests.support.processes import promised_port

SERVICES = 10
WARMUP_WINDOW_S = 4.0
# The JIT compiles by invocation counts: one 1,000-stub shard alone stopped getting
# cheaper after some 20,000-40,000 requests. Each JVM gets the same count (ten stock
# shard JVMs, where there is no launcher, warm up ten times as long as one).
WARMUP_REQUESTS_PER_JVM = 20_000
# ...and then until its JVM CPU per request stopped falling: the last WARMUP_STEADY_WINDOWS
# windows each cost at least this share of the cheapest window before them. A count alone
# measured the launcher mid-compilation (0.26-0.29 ms per request where a steady one
# costs about 0.1 ms).
WARMUP_STEADY_WINDOWS = 2
WARMUP_STEADY_SHARE = 0.9
# Warm hits are measured in rounds, each setup in turn (see interleaved).
HIT_ROUNDS = 4
HIT_ROUND_S = 5.0


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


@dataclass(frozen=True)
class Setup:
    """One serving setup to measure: its JVMs and which port serves each host."""

    label: str
    processes: list[procs.ManagedProcess]
    port_for_host: dict[str, int]
    # Whether a hit's body must name the item asked for (the ceiling's one stub cannot).
    check_item: bool = True


def _targets(setup: Setup, *, stubs_per_service: int, miss: bool) -> list[WrkTarget]:
    return [
        WrkTarget(
            host=host,
            port=port,
            prefix="/api/v1/nothing/" if miss else "/api/v1/items/",
            suffix="?lang=pt",
            items=stubs_per_service,
            expect_status=404 if miss else 200,
            check_item=setup.check_item,
        )
        for host, port in setup.port_for_host.items()
    ]


@dataclass(frozen=True)
class Window:
    """One setup driven by wrk for one window: what wrk and the setup's JVMs measured."""

    requests: int
    ok: int
    duration_s: float
    p50_ms: float
    p99_ms: float
    jvm_cpu_s: float
    loadgen_cpu_s: float

    @property
    def rps(self) -> float:
        return self.ok / self.duration_s

    @property
    def jvm_cpu_ms_per_request(self) -> float:
        return self.jvm_cpu_s * 1000 / max(self.ok, 1)


def drive(setup: Setup, targets: list[WrkTarget], *, duration_s: float, workdir: Path) -> Window:
    """Drive ``targets`` (one connection each) for ``duration_s``; the setup's JVM CPU
    is read around it."""
    cpu_before = jvm_cpu_s(setup.processes)
    result = wrk_closed_loop(
        targets, duration_s=duration_s, concurrency=len(targets), workdir=workdir
    )
    return Window(
        requests=result.requests,
        ok=result.ok,
        duration_s=duration_s,
        p50_ms=result.p50_ms,
        p99_ms=result.p99_ms,
        jvm_cpu_s=jvm_cpu_s(setup.processes) - cpu_before,
        loadgen_cpu_s=result.cpu_s,
    )


def window_figures(label: str, windows: list[Window]) -> dict[str, float]:
    """One setup's figures over its windows: the median window's rate, latencies and JVM
    CPU per request; every window's wrong or failed answers; wrk's share of the box
    and CPU per request over all of them."""
    cores = os.cpu_count() or 1
    requests = sum(w.requests for w in windows)
    loadgen_cpu_s = sum(w.loadgen_cpu_s for w in windows)

    median = statistics.median
    return {
        f"serving.{label}.rps": round(median([w.rps for w in windows]), 1),
        f"serving.{label}.p99_ms": round(median([w.p99_ms for w in windows]), 2),
        f"serving.{label}.p50_ms": round(median([w.p50_ms for w in windows]), 2),
        f"serving.{label}.jvm_cpu_ms_per_request": round(
            median([w.jvm_cpu_ms_per_request for w in windows]), 3
        ),
        f"serving.{label}.wrong_or_failed": requests - sum(w.ok for w in windows),
        # The load generator's share of the box: near 1/cores per wrk thread busy all
        # the time, a run it may have capped.
        f"serving.{label}.loadgen_cpu_share": round(
            loadgen_cpu_s / (sum(w.duration_s for w in windows) * cores), 3
        ),
        f"serving.{label}.loadgen_cpu_us_per_request": round(
            loadgen_cpu_s * 1e6 / max(requests, 1), 1
        ),
    }


def measure(
    setup: Setup, *, duration_s: float, workdir: Path, **warm_options: Any
) -> dict[str, float]:
    """Throughput, latency and JVM CPU per request of one setup in one window, driven by
    wrk, after :func:`warm_up` (``warm_options``: its keywords)."""
    warmed = warm_up(setup, workdir=workdir, **warm_options)
    window = drive(setup, warmed.targets, duration_s=duration_s, workdir=workdir)
    return {**window_figures(warmed.label, [window]), **warmed.figures}


@dataclass(frozen=True)
class Warmed:
    """A warm setup's figure label, what drives it, and its warm-up figures."""

    label: str
    targets: list[WrkTarget]
    figures: dict[str, float]


def warm_up(
    setup: Setup,
    *,
    stubs_per_service: int,
    miss: bool,
    warmup_requests_per_jvm: int,
    warmup_max_s: float,
    workdir: Path,
    connections: int = SERVICES,
) -> Warmed:
    """The same warm-up per JVM (see _warm), driven by wrk (one connection per destination
    service, on the first ``connections`` services); figures ``serving.<label>.warmup_*``."""
    label = setup.label + ("_miss" if miss else "")
    targets = _targets(setup, stubs_per_service=stubs_per_service, miss=miss)[:connections]
    warm = _warm(
        setup, targets, requests=warmup_requests_per_jvm * len(setup.processes),
        max_s=warmup_max_s, workdir=workdir,
    )  # fmt: skip
    figures = {f"serving.{label}.{key}": value for key, value in warm.items()}
    return Warmed(label, targets, figures)


def round_order(setups: list[Setup], round_index: int) -> list[Setup]:
    """The setups in the order round ``round_index`` drives them: each round starts one
    setup later, so that none always follows the same one."""
    shift = round_index % len(setups)
    return setups[shift:] + setups[:shift]


def interleaved(
    setups: list[Setup], *, stubs_per_service: int, rounds: int, round_s: float, workdir: Path
) -> dict[str, list[Window]]:
    """Each (warm) setup driven for ``round_s`` in turn, ``rounds`` times over: every
    round sees the box in about the same state for each setup, so a change in the
    box's speed moves a round's figures together instead of landing in their ratio."""
    windows: dict[str, list[Window]] = {setup.label: [] for setup in setups}
    for round_index in range(rounds):
        for setup in round_order(setups, round_index):
            targets = _targets(setup, stubs_per_service=stubs_per_service, miss=False)
            windows[setup.label].append(drive(setup, targets, duration_s=round_s, workdir=workdir))
    return windows


def _warm(
    setup: Setup, targets: list[WrkTarget], *, requests: int, max_s: float, workdir: Path
) -> dict[str, float]:
    """Drive requests in windows until ``requests`` were served and the JVM CPU per
    request stopped falling (:func:`steady`), or ``max_s``.

    A fixed warm-up time favours stock: its one JVM sees every request, while ten
    shards on two cores each see a tenth and compile their hot paths ten times over.
    A shard in a cluster runs warm on its own CPU; this measures that. Reports the
    warm-up time, the requests served, whether it got warm (count reached and steady),
    and the JVM CPU per request of the first and last windows (the warm-up curve)."""
    costs: list[float] = []
    spent_s, served = 0.0, 0
    while not (served >= requests and steady(costs)) and spent_s < max_s:
        cpu_before = jvm_cpu_s(setup.processes)
        window = wrk_closed_loop(
            targets, duration_s=WARMUP_WINDOW_S, concurrency=len(targets), workdir=workdir
        )
        spent_s += WARMUP_WINDOW_S
        served += window.requests
        costs.append((jvm_cpu_s(setup.processes) - cpu_before) / max(window.requests, 1))
    return {
        "warmup_s": spent_s,
        "warmup_requests": served,
        "warm": int(served >= requests and steady(costs)),
        "warmup_first_window_cpu_ms": round(costs[0] * 1000, 3) if costs else 0.0,
        "warmup_last_window_cpu_ms": round(costs[-1] * 1000, 3) if costs else 0.0,
    }


def steady(costs: list[float]) -> bool:
    """Whether the last ``WARMUP_STEADY_WINDOWS`` windows' CPU per request stopped
    falling: each costs at least ``WARMUP_STEADY_SHARE`` of the cheapest before them."""
    if len(costs) <= WARMUP_STEADY_WINDOWS:
        return False
    best_before = min(costs[:-WARMUP_STEADY_WINDOWS])
    return all(c >= WARMUP_STEADY_SHARE * best_before for c in costs[-WARMUP_STEADY_WINDOWS:])


def _start_stock(
    root: Path, started: list[procs.ManagedProcess]
) -> tuple[procs.ManagedProcess, int]:
    port = promised_port()
    stock = stock_wiremock(port=port, root=root / "stock", log=root / "stock.log")
    started.append(stock.start())
    stock.wait_ready(procs.http_ready(f"http://127.0.0.1:{port}/__admin/health"), timeout_s=90)
    return stock, port


def ceiling_stub() -> dict:
    """One stub that answers every request with an item-sized JSON body: no URL, method
    or host to match, nothing to choose between."""
    body = '{"service":0,"item":0,"name":"item 0","price":"0.90"}'
    return {
        "request": {"method": "ANY"},
        "response": {
            "status": 200,
            "headers": {"content-type": "application/json"},
            "body": body,
        },
    }


def _start_ceiling(
    root: Path, hosts: list[str], started: list[procs.ManagedProcess]
) -> tuple[list[procs.ManagedProcess], dict[str, int]]:
    """mockado's serving topology again (same JVM, launcher, flags and heap), each shard
    serving ``ceiling_stub`` alone: everything but the stubs is the same."""
    ceiling_procs, ports, _ = _start_shards(root / "ceiling", hosts, started)
    for port in ports.values():
        import_mappings(f"http://127.0.0.1:{port}", [ceiling_stub()])
    return ceiling_procs, ports


def _start_shards(
    root: Path, hosts: list[str], started: list[procs.ManagedProcess]
) -> tuple[list[procs.ManagedProcess], dict[str, int], bool]:
    """mockado's serving topology, as `mockado up` starts it: one shard per service, all
    in one JVM running mockado's launcher (indexed stubs) where java can compile it,
    else one stock JVM per shard."""
    indexed = procs.wiremock_launcher_available()
    ports: dict[str, int] = {}
    for host in hosts:
        ports[host] = promised_port()
    heap_mb = wiremock_heap_mb(MockadoConfig())
    servers = [
        procs.WireMockServer(port=port, root_dir=root / f"shard{i}")
        for i, port in enumerate(ports.values())
    ]
    if indexed:
        groups = [servers]
        heaps = [shared_jvm_heap_mb(heap_mb, shards=SERVICES)]
    else:
        groups = [[server] for server in servers]
        heaps = [heap_mb] * len(servers)
    shard_procs = [
        procs.wiremock_process(
            servers=group, log_path=root / f"shards{i}.log", heap_mb=heap, indexed=indexed
        )
        for i, (group, heap) in enumerate(zip(groups, heaps, strict=True))
    ]
    for process in shard_procs:
        started.append(process.start())
    health = [procs.http_ready(f"http://127.0.0.1:{p}/__admin/health") for p in ports.values()]
    shard_procs[0].wait_ready(procs.all_ready(health), timeout_s=120)
    return shard_procs, ports, indexed


def _load(mappings: dict[str, list[dict]], stock_port: int, ports: dict[str, int]) -> float:
    """Every mapping into stock; each service's into its shard with a catch-all. -> the
    client's CPU seconds."""
    t0 = time.process_time()
    import_mappings(f"http://127.0.0.1:{stock_port}", [m for ms in mappings.values() for m in ms])
    for i, (host, ms) in enumerate(mappings.items()):
        import_mappings(
            f"http://127.0.0.1:{ports[host]}", [*ms, catch_all_mapping(shard=f"shard{i}")]
        )
    return round(time.process_time() - t0, 2)


def spread(key: str, values: list[float]) -> dict[str, float]:
    """A per-round figure: its median under ``key``, its range under ``key_min``/``key_max``."""
    return {
        key: round(statistics.median(values), 2),
        f"{key}_min": round(min(values), 2),
        f"{key}_max": round(max(values), 2),
    }


def round_ratios(windows: dict[str, list[Window]]) -> dict[str, float]:
    """The hit ratios, each taken within a round and summarised over the rounds
    (:func:`spread`): rates of the launcher and the ceiling over stock's and the
    launcher's over the ceiling's, and stock's JVM CPU per request over theirs (what
    the box's load hardly moves)."""
    rounds = list(zip(windows["stock"], windows["sharded"], windows["ceiling"], strict=True))

    def ratio(ours: float, theirs: float) -> float:
        return ours / max(theirs, 1e-9)

    cpu = "jvm_cpu_ms_per_request"
    return {
        **spread("serving.rps_ratio_to_stock", [ratio(s.rps, k.rps) for k, s, _ in rounds]),
        **spread("serving.ceiling_rps_ratio_to_stock", [ratio(c.rps, k.rps) for k, _, c in rounds]),
        **spread("serving.rps_ratio_to_ceiling", [ratio(s.rps, c.rps) for _, s, c in rounds]),
        **spread(
            "serving.cpu_ratio_to_stock",
            [ratio(getattr(k, cpu), getattr(s, cpu)) for k, s, _ in rounds],
        ),
        **spread(
            "serving.ceiling_cpu_ratio_to_stock",
            [ratio(getattr(k, cpu), getattr(c, cpu)) for k, _, c in rounds],
        ),
    }


def _ratios(figures: dict[str, float | int | str]) -> None:
    def ratio(ours: str, stock: str) -> float:
        return round(float(figures[ours]) / max(float(figures[stock]), 1e-9), 2)

    figures["serving.miss_rps_ratio_to_stock"] = ratio(
        "serving.sharded_miss.rps", "serving.stock_miss.rps"
    )
    figures["serving.p99_ms"] = figures["serving.sharded.p99_ms"]
    figures["serving.stock_p99_ms"] = figures["serving.stock.p99_ms"]
    figures["serving.loadgen_cpu_share"] = figures["serving.sharded.loadgen_cpu_share"]
    figures["serving.ceiling_rps"] = figures["serving.ceiling.rps"]


def _hits(
    setups: list[Setup],
    *,
    rounds: int,
    round_s: float,
    workdir: Path,
    stubs_per_service: int,
    warmup_requests_per_jvm: int,
    warmup_max_s: float,
) -> dict[str, float]:
    """Every setup warmed (see _warm), then measured in interleaved rounds: each setup's
    figures and the per-round ratios."""
    figures: dict[str, float] = {}
    for setup in setups:
        figures.update(
            warm_up(setup, stubs_per_service=stubs_per_service, miss=False, workdir=workdir,
                    warmup_requests_per_jvm=warmup_requests_per_jvm,
                    warmup_max_s=warmup_max_s).figures
        )  # fmt: skip
    windows = interleaved(
        setups, stubs_per_service=stubs_per_service, rounds=rounds, round_s=round_s,
        workdir=workdir,
    )  # fmt: skip
    for label, measured in windows.items():
        figures.update(window_figures(label, measured))
    figures.update(round_ratios(windows))
    return figures


def run(*, quick: bool = False) -> dict[str, float | int | str]:
    if not wrk_available():
        raise RuntimeError("wrk not found: `make bench` installs it (Debian package wrk)")
    stubs_per_service = 300 if quick else 1000
    rounds, round_s = (2, 3.0) if quick else (HIT_ROUNDS, HIT_ROUND_S)
    miss_s = 4.0 if quick else 8.0
    mappings = generate_mappings(stubs_per_service=stubs_per_service)
    figures: dict[str, float | int | str] = {
        "serving.stubs": stubs_per_service * SERVICES,
        "serving.services": SERVICES,
        "serving.loadgen": "wrk",
        "serving.rounds": rounds,
        "serving.round_s": round_s,
    }
    # Warm-up per JVM (see _warm), and a bound on its time for a very slow box. Misses
    # run on JVMs the hits warmed; the miss path gets a short warm-up of its own (stock
    # answers about 10 misses/s, so it stops at the time bound).
    hits = {
        "stubs_per_service": stubs_per_service,
        "warmup_requests_per_jvm": 2_000 if quick else WARMUP_REQUESTS_PER_JVM,
        "warmup_max_s": 30.0 if quick else 300.0,
    }
    # Stock spends about 200 ms of CPU on each miss (a near-miss diff against every stub):
    # two at a time, as before, or it answers none within the window.
    misses = {**hits, "warmup_requests_per_jvm": 2_000, "warmup_max_s": 20.0}
    with tempfile.TemporaryDirectory(prefix="mockado-bench-serving-") as tmp:
        root = Path(tmp)
        started: list[procs.ManagedProcess] = []
        try:
            stock, stock_port = _start_stock(root, started)
            shard_procs, ports, indexed = _start_shards(root, list(mappings), started)
            figures["serving.sharded.jvms"] = len(shard_procs)
            figures["serving.sharded.indexed"] = int(indexed)
            figures["serving.load_client_cpu_s"] = _load(mappings, stock_port, ports)
            ceiling_procs, ceiling_ports = _start_ceiling(root, list(mappings), started)
            setups = [
                Setup("stock", [stock], dict.fromkeys(mappings, stock_port)),
                Setup("sharded", shard_procs, ports),
            ]
            ceiling_setup = Setup("ceiling", ceiling_procs, ceiling_ports, check_item=False)
            figures.update(
                _hits([*setups, ceiling_setup], rounds=rounds, round_s=round_s, workdir=root,
                      **hits)
            )  # fmt: skip
            for setup in setups:
                connections = 2 if setup.label == "stock" else SERVICES
                figures.update(
                    measure(setup, duration_s=miss_s, miss=True, workdir=root,
                            connections=connections, **misses)
                )  # fmt: skip
        finally:
            for p in reversed(started):
                p.stop(timeout_s=10)
    _ratios(figures)
    return figures


if __name__ == "__main__":
    import json

    print(json.dumps(run(quick=True), indent=2))
