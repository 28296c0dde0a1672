"""``bench.ext_proc_stack`` starts each part on ports picked free that it binds later: when
another program takes one in between, the part is started again on fresh ones, and the
stack still captures what goes through its Envoy."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import redis as redis_sync

from bench import ext_proc_stack
from bench.ext_proc_stack import FLOOR, MOCKADO, QUEUE, Stack, start_stack
from tests.support import processes
from tests.support.processes import Squatter, poll_until


@pytest.fixture
def stack() -> Iterator[Stack]:
    started = Stack(Path(tempfile.mkdtemp(prefix="mockado-test-bench-stack-")))
    yield started
    started.stop()


def squatting(monkeypatch: pytest.MonkeyPatch, *, count: int, skip: int) -> Squatter:
    """Another program on the ``count`` ports promised after the first ``skip``: the bench
    promises redis's, the upstream's, then the collector's."""
    taking = Squatter(count=count, skip=skip)
    for module in (processes, ext_proc_stack):
        monkeypatch.setattr(module, "promised_port", taking.promise)
    return taking


def listening_ports(parts: dict) -> set[int]:
    envoy_ports = set(parts["envoys"].values()) | {parts["admin_on"]}
    redis_port = int(parts["redis_url"].rsplit(":", 1)[1].split("/")[0])
    return envoy_ports | {parts["upstream_port"], redis_port, parts["grpc_port"]}


@pytest.mark.parametrize("skip", [0, 1, 2])  # redis, the upstream, the collector's gRPC port
def test_mockado_whose_parts_ports_were_taken_starts_on_others_and_captures(
    stack: Stack, monkeypatch: pytest.MonkeyPatch, skip: int
) -> None:
    squatter = squatting(monkeypatch, count=1, skip=skip)
    try:
        parts = start_stack(stack, kind=MOCKADO)
        assert len(squatter.ports) == 1
        assert squatter.ports[0] not in listening_ports(parts)
        on = parts["envoys"]["on"]
        assert httpx.post(f"http://127.0.0.1:{on}/echo/taken", json={}, timeout=10).is_success
        with redis_sync.Redis.from_url(parts["redis_url"]) as client:
            assert poll_until(lambda: client.xlen(QUEUE) >= 1, timeout_s=30)
    finally:
        squatter.close()


def test_the_floor_whose_grpc_port_was_taken_starts_on_another_and_counts(
    stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The floor answers no HTTP: it is ready once it speaks HTTP/2 on its gRPC port, which
    the program that took the port would not."""
    squatter = squatting(monkeypatch, count=2, skip=2)  # the collector's two first ports
    try:
        parts = start_stack(stack, kind=FLOOR)
        assert len(squatter.ports) == 2
        assert set(squatter.ports).isdisjoint(listening_ports(parts))
        on = parts["envoys"]["on"]
        assert httpx.post(f"http://127.0.0.1:{on}/echo/taken", json={}, timeout=10).is_success
        count = parts["floor_count"]
        assert poll_until(lambda: int(count.read_text() or 0) >= 1, timeout_s=30)
    finally:
        squatter.close()
