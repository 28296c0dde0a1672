"""A minimal HTTP/1.1 keep-alive upstream that answers every request with one JSON body,
so it costs little CPU beside Envoy and the collector (the chaos rig and the ext_proc bench)."""

from __future__ import annotations

import asyncio


class _SameAnswer(asyncio.Protocol):
    def __init__(self, answer: bytes) -> None:
        self._answer = answer
        self._pending = b""
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._pending += data
        while (end := self._pending.find(b"\r\n\r\n")) >= 0:
            head = self._pending[:end].lower()
            length = 0
            if (at := head.find(b"content-length:")) >= 0:
                length = int(head[at + 15 :].split(b"\r\n", 1)[0])
            if len(self._pending) < end + 4 + length:
                return
            self._pending = self._pending[end + 4 + length :]
            assert self._transport is not None
            self._transport.write(self._answer)


def serve_json_forever(port: int, body: bytes) -> None:
    """Answer every request on 127.0.0.1:``port`` with 200 and ``body`` (JSON), until killed."""
    answer = (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )

    async def main() -> None:
        loop = asyncio.get_running_loop()
        server = await loop.create_server(lambda: _SameAnswer(answer), "127.0.0.1", port)
        await server.serve_forever()

    asyncio.run(main())
