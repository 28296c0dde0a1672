"""Kubelet probes, and waiting until every container is Ready the way the kubelet decides it.

httpGet and tcpSocket probes go from this machine to the pod IP, as the kubelet's go from
the node (a server bound to 127.0.0.1 fails them, as in a cluster); exec probes run in the
container. A startup or liveness probe that keeps failing past
initialDelaySeconds + failureThreshold x periodSeconds is a failure (the kubelet would
restart the container); a readiness probe is polled until it passes or the run's deadline.
"""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from tests.support.box.engine import Docker
from tests.support.box.errors import BoxError
from tests.support.box.podspec import resolve_port

PROBE_KINDS = ("startupProbe", "readinessProbe", "livenessProbe")
POLL_INTERVAL_S = 1.0
LOG_LINE_CHARS = 600
EXEC_SLACK_S = 20.0  # docker exec's own start-up, on top of the probe's timeoutSeconds
ProbeCheck = Callable[[], tuple[bool, str]]


@dataclass
class Probe:
    """One probe of one container, with Kubernetes' defaults."""

    kind: str
    spec: Mapping[str, Any]
    check: ProbeCheck  # runs it once: (passed, what it saw)
    passed: bool = False
    last_output: str = ""

    @property
    def initial_delay_s(self) -> float:
        return float(self.spec.get("initialDelaySeconds", 0))

    @property
    def budget_s(self) -> float:
        """How long it may fail before the kubelet restarts the container."""
        period = float(self.spec.get("periodSeconds", 10))
        timeout = float(self.spec.get("timeoutSeconds", 1))
        return self.initial_delay_s + int(self.spec.get("failureThreshold", 3)) * (period + timeout)

    def describe(self) -> str:
        handler = next(k for k in ("httpGet", "tcpSocket", "exec") if k in self.spec)
        return f"{self.kind} {handler} {dict(self.spec[handler])}"

    def run(self) -> None:
        self.passed, self.last_output = self.check()


def probe_check(
    spec: Mapping[str, Any],
    *,
    docker: Docker,
    pod_spec: Mapping[str, Any],
    pod_ip: str,
    container: str,
) -> ProbeCheck:
    """How the kubelet runs the probe: HTTP and TCP from the node to the pod IP, exec inside."""
    timeout_s = float(spec.get("timeoutSeconds", 1))
    if "exec" in spec:
        argv = ["exec", container, *spec["exec"]["command"]]
        return lambda: _exec_probe(docker, argv, timeout_s)
    if "httpGet" in spec:
        get = spec["httpGet"]
        port = resolve_port(get["port"], pod_spec, what=f"httpGet probe of {container}")
        url = f"{get.get('scheme', 'HTTP').lower()}://{get.get('host', pod_ip)}:{port}{get.get('path', '/')}"
        headers = {h["name"]: h["value"] for h in get.get("httpHeaders") or []}
        return lambda: _http_probe(url, headers, timeout_s)
    if "tcpSocket" in spec:
        tcp = spec["tcpSocket"]
        port = resolve_port(tcp["port"], pod_spec, what=f"tcpSocket probe of {container}")
        return lambda: _tcp_probe(tcp.get("host", pod_ip), port, timeout_s)
    raise BoxError(f"container {container}: probe {sorted(spec)} is not supported by the box")


def _http_probe(url: str, headers: Mapping[str, str], timeout_s: float) -> tuple[bool, str]:
    try:
        # Like the kubelet: no redirects followed off the pod, HTTPS not verified.
        response = httpx.get(url, headers=headers, timeout=timeout_s, verify=False, trust_env=False)
    except httpx.HTTPError as exc:
        return False, f"{type(exc).__name__}: {exc}"
    return 200 <= response.status_code < 400, f"HTTP {response.status_code}"


def _tcp_probe(host: str, port: int, timeout_s: float) -> tuple[bool, str]:
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            return True, "connected"
    except OSError as exc:
        return False, f"{type(exc).__name__}: {exc}"


def _exec_probe(docker: Docker, argv: list[str], timeout_s: float) -> tuple[bool, str]:
    proc = docker.run(*argv, check=False, timeout_s=timeout_s + EXEC_SLACK_S)
    return proc.returncode == 0, (proc.stdout + proc.stderr).decode(errors="replace").strip()


