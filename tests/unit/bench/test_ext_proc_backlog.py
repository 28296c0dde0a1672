"""The backlog sampler reads the collector's /metrics through one connection."""

from __future__ import annotations

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from bench.ext_proc_backlog import Backlog, held

_QUEUE_SIZES = [3.0, 7.0, 2.0, 0.0]


class _Metrics(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: one connection serves many reads

    def setup(self) -> None:
        super().setup()
        self.server.connections += 1  # type: ignore[attr-defined]

    def do_GET(self) -> None:
        served = self.server.served  # type: ignore[attr-defined]
        size = _QUEUE_SIZES[min(served, len(_QUEUE_SIZES) - 1)]
        self.server.served = served + 1  # type: ignore[attr-defined]
        body = f"# TYPE collector_queue_size gauge\ncollector_queue_size {size}\n".encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


def _metrics_server() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Metrics)
    server.connections = 0  # type: ignore[attr-defined]
    server.served = 0  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_held_reads_collector_queue_size() -> None:
    server = _metrics_server()
    try:
        assert held(f"http://127.0.0.1:{server.server_port}/metrics") == 3.0
    finally:
        server.shutdown()


def test_sampler_keeps_one_connection_and_the_peak() -> None:
    server = _metrics_server()
    try:
        backlog = Backlog(f"http://127.0.0.1:{server.server_port}/metrics", every_s=0.01).start()
        deadline = time.monotonic() + 10
        while server.served < len(_QUEUE_SIZES) + 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        backlog.stop()
    finally:
        server.shutdown()
    assert server.served >= len(_QUEUE_SIZES) + 2
    assert server.connections == 1
    assert backlog.peak == 7.0
    assert backlog.last_held_at > 0
