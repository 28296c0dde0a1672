"""The open-loop load generator sends each request to its own server."""

from __future__ import annotations

import asyncio
import gc

from bench.loadgen import Request, open_loop


def test_interleaved_requests_to_two_servers_each_reach_their_own() -> None:
    async def go() -> dict[int, list[str]]:
        seen: dict[int, list[str]] = {}

        def serve(port_box: list[int]):
            async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
                while line := await reader.readline():
                    if line.startswith(b"GET "):
                        seen.setdefault(port_box[0], []).append(line.split()[1].decode())
                    if line == b"\r\n":
                        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                        await writer.drain()
                writer.close()

            return answer

        boxes: list[list[int]] = [[0], [0]]
        servers = [await asyncio.start_server(serve(box), "127.0.0.1", 0) for box in boxes]
        ports = [server.sockets[0].getsockname()[1] for server in servers]
        for box, port in zip(boxes, ports, strict=True):
            box[0] = port
        requests = [
            Request(host="h", port=ports[n % 2], path=f"/{ports[n % 2]}/{n}") for n in range(40)
        ]
        result = await open_loop(requests, rate_rps=400)
        assert result.ok == 40
        for server in servers:
            server.close()
        return seen

    seen = asyncio.run(go())
    assert len(seen) == 2
    for port, paths in seen.items():
        assert len(paths) == 20
        assert all(path.startswith(f"/{port}/") for path in paths)


def test_no_cyclic_gc_while_the_load_is_offered_and_all_restored_after() -> None:
    """A full collection in the load generator held back requests and then sent them in a
    burst: the cyclic GC is off while requests go out (seen from a server in the same
    process), and back on, with nothing left frozen, once the load is done."""

    async def go() -> list[bool]:
        enabled_while_serving: list[bool] = []

        async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter):
            while line := await reader.readline():
                if line == b"\r\n":
                    enabled_while_serving.append(gc.isenabled())
                    writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n")
                    await writer.drain()
            writer.close()

        server = await asyncio.start_server(answer, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        result = await open_loop(
            [Request(host="h", port=port, path=f"/{n}") for n in range(10)], rate_rps=200
        )
        assert result.ok == 10
        server.close()
        return enabled_while_serving

    assert gc.isenabled()
    frozen_before = gc.get_freeze_count()
    enabled_while_serving = asyncio.run(go())
    assert enabled_while_serving == [False] * 10
    assert gc.isenabled()
    assert gc.get_freeze_count() == frozen_before
