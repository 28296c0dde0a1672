"""The open-loop load generator sends each request to its own server."""

from __future__ import annotations

import asyncio

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
