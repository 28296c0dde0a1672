"""Session fixtures that start the real binaries on free ports.

Each process keeps its log under ``tests/.logs/<run>/``; a failing test's
message names the log. Factories (``redis_factory``, ``wiremock_factory``,
``envoy_factory``) give a test its own instance when it needs to kill or pause it.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
import yaml

from control_plane.local import procs
from tests.support import processes
from tests.support.acl_redis import SYSTEM_SERVER, AclRedis, start_acl_redis
from tests.support.ext_proc_rig import ExtProcProcess
from tests.support.paths import REPO
from tests.support.processes import (
    EnvoyHandle,
    RedisHandle,
    Squatter,
    StackHandle,
    UpstreamHandle,
    WireMockHandle,
    promised_port,
    start_on_promised_ports,
)


@pytest.fixture(scope="session")
def logs_dir() -> Path:
    path = REPO / "tests" / ".logs" / time.strftime("%Y%m%d-%H%M%S")
    path.mkdir(parents=True, exist_ok=True)
    return path


class _Registry:
    """Stops every process a session started, newest first."""

    def __init__(self) -> None:
        self.processes: list[procs.ManagedProcess] = []

    def add(self, process: procs.ManagedProcess) -> procs.ManagedProcess:
        self.processes.append(process)
        return process

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            process.stop(timeout_s=10)


@pytest.fixture(scope="session")
def process_registry() -> Iterator[_Registry]:
    registry = _Registry()
    yield registry
    registry.stop_all()


@pytest.fixture
def squatter(monkeypatch: pytest.MonkeyPatch) -> Iterator[Squatter]:
    """Another program that takes the next promised port before the child it is for binds it
    (``squatter.count``: how many of the next ones)."""
    taking = Squatter(count=1)
    for module in (processes, sys.modules[__name__]):  # wherever fixtures take ports from
        monkeypatch.setattr(module, "promised_port", taking.promise)
    yield taking
    taking.close()


@pytest.fixture(scope="session")
def redis_factory(
    logs_dir: Path, tmp_path_factory: pytest.TempPathFactory, process_registry: _Registry
) -> Callable[..., RedisHandle]:
    counter = iter(range(1000))

    def start(*, extra_args: tuple[str, ...] = (), port: int | None = None) -> RedisHandle:
        n = next(counter)
        data_dir = tmp_path_factory.mktemp(f"redis{n}")

        def launch(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
            process = procs.redis_process(
                port=ports[0],
                data_dir=data_dir,
                log_path=logs_dir / f"redis-{n}.log",
                extra_args=extra_args,
            )
            # On a port of its own, it must answer PING: another process that took the
            # port first would accept a bare connect. On the caller's port (TLS, say), a
            # connect is all it is asked.
            if port is None:
                return process, procs.redis_ready("127.0.0.1", ports[0])
            return process, procs.tcp_ready("127.0.0.1", ports[0])

        process, [bound] = start_on_promised_ports(
            "redis",
            launch,
            started=process_registry.add,
            timeout_s=15,
            ports=None if port is None else [port],
            movable=port is None,
        )
        return RedisHandle(port=bound, process=process)

    return start


@pytest.fixture(scope="session")
def redis_server(redis_factory: Callable[..., RedisHandle]) -> RedisHandle:
    return redis_factory()


@pytest.fixture
def acl_redis_factory(
    logs_dir: Path, tmp_path: Path, process_registry: _Registry
) -> Callable[..., AclRedis]:
    """A redis-server with the rendered ACL users (``tests.support.acl_redis``)."""

    def start(which: str = SYSTEM_SERVER) -> AclRedis:
        return start_acl_redis(
            which, directory=tmp_path, logs_dir=logs_dir, started=process_registry.add
        )

    return start


@pytest.fixture
def rclient(redis_server: RedisHandle) -> Iterator[redis.Redis]:
    """A client of the session's Redis, closed after the test."""
    client = redis.Redis.from_url(redis_server.url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def wiremock_factory(
    logs_dir: Path, tmp_path_factory: pytest.TempPathFactory, process_registry: _Registry
) -> Callable[..., WireMockHandle]:
    counter = iter(range(1000))

    def start(
        *,
        root_dir: Path | None = None,
        port: int | None = None,
        extra_args: tuple[str, ...] = (),
        indexed: bool | None = None,
    ) -> WireMockHandle:
        n = next(counter)
        root = root_dir or tmp_path_factory.mktemp(f"wiremock{n}")

        def launch(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
            process = procs.wiremock_process(
                servers=[procs.WireMockServer(port=ports[0], root_dir=root)],
                log_path=logs_dir / f"wiremock-{n}.log",
                extra_args=extra_args,
                indexed=indexed,
            )
            return process, procs.http_ready(f"http://127.0.0.1:{ports[0]}/__admin/health")

        process, [bound] = start_on_promised_ports(
            "wiremock",
            launch,
            started=process_registry.add,
            timeout_s=60,
            ports=None if port is None else [port],
            movable=port is None,
        )
        return WireMockHandle(port=bound, root_dir=root, process=process)

    return start


@pytest.fixture(scope="session")
def wiremock(wiremock_factory: Callable[..., WireMockHandle]) -> WireMockHandle:
    return wiremock_factory()


@pytest.fixture
def wm(wiremock: WireMockHandle) -> Iterator[WireMockHandle]:
    """The shared WireMock, without stubs before and after the test."""
    wiremock.reset()
    yield wiremock
    wiremock.reset()


@pytest.fixture(scope="session")
def upstream(logs_dir: Path, process_registry: _Registry) -> UpstreamHandle:
    """The bundled demo API as a real HTTP upstream (also serves /echo and /blob)."""

    def launch(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
        process = procs.ManagedProcess(
            "upstream",
            [sys.executable, "-m", "control_plane.local.demo_api", "--port", str(ports[0])],
            log_path=logs_dir / "upstream.log",
            cwd=REPO,
        )
        return process, procs.http_ready(f"http://127.0.0.1:{ports[0]}/healthz")

    process, [port] = start_on_promised_ports(
        "upstream", launch, started=process_registry.add, timeout_s=20
    )
    return UpstreamHandle(port=port, process=process)


@pytest.fixture(scope="session")
def envoy_factory(logs_dir: Path, process_registry: _Registry) -> Callable[..., EnvoyHandle]:
    """Start Envoy from a rendered bootstrap.

    ``render(listen_port, admin_port) -> yaml text`` lets the caller use the control
    plane's renderer (``control_plane.render.render_local_envoy``) with the ports chosen here.
    ``envoy``: another Envoy binary than the bundled one (the sidecars', ``sidecar_envoy``).
    """
    counter = iter(range(1000))

    def start(render: Callable[[int, int], str], *, envoy: str | None = None) -> EnvoyHandle:
        n = next(counter)
        config_path = logs_dir / f"envoy-{n}.yaml"

        def launch(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
            port, admin_port = ports
            config_path.write_text(render(port, admin_port), encoding="utf-8")
            process = procs.envoy_process(
                config_path=config_path, log_path=logs_dir / f"envoy-{n}.log"
            )
            if envoy is not None:
                process.argv[0] = envoy
            return process, procs.http_ready(f"http://127.0.0.1:{admin_port}/ready")

        process, [port, admin_port] = start_on_promised_ports(
            "envoy", launch, started=process_registry.add, timeout_s=30, count=2
        )
        return EnvoyHandle(
            port=port, admin_port=admin_port, config_path=config_path, process=process
        )

    return start


@pytest.fixture(scope="session")
def mockado_bin() -> str:
    path = Path(sys.executable).parent / "mockado"
    if not path.exists():
        pytest.fail(f"{path} missing: run `make install`")
    return str(path)


@pytest.fixture(scope="session")
def clean_env() -> dict[str, str]:
    """The environment for child mockado processes, without MOCKADO_* leaking in."""
    return {k: v for k, v in os.environ.items() if not k.startswith("MOCKADO_")}


def _read_until_ready(proc, state: Path, *, timeout_s: float) -> tuple[list[str], bool]:
    """``mockado up``'s summary lines, up to its "Press Ctrl-C" line -> them and whether it
    came up (not: it exited); one that hangs is killed and fails the test with its logs."""
    lines: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if line:
            lines.append(line)
            if "Press Ctrl-C to stop" in line:
                return lines, True
        elif proc.poll() is not None:
            return lines, False
    proc.kill()
    pytest.fail(f"mockado up did not come up:\n{''.join(lines)}\n{_stack_logs(state)}")


def _taken_ports(output: str, ports: list[int]) -> list[int]:
    """The promised ``ports`` another process took: the ones ``mockado up`` said are busy
    or another socket holds now (its own parts stopped when it exited)."""
    return [p for p in ports if f"port {p} is busy" in output or procs.port_is_held(p)]


def _stack_logs(state: Path) -> str:
    return "\n".join(
        f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
        for p in sorted((state / "logs").glob("*.log"))
    )


@pytest.fixture
def stack_factory(tmp_path: Path, mockado_bin: str, clean_env: dict[str, str]):
    """Start ``mockado up`` as a user would; every started stack is stopped at test end.

    Its proxy and WireMock ports are promised here and bound by its parts later: when
    another process took one in between, it is started again on fresh ones."""
    import subprocess

    import psutil

    started: list[StackHandle] = []

    def start(
        *,
        upstream: str | None = None,
        config_text: str | None = None,
        shards: int = 1,
        env: dict[str, str] | None = None,
    ) -> StackHandle:
        n = len(started)
        options = ["--upstream", upstream] if upstream else []
        if shards > 1:
            options += ["--shards", str(shards)]
        if config_text is not None:
            config_path = tmp_path / f"mockado{n}.yaml"
            config_path.write_text(config_text)
            options += ["--config", str(config_path)]
        for attempt in range(1, procs.PORT_ATTEMPTS + 1):
            ports = [promised_port(), promised_port()]
            state = tmp_path / (f"state{n}" if attempt == 1 else f"state{n}-{attempt}")
            argv = [mockado_bin, "up", "--proxy-port", str(ports[0]),
                    "--wiremock-port", str(ports[1]), "--state-dir", str(state), *options]  # fmt: skip
            proc = subprocess.Popen(
                argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                env={**clean_env, **(env or {})}, cwd=REPO,
            )  # fmt: skip
            lines, ready = _read_until_ready(proc, state, timeout_s=150)
            if ready:
                break
            output = "".join(lines) + proc.stdout.read()
            if not _taken_ports(output, ports) or attempt == procs.PORT_ATTEMPTS:
                pytest.fail(f"mockado up did not come up:\n{output}\n{_stack_logs(state)}")
        handle = StackHandle(
            process=proc,
            proxy_url=f"http://127.0.0.1:{ports[0]}",
            wiremock_url=f"http://127.0.0.1:{ports[1]}",
            state_dir=state,
            summary="".join(lines),
            children=psutil.Process(proc.pid).children(recursive=True),
        )
        started.append(handle)
        return handle

    yield start
    for handle in started:
        handle.stop()


@pytest.fixture(scope="session")
def ext_proc_factory(
    mockado_bin: str, clean_env: dict, logs_dir: Path, tmp_path_factory, process_registry
) -> Callable[..., ExtProcProcess]:
    counter = iter(range(1000))

    def start(
        collector: dict,
        *,
        env: dict | None = None,
        workers: int = 1,
        control_plane: dict | None = None,
    ) -> ExtProcProcess:
        n = next(counter)
        cfg_path = tmp_path_factory.mktemp(f"extproc{n}") / "mockado.yaml"
        data = {
            "collector": {k: v for k, v in collector.items() if k not in ("grpc_port", "http_port")}
        }
        if control_plane:
            data["control_plane"] = control_plane
        cfg_path.write_text(yaml.safe_dump(data), encoding="utf-8")

        def launch(ports: list[int]) -> tuple[procs.ManagedProcess, Callable[[], bool]]:
            grpc_port, http_port = ports
            argv = [
                mockado_bin, "ext-proc", "--config", str(cfg_path),
                "--grpc-port", str(grpc_port), "--http-port", str(http_port),
                "--workers", str(workers), "--log-level", "DEBUG",
            ]  # fmt: skip
            process = procs.ManagedProcess(
                "ext-proc",
                argv,
                log_path=logs_dir / f"ext-proc-{n}.log",
                env={**clean_env, **(env or {})},
            )
            return process, procs.http_ready(f"http://127.0.0.1:{http_port}/healthz")

        process, [grpc_port, http_port] = start_on_promised_ports(
            "ext-proc",
            launch,
            started=process_registry.add,
            timeout_s=30,
            ports=[collector["grpc_port"], collector["http_port"]],
        )
        # Started on other ports when another process took one: callers read them here.
        collector.update(grpc_port=grpc_port, http_port=http_port)
        return ExtProcProcess(
            process,
            grpc_port=grpc_port,
            http_port=http_port,
            queue=collector["redis_queue"],
            redis_url=collector["redis_url"],
        )

    return start
