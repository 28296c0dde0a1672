"""Real gRPC ext_proc streams to a collector process, as Envoy sends them."""

from __future__ import annotations

from collections.abc import Sequence

import grpc

from ext_proc_server.capture import protos


def _channel(port: int, credentials: grpc.ChannelCredentials | None) -> grpc.aio.Channel:
    target = f"127.0.0.1:{port}"
    if credentials is None:
        return grpc.aio.insecure_channel(target)
    return grpc.aio.secure_channel(target, credentials)


async def send_streams(
    port: int,
    streams: Sequence[Sequence[object]],
    *,
    credentials: grpc.ChannelCredentials | None = None,
    metadata: Sequence[tuple[str, str]] = (),
) -> None:
    """One ``Process`` call per stream, in observability mode (each call ends when the
    server returns), one after another, each message in order. ``credentials``: TLS
    (else plain text); ``metadata``: each call's initial metadata."""
    async with _channel(port, credentials) as channel:
        stub = protos.ExternalProcessorStub(channel)
        for messages in streams:

            async def requests(messages: Sequence[object] = messages):
                for message in messages:
                    yield message

            call = stub.Process(requests(), metadata=tuple(metadata) or None)
            # Observability mode: the server answers nothing; the call ends when it returns.
            async for _ in call:
                pass


async def send_blocking_stream(
    port: int,
    messages: Sequence[protos.ProcessingRequest],
    *,
    credentials: grpc.ChannelCredentials | None = None,
    metadata: Sequence[tuple[str, str]] = (),
) -> list[protos.ProcessingResponse]:
    """One ``Process`` call in blocking mode, as Envoy makes it: each message waits for its
    answer, and an answer that asks for nothing more (``mode_override``: the stream is not
    captured) ends the sending. -> the answers."""
    answers = []
    async with _channel(port, credentials) as channel:
        call = protos.ExternalProcessorStub(channel).Process(metadata=tuple(metadata) or None)
        for message in messages:
            await call.write(message)
            answer = await call.read()
            if answer is grpc.aio.EOF:
                break
            answers.append(answer)
            if answer.HasField("mode_override"):
                break
        await call.done_writing()
        while (answer := await call.read()) is not grpc.aio.EOF:
            answers.append(answer)
        assert await call.code() == grpc.StatusCode.OK
    return answers