@dataclass
class Watched:
    """A started container the box waits on: who it is, how it was started, its probes."""

    namespace: str
    pod: str
    name: str
    docker_name: str
    image: str
    argv: list[str]
    probes: dict[str, Probe] = field(default_factory=dict)
    started_at: float = field(default_factory=time.monotonic)
    startup_done_at: float | None = None

    @property
    def ready(self) -> bool:
        return all(p.passed for p in self.probes.values())

    def where(self) -> str:
        return f"pod {self.namespace}/{self.pod}, container {self.name}"


def failure(docker: Docker, watched: Watched, what: str, *, log_lines: int = 25) -> BoxError:
    """An error naming the container, the argv it ran, and its last log lines."""
    logs = docker.logs(watched.docker_name, tail=log_lines).rstrip() or "(no output)"
    logs = "\n".join(_clip(line) for line in logs.splitlines())
    return BoxError(
        f"{watched.where()} {what}\n"
        f"  image: {watched.image}\n"
        f"  argv: {' '.join(watched.argv)}\n"
        f"  last log lines:\n" + "\n".join(f"    {line}" for line in logs.splitlines())
    )


def _clip(line: str, limit: int = LOG_LINE_CHARS) -> str:
    return line if len(line) <= limit else f"{line[: limit // 2]} ... {line[-limit // 2 :]}"


def container_states(docker: Docker, names: Sequence[str]) -> dict[str, Mapping[str, Any]]:
    """docker inspect State of each container, in one call."""
    if not names:
        return {}
    text = docker.text("inspect", "--format", "{{.Name}} {{json .State}}", *names)
    states = {}
    for line in text.splitlines():
        name, _, state = line.partition(" ")
        states[name.lstrip("/")] = json.loads(state)
    return states


def exit_reason(state: Mapping[str, Any]) -> str:
    reason = f"exited with code {state.get('ExitCode')}"
    if state.get("OOMKilled"):
        reason += " (OOMKilled: over its memory limit)"
    return reason


def _step(docker: Docker, watched: Watched, now: float) -> None:
    """Run the probes that are due; raise when one is past its failure budget."""
    startup = watched.probes.get("startupProbe")
    if startup is not None and not startup.passed:
        _run_or_fail(docker, watched, startup, since=watched.started_at, now=now, restarts=True)
        if not startup.passed:
            return
        watched.startup_done_at = now
    since = watched.startup_done_at or watched.started_at
    for kind in ("readinessProbe", "livenessProbe"):
        probe = watched.probes.get(kind)
        if probe is not None and not probe.passed:
            restarts = kind == "livenessProbe"
            _run_or_fail(docker, watched, probe, since=since, now=now, restarts=restarts)


def _run_or_fail(
    docker: Docker, watched: Watched, probe: Probe, *, since: float, now: float, restarts: bool
) -> None:
    if now - since < probe.initial_delay_s:
        return
    probe.run()
    if not probe.passed and restarts and now - since > probe.budget_s:
        raise failure(
            docker, watched,
            f"failed its {probe.describe()} for {now - since:.0f} s; the kubelet would restart "
            f"it (last probe: {probe.last_output or 'no output'})",
        )  # fmt: skip


def wait_ready(docker: Docker, containers: Sequence[Watched], *, timeout_s: float) -> None:
    """Until every container is Ready; raise on the first that exits or fails for good."""
    deadline = time.monotonic() + timeout_s
    pending = list(containers)
    while pending:
        states = container_states(docker, [w.docker_name for w in pending])
        for watched in pending:
            state = states.get(watched.docker_name, {})
            if not state.get("Running"):
                raise failure(docker, watched, f"{exit_reason(state)} before it was Ready")
        now = time.monotonic()
        for watched in pending:
            _step(docker, watched, now)
        pending = [w for w in pending if not w.ready]
        if pending and now > deadline:
            watched = pending[0]
            waiting = [f"{p.describe()}: {p.last_output or 'not run yet'}"
                       for p in watched.probes.values() if not p.passed]  # fmt: skip
            raise failure(
                docker, watched, f"not Ready after {timeout_s:.0f} s ({'; '.join(waiting)})"
            )
        if pending:
            time.sleep(POLL_INTERVAL_S)


def check_running(docker: Docker, containers: Sequence[Watched]) -> None:
    """Every container still runs (a crash after Ready is a crash loop in a cluster)."""
    states = container_states(docker, [w.docker_name for w in containers])
    for watched in containers:
        state = states.get(watched.docker_name, {})
        if not state.get("Running"):
            raise failure(docker, watched, f"{exit_reason(state)} after it was Ready")
