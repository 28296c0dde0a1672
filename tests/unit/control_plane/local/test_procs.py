"""Child-process helpers that need no network: WireMock's root-dir hygiene and command."""

from __future__ import annotations

import json
import logging
import socket
import sys
from pathlib import Path

import pytest

from control_plane.assets import WIREMOCK_LAUNCHER
from control_plane.local import procs
from control_plane.local.stack_plan import shared_jvm_heap_mb
from ext_proc_server.core.errors import StackError


def _root(tmp_path: Path) -> Path:
    (tmp_path / "mappings" / "nested").mkdir(parents=True)
    good = {"request": {"method": "GET", "url": "/a"}, "response": {"status": 200}}
    (tmp_path / "mappings" / "good.json").write_text(json.dumps(good))
    (tmp_path / "mappings" / "many.json").write_text(json.dumps({"mappings": [good]}))
    (tmp_path / "mappings" / "empty.json").write_bytes(b"")
    (tmp_path / "mappings" / "nested" / "cut.json").write_text('{"request": {"meth')
    (tmp_path / "mappings" / "list.json").write_text("[1, 2]")
    return tmp_path


def test_unparsable_mapping_files_are_moved_aside_and_named_in_the_log(tmp_path, caplog):
    root = _root(tmp_path)
    with caplog.at_level(logging.WARNING, logger="control_plane.local.procs"):
        moved = procs.quarantine_broken_mappings(root)
    broken = root / procs.BROKEN_MAPPINGS_DIR
    assert sorted(p.relative_to(broken).as_posix() for p in moved) == [
        "empty.json",
        "list.json",
        "nested/cut.json",
    ]
    assert all(p.exists() for p in moved)
    left = sorted(p.name for p in (root / "mappings").rglob("*.json"))
    assert left == ["good.json", "many.json"]
    assert "3 mapping file(s)" in caplog.text


def test_a_clean_root_is_left_alone_and_logs_nothing(tmp_path, caplog):
    root = _root(tmp_path)
    procs.quarantine_broken_mappings(root)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="control_plane.local.procs"):
        assert procs.quarantine_broken_mappings(root) == []
    assert caplog.text == ""
    assert (root / "mappings" / "good.json").exists()


def test_the_wiremock_command_sweeps_the_root_before_it_starts(tmp_path, monkeypatch):
    root = _root(tmp_path)
    monkeypatch.setattr(procs, "find_java", lambda: "java")
    monkeypatch.setattr(procs, "find_wiremock_jar", lambda: Path("wiremock.jar"))
    process = procs.wiremock_process(
        servers=[procs.WireMockServer(port=1, root_dir=root)],
        log_path=tmp_path / "wm.log",
        indexed=False,
    )
    assert str(root) in process.argv
    assert not (root / "mappings" / "empty.json").exists()
    assert (root / procs.BROKEN_MAPPINGS_DIR / "empty.json").exists()


def _fake_java(monkeypatch, *, compiles: bool) -> None:
    monkeypatch.setattr(procs, "find_java", lambda: "java")
    monkeypatch.setattr(procs, "find_wiremock_jar", lambda: Path("wiremock.jar"))
    monkeypatch.setattr(procs, "wiremock_launcher_available", lambda: compiles)


def test_a_jdk_runs_every_shard_in_one_jvm_with_the_launcher(tmp_path, monkeypatch):
    _fake_java(monkeypatch, compiles=True)
    servers = [procs.WireMockServer(port=p, root_dir=tmp_path / str(p)) for p in (81, 82)]
    process = procs.wiremock_process(
        servers=servers, log_path=tmp_path / "wm.log", heap_mb=700, journal_entries=50
    )
    argv = process.argv
    assert argv[:6] == ["java", "-Xmx700m", "-XX:+UseSerialGC", "-cp", "wiremock.jar",
                        str(WIREMOCK_LAUNCHER)]  # fmt: skip
    assert WIREMOCK_LAUNCHER.name == "MockadoWireMock.java"
    assert WIREMOCK_LAUNCHER.is_file()
    first, second = " ".join(argv[6:]).split(f" {procs.NEXT_WIREMOCK_SERVER} ")
    for group, server in ((first, servers[0]), (second, servers[1])):
        assert f"--port {server.port} " in group
        assert f"--root-dir {server.root_dir} " in group
        assert "--disable-request-logging" in group
        assert "--max-request-journal-entries 50" in group
        assert (server.root_dir / "mappings").is_dir()


