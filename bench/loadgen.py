"""Load generators for the benchmarks.

* A small asyncio HTTP/1.1 keep-alive client: closed loop (``concurrency``
  connections, each sending its next request as soon as the previous answer is read)
  or open loop (``rate_rps``, a fixed offered rate). It speaks just enough HTTP/1.1
  for Content-Length and chunked responses.
* :func:`wrk_closed_loop`: the same closed loop driven by ``wrk`` (native, from
  Debian's package), for servers faster than a Python client can drive.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Request:
    host: str  # the Host header (the destination service)
    port: int  # where to connect (127.0.0.1)
    path: str
    method: str = "GET"
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()

    def encode(self) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", f"Host: {self.host}"]
        lines += [f"{k}: {v}" for k, v in self.headers]
        if self.body or self.method in ("POST", "PUT", "PATCH"):
            lines.append(f"Content-Length: {len(self.body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


@dataclass
class Result:
    sent: int = 0
    ok: int = 0
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    latencies_s: list[float] = field(default_factory=list)
    elapsed_s: float = 0.0

    @property
    def rps(self) -> float:
        return self.ok / self.elapsed_s if self.elapsed_s else 0.0

    def quantile_ms(self, q: float) -> float:
        if not self.latencies_s:
            return float("nan")
        ordered = sorted(self.latencies_s)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if "content-length" in headers:
        body = await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        parts = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)
        body = b"".join(parts)
    else:
        body = b""
    return status, body


class Conn:
    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def send(self, request: Request, timeout_s: float) -> tuple[int, bytes]:
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        assert self.reader is not None
        self.writer.write(request.encode())
        return await asyncio.wait_for(_read_response(self.reader), timeout_s)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


async def closed_loop(
    next_request: Callable[[random.Random], Request],
    *,
    duration_s: float,
    concurrency: int,
    seed: int = 1,
    timeout_s: float = 30.0,
    check: Callable[[Request, int, bytes], bool] | None = None,
) -> Result:
    result = Result()
    deadline = time.monotonic() + duration_s
    rng = random.Random(seed)

    async def worker() -> None:
        conns: dict[int, Conn] = {}
        while time.monotonic() < deadline:
            request = next_request(rng)
            conn = conns.setdefault(request.port, Conn(request.port))
            started = time.perf_counter()
            result.sent += 1
            try:
                status, body = await conn.send(request, timeout_s)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                result.errors += 1
                conn.close()
                continue
            result.latencies_s.append(time.perf_counter() - started)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if check is None or check(request, status, body):
                result.ok += 1
        for conn in conns.values():
            conn.close()

    started = time.monotonic()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    result.elapsed_s = time.monotonic() - started
    return result


@contextlib.contextmanager
def _no_gc_pauses():
    """No cyclic GC while offering a load: with tens of thousands of requests and tasks
    held, a full collection stopped this process for 110-320 ms, and the requests that
    fell due meanwhile then left at once, a burst the servers under test were blamed for."""
    gc.collect()
    gc.freeze()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.unfreeze()


async def open_loop(
    requests: Sequence[Request],
    *,
    rate_rps: float,
    max_in_flight: int = 512,
    timeout_s: float = 10.0,
    check: Callable[[Request, int, bytes], bool] | None = None,
) -> Result:
    """Send ``requests`` at a fixed rate, one connection per in-flight request (pooled
    per port: requests to two servers, interleaved, each reach their own). ``ok`` counts
    the answers ``check`` takes (default: any status below 500)."""
    result = Result()
    pools: dict[int, list[Conn]] = {}
    in_flight = asyncio.Semaphore(max_in_flight)
    tasks = []

    async def one(request: Request) -> None:
        async with in_flight:
            pool = pools.setdefault(request.port, [])
            conn = pool.pop() if pool else Conn(request.port)
            t0 = time.perf_counter()
            try:
                status, body = await conn.send(request, timeout_s)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                result.errors += 1
                conn.close()
                return
            result.latencies_s.append(time.perf_counter() - t0)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if check(request, status, body) if check else 200 <= status < 500:
                result.ok += 1
            pool.append(conn)

    with _no_gc_pauses():
        started = time.monotonic()
        for i, request in enumerate(requests):
            due = started + i / rate_rps
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            result.sent += 1
            tasks.append(asyncio.ensure_future(one(request)))
        await asyncio.gather(*tasks)
    result.elapsed_s = time.monotonic() - started
    for pool in pools.values():
        for conn in pool:
            conn.close()
    return result


# -- wrk: a native closed loop ----------------------------------------------------------

# Each response is checked against what was asked: a hit must be a 200 naming the item
# its request asked for, a miss a 404. Each wrk thread drives one connection (``-t`` =
# ``-c``), which sends its next request only once the last answer was read, so the
# answer a thread reads is to the request it built last.
_WRK_SCRIPT = """
local threads = {}
local host, prefix, suffix, items, expect = "%(host)s", "%(prefix)s", "%(suffix)s", %(items)d, %(expect)d
local check_item = %(check_item)s
local find = string.find

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  wrong = 0
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  -- Every request built once: formatting each one took about a tenth of wrk's CPU.
  -- Likewise what its answer must contain: a plain find is cheaper than a pattern.
  requests, names = {}, {}
  for n = 0, items - 1 do
    requests[n] = wrk.format("GET", prefix .. n .. suffix, {Host = host})
    names[n] = '"item":' .. n .. ','
  end
