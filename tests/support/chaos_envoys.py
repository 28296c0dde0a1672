"""The two Envoys in front of an upstream that the chaos rig and the ext_proc bench run:
"on" captures every request to the collector, "off" none (every path excluded), each with
an access log of its timings when asked. Each is rendered for the ports it is started on,
and started again on fresh ones when another process took one before it bound them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from control_plane.local import procs
from control_plane.render import LocalEnvoy, UpstreamService, render_local_envoy
from ext_proc_server.core.config import load_config
from tests.support.processes import start_on_promised_ports

# Name -> the paths it excludes from capture.
CAPTURE_PAIR: dict[str, tuple[str, ...]] = {"on": (), "off": ("/",)}


@dataclass(frozen=True)
class CaptureEnvoy:
    process: procs.ManagedProcess
    port: int
    admin_port: int


def start_capture_pair(
    work: Path,
    collector: Mapping[str, Any],
    *,
    upstream_port: int,
    grpc_port: int,
    log_path: Callable[[str], Path],
    started: Callable[[procs.ManagedProcess], object],
    timing_logs: Mapping[str, Path] | None = None,
    file_flush_interval_s: float | None = None,
) -> dict[str, CaptureEnvoy]:
    """Both Envoys, ready -> {name: its process and ports}. ``collector``: the collector
    settings both render with; ``log_path(name)``: a new log file; ``started(process)``
    keeps each started process, to be stopped at the end; ``timing_logs``: an access log
    of timings per name (none by default: each line is work for Envoy)."""
    config = load_config(
        None, env={}, overrides={f"collector.{k}": v for k, v in collector.items()}
    )
    upstream = UpstreamService(host="127.0.0.1", port=upstream_port, http2=False)
    out = {}
    for name, excluded in CAPTURE_PAIR.items():
        path = work / f"envoy-{name}.yaml"

        def launch(
            ports: list[int], name: str = name, excluded: tuple[str, ...] = excluded, path=path
        ) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
            port, admin_port = ports
            envoy = LocalEnvoy(
                listen_port=port,
                admin_port=admin_port,
                upstream=upstream,
                collector_port=grpc_port,
                exclude_paths=excluded,
                timing_log_path=str(timing_logs[name]) if timing_logs else None,
            )
            path.write_text(render_local_envoy(config, envoy), encoding="utf-8")
            process = procs.envoy_process(
                config_path=path,
                log_path=log_path(f"envoy-{name}"),
                file_flush_interval_s=file_flush_interval_s,
            )
            return process, procs.http_ready(f"http://127.0.0.1:{admin_port}/ready")

        process, [port, admin_port] = start_on_promised_ports(
            f"envoy-{name}", launch, started=started, timeout_s=30, count=2
        )
        out[name] = CaptureEnvoy(process, port, admin_port)
    return out
