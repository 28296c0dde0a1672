"""`mockado loader` as users run it, on a promised HTTP port: when another process took the
port before the loader bound it, the loader exits and is started again on a fresh one."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from control_plane.local import procs
from tests.support.processes import start_on_promised_ports


def start_loader(
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str],
    log_path: Path,
    started: Callable[[procs.ManagedProcess], object],
    ready_path: str = "/healthz",
) -> tuple[procs.ManagedProcess, int]:
    """``argv`` (``mockado loader --config F ...``) with ``--http-port`` added, answering
    200 at ``ready_path`` -> it and its HTTP port."""

    def launch(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
        process = procs.ManagedProcess(
            name, [*argv, "--http-port", str(ports[0])], log_path=log_path, env=env
        )
        return process, procs.http_ready(f"http://127.0.0.1:{ports[0]}{ready_path}")

    process, [port] = start_on_promised_ports(name, launch, started=started, timeout_s=30)
    return process, port
