"""The streams open on a gRPC server, read from its channelz counts."""

from __future__ import annotations

import asyncio
import threading

import grpc

from ext_proc_server.capture.grpc_calls import open_streams_reader, server_ids

_METHOD = "/test.Echo/Call"


def _held_server(release: asyncio.Event, entered: list[int]) -> grpc.aio.Server:
    async def held(request: bytes, _context: grpc.aio.ServicerContext) -> bytes:
        entered.append(1)
        await release.wait()
        return request

    server = grpc.aio.server()
    handler = grpc.unary_unary_rpc_method_handler(held)
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler("test.Echo", {"Call": handler}),)
    )
    return server


def test_open_streams_are_counted_on_the_server_created_after_the_mark() -> None:
    async def go() -> tuple[int | None, int | None, int | None, int]:
        release, entered = asyncio.Event(), []
        before = server_ids()
        server = _held_server(release, entered)
        port = server.add_insecure_port("127.0.0.1:0")
        read = open_streams_reader(before)
        other = _held_server(asyncio.Event(), [])  # created later: not the one read
        other.add_insecure_port("127.0.0.1:0")
        await server.start()
        await other.start()
        assert read is not None
        idle = read()
        answers: list[bytes] = []

        def client() -> None:
            with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
                call = channel.unary_unary(_METHOD)
                futures = [call.future(b"x") for _ in range(5)]
                answers.extend(f.result(timeout=30) for f in futures)

        sender = threading.Thread(target=client)
        sender.start()
        for _ in range(3000):
            if len(entered) == 5:
                break
            await asyncio.sleep(0.01)
        held = read()
        release.set()
        while sender.is_alive():
            await asyncio.sleep(0.01)
        done = read()
        await server.stop(None)
        await other.stop(None)
        return idle, held, done, len(answers)

    assert asyncio.run(go()) == (0, 5, 0, 5)


def test_no_server_created_since_the_mark_reads_nothing() -> None:
    assert open_streams_reader(server_ids()) is None


def test_two_servers_created_since_the_mark_read_nothing() -> None:
    async def go() -> None:
        before = server_ids()
        servers = [_held_server(asyncio.Event(), []) for _ in range(2)]
        assert open_streams_reader(before) is None  # which one is ours: unknown
        for server in servers:
            await server.stop(None)

    asyncio.run(go())
