"""``mockado up`` when another process takes a part's port between the pick and the bind.

Each part is given a port that is free when picked and binds it later, in its own process;
here another socket binds the port in between, as a busy machine's other programs may."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from control_plane.local import procs
from control_plane.local.stack import PORT_ATTEMPTS, Stack, StackOptions
from ext_proc_server.core.config import load_config
from ext_proc_server.core.errors import StackError
from tests.support.processes import promised_port, wait_for_value


class SquattedPorts(procs.PortPicker):
    """Binds (and listens on) a picked port before the part it is for can: the first one
    picked for each part, or every one picked for the parts in ``always``."""

    def __init__(self, *, always: frozenset[str] = frozenset()) -> None:
        super().__init__()
        self.always = always
        self.squatted: dict[str, list[int]] = {}
        self._sockets: list[socket.socket] = []

    def pick(self, part: str) -> int:
        port = super().pick(part)
        if part in self.always or part not in self.squatted:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", port))
            sock.listen()
            self._sockets.append(sock)
            self.squatted.setdefault(part, []).append(port)
        return port

    def close(self) -> None:
        for sock in self._sockets:
            sock.close()


@pytest.fixture
def no_redis_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)  # the stack's own redis-server, on a port


@pytest.fixture
def squatted_stack(tmp_path: Path, no_redis_url: None) -> Iterator:
    started: list[tuple[Stack, SquattedPorts]] = []

    def start(*, shards: int = 1, always: frozenset[str] = frozenset()) -> tuple[Stack, dict]:
        ports = SquattedPorts(always=always)
        options = StackOptions(
            proxy_port=promised_port(),
            wiremock_port=promised_port(),
            state_dir=tmp_path / f"state{len(started)}",
            shards=shards,
        )
        stack = Stack(config=load_config(None, env={}), options=options, ports=ports)
        started.append((stack, ports))
        return stack, stack.start()

    yield start
    for stack, ports in started:
        stack.stop()
        ports.close()


def _port(url: str) -> int:
    return int(urlsplit(url).port or 0)


@pytest.mark.parametrize("shards", [1, 2])
def test_stack_comes_up_when_each_parts_first_port_is_taken(squatted_stack, shards):
    stack, where = squatted_stack(shards=shards)
    ports: SquattedPorts = stack.ports
    expected = {"redis", "demo-api", "ext-proc", "loader", "envoy"}
    if shards > 1:
        expected |= {"wiremock-default", "wiremock-shard1", "mock-router"}
    assert expected <= set(ports.squatted)

    # Every part listens on a port nobody else held; the summary names those ports.
    squatted = {port for taken in ports.squatted.values() for port in taken}
    for name in ("collector_metrics", "loader_metrics", "envoy_admin", "upstream"):
        assert _port(where[name]) not in squatted, name
    # Each part that was started again says so in its log.
    redis_log = (stack.logs_dir / "redis.log").read_text(errors="replace")
    assert "ddress already in use" in redis_log

    resp = httpx.get(f"{where['proxy']}/api/users", timeout=10)
    assert resp.status_code == 200
    assert resp.json()["users"][0]["email"] == "joana.silva+compras@exemplo.com.br"

    # The exchange went through the collector and the loader into a served stub.
    mocks = f"http://127.0.0.1:{stack.options.wiremock_port}"

    def served():
        got = httpx.get(f"{mocks}/api/users", timeout=5)
        return got if got.status_code == 200 else None

    mocked = wait_for_value(served, timeout_s=30, what="the stub served").json()
    assert mocked["users"][0]["name"] == "SANITIZED_NAME"


def test_a_part_whose_ports_are_always_taken_is_one_clear_error(tmp_path: Path, no_redis_url):
    ports = SquattedPorts(always=frozenset({"redis"}))
    options = StackOptions(
        proxy_port=promised_port(), wiremock_port=promised_port(), state_dir=tmp_path
    )
    stack = Stack(config=load_config(None, env={}), options=options, ports=ports)
    try:
        with pytest.raises(StackError) as failed:
            stack.start()
    finally:
        stack.stop()
        ports.close()
    message = str(failed.value)
    assert message.startswith("redis: other processes took its ports")
    assert f"{PORT_ATTEMPTS} times in a row" in message
    assert "redis: exited with code" in message  # the last attempt's own failure
    assert len(ports.squatted["redis"]) == PORT_ATTEMPTS
    assert stack.parts == []  # no failed attempt is left running or waited for
