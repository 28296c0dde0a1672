"""The chaos rig: the whole capture path on real binaries, steady traffic, one fault at a time.

Shared by ``tests/integration/test_chaos.py`` (short runs, assertions) and
``bench/bench_chaos.py`` (longer runs, figures), so both run the same code.

What runs (each on free ports, logs under ``work``)::

    loadgen ──► Envoy "on"  (ext_proc, observability mode) ──► tiny upstream
            └─► Envoy "off" (same bootstrap, capture off)   ──┘
                    │
                    ▼
            mockado ext-proc ──► redis-server ──► mockado loader  x2 ──► WireMock

The collector and both loaders are subprocesses started exactly as users start
them (``mockado ext-proc --config F``, ``mockado loader --config F``); every count
comes from their ``/metrics``. Each request has a distinct query, so every capture
becomes its own stub and can be found again in WireMock.

A fault function injects one fault while traffic flows and returns plain facts
(counts, latencies, booleans); the tests assert on them and the bench reports them.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis as redis_sync
import yaml

from bench.loadgen import Request, Result, open_loop
from control_plane.local import procs
from control_plane.render.legacy import render_local_envoy
from ext_proc_server.core.config import load_config
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.mapping.catch_all import CATCH_ALL_PRIORITY
from tests.support import slow_collector
from tests.support.paths import REPO

QUEUE = "chaos:queue"
HOST = "orders.chaos"
# Redis outage: the last TAIL_S seconds of traffic (well after the restart) must all be captured.
TAIL_S = 2.0
# A request's tag: "<fault>.<n>z" in the query; found again in the WireMock mapping.
_TAG = re.compile(r"\b([a-z_]+)\.(\d+)z\b")
_SAMPLE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? ([0-9.eE+-]+|NaN|[+-]Inf)$")
_LABEL = re.compile(r'(\w+)="((?:[^"\\]|\\.)*)"')


# -- a tiny upstream: answers every HTTP/1.1 request with the same small JSON ---------------


class _Upstream(asyncio.Protocol):
    BODY = b'{"status":"ok","items":[1,2,3]}'
    ANSWER = (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
        + str(len(BODY)).encode()
        + b"\r\n\r\n"
        + BODY
    )

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self.pending = b""

    def data_received(self, data: bytes) -> None:
        self.pending += data
        while (end := self.pending.find(b"\r\n\r\n")) >= 0:
            head = self.pending[:end].lower()
            length = 0
            if (at := head.find(b"content-length:")) >= 0:
                length = int(head[at + 15 :].split(b"\r\n", 1)[0])
            if len(self.pending) < end + 4 + length:
                return
            self.pending = self.pending[end + 4 + length :]
            self.transport.write(self.ANSWER)  # type: ignore[attr-defined]


def _serve_upstream(port: int) -> None:
    async def main() -> None:
        server = await asyncio.get_running_loop().create_server(_Upstream, "127.0.0.1", port)
        await server.serve_forever()

    asyncio.run(main())


# -- metrics --------------------------------------------------------------------------------


def scrape(url: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """A Prometheus text page -> {(sample name, labels): value}."""
    out: dict[tuple[str, frozenset[tuple[str, str]]], float] = {}
    for line in httpx.get(url, timeout=10).text.splitlines():
        match = _SAMPLE.match(line)
        if match:
            labels = frozenset(_LABEL.findall(match.group(2) or ""))
            out[(match.group(1), labels)] = float(match.group(3))
    return out


def total(samples: dict, name: str, **labels: str) -> float:
    """The sum of ``name`` over every sample whose labels include ``labels``."""
    want = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and want <= ls)


def by_label(samples: dict, name: str, label: str) -> dict[str, float]:
    out: dict[str, float] = {}
    for (n, ls), v in samples.items():
        if n == name:
            for key, value in ls:
                if key == label:
                    out[value] = out.get(value, 0.0) + v
    return out


# -- the rig --------------------------------------------------------------------------------


@dataclass
class Traffic:
    """What the clients saw: capture on, and (when asked) capture off, side by side."""

    on: Result
    off: Result | None = None
    tags: list[str] = field(default_factory=list)  # every request's tag, in send order
    sent_at: list[float] = field(default_factory=list)  # monotonic send time of each tag
    # Envoy's own time per request (access log, microseconds), without the Python client's
    # scheduling: capture on, and off when asked.
    envoy_on_us: list[int] = field(default_factory=list)
    envoy_off_us: list[int] = field(default_factory=list)

    @property
    def success_ratio(self) -> float:
        sent = len(self.tags)
        return self.on.ok / sent if sent else 0.0

    def tags_sent_after(self, moment: float) -> set[str]:
        return {t for t, at in zip(self.tags, self.sent_at, strict=True) if at >= moment}


class ChaosRig:
    """Every process of the capture path, started once; faults are injected one at a time."""

    def __init__(
        self,
        work: Path,
        *,
        buffer_size: int = 500,
        claim_timeout_s: float = 2.0,
        loaders: int = 2,
    ) -> None:
        self.work = work
        self.work.mkdir(parents=True, exist_ok=True)
        self.buffer_size = buffer_size
        self.claim_timeout_s = claim_timeout_s
        self.loader_count = loaders
        self._processes: list[procs.ManagedProcess] = []
        self._n = 0
        self.mockado = str(Path(sys.executable).parent / "mockado")
        self.redis_port = procs.free_port()
        self.wiremock_port = procs.free_port()
        self.wiremock_root = work / "wiremock-root"
        self.upstream_port = procs.free_port()
        self.grpc_port = procs.free_port()
        self.collector_http_port = procs.free_port()
        self.loader_http_ports = [procs.free_port() for _ in range(loaders)]
        self.redis: procs.ManagedProcess | None = None
        self.wiremock: procs.ManagedProcess | None = None
        self.collector: procs.ManagedProcess | None = None
        self.loaders: list[procs.ManagedProcess | None] = [None] * loaders
        self.envoy_ports: dict[str, int] = {}
        self.config_path = work / "mockado.yaml"
        self._counter = 0

    # -- lifecycle ------------------------------------------------------------------------

    @property
    def redis_url(self) -> str:
        return f"redis://127.0.0.1:{self.redis_port}/0"

    @property
    def wiremock_url(self) -> str:
        return f"http://127.0.0.1:{self.wiremock_port}"

    @property
    def collector_metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.collector_http_port}/metrics"

    def loader_metrics_url(self, index: int) -> str:
        return f"http://127.0.0.1:{self.loader_http_ports[index]}/metrics"

    def _log(self, name: str) -> Path:
        self._n += 1
        return self.work / f"{name}-{self._n}.log"

    def _track(self, process: procs.ManagedProcess) -> procs.ManagedProcess:
        self._processes.append(process.start())
        return process

    def settings(self) -> dict[str, dict[str, Any]]:
        return {
            "collector": {
                "redis_url": self.redis_url,
                "redis_queue": QUEUE,
                "redis_timeout_s": 0.5,
                "flush_interval": 0.05,
                "batch_size": 50,
                "buffer_size": self.buffer_size,
            },
            "loader": {
                "redis_url": self.redis_url,
                "wiremock_url": self.wiremock_url,
                "redis_queue": QUEUE,
                "redis_batch_size": 50,
                "claim_timeout_s": self.claim_timeout_s,
                "retry_backoff": 0.05,
                "retry_max_delay": 0.5,
                "wiremock_timeout": 5.0,
                "max_stubs": 500_000,
            },
        }

    def start(self) -> ChaosRig:
        self.config_path.write_text(yaml.safe_dump(self.settings()), encoding="utf-8")
        upstream = self._track(
            procs.ManagedProcess(
                "upstream",
                [sys.executable, "-m", "tests.support.chaos_rig",
                 "--upstream", str(self.upstream_port)],
                log_path=self._log("upstream"),
                cwd=REPO,
            )
        )  # fmt: skip
        self.start_redis()
        self.start_wiremock()
        self.start_collector()
        for index in range(self.loader_count):
            self.start_loader(index)
        config = load_config(
            None,
            env={},
            overrides={f"collector.{k}": v for k, v in self.settings()["collector"].items()},
        )
        self.timing_logs = {name: self.work / f"envoy-{name}-timing.log" for name in ("on", "off")}
        for name, excluded in (("on", ()), ("off", ("/",))):
            port, admin = procs.free_port(), procs.free_port()
            path = self.work / f"envoy-{name}.yaml"
            path.write_text(
                render_local_envoy(
                    config, listen_port=port, admin_port=admin, upstream_host="127.0.0.1",
                    upstream_port=self.upstream_port, ext_proc_port=self.grpc_port,
                    exclude_paths=excluded, upstream_http2=False,
                    timing_log_path=str(self.timing_logs[name]),
                ),
                encoding="utf-8",
            )  # fmt: skip
            envoy = self._track(
                procs.envoy_process(
                    config_path=path,
                    log_path=self._log(f"envoy-{name}"),
                    file_flush_interval_s=TIMING_FLUSH_S,
                )
            )
            envoy.wait_ready(procs.http_ready(f"http://127.0.0.1:{admin}/ready"), timeout_s=30)
            self.envoy_ports[name] = port
        upstream.wait_ready(procs.tcp_ready("127.0.0.1", self.upstream_port), timeout_s=15)
        return self

    def stop(self) -> None:
        for process in reversed(self._processes):
            with contextlib.suppress(Exception):
                process.stop(timeout_s=10)
        self._processes.clear()

    def __enter__(self) -> ChaosRig:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start_redis(self, *, extra_args: tuple[str, ...] = ()) -> None:
        """(Re)start redis-server on the rig's port: it starts empty (no persistence)."""
        self._n += 1
        self.redis = self._track(
            procs.redis_process(
                port=self.redis_port,
                data_dir=self.work / f"redis-data-{self._n}",
                log_path=self._log("redis"),
                extra_args=extra_args,
            )
        )
        self.redis.wait_ready(procs.tcp_ready("127.0.0.1", self.redis_port), timeout_s=15)

    def start_wiremock(self) -> None:
        """(Re)start WireMock on the rig's port and root dir (API stubs are not kept)."""
        self.wiremock = self._track(
            procs.wiremock_process(
                servers=[
                    procs.WireMockServer(port=self.wiremock_port, root_dir=self.wiremock_root)
                ],
                log_path=self._log("wiremock"),
            )
        )
        self.wiremock.wait_ready(
            procs.http_ready(f"{self.wiremock_url}/__admin/health"), timeout_s=90
        )

    def start_collector(self, *, slow: bool = False) -> None:
        """``mockado ext-proc``; ``slow``: the same server reading each message 200 ms
        late (``tests/support/slow_collector.py``)."""
        if slow:
            argv = slow_collector.argv(
                self.config_path, grpc_port=self.grpc_port, http_port=self.collector_http_port
            )
        else:
            argv = [self.mockado, "ext-proc", "--config", str(self.config_path),
                    "--grpc-port", str(self.grpc_port),
                    "--http-port", str(self.collector_http_port)]  # fmt: skip
        self.collector = self._track(
            procs.ManagedProcess(
                "ext-proc", argv, log_path=self._log("ext-proc"), env=_child_env(), cwd=REPO
            )
        )
        self.collector.wait_ready(
            procs.http_ready(f"http://127.0.0.1:{self.collector_http_port}/healthz"), timeout_s=30
        )

    def restart_collector(self, *, slow: bool = False) -> None:
        if self.collector is not None:
            self.collector.stop(timeout_s=15)
        self.start_collector(slow=slow)

    def start_loader(self, index: int) -> None:
        argv = [self.mockado, "loader", "--config", str(self.config_path),
                "--http-port", str(self.loader_http_ports[index])]  # fmt: skip
        loader = self._track(
            procs.ManagedProcess(
                f"loader-{index}", argv, log_path=self._log(f"loader{index}"),
                env=_child_env(), cwd=REPO,
            )
        )  # fmt: skip
        loader.wait_ready(
            procs.http_ready(f"http://127.0.0.1:{self.loader_http_ports[index]}/healthz"),
            timeout_s=30,
        )
        self.loaders[index] = loader

    # -- observing ------------------------------------------------------------------------

    def collector_samples(self) -> dict:
        return scrape(self.collector_metrics_url)

    def collector_status(self, path: str) -> int:
        try:
            return httpx.get(
                f"http://127.0.0.1:{self.collector_http_port}{path}", timeout=5
            ).status_code
        except httpx.HTTPError:
            return 0

    def redis_client(self) -> redis_sync.Redis:
        return redis_sync.Redis.from_url(self.redis_url, socket_timeout=5)

    def queue_drained(self) -> bool:
        """Nothing left in the stream and nothing pending in the loaders' group."""
        client = self.redis_client()
        try:
            if not client.exists(QUEUE):
                return True
            if client.xlen(QUEUE):
                return False
            groups = client.xinfo_groups(QUEUE)
            return all(g["pending"] == 0 for g in groups)
        except redis_sync.RedisError:
            return False
        finally:
            client.close()

    def collector_idle(self) -> bool:
        samples = self.collector_samples()
        return total(samples, "collector_queue_size") == 0

    def wiremock_stubs(self) -> list[dict]:
        """Every stub WireMock holds except the loader's catch-all."""
        resp = httpx.get(f"{self.wiremock_url}/__admin/mappings", timeout=60)
        resp.raise_for_status()
        return [m for m in resp.json()["mappings"] if m.get("priority") != CATCH_ALL_PRIORITY]

    def wiremock_reset(self) -> None:
        httpx.delete(f"{self.wiremock_url}/__admin/mappings", timeout=60).raise_for_status()

    def stub_tags(self, fault: str) -> tuple[Counter[str], Counter[str]]:
        """-> (stubs per tag, stubs per id) for one fault's requests."""
        per_tag: Counter[str] = Counter()
        per_id: Counter[str] = Counter()
        for stub in self.wiremock_stubs():
            tags = {
                f"{m.group(1)}.{m.group(2)}z"
                for m in _TAG.finditer(json.dumps(stub["request"]))
                if m.group(1) == fault
            }
            if tags:
                per_id[stub["id"]] += 1
                for tag in tags:
                    per_tag[tag] += 1
        return per_tag, per_id

    # -- traffic --------------------------------------------------------------------------

    def _requests(self, port: int, *, fault: str, count: int, start: int) -> list[Request]:
        return [
            Request(host=HOST, port=port, path=f"/chaos/{fault}?q={fault}.{start + n}z")
            for n in range(count)
        ]

    def traffic(
        self,
        *,
        fault: str,
        duration_s: float,
        rate_rps: float,
        baseline: bool = False,
        during: Callable[[], None] | None = None,
    ) -> Traffic:
        """Offer ``rate_rps`` (open loop) through the capturing Envoy for ``duration_s``,
        and the same to the non-capturing one when ``baseline``.

        The clients run on their own thread; ``during`` (the fault) runs on this one.
        Processes must be started from the main thread: ``procs`` children get
        PDEATHSIG, which fires when the *thread* that started them exits.
        """
        count = int(rate_rps * duration_s)
        start = self._counter
        self._counter += count
        on_requests = self._requests(self.envoy_ports["on"], fault=fault, count=count, start=start)
        off_requests = self._requests(
            self.envoy_ports["off"], fault=f"{fault}_off", count=count, start=start
        )
        results: list[Any] = []
        began: list[float] = []

        async def clients() -> None:
            jobs = [open_loop(on_requests, rate_rps=rate_rps, timeout_s=10.0)]
            if baseline:
                jobs.append(open_loop(off_requests, rate_rps=rate_rps, timeout_s=10.0))
            began.append(time.monotonic())
            results.extend(await asyncio.gather(*jobs))

        def run_clients() -> None:
            try:
                asyncio.run(clients())
            except BaseException as exc:  # surfaced on the caller's thread below
                results.append(exc)

        time.sleep(3 * TIMING_FLUSH_S)  # earlier requests' lines are out: count from here
        timing_from = {name: _size(path) for name, path in self.timing_logs.items()}
        thread = threading.Thread(target=run_clients, name=f"chaos-traffic-{fault}", daemon=True)
        thread.start()
        try:
            if during is not None:
                during()
        finally:
            thread.join(duration_s + 60)
        if thread.is_alive() or (results and isinstance(results[-1], BaseException)):
            raise AssertionError(f"chaos rig: traffic failed: {results[-1:]!r}")
        t0 = began[0]
        time.sleep(3 * TIMING_FLUSH_S)  # Envoy writes its access logs out on a timer
        return Traffic(
            on=results[0],
            off=results[1] if baseline else None,
            tags=[f"{fault}.{start + n}z" for n in range(count)],
            sent_at=[t0 + n / rate_rps for n in range(count)],
            envoy_on_us=_timings(self.timing_logs["on"], timing_from["on"]),
            envoy_off_us=_timings(self.timing_logs["off"], timing_from["off"]) if baseline else [],
        )

    def wait_until(self, check: Callable[[], bool], *, timeout_s: float, what: str) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except (httpx.HTTPError, redis_sync.RedisError):
                pass
            time.sleep(0.2)
        raise AssertionError(f"chaos rig: timed out waiting for {what} (logs: {self.work})")

    def wait_accounted(self, before: dict, *, timeout_s: float = 30) -> dict[str, float]:
        """Wait until every stream the collector saw since ``before`` has one fate
        (enqueued, duplicate or dropped with a reason) -> that accounting."""
        last: dict[str, float] = {}

        def done() -> bool:
            samples = self.collector_samples()
            last.clear()
            last.update(_accounting(before, samples))
            fates = last["enqueued"] + last["duplicates"] + last["dropped"]
            return total(samples, "collector_queue_size") == 0 and fates == last["seen"]

        self.wait_until(done, timeout_s=timeout_s, what=f"every capture accounted ({last})")
        return dict(last)

    def probe_capture(self, *, timeout_s: float = 30) -> float:
        """Send fresh requests until one is captured and queued -> seconds it took."""
        started = time.monotonic()
        before = total(self.collector_samples(), "collector_enqueued_total")
        with httpx.Client(timeout=10, headers={"host": HOST}) as client:
            while time.monotonic() - started < timeout_s:
                self._counter += 1
                url = f"http://127.0.0.1:{self.envoy_ports['on']}/chaos/probe?q=probe.{self._counter}z"
                assert client.get(url).status_code == 200
                time.sleep(0.2)
                if total(self.collector_samples(), "collector_enqueued_total") > before:
                    return round(time.monotonic() - started, 2)
        raise AssertionError(f"chaos rig: capture did not recover (logs: {self.work})")

    def settle(self, *, timeout_s: float = 60) -> None:
        """Wait until the collector holds nothing and the loaders have loaded everything."""
        self.wait_until(self.collector_idle, timeout_s=timeout_s, what="collector buffer empty")
        self.wait_until(self.queue_drained, timeout_s=timeout_s, what="queue drained")


