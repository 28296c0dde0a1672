"""Handles on the real processes the integration fixtures start, and polling."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import httpx

from control_plane.local import procs

T = TypeVar("T")


@dataclass
class RedisHandle:
    port: int
    process: procs.ManagedProcess

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


@dataclass
class WireMockHandle:
    port: int
    root_dir: Path
    process: procs.ManagedProcess

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def reset(self) -> None:
        httpx.post(f"{self.url}/__admin/reset", timeout=10).raise_for_status()

    def mappings(self) -> list[dict]:
        resp = httpx.get(f"{self.url}/__admin/mappings", timeout=30)
        resp.raise_for_status()
        return resp.json()["mappings"]


@dataclass
class EnvoyHandle:
    port: int
    admin_port: int
    config_path: Path
    process: procs.ManagedProcess

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def admin_url(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"


@dataclass
class UpstreamHandle:
    port: int
    process: procs.ManagedProcess

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


@dataclass
class StackHandle:
    """A running ``mockado up``: its ports, state directory and summary text."""

    process: object  # subprocess.Popen[str]
    proxy_url: str
    wiremock_url: str
    state_dir: Path
    summary: str
    children: list

    @property
    def effective_config(self) -> dict:
        import yaml

        return yaml.safe_load((self.state_dir / "mockado.effective.yaml").read_text())

    def summary_url(self, label: str) -> list[str]:
        for line in self.summary.splitlines():
            if line.strip().startswith(label):
                return [w for w in line.split() if w.startswith("http")]
        return []

    def stop(self) -> int:
        import signal as _signal

        proc = self.process
        if proc.poll() is None:
            proc.send_signal(_signal.SIGTERM)
            proc.wait(timeout=90)
        return proc.returncode


# Every port handed out in this test run (see promised_port).
_PROMISED: set[int] = set()


def promised_port() -> int:
    """A port nothing listens on now and that no other part of this run was promised.
    The process it is for binds it later (or never: a port where nothing listens, on
    purpose), and until then the kernel may hand it out again to the next pick."""
    port = procs.free_port(avoid=_PROMISED)
    _PROMISED.add(port)
    return port


class Squatter:
    """Listens on the first ``count`` ports promised from now on (with :meth:`promise` in
    place of ``promised_port``) after the first ``skip``, as another program on a busy
    machine may bind a port between the pick and the child's bind."""

    def __init__(self, count: int, skip: int = 0) -> None:
        self.count = count
        self.skip = skip
        self._promised_port = promised_port
        self._promised = 0
        self.ports: list[int] = []
        self._sockets: list[socket.socket] = []

    def promise(self) -> int:
        port = self._promised_port()
        self._promised += 1
        if self._promised > self.skip and len(self.ports) < self.count:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", port))
            sock.listen()
            self._sockets.append(sock)
            self.ports.append(port)
        return port

    def close(self) -> None:
        for sock in self._sockets:
            sock.close()


def start_on_promised_ports(
    part: str,
    launch: procs.Launch,
    *,
    started: Callable[[procs.ManagedProcess], object],
    timeout_s: float,
    count: int = 1,
    ports: Sequence[int] | None = None,
    movable: bool = True,
) -> tuple[procs.ManagedProcess, list[int]]:
    """Start a child on ``ports`` (default: ``count`` promised ones) -> it, ready, and the
    ports it listens on.

    It binds them after they were picked: when another process took one in between, the
    child exits and is started again on fresh promised ones (``procs.start_on_ports``).
    Not ``movable``: the child must listen on ``ports`` (a restart where it was), and it
    is started there once. ``started(process)`` keeps each started process, to be
    stopped at the end."""

    def start(process: procs.ManagedProcess, ready: Callable[[], bool]) -> None:
        started(process.start())
        process.wait_ready(ready, timeout_s=timeout_s)

    first = [promised_port() for _ in range(count)] if ports is None else list(ports)
    if not movable:
        process, ready = launch(first)
        start(process, ready)
        return process, first
    return procs.start_on_ports(
        part, first, launch, pick=lambda _part: promised_port(), start=start
    )


def poll_until(fn: Callable[[], object], *, timeout_s: float, interval_s: float = 0.25):
    """Call fn until it returns something truthy or the time is up; return the last value
    (falsy on a timeout: for callers that handle it; :func:`wait_for_value` fails instead)."""
    deadline = time.monotonic() + timeout_s
    last = fn()
    while not last and time.monotonic() < deadline:
        time.sleep(interval_s)
        last = fn()
    return last


def wait_for_value(
    fn: Callable[[], T], *, timeout_s: float, what: str, interval_s: float = 0.25
) -> T:
    """Call fn until it returns something truthy -> that value. On a timeout, fail naming
    what was awaited and the last value: an assertion on a value returned after a silent
    timeout would blame the value, not the wait."""
    last = poll_until(fn, timeout_s=timeout_s, interval_s=interval_s)
    if not last:
        raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}; last: {last!r}")
    return last
