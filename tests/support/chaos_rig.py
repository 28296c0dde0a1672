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

The fault functions (``chaos_faults.py``) inject one fault while traffic flows and
return plain facts (counts, latencies, booleans); the tests assert on them and the
bench reports them.
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
from ext_proc_server.mapping import CATCH_ALL_PRIORITY
from tests.support import slow_collector
from tests.support.chaos_envoys import start_capture_pair
from tests.support.metrics_text import by_label, scrape, total
from tests.support.paths import REPO
from tests.support.processes import poll_until, promised_port, start_on_promised_ports
from tests.support.tiny_upstream import serve_json_forever

QUEUE = "chaos:queue"
HOST = "orders.chaos"
# Redis outage: the last TAIL_S seconds of traffic (well after the restart) must all be captured.
TAIL_S = 2.0
# A request's tag: "<fault>.<n>z" in the query; found again in the WireMock mapping.
_TAG = re.compile(r"\b([a-z_]+)\.(\d+)z\b")


UPSTREAM_BODY = b'{"status":"ok","items":[1,2,3]}'


def _serve_upstream(port: int) -> None:
    serve_json_forever(port, UPSTREAM_BODY)


def answered_as_upstream(_request: Request, status: int, body: bytes) -> bool:
    """The client got the upstream's own answer: capture never changes traffic."""
    return status == 200 and body == UPSTREAM_BODY


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
        self.redis_port = promised_port()
        self.wiremock_port = promised_port()
        self.wiremock_root = work / "wiremock-root"
        self.upstream_port = promised_port()
        self.grpc_port = promised_port()
        self.collector_http_port = promised_port()
        self.loader_http_ports = [promised_port() for _ in range(loaders)]
        self.redis: procs.ManagedProcess | None = None
        self.wiremock: procs.ManagedProcess | None = None
        self.collector: procs.ManagedProcess | None = None
        self.loaders: list[procs.ManagedProcess | None] = [None] * loaders
        self.envoy_ports: dict[str, int] = {}
        self.envoy_admin_ports: dict[str, int] = {}
        self.config_path = work / "mockado.yaml"
        # More collector settings, for the collector's next (re)start (configure_collector).
        self.collector_extra: dict[str, Any] = {}
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

    def settings(self) -> dict[str, dict[str, Any]]:
        return {
            "collector": {
                "redis_url": self.redis_url,
                "redis_queue": QUEUE,
                "redis_timeout_s": 0.5,
                "flush_interval": 0.05,
                "batch_size": 50,
                "buffer_size": self.buffer_size,
                **self.collector_extra,
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
        def launch_upstream(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
            argv = [sys.executable, "-m", "tests.support.chaos_rig", "--upstream", str(ports[0])]
            upstream = procs.ManagedProcess(
                "upstream", argv, log_path=self._log("upstream"), cwd=REPO
            )
            return upstream, procs.http_ready(f"http://127.0.0.1:{ports[0]}/")

        _, [self.upstream_port] = self._start_part(
            "upstream", [self.upstream_port], launch_upstream, first=True, timeout_s=15
        )
        self.start_redis()
        self.start_wiremock()
        # Written once Redis and WireMock listen: on other ports when theirs were taken.
        self.config_path.write_text(yaml.safe_dump(self.settings()), encoding="utf-8")
        self.start_collector()
        for index in range(self.loader_count):
            self.start_loader(index)
        self.timing_logs = {name: self.work / f"envoy-{name}-timing.log" for name in ("on", "off")}
        pair = start_capture_pair(
            self.work, self.settings()["collector"], upstream_port=self.upstream_port,
            grpc_port=self.grpc_port, timing_logs=self.timing_logs, log_path=self._log,
            started=self._processes.append, file_flush_interval_s=TIMING_FLUSH_S,
        )  # fmt: skip
        self.envoy_ports = {name: envoy.port for name, envoy in pair.items()}
        self.envoy_admin_ports = {name: envoy.admin_port for name, envoy in pair.items()}
        return self

    def _start_part(
        self, name: str, ports: list[int], launch: procs.Launch, *, first: bool, timeout_s: float
    ) -> tuple[procs.ManagedProcess, list[int]]:
        """Start a part on ``ports`` -> it, ready, and the ports it listens on. A first start
        moves to fresh ports when another process took one before the part bound it; a
        restart stays where the part was (the config and the other parts name its ports)."""
        return start_on_promised_ports(name, launch, started=self._processes.append,
                                       timeout_s=timeout_s, ports=ports, movable=first)  # fmt: skip

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
        data_dir, first = self.work / f"redis-data-{self._n}", self.redis is None

        def launch(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
            redis = procs.redis_process(port=ports[0], data_dir=data_dir,
                                        log_path=self._log("redis"), extra_args=extra_args)  # fmt: skip
            # Another process that took the port accepts a bare connect; PING is Redis's own.
            return redis, procs.redis_ready("127.0.0.1", ports[0])

        self.redis, [self.redis_port] = self._start_part(
            "redis", [self.redis_port], launch, first=first, timeout_s=15
        )

    def start_wiremock(self) -> None:
        """(Re)start WireMock on the rig's port and root dir (API stubs are not kept)."""

        def launch(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
            server = procs.WireMockServer(port=ports[0], root_dir=self.wiremock_root)
            wiremock = procs.wiremock_process(servers=[server], log_path=self._log("wiremock"))
            return wiremock, procs.http_ready(f"http://127.0.0.1:{ports[0]}/__admin/health")

        self.wiremock, [self.wiremock_port] = self._start_part(
            "wiremock", [self.wiremock_port], launch, first=self.wiremock is None, timeout_s=90
        )

    def start_collector(self, *, slow: bool = False) -> None:
        """``mockado ext-proc``; ``slow``: the same server reading each message 200 ms
        late (``tests/support/slow_collector.py``)."""

        def launch(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
            grpc_port, http_port = ports
            if slow:
                argv = slow_collector.argv(
                    self.config_path, grpc_port=grpc_port, http_port=http_port
                )
            else:
                argv = [self.mockado, "ext-proc", "--config", str(self.config_path),
                        "--grpc-port", str(grpc_port), "--http-port", str(http_port)]  # fmt: skip
            collector = procs.ManagedProcess(
                "ext-proc", argv, log_path=self._log("ext-proc"), env=_child_env(), cwd=REPO
            )
            return collector, procs.http_ready(f"http://127.0.0.1:{http_port}/healthz")

        self.collector, [self.grpc_port, self.collector_http_port] = self._start_part(
            "ext-proc", [self.grpc_port, self.collector_http_port], launch,
            first=self.collector is None, timeout_s=30,
        )  # fmt: skip

    def configure_collector(self, **extra: Any) -> None:
        """Collector settings (besides the rig's own) for its next (re)start; none: back to
        the rig's."""
        self.collector_extra = extra
        self.config_path.write_text(yaml.safe_dump(self.settings()), encoding="utf-8")

    def restart_collector(self, *, slow: bool = False) -> None:
        if self.collector is not None:
            self.collector.stop(timeout_s=15)
        self.start_collector(slow=slow)

    def start_loader(self, index: int) -> None:
        def launch(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
            argv = [self.mockado, "loader", "--config", str(self.config_path),
                    "--http-port", str(ports[0])]  # fmt: skip
            loader = procs.ManagedProcess(f"loader-{index}", argv,
                                          log_path=self._log(f"loader{index}"), env=_child_env(),
                                          cwd=REPO)  # fmt: skip
            return loader, procs.http_ready(f"http://127.0.0.1:{ports[0]}/healthz")

        loader, [self.loader_http_ports[index]] = self._start_part(
            f"loader-{index}", [self.loader_http_ports[index]], launch,
            first=self.loaders[index] is None, timeout_s=30,
        )  # fmt: skip
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

    def reserve_tags(self, count: int) -> int:
        """The first of ``count`` request numbers (tags) no other request of this rig uses."""
        start = self._counter
        self._counter += count
        return start

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
        start = self.reserve_tags(count)
        on_requests = self._requests(self.envoy_ports["on"], fault=fault, count=count, start=start)
        off_requests = self._requests(
            self.envoy_ports["off"], fault=f"{fault}_off", count=count, start=start
        )
        results: list[Any] = []
        began: list[float] = []

        async def clients() -> None:
            jobs = [open_loop(on_requests, rate_rps=rate_rps, check=answered_as_upstream)]
            if baseline:
                jobs.append(open_loop(off_requests, rate_rps=rate_rps, check=answered_as_upstream))
            began.append(time.monotonic())
            results.extend(await asyncio.gather(*jobs))

        def run_clients() -> None:
            try:
                asyncio.run(clients())
            except BaseException as exc:  # surfaced on the caller's thread below
                results.append(exc)

        timing_from = self._timing_logs_written()  # count from here
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
        return Traffic(
            on=results[0],
            off=results[1] if baseline else None,
            tags=[f"{fault}.{start + n}z" for n in range(count)],
            sent_at=[t0 + n / rate_rps for n in range(count)],
            envoy_on_us=self._timings_logged("on", timing_from["on"], count),
            envoy_off_us=self._timings_logged("off", timing_from["off"], count) if baseline else [],
        )

    def _timing_logs_written(self) -> dict[str, int]:
        """Each timing log's size once earlier requests' lines are out: unchanged over a few
        of Envoy's flushes, which come late on a busy box."""
        sizes = {name: _size(path) for name, path in self.timing_logs.items()}
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            time.sleep(3 * TIMING_FLUSH_S)
            now = {name: _size(path) for name, path in self.timing_logs.items()}
            if now == sizes:
                break
            sizes = now
        return sizes

    def _timings_logged(self, name: str, offset: int, count: int) -> list[int]:
        """Envoy's timings logged past ``offset``, once ``count`` are out (Envoy writes its
        access log on a timer) or 30 s passed: the caller counts them."""
        path = self.timing_logs[name]
        poll_until(lambda: len(_timings(path, offset)) >= count, timeout_s=30)
        return _timings(path, offset)

    def wait_until(
        self, check: Callable[[], bool], *, timeout_s: float, what: str | Callable[[], str]
    ) -> None:
        """``what``: what is awaited, or a callable saying it once the wait timed out (so it
        can show the last values read)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if check():
                    return
            except (httpx.HTTPError, redis_sync.RedisError):
                pass
            time.sleep(0.2)
        waited_for = what() if callable(what) else what
        raise AssertionError(f"chaos rig: timed out waiting for {waited_for} (logs: {self.work})")

    def wait_accounted(self, before: dict, *, timeout_s: float = 30) -> dict[str, float]:
        """Wait until every stream the collector saw since ``before`` has one fate
        (enqueued, duplicate or dropped with a reason) -> that accounting."""
        last: dict[str, float] = {}

        def done() -> bool:
            samples = self.collector_samples()
            last.clear()
            last.update(accounting(before, samples))
            fates = last["enqueued"] + last["duplicates"] + last["dropped"] - last["refused"]
            return total(samples, "collector_queue_size") == 0 and fates == last["seen"]

        self.wait_until(done, timeout_s=timeout_s, what=lambda: f"every capture accounted ({last})")
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


# Drops the collector counts for a stream it refused before reading any of it: no stream
# seen (collector_requests_total) goes with them.
REFUSED_UNREAD = ("stream_limit",)


def accounting(before: dict, after: dict) -> dict[str, float]:
    """Collector counters moved between two scrapes: seen, enqueued, dropped by reason
    (every reason), and ``refused``: those of the drops that were never a stream seen. Each
    stream seen has one fate: enqueued + duplicates + dropped - refused == seen."""

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
        "refused": sum(dropped.get(reason, 0.0) for reason in REFUSED_UNREAD),
        **{f"dropped_{k}": v for k, v in dropped.items() if v},
    }


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