def _child_env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("MOCKADO_")}


def _ms(value: float) -> float:
    return round(value, 3)


def _accounting(before: dict, after: dict) -> dict[str, float]:
    """Collector counters moved between two scrapes: seen, enqueued, dropped by reason."""

    def delta(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    dropped = {
        reason: value - by_label(before, "collector_dropped_total", "reason").get(reason, 0.0)
        for reason, value in by_label(after, "collector_dropped_total", "reason").items()
    }
    return {
        "seen": delta("collector_requests_total"),
        "enqueued": delta("collector_enqueued_total"),
        "duplicates": delta("collector_deduplication_operations_total", result="duplicate"),
        "dropped": sum(dropped.values()),
        **{f"dropped_{k}": v for k, v in dropped.items() if v},
    }


# -- the faults -------------------------------------------------------------------------------


def collector_fault(
    rig: ChaosRig, kind: str, *, duration_s: float, rate_rps: float, fault_at_s: float = 1.0
) -> dict[str, Any]:
    """``kind``: "killed" (SIGKILL), "hung" (SIGSTOP) or "slow" (200 ms per message).

    Traffic goes through both Envoys at once; the collector is brought back afterwards.
    """
    if kind == "slow":
        rig.restart_collector(slow=True)
    collector = rig.collector
    assert collector is not None
    pid = collector.pid
    before = rig.collector_samples()

    def inject() -> None:
        time.sleep(fault_at_s)
        if kind == "killed":
            collector.kill()
        elif kind == "hung":
            collector.pause()

    try:
        traffic = rig.traffic(
            fault=f"collector_{kind}", duration_s=duration_s, rate_rps=rate_rps, baseline=True,
            during=inject,
        )  # fmt: skip
    finally:
        collector.resume()
    facts: dict[str, Any] = {}
    if kind != "killed":
        # Back from SIGSTOP (or still slow): the same process answers and counts.
        rig.wait_until(lambda: rig.collector_status("/healthz") == 200, timeout_s=30,
                       what="collector healthy after the fault")  # fmt: skip
        facts["collector_same_pid"] = collector.alive and collector.pid == pid
        facts.update(rig.wait_accounted(before))
    if kind == "hung":
        facts["capture_recovered_s"] = rig.probe_capture()
    rig.restart_collector()
    if kind == "killed":
        facts["capture_recovered_s"] = rig.probe_capture()
    return {**_traffic_facts(traffic), **facts}


def _traffic_facts(traffic: Traffic) -> dict[str, Any]:
    on = traffic.on
    facts: dict[str, Any] = {
        "requests": len(traffic.tags),
        "ok": on.ok,
        "errors": on.errors,
        "non_2xx": sum(c for s, c in on.statuses.items() if not 200 <= s < 300),
        "success_ratio": round(traffic.success_ratio, 5),
        "p99_ms": _ms(on.quantile_ms(0.99)),
        "p50_ms": _ms(on.quantile_ms(0.5)),
        "rps": round(on.rps, 1),
    }
    if traffic.off is not None:
        off = traffic.off
        facts["off_ok"] = off.ok
        facts["p99_off_ms"] = _ms(off.quantile_ms(0.99))
        facts["p99_ratio_to_off"] = round(on.quantile_ms(0.99) / off.quantile_ms(0.99), 3)
    if traffic.envoy_on_us:
        facts["envoy_logged"] = len(traffic.envoy_on_us)
        facts["envoy_p50_ms"] = _ms(_quantile(traffic.envoy_on_us, 0.5) / 1000)
        facts["envoy_p99_ms"] = _ms(_quantile(traffic.envoy_on_us, 0.99) / 1000)
    if traffic.envoy_on_us and traffic.envoy_off_us:
        facts["envoy_p99_off_ms"] = _ms(_quantile(traffic.envoy_off_us, 0.99) / 1000)
        facts["envoy_p99_ratio_to_off"] = round(
            _quantile(traffic.envoy_on_us, 0.99) / max(1, _quantile(traffic.envoy_off_us, 0.99)), 3
        )
    return facts


# Envoy flushes access logs this often (its default is every 10 s).
TIMING_FLUSH_S = 0.2


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _timings(path: Path, offset: int) -> list[int]:
    """Envoy's time per request (microseconds) from the lines logged past ``offset``."""
    with path.open("rb") as log:
        log.seek(offset)
        lines = log.read().decode("ascii", "replace").splitlines()
    return [int(parts[1]) for parts in (line.split() for line in lines) if len(parts) == 2]


def _quantile(values: list[int], q: float) -> float:
    ordered = sorted(values)
    return float(ordered[min(len(ordered) - 1, int(q * len(ordered)))])


def redis_outage(
    rig: ChaosRig, *, duration_s: float, outage_s: float, rate_rps: float, fault_at_s: float = 1.0
) -> dict[str, Any]:
    """Redis SIGKILLed for ``outage_s`` while traffic flows, then restarted (empty) on its port."""
    assert rig.redis is not None and rig.collector is not None
    rig.settle()
    pid = rig.collector.pid
    before = rig.collector_samples()
    facts: dict[str, Any] = {"buffer_size": rig.buffer_size}
    marks: dict[str, float] = {}

    def inject() -> None:
        time.sleep(fault_at_s)
        assert rig.redis is not None
        rig.redis.kill()
        marks["killed"] = time.monotonic()
        held_max = 0.0
        ready_codes: set[int] = set()
        while time.monotonic() - marks["killed"] < outage_s:
            with contextlib.suppress(httpx.HTTPError):
                held_max = max(held_max, total(rig.collector_samples(), "collector_queue_size"))
                ready_codes.add(rig.collector_status("/readyz"))
            time.sleep(0.25)
        facts["readyz_during_outage"] = sorted(ready_codes)
        rig.start_redis()
        marks["restarted"] = time.monotonic()
        # Until the retry backoff (at most 5 s) lets the held captures flush.
        while time.monotonic() - marks["restarted"] < 6.0:
            with contextlib.suppress(httpx.HTTPError):
                held = total(rig.collector_samples(), "collector_queue_size")
                held_max = max(held_max, held)
                if held < held_max / 2:
                    break
            time.sleep(0.25)
        facts["held_max"] = held_max
        marks["buffer_full_at_resume"] = total(
            rig.collector_samples(), "collector_dropped_total", reason="buffer_full"
        )

    traffic = rig.traffic(
        fault="redis_outage", duration_s=duration_s, rate_rps=rate_rps, during=inject
    )
    rig.settle()
    after = rig.collector_samples()
    facts.update(_accounting(before, after))
    after_restart = traffic.tags_sent_after(marks["restarted"] + 0.5)
    per_tag, _ = rig.stub_tags("redis_outage")
    captured = set(per_tag)
    facts["sent_after_restart"] = len(after_restart)
    facts["stubs_after_restart"] = len(after_restart & captured)
    resumed = [at for t, at in zip(traffic.tags, traffic.sent_at, strict=True)
               if at >= marks["restarted"] and t in captured]  # fmt: skip
    facts["capture_resumed_after_s"] = (
        round(min(resumed) - marks["restarted"], 2) if resumed else -1
    )
    tail = traffic.tags_sent_after(traffic.sent_at[-1] - TAIL_S) if traffic.tags else set()
    facts["tail_requests"] = len(tail)
    facts["tail_missing"] = len(tail - captured)
    # Once flushing resumed, nothing more is dropped for lack of room.
    facts["buffer_full_after_resume"] = (
        total(after, "collector_dropped_total", reason="buffer_full")
        - marks["buffer_full_at_resume"]
    )
    facts["queue_size_at_end"] = total(after, "collector_queue_size")
    facts["collector_same_pid"] = rig.collector.alive and rig.collector.pid == pid
    facts["outage_s"] = round(marks["restarted"] - marks["killed"], 2)
    return {**_traffic_facts(traffic), **facts}


def wiremock_outage(
    rig: ChaosRig, *, duration_s: float, outage_s: float, rate_rps: float, fault_at_s: float = 1.0
) -> dict[str, Any]:
    """WireMock SIGKILLed for ``outage_s``, then restarted (empty) on its port and root dir."""
    assert rig.wiremock is not None
    rig.settle()
    rig.wiremock_reset()
    loader_before = [scrape(rig.loader_metrics_url(i)) for i in range(rig.loader_count)]
    before = rig.collector_samples()
    marks: dict[str, float] = {}

    def inject() -> None:
        time.sleep(fault_at_s)
        assert rig.wiremock is not None
        rig.wiremock.kill()
        marks["killed"] = time.monotonic()
        time.sleep(outage_s)
        marks["restarting"] = time.monotonic()
        rig.start_wiremock()
        marks["restarted"] = time.monotonic()

    with QueueAudit(rig, "wiremock_outage") as audit:
        traffic = rig.traffic(
            fault="wiremock_outage", duration_s=duration_s, rate_rps=rate_rps, during=inject
        )
        rig.settle(timeout_s=120)
    after = rig.collector_samples()
    loader_after = [scrape(rig.loader_metrics_url(i)) for i in range(rig.loader_count)]
    per_tag, per_id = rig.stub_tags("wiremock_outage")
    # Queued from the kill on: WireMock restarts empty, so those are the ones it must hold.
    expected = traffic.tags_sent_after(marks["killed"]) & audit.tags
    unavailable = sum(
        total(a, "wiremock_loader_mappings_errors_total", error_type="wiremock_unavailable")
        - total(b, "wiremock_loader_mappings_errors_total", error_type="wiremock_unavailable")
        for a, b in zip(loader_after, loader_before, strict=True)
    )
    return {
        **_traffic_facts(traffic),
        **_accounting(before, after),
        "queued_since_kill": len(expected),
        "queued": len(audit.tags),
        "missing": len(expected - set(per_tag)),
        "duplicated_tags": sum(1 for c in per_tag.values() if c > 1),
        "duplicated_ids": sum(1 for c in per_id.values() if c > 1),
        "stubs": len(per_id),
        "loader_retries": unavailable,
        "dead_letter": _dead_letter_len(rig),
        "outage_s": round(marks["restarting"] - marks["killed"], 2),
        "wiremock_start_s": round(marks["restarted"] - marks["restarting"], 2),
    }


class QueueAudit:
    """Which of one fault's requests the collector really queued, seen from Redis itself:
    a MONITOR connection reads every write command, whose arguments carry the mapping
    (and so the request's tag). Streams Envoy never handed to the collector (fail-open
    under CPU starvation, its circuit breaker) are then not held against the loader."""

    def __init__(self, rig: ChaosRig, fault: str) -> None:
        self._client = rig.redis_client()
        self._pattern = re.compile(rf"\b{re.escape(fault)}\.(\d+)z\b")
        self._fault = fault
        self.tags: set[str] = set()
        self._thread = threading.Thread(target=self._read, name="chaos-audit", daemon=True)
        self._monitor: Any = None
        self._started = threading.Event()

    def _read(self) -> None:
        with (
            contextlib.suppress(redis_sync.RedisError, OSError, ValueError, AttributeError),
            self._client.monitor() as monitor,
        ):
            self._monitor = monitor
            self._started.set()
            for event in monitor.listen():
                command = event.get("command", "")
                if command[:16].upper().startswith(("XADD", "EVAL")):
                    for m in self._pattern.finditer(command):
                        self.tags.add(f"{self._fault}.{m.group(1)}z")
        self._started.set()

    def __enter__(self) -> QueueAudit:
        self._thread.start()
        self._started.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        with contextlib.suppress(Exception):
            self._monitor.connection.disconnect()
        self._thread.join(10)
        self._client.close()


def _dead_letter_len(rig: ChaosRig) -> int:
    client = rig.redis_client()
    try:
        return int(client.xlen(RedisKeys(queue=QUEUE).dead_letter))
    finally:
        client.close()


def _consumer_holding(rig: ChaosRig, pid: int) -> int:
    """Items pending for the loader consumer of process ``pid`` (names are host-pid-random)."""
    client = rig.redis_client()
    try:
        for consumer in client.xinfo_consumers(QUEUE, RedisKeys(queue=QUEUE).group):
            name = consumer["name"]
            name = name.decode() if isinstance(name, bytes) else name
            if f"-{pid}-" in name:
                return int(consumer["pending"])
        return 0
    finally:
        client.close()


def loader_killed(
    rig: ChaosRig, *, duration_s: float, rate_rps: float, fault_at_s: float = 1.0
) -> dict[str, Any]:
    """SIGKILL one loader while it holds a batch; the other one must take over."""
    rig.settle()
    rig.wiremock_reset()
    victim = rig.loaders[0]
    assert victim is not None
    facts: dict[str, Any] = {}

    def inject() -> None:
        time.sleep(fault_at_s)
        deadline = time.monotonic() + max(1.0, duration_s - fault_at_s - 1.0)
        held = 0
        while time.monotonic() < deadline:
            held = _consumer_holding(rig, victim.pid)
            if held:
                break
            time.sleep(0.005)
        victim.kill()
        facts["held_when_killed"] = held

    with QueueAudit(rig, "loader_killed") as audit:
        traffic = rig.traffic(
            fault="loader_killed", duration_s=duration_s, rate_rps=rate_rps, during=inject
        )
        rig.settle(timeout_s=60)
    per_tag, per_id = rig.stub_tags("loader_killed")
    survivor = scrape(rig.loader_metrics_url(1))
    facts.update(
        {
            "queued": len(audit.tags),
            "missing": len(audit.tags - set(per_tag)),
            "duplicated_tags": sum(1 for c in per_tag.values() if c > 1),
            "duplicated_ids": sum(1 for c in per_id.values() if c > 1),
            "stubs": len(per_id),
            "dead_letter": _dead_letter_len(rig),
            "survivor_loaded": total(
                survivor, "wiremock_loader_mappings_processed_total", status="loaded"
            ),
        }
    )
    rig.start_loader(0)
    return {**_traffic_facts(traffic), **facts}


def redis_full(
    rig: ChaosRig, *, duration_s: float, rate_rps: float, maxmemory: str = "2mb"
) -> dict[str, Any]:
    """Redis restarted with ``--maxmemory 2mb --maxmemory-policy noeviction`` and filled up:
    every write the collector makes is refused with OOM while traffic flows. Then the filler
    is removed and captures flow again, with no restart of the collector."""
    assert rig.redis is not None and rig.collector is not None
    rig.settle()
    rig.redis.kill()
    rig.start_redis(extra_args=("--maxmemory", maxmemory, "--maxmemory-policy", "noeviction"))
    filled = _fill_redis(rig)
    collector = rig.collector
    pid = collector.pid
    log_start = len(collector.log_text())
    before = rig.collector_samples()
    traffic = rig.traffic(fault="redis_full", duration_s=duration_s, rate_rps=rate_rps)
    time.sleep(1.0)  # let the last batches meet the full Redis
    during = rig.collector_samples()
    log_lines = collector.log_text()[log_start:].splitlines()
    healthz = rig.collector_status("/healthz")
    # Make room: the held captures flush by themselves.
    client = rig.redis_client()
    try:
        client.delete(*[f"chaos:filler:{n}" for n in range(filled)])
    finally:
        client.close()
    rig.settle()
    after = rig.collector_samples()
    per_tag, _ = rig.stub_tags("redis_full")
    facts = {
        **_traffic_facts(traffic),
        **{f"during_{k}": v for k, v in _accounting(before, during).items()},
        **_accounting(before, after),
        "filler_keys": filled,
        "oom_errors": total(during, "collector_redis_errors_total", error="oom")
        - total(before, "collector_redis_errors_total", error="oom"),
        "oom_log_lines": sum(1 for line in log_lines if "OOM" in line),
        "collector_same_pid": collector.alive and collector.pid == pid,
        "healthz_during": healthz,
        "stubs_after_room": len(per_tag),
    }
    # Back to a Redis without a memory limit for whatever runs next.
    rig.settle()
    assert rig.redis is not None
    rig.redis.kill()
    rig.start_redis()
    return facts


def _fill_redis(rig: ChaosRig) -> int:
    """Write 64 KiB values until Redis refuses with OOM -> how many were written."""
    client = rig.redis_client()
    value = b"f" * 65536
    try:
        for n in range(10_000):
            try:
                client.set(f"chaos:filler:{n}", value)
            except redis_sync.exceptions.OutOfMemoryError:
                return n
        raise AssertionError("chaos rig: redis never reported OOM; is maxmemory set?")
    finally:
        client.close()


@contextlib.contextmanager
def running_rig(work: Path, **kwargs: Any) -> Iterator[ChaosRig]:
    rig = ChaosRig(work, **kwargs)
    with rig:
        yield rig


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="chaos rig helpers")
    parser.add_argument("--upstream", type=int, metavar="PORT", required=True)
    args = parser.parse_args(argv)
    _serve_upstream(args.upstream)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
