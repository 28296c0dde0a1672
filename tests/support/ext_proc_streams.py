"""Real gRPC ext_proc streams to a collector process, as Envoy sends them in
observability mode (each call ends when the server returns)."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from ext_proc_server.capture import protos


async def send_streams(port: int, streams: Sequence[Sequence[object]]) -> None:
    """One ``Process`` call per stream, one after another, each message in order."""
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = protos.ExternalProcessorStub(channel)
        for messages in streams:

            async def requests(messages: Sequence[object] = messages):
                for message in messages:
                    yield message

            call = stub.Process(requests())
            # Observability mode: the server answers nothing; the call ends when it returns.
            async for _ in call:
                pass
