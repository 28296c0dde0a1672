"""A small asyncio HTTP/1.1 keep-alive load generator for the benchmarks.

Closed loop (``concurrency`` connections, each sending its next request as soon
as the previous answer is read) to find throughput, or open loop (``rate_rps``)
to offer a fixed rate. It speaks just enough HTTP/1.1 for Content-Length and
chunked responses, so the client costs far less CPU than the server it drives.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field


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


class _Conn:
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
        conns: dict[int, _Conn] = {}
        while time.monotonic() < deadline:
            request = next_request(rng)
            conn = conns.setdefault(request.port, _Conn(request.port))
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


async def open_loop(
    requests: Sequence[Request],
    *,
    rate_rps: float,
    max_in_flight: int = 512,
    timeout_s: float = 10.0,
) -> Result:
    """Send ``requests`` at a fixed rate, one connection per in-flight request (pooled)."""
    result = Result()
    pool: list[_Conn] = []
    in_flight = asyncio.Semaphore(max_in_flight)
    started = time.monotonic()
    tasks = []

    async def one(request: Request) -> None:
        async with in_flight:
            conn = pool.pop() if pool else _Conn(request.port)
            t0 = time.perf_counter()
            try:
                status, _ = await conn.send(request, timeout_s)
            except (TimeoutError, OSError, asyncio.IncompleteReadError, ValueError):
                result.errors += 1
                conn.close()
                return
            result.latencies_s.append(time.perf_counter() - t0)
            result.statuses[status] = result.statuses.get(status, 0) + 1
            if 200 <= status < 500:
                result.ok += 1
            pool.append(conn)

    for i, request in enumerate(requests):
        due = started + i / rate_rps
        delay = due - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        result.sent += 1
        tasks.append(asyncio.ensure_future(one(request)))
    await asyncio.gather(*tasks)
    result.elapsed_s = time.monotonic() - started
    for conn in pool:
        conn.close()
    return result
