"""Config, Envoy and waiting helpers for capture-server tests."""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import redis as redis_sync

from control_plane.local import procs
from control_plane.render import LocalEnvoy, UpstreamService, render_local_envoy
from ext_proc_server.core.config import MockadoConfig, load_config
from ext_proc_server.core.queue_entries import decode_entry
from tests.support.processes import promised_port
from tests.support.redis_dump import dump_redis


def collector_settings(redis_url: str, **extra: object) -> dict:
    settings = {
        "redis_url": redis_url,
        "redis_queue": f"test:{uuid.uuid4().hex[:8]}",
        "flush_interval": 0.05,
        "grpc_port": promised_port(),
        "http_port": promised_port(),
    }
    settings.update(extra)
    return settings


def make_config(collector: dict, **sections: dict) -> MockadoConfig:
    data = {"collector": collector, **sections}
    return load_config(
        None, env={}, overrides={f"{k}.{kk}": vv for k, v in data.items() for kk, vv in v.items()}
    )


def envoy_for(
    envoy_factory,
    config: MockadoConfig,
    *,
    upstream_port: int,
    ext_proc_port: int,
    upstream_http2: bool | None = None,
    **kw,
):
    """Envoy in front of the upstream, capturing to ext_proc_port; ``kw``: more LocalEnvoy
    fields (exclude_paths, capture_mode, ...)."""
    upstream = UpstreamService(host="127.0.0.1", port=upstream_port, http2=upstream_http2)

    def render(port: int, admin_port: int) -> str:
        envoy = LocalEnvoy(
            listen_port=port,
            admin_port=admin_port,
            upstream=upstream,
            collector_port=ext_proc_port,
            **kw,
        )
        return render_local_envoy(config, envoy)

    return envoy_factory(render)


def wait_until(
    check: Callable[[], bool],
    *,
    timeout_s: float = 15.0,
    what: str = "condition",
    explain: Callable[[], str] | None = None,
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}" + (f": {explain()}" if explain else ""))


class ExtProcProcess:
    """``mockado ext-proc`` as users run it."""

    def __init__(
        self,
        process: procs.ManagedProcess,
        *,
        grpc_port: int,
        http_port: int,
        queue: str,
        redis_url: str,
    ):
        self.process = process
        self.grpc_port = grpc_port
        self.http_port = http_port
        self.queue = queue
        self.redis_url = redis_url

    def metrics(self) -> str:
        return httpx.get(f"http://127.0.0.1:{self.http_port}/metrics", timeout=5).text

    def metric(self, name: str, **labels: str) -> float:
        text = self.metrics()
        want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
        pattern = (
            re.escape(name)
            + (r"\{" + re.escape(want) + r"\}" if labels else "")
            + r" ([0-9.e+-]+)$"
        )
        for line in text.splitlines():
            m = re.match(pattern, line)
            if m:
                return float(m.group(1))
        return 0.0

    def captured(self) -> list[dict]:
        client = redis_sync.Redis.from_url(self.redis_url)
        try:
            return [decode_entry(fields)[0] for _id, fields in client.xrange(self.queue)]
        finally:
            client.close()


def counters(ext: ExtProcProcess) -> str:
    """The collector's request, drop and dedup counters, for failure messages."""
    wanted = (
        "collector_requests_total",
        "collector_dropped_total",
        "collector_dedup",
        "collector_enq",
        "collector_stubs_skipped",
    )
    lines = [line for line in ext.metrics().splitlines() if line.startswith(wanted)]
    return f"captured={len(ext.captured())} " + "; ".join(lines)


def wait_for_stubs(
    ext: ExtProcProcess, stubs: int, *, skipped: dict[str, int], what: str
) -> list[dict[str, Any]]:
    """Wait until ``ext`` has written ``stubs`` stubs and counted each reason of
    ``skipped`` (reason -> skips) -> the stubs."""

    def decided() -> bool:
        counted = all(
            ext.metric("collector_stubs_skipped_total", reason=reason) == count
            for reason, count in skipped.items()
        )
        return counted and len(ext.captured()) == stubs

    def explain() -> str:
        return counters(ext) + str(sorted(str(s["request"].get("urlPath")) for s in ext.captured()))

    wait_until(decided, what=what, explain=explain)
    return ext.captured()


def capture_sinks(ext: ExtProcProcess, stubs: list[dict[str, Any]]) -> dict[str, str]:
    """Every place a capture leaves text, as text: the stubs, each Redis key, the
    collector's log (sink name -> text)."""
    sinks = {"stubs": json.dumps(stubs, ensure_ascii=False)}
    sinks.update(dump_redis(ext.redis_url))
    sinks["ext-proc log"] = ext.process.log_text()
    return sinks


def capture_lands(envoy_url: str, captured_paths: Callable[[], set[str]]) -> list[str]:
    """Send until one capture is recorded (``captured_paths``: the paths recorded so far)
    -> the paths sent.

    The collector cluster's connect timeout is 0.25 s (a dead collector must not delay
    traffic), so on a loaded machine Envoy's first connection (a TLS handshake) can miss
    it and that one capture is skipped by design; once connected, the HTTP/2 connection
    is reused.
    """
    tag = uuid.uuid4().hex[:8]
    sent: list[str] = []

    def one_more() -> bool:
        path = f"/echo/warm-{tag}-{len(sent)}"
        sent.append(path)
        assert httpx.post(f"{envoy_url}{path}", json={}, timeout=10).status_code == 200
        if set(sent) & captured_paths():
            return True
        time.sleep(0.3)
        return bool(set(sent) & captured_paths())

    wait_until(one_more, timeout_s=30, what="a first capture through Envoy")
    return sent
