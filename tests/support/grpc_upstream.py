"""A real gRPC server on a free port, for tests that put Envoy in front of one."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager

import grpc


@contextmanager
def grpc_upstream(service: str, handlers: dict, *, workers: int = 2) -> Iterator[int]:
    """Serve ``handlers`` (method name -> rpc method handler) as ``service`` on 127.0.0.1;
    yields the port and stops the server on exit."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers))
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(service, handlers),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield port
    finally:
        server.stop(0)