end

function request()
  asked = math.random(0, items - 1)
  return requests[asked]
end

function response(status, headers, body)
  -- Searched even unchecked, so that wrk costs the same per answer either way.
  local named = find(body, names[asked], 1, true) ~= nil
  if status ~= expect or (expect == 200 and check_item and not named) then
    wrong = wrong + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("wrong")
  end
  -- Statuses are checked above (a 404 is right for a miss): errors are socket errors.
  io.write(string.format("MOCKADO requests=%%d errors=%%d wrong=%%d p50_us=%%d p99_us=%%d\\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write
    + summary.errors.timeout, total,
    latency:percentile(50), latency:percentile(99)))
end
"""


@dataclass(frozen=True, slots=True)
class WrkTarget:
    """One server to drive: requests ``prefix<n>suffix`` with n in 0..items-1, with
    ``host`` as the Host header, expecting ``expect_status`` (and, for a 200 with
    ``check_item``, a body naming the item asked for)."""

    host: str
    port: int
    prefix: str
    suffix: str
    items: int
    expect_status: int = 200
    check_item: bool = True


@dataclass
class WrkResult:
    requests: int = 0
    errors: int = 0
    wrong: int = 0
    elapsed_s: float = 0.0
    cpu_s: float = 0.0  # the wrk processes' own CPU time
    p50_ms: float = 0.0
    p99_ms: float = 0.0

    @property
    def ok(self) -> int:
        return self.requests - self.errors - self.wrong

    @property
    def rps(self) -> float:
        return self.ok / self.elapsed_s if self.elapsed_s else 0.0


def wrk_available() -> bool:
    import shutil

    return shutil.which("wrk") is not None


def wrk_closed_loop(
    targets: Sequence[WrkTarget], *, duration_s: float, concurrency: int, workdir: Path
) -> WrkResult:
    """Drive every target at once for ``duration_s``: one wrk process per target with
    ``concurrency`` connections in all (at least one each). Latencies: the slowest
    target's p50 and p99."""
    import resource
    import subprocess

    def children_cpu_s() -> float:
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        return usage.ru_utime + usage.ru_stime

    cpu_before = children_cpu_s()
    per_target = max(1, concurrency // len(targets))
    procs = []
    for index, target in enumerate(targets):
        script = workdir / f"wrk-{index}.lua"
        script.write_text(
            _WRK_SCRIPT
            % {
                "host": target.host,
                "prefix": target.prefix,
                "suffix": target.suffix,
                "items": target.items,
                "expect": target.expect_status,
                "check_item": "true" if target.check_item else "false",
            }
        )
        argv = ["wrk", f"-t{per_target}", f"-c{per_target}", f"-d{duration_s:g}s",
                "--timeout", "30s", "-s", str(script), f"http://127.0.0.1:{target.port}"]  # fmt: skip
        procs.append(subprocess.Popen(argv, stdout=subprocess.PIPE, text=True))
    result = WrkResult(elapsed_s=duration_s)
    for proc in procs:
        out, _ = proc.communicate(timeout=duration_s + 60)
        line = next(line for line in out.splitlines() if line.startswith("MOCKADO "))
        fields = dict(part.split("=") for part in line.split()[1:])
        result.requests += int(fields["requests"])
        result.errors += int(fields["errors"])
        result.wrong += int(fields["wrong"])
        result.p50_ms = max(result.p50_ms, int(fields["p50_us"]) / 1000)
        result.p99_ms = max(result.p99_ms, int(fields["p99_us"]) / 1000)
    result.cpu_s = children_cpu_s() - cpu_before
    return result
