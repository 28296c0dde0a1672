"""The processes around the collector in the ext_proc bench: the upstream it proxies
to, the floor (a trivial recording ext_proc server), mockado's capture alone (its
servicer and assembly, nothing after); and the load it offers.

``python -m bench.ext_proc_servers --upstream PORT``,
``--floor-collector PORT --floor-count-file PATH`` or
``--capture-only-collector PORT --config PATH --floor-count-file PATH``
(and ``bench.ext_proc_free_steps``: mockado with its three steps free).
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc

from bench.loadgen import Request
from ext_proc_server.capture import protos
from tests.support.tiny_upstream import serve_json_forever


def json_body(n: int, *, size: int = 2048) -> bytes:
    """The bench's 2 KiB JSON document number ``n`` (request bodies; the response is 0)."""
    record = {
        "id": n,
        "customer": {"name": "Joana Silva", "email": f"joana{n}@exemplo.com.br"},
        "items": [{"sku": f"SKU-{n}-{i}", "qty": i, "price": 10.5 * i} for i in range(8)],
        "note": "",
    }
    raw = json.dumps(record, separators=(",", ":"))
    record["note"] = "x" * max(0, size - len(raw))
    return json.dumps(record, separators=(",", ":")).encode()


# -- the load: unique requests, and the repeats mix ---------------------------------------


def bench_requests(port: int, *, tag: str, count: int) -> list[Request]:
    """``count`` unique 2 KiB JSON POSTs to ``port`` (Envoy), paths tagged ``tag``."""
    return [
        Request(
            host="orders.bench",
            port=port,
            path=f"/api/{tag}/order{n}?page={n}",
            method="POST",
            body=json_body(n),
            headers=(("content-type", "application/json"),),
        )
        for n in range(count)
    ]


def repeats_mix(port: int, *, recorded: int, count: int, tag: str) -> list[Request]:
    """``count`` requests where 9 in 10 repeat one of the ``recorded`` requests of
    ``bench_requests(port, tag="rec", ...)`` and 1 in 10 is new."""
    again = bench_requests(port, tag="rec", count=recorded)
    fresh = bench_requests(port, tag=tag, count=count // 10 + 1)
    return [fresh[i // 10] if i % 10 == 0 else again[i % recorded] for i in range(count)]


def paired_offers(
    ports: tuple[int, int],
    *,
    rounds: int,
    count: int,
    mix: bool,
    recorded: int,
    tag: str,
    send: Callable[[list[Request]], object],
) -> Iterator[Callable[[], object]]:
    """A side-by-side round's offer at a time: ``count`` requests to each of ``ports``
    (unique, or the repeats mix), interleaved one by one, the first port's first in even
    rounds and the second's in odd ones, handed to ``send``. Built as each round comes,
    so one round's requests live at a time."""
    for n in range(rounds):
        round_tag = f"{tag}{'mix' if mix else 'unique'}{n}"
        first, second = (
            repeats_mix(port, recorded=recorded, count=count, tag=round_tag)
            if mix
            else bench_requests(port, tag=round_tag, count=count)
            for port in ports
        )
        if n % 2:
            first, second = second, first
        both = [r for pair in zip(first, second, strict=True) for r in pair]
        yield lambda both=both: send(both)


# -- the upstream: tests.support.tiny_upstream, answering the 2 KiB document ---------------


def _upstream_main(port: int) -> None:
    serve_json_forever(port, json_body(0))


# -- the floor: a trivial recording ext_proc server ----------------------------------------

FLOOR_KEPT_MESSAGES = 10_000


class FloorServicer(protos.ExternalProcessorServicer):
    """Reads every stream to the response's end_of_stream and keeps the messages in
    ``kept`` (bounded); ``finished[0]`` counts the finished exchanges."""

    def __init__(self, kept: collections.deque, finished: list[int]) -> None:
        self._kept = kept
        self._finished = finished

    async def Process(self, request_iterator, context):
        while True:
            message = await context.read()
            if message is grpc.aio.EOF:
                return
            self._kept.append(message)
            kind = message.WhichOneof("request")
            if (
                kind in ("response_headers", "response_body")
                and getattr(message, kind).end_of_stream
            ):
                self._finished[0] += 1
                return


async def _write_count_forever(count_path: Path, finished: list[int]) -> None:
    while True:
        count_path.write_text(str(finished[0]))
        await asyncio.sleep(0.5)


def _floor_main(port: int, count_path: Path) -> None:
    """Serve :class:`FloorServicer` and write the count of finished exchanges to
    ``count_path`` twice a second."""
    kept: collections.deque = collections.deque(maxlen=FLOOR_KEPT_MESSAGES)
    finished = [0]

    async def main() -> None:
        # As the collector's options: no stream limit of the server's own.
        server = grpc.aio.server(options=[("grpc.max_receive_message_length", 16 * 1024 * 1024)])
        protos.add_servicer_to_server(FloorServicer(kept, finished), server)
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        await _write_count_forever(count_path, finished)

    asyncio.run(main())


# -- mockado's capture alone: the real server, a sink that counts and drops -------------


class CountingSink:
    """An ``ExchangeSink`` that counts each exchange in ``finished[0]`` and keeps none:
    what mockado's capture costs before sanitizing, dedup, mapping and Redis."""

    def __init__(self, finished: list[int]) -> None:
        self._finished = finished

    def submit(self, exchange: object) -> bool:
        self._finished[0] += 1
        return True

    def start(self) -> None:
        pass

    async def stop(self, *, drain_timeout_s: float) -> None:
        pass


def _capture_only_main(port: int, config_path: Path, count_path: Path) -> None:
    """mockado's ``CaptureServer`` as ``mockado ext-proc`` runs one (same options, GC
    tuning), its exchanges handed to :class:`CountingSink`."""
    from ext_proc_server.capture import CaptureServer, run_until_signal
    from ext_proc_server.core.config import load_config

    config = load_config(config_path, overrides={"collector.grpc_port": port})
    finished = [0]

    async def main() -> None:
        server = CaptureServer(config, sink=CountingSink(finished), serve_http=False)
        writer = asyncio.get_running_loop().create_task(_write_count_forever(count_path, finished))
        try:
            await run_until_signal(server)
        finally:
            writer.cancel()

    asyncio.run(main())


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--upstream", type=int, help="run the bench upstream on this port")
    parser.add_argument("--floor-collector", type=int, help="run the trivial server on this port")
    parser.add_argument("--capture-only-collector", type=int,
                        help="run mockado's capture with a counting sink on this port")  # fmt: skip
    parser.add_argument("--config", type=Path, help="mockado.yaml (--capture-only-collector)")
    parser.add_argument("--floor-count-file", type=Path)
    args = parser.parse_args()
    if args.upstream:
        _upstream_main(args.upstream)
    elif args.capture_only_collector:
        _capture_only_main(args.capture_only_collector, args.config, args.floor_count_file)
    else:
        _floor_main(args.floor_collector, args.floor_count_file)