def test_without_a_jdk_each_shard_is_stock_wiremock_in_its_own_jvm(tmp_path, monkeypatch):
    _fake_java(monkeypatch, compiles=False)
    alone = [procs.WireMockServer(port=81, root_dir=tmp_path / "a")]
    one = procs.wiremock_process(servers=alone, log_path=tmp_path / "a.log")
    assert one.argv[3:5] == ["-jar", "wiremock.jar"]
    assert procs.NEXT_WIREMOCK_SERVER not in one.argv
    assert "--no-request-journal" in one.argv
    servers = [procs.WireMockServer(port=p, root_dir=tmp_path / str(p)) for p in (81, 82)]
    with pytest.raises(StackError, match="several servers in one JVM"):
        procs.wiremock_process(servers=servers, log_path=tmp_path / "wm.log")
    with pytest.raises(StackError, match="needs a JDK"):
        procs.wiremock_process(servers=alone, log_path=tmp_path / "a.log", indexed=True)


def test_one_jvm_for_several_shards_gets_one_base_and_each_shards_stub_heap():
    assert shared_jvm_heap_mb(756, shards=1) == 756
    assert shared_jvm_heap_mb(756, shards=10) == 756 + 9 * 500
    # A small explicit serving.heap_mb still gives each further shard some room.
    assert shared_jvm_heap_mb(256, shards=3) == 256 + 2 * 64


class _FakeSocket:
    """Hands out the ports of ``sequence`` in turn, as the kernel might."""

    sequence: list[int] = []

    def __init__(self, *_args: object) -> None:
        self.port = self.sequence.pop(0)

    def __enter__(self) -> _FakeSocket:
        return self

    def __exit__(self, *_exc: object) -> None:
        return None

    def bind(self, _address: object) -> None:
        return None

    def getsockname(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)


def test_free_port_never_returns_a_promised_port(monkeypatch):
    monkeypatch.setattr(procs.socket, "socket", _FakeSocket)
    _FakeSocket.sequence = [5000, 5000, 5001]
    assert procs.free_port(avoid={5000}) == 5001
    assert _FakeSocket.sequence == []


def test_shard_ports_avoid_the_ports_promised_on_the_command_line(monkeypatch):
    from control_plane.local.stack_plan import plan_shards
    from ext_proc_server.core.config import load_config

    monkeypatch.setattr(procs.socket, "socket", _FakeSocket)
    # The kernel offers the proxy port (10000) and then a port twice: neither may be used.
    _FakeSocket.sequence = [10000, 7001, 7001, 7002]
    config = load_config(None, env={})
    picker = procs.PortPicker({10000, 8080})
    plans = plan_shards(config, base_port=8080, count=2, ports=picker)
    assert [p.port for p in plans] == [7001, 7002]
    assert {7001, 7002} <= picker.taken


def _server_socket(*, reuse: bool) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    if reuse:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def test_a_port_is_held_by_a_listener_or_a_plain_bind_not_by_time_wait():
    with _server_socket(reuse=False) as bound:
        assert procs.port_is_held(bound.getsockname()[1])
    with _server_socket(reuse=True) as listener:
        listener.listen()
        port = listener.getsockname()[1]
        assert procs.port_is_held(port)
        client = socket.create_connection(("127.0.0.1", port))
        served, _ = listener.accept()
        served.close()  # the server closes first: its side stays in TIME_WAIT
        client.recv(1)
        client.close()
    # A plain bind still fails there; a server binding with SO_REUSEADDR does not.
    with socket.socket() as plain, pytest.raises(OSError):
        plain.bind(("127.0.0.1", port))
    assert not procs.port_is_held(port)


def test_the_last_log_line_names_why_a_child_exited(tmp_path: Path):
    child = procs.ManagedProcess(
        "child",
        [sys.executable, "-c", "print('starting', flush=True); raise SystemExit('no config')"],
        log_path=tmp_path / "child.log",
    ).start()
    child.proc.wait(timeout=30)
    with pytest.raises(StackError, match=r"child: exited with code 1 \(no config\); log: "):
        child.check_alive()
