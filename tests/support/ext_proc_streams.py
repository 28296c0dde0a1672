"""Real gRPC ext_proc streams to a collector process, as Envoy sends them in
observability mode (each call ends when the server returns)."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from ext_proc_server.capture import protos


async def send_streams(
    port: int,
    streams: Sequence[Sequence[object]],
    *,
    credentials: grpc.ChannelCredentials | None = None,
    metadata: Sequence[tuple[str, str]] = (),
) -> None:
    """One ``Process`` call per stream, one after another, each message in order.
    ``credentials``: TLS (else plain text); ``metadata``: each call's initial metadata."""
    target = f"127.0.0.1:{port}"
    channel = (
        grpc.aio.insecure_channel(target)
        if credentials is None
        else grpc.aio.secure_channel(target, credentials)
    )
    async with channel:
        stub = protos.ExternalProcessorStub(channel)
        for messages in streams:

            async def requests(messages: Sequence[object] = messages):
                for message in messages:
                    yield message

            call = stub.Process(requests(), metadata=tuple(metadata) or None)
            # Observability mode: the server answers nothing; the call ends when it returns.
            async for _ in call:
                pass
