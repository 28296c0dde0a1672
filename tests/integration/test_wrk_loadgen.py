"""The serving bench's wrk script counts every wrong answer: a wrong status, or a hit
naming another item than its request asked for (real wrk against a small server)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.loadgen import WrkResult, WrkTarget, wrk_closed_loop
from tests.support.http_answers import answer

ITEMS = 50


def _server(*, status: int, item_offset: int) -> ThreadingHTTPServer:
    """Answers ``/items/<n>`` with ``status`` and a body naming item ``n + item_offset``."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive, as WireMock
        disable_nagle_algorithm = True  # headers and body are two writes

        def do_GET(self) -> None:
            asked = int(re.match(r"/items/(\d+)", self.path).group(1))
            body = f'{{"service":0,"item":{asked + item_offset},"name":"x"}}'.encode()
            answer(self, status, body)

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture
def servers() -> Iterator[dict[str, int]]:
    started = {
        "right": _server(status=200, item_offset=0),
        "other_item": _server(status=200, item_offset=1),
        "not_found": _server(status=404, item_offset=0),
    }
    yield {name: server.server_address[1] for name, server in started.items()}
    for server in started.values():
        server.shutdown()
        server.server_close()


def _drive(port: int, tmp_path: Path, *, expect: int = 200, check_item: bool = True) -> WrkResult:
    target = WrkTarget(
        host="svc", port=port, prefix="/items/", suffix="?lang=pt", items=ITEMS,
        expect_status=expect, check_item=check_item,
    )  # fmt: skip
    return wrk_closed_loop([target, target], duration_s=1, concurrency=2, workdir=tmp_path)


def test_right_answers_are_all_ok(servers: dict[str, int], tmp_path: Path) -> None:
    result = _drive(servers["right"], tmp_path)
    assert result.requests > 100
    assert (result.wrong, result.errors) == (0, 0)
    assert result.ok == result.requests


def test_an_answer_naming_another_item_is_wrong(servers: dict[str, int], tmp_path: Path) -> None:
    # Item n + 1 is always another item, and "item":1, is no prefix of "item":12,.
    result = _drive(servers["other_item"], tmp_path)
    assert result.requests > 100
    assert result.wrong == result.requests


def test_unchecked_items_still_check_the_status(servers: dict[str, int], tmp_path: Path) -> None:
    # The ceiling's one stub names item 0 whatever was asked: only its status counts.
    assert _drive(servers["other_item"], tmp_path, check_item=False).wrong == 0
    result = _drive(servers["not_found"], tmp_path, check_item=False)
    assert result.requests > 100
    assert result.wrong == result.requests


def test_a_miss_must_be_a_404(servers: dict[str, int], tmp_path: Path) -> None:
    assert _drive(servers["not_found"], tmp_path, expect=404).wrong == 0
    result = _drive(servers["right"], tmp_path, expect=404)
    assert result.wrong == result.requests
