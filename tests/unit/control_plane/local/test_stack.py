from __future__ import annotations

import signal
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from control_plane.local.procs import ManagedProcess, PortPicker
from control_plane.local.stack import Stack, StackOptions, summary_text
from control_plane.local.stack_plan import (
    ChildPorts,
    ShardPlan,
    effective_config_data,
    parse_upstream,
    plan_shards,
)
from ext_proc_server.core.config import load_config
from ext_proc_server.core.errors import StackError
from tests.support.processes import promised_port


def test_parse_upstream_defaults_ports_by_scheme():
    assert parse_upstream("http://api.local").port == 80
    https = parse_upstream("https://api.example.com:8443/base")
    assert (https.host, https.port, https.tls) == ("api.example.com", 8443, True)
    assert parse_upstream("127.0.0.1:3000").port == 3000


def test_parse_upstream_rejects_other_schemes():
    with pytest.raises(StackError, match="upstream: invalid URL"):
        parse_upstream("ftp://x")


def test_one_shard_listens_on_the_wiremock_port():
    plans = plan_shards(load_config(None, env={}), base_port=8080, count=1)
    assert [(p.name, p.port) for p in plans] == [("default", 8080)]


def test_shards_from_groups_then_count_take_free_ports():
    config = load_config(
        None,
        env={"MOCKADO_SERVING__SHARD_GROUPS": "{payments: ['payments.*'], users: ['users.*']}"},
    )
    plans = plan_shards(config, base_port=8080, count=1)
    assert [p.name for p in plans] == ["default", "payments", "users"]
    assert plans[1].host_patterns == ["payments.*"]
    # The base port belongs to the mock router; shards get their own free ports.
    assert 8080 not in {p.port for p in plans}
    assert len({p.port for p in plans}) == 3
    anonymous = plan_shards(load_config(None, env={}), base_port=9000, count=3)
    assert [p.name for p in anonymous] == ["default", "shard1", "shard2"]


def test_summary_names_every_place():
    where = {
        "proxy": "http://127.0.0.1:10000",
        "upstream": "http://127.0.0.1:3000",
        "mocks": "http://127.0.0.1:8080 (default)",
        "collector_metrics": "http://127.0.0.1:1/metrics",
        "loader_metrics": "http://127.0.0.1:2/metrics",
        "console": "http://127.0.0.1:2/console/",
        "envoy_admin": "http://127.0.0.1:3",
        "logs": "/tmp/x/logs",
        "backups": "/tmp/x/backups",
        "redis": "embedded redis-server",
    }
    text = summary_text(where)
    for value in where.values():
        assert value in text


def test_effective_config_points_the_children_at_this_runs_parts(tmp_path: Path):
    config = load_config(None, env={"MOCKADO_COLLECTOR__PSEUDONYM_KEY": "k" * 32})
    shards = [
        ShardPlan(name="default", port=7000, host_patterns=[]),
        ShardPlan(name="payments", port=7001, host_patterns=["payments.*", "billing.*"]),
    ]
    data = effective_config_data(
        config,
        redis_url="redis://127.0.0.1:6400/0",
        shards=shards,
        ports=ChildPorts(grpc=5001, collector_http=5002, loader_http=5003),
        state_dir=tmp_path,
    )
    collector, loader = data["collector"], data["loader"]
    assert (collector["grpc_port"], collector["http_port"]) == (5001, 5002)
    assert collector["redis_url"] == loader["redis_url"] == "redis://127.0.0.1:6400/0"
    # The key reaches the children through their environment, never this file.
    assert "pseudonym_key" not in collector
    assert (loader["wiremock_url"], loader["http_port"]) == ("http://127.0.0.1:7000", 5003)
    assert loader["shards"] == [
        {"host": "payments.*", "wiremock_url": "http://127.0.0.1:7001"},
        {"host": "billing.*", "wiremock_url": "http://127.0.0.1:7001"},
    ]
    assert loader["backup_enabled"] is True
    assert loader["backup_path"] == str(tmp_path / "backups")


IGNORING = "ignoring SIGTERM"


def stubborn(tmp_path: Path, name: str) -> ManagedProcess:
    """A child that ignores SIGTERM (a part still draining), given 30 s to stop."""
    code = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
        f" print({IGNORING!r}, flush=True); time.sleep(60)"
    )
    return ManagedProcess(
        name, [sys.executable, "-c", code], log_path=tmp_path / f"{name}.log", stop_timeout_s=30
    )


def test_a_forced_stop_kills_every_part_while_a_stop_waits(tmp_path: Path, monkeypatch):
    proxy_port = promised_port()
    options = StackOptions(state_dir=tmp_path, proxy_port=proxy_port, wiremock_port=promised_port())
    stack = Stack(config=load_config(None, env={}), options=options)
    stack.parts = [stubborn(tmp_path, "first").start(), stubborn(tmp_path, "second").start()]
    for part in stack.parts:  # a SIGTERM before its handler is set would stop it
        part.wait_ready(lambda part=part: IGNORING in part.log_path.read_text(), timeout_s=30)
    stopping = threading.Thread(target=stack.stop)
    stopping.start()
    time.sleep(0.5)
    assert stopping.is_alive()  # waiting for "second", which ignores SIGTERM
    stack.force_stop()
    stopping.join(10)
    assert not stopping.is_alive()
    assert [p.proc.returncode for p in stack.parts] == [-signal.SIGKILL] * 2
    # And nothing is started after it: not even the first part of a start.
    monkeypatch.delenv("REDIS_URL", raising=False)
    with pytest.raises(StackError, match="redis: not started"):
        stack.start()
    assert len(stack.parts) == 2


LISTENER = (
    "import socket, sys, time; s = socket.socket(); s.bind(('127.0.0.1', int(sys.argv[1])));"
    " s.listen(); print('listening', flush=True); time.sleep(60)"
)


class FirstPickTaken(PortPicker):
    """Another process binds the first port picked, before the part it is for can; with
    ``listening`` it also listens there, as a server that took the port would."""

    def __init__(self, *, listening: bool = False) -> None:
        super().__init__()
        self.listening = listening
        self.held: list[socket.socket] = []

    def pick(self, part: str) -> int:
        port = super().pick(part)
        if not self.held:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.bind(("127.0.0.1", port))
            if self.listening:
                sock.listen()
            self.held.append(sock)
        return port


def _listener(tmp_path: Path, launched: list[list[int]]):
    def launch(ports: list[int]):
        launched.append(ports)
        log_path = tmp_path / "listener.log"
        process = ManagedProcess(
            "listener", [sys.executable, "-c", LISTENER, str(ports[0])], log_path=log_path
        )
        # A child that cannot bind never says so: its log is the one attempt that did.
        return process, lambda: "listening" in log_path.read_text()

    return launch


@pytest.mark.parametrize("listening", [False, True], ids=["bound", "listening"])
def test_a_part_whose_port_was_taken_starts_again_on_a_fresh_port(tmp_path: Path, listening):
    picker = FirstPickTaken(listening=listening)
    options = StackOptions(state_dir=tmp_path, proxy_port=promised_port(), wiremock_port=1)
    stack = Stack(config=load_config(None, env={}), options=options, ports=picker)
    launched: list[list[int]] = []
    try:
        [port] = stack.start_on_ports(
            "listener", [picker.pick("listener")], _listener(tmp_path, launched)
        )
        taken = picker.held[0].getsockname()[1]
        assert launched == [[taken], [port]]
        assert port != taken
        assert [p.alive for p in stack.parts] == [True]  # the failed attempt is gone
        assert "Address already in use" in (tmp_path / "listener.log").read_text()
    finally:
        stack.stop()
        for sock in picker.held:
            sock.close()


def test_a_part_that_fails_with_its_ports_free_is_not_started_again(tmp_path: Path):
    options = StackOptions(state_dir=tmp_path, proxy_port=promised_port(), wiremock_port=1)
    stack = Stack(config=load_config(None, env={}), options=options)
    launched: list[list[int]] = []

    def launch(ports: list[int]):
        launched.append(ports)
        broken = ManagedProcess(
            "broken", [sys.executable, "-c", "raise SystemExit(3)"], log_path=tmp_path / "b.log"
        )
        return broken, lambda: False

    with pytest.raises(StackError, match="broken: exited with code 3"):
        stack.start_on_ports("broken", [promised_port()], launch)
    assert len(launched) == 1


# A server (binding with SO_REUSEADDR, as Redis, Envoy and WireMock do) that answers one
# connection, closing it first so its side of it stays in TIME_WAIT on the port, and then
# fails for a reason of its own.
CRASHES_AFTER_A_CONNECTION = (
    "import socket, sys\n"
    "s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    "s.bind(('127.0.0.1', int(sys.argv[1]))); s.listen()\n"
    "conn, _ = s.accept(); conn.sendall(b'bye'); conn.close()\n"
    "sys.exit('config: no such table: stubs')\n"
)


def _time_wait_ports() -> set[int]:
    """Local ports of this machine's IPv4 TCP sockets in TIME_WAIT (state 06)."""
    ports = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[3] == "06":
            ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def test_a_part_that_crashes_after_a_connection_fails_at_once_with_its_message(tmp_path: Path):
    options = StackOptions(state_dir=tmp_path, proxy_port=promised_port(), wiremock_port=1)
    stack = Stack(config=load_config(None, env={}), options=options)
    launched: list[list[int]] = []

    def launch(ports: list[int]):
        launched.append(ports)
        server = ManagedProcess(
            "server",
            [sys.executable, "-c", CRASHES_AFTER_A_CONNECTION, str(ports[0])],
            log_path=tmp_path / f"server{len(launched)}.log",
        )

        def answered() -> bool:
            with socket.create_connection(("127.0.0.1", ports[0]), timeout=5) as sock:
                sock.settimeout(5)
                while sock.recv(16):  # until it closed its side: that side stays in TIME_WAIT
                    pass
            return False  # never ready: it crashes next

        return server, answered

    with pytest.raises(StackError) as failed:
        stack.start_on_ports("server", [promised_port()], launch)
    assert len(launched) == 1, f"started again on fresh ports: {launched}"
    message = str(failed.value)
    assert message.startswith("server: exited with code 1 (config: no such table: stubs)")
    assert launched[0][0] in _time_wait_ports()  # what an earlier check took for a squatter
