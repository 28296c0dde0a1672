"""``collector.buffer_bytes`` bounds what the held exchanges cost, their headers included:
an exchange carrying large cookies or tokens (Envoy accepts up to 60 KiB of request
headers by default) weighs what it holds, not a fixed allowance."""

import asyncio
import tracemalloc

from ext_proc_server.core.config import KIB, MIB
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.pipeline import CapturePipeline
from tests.unit.pipeline.pipeline_helpers import FakeRedis, cfg, dropped, stages


def heavy(n: int, *, headers: int, value_bytes: int) -> Exchange:
    """A small-bodied exchange with ``headers`` request and response headers of
    ``value_bytes`` each; every string built fresh (none shared with another exchange)."""
    pairs = tuple((f"x-h{n}-{i}", f"{n}-{i}-" + "v" * value_bytes) for i in range(headers))
    return Exchange(
        id=f"ex{n}",
        request=HttpRequest(
            method="GET",
            path=f"/heavy/{n}",
            authority="api.example:8080",
            headers=pairs,
            query=((f"q{n}", f"{n}"),),
        ),
        response=HttpResponse(status=200, headers=tuple((k, v + "r") for k, v in pairs)),
    )


def held_bytes_of(build) -> tuple[int, int]:
    """(what the pipeline counts for the exchange ``build()`` makes, what it allocates)."""
    tracemalloc.start()
    try:
        one = build()
        allocated = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    pipe = CapturePipeline(cfg(), stages=stages(FakeRedis()))
    assert pipe.submit(one)
    return pipe.held_bytes, allocated


def test_an_exchange_counts_at_least_what_its_headers_cost():
    for headers, value_bytes in ((100, 10), (100, 600), (20, 3000), (3, 20_000)):
        counted, allocated = held_bytes_of(
            lambda h=headers, v=value_bytes: heavy(1, headers=h, value_bytes=v)
        )
        assert counted >= allocated, (headers, value_bytes, counted, allocated)


def test_headers_count_against_buffer_bytes():
    async def go() -> tuple[int, int, int]:
        pipe = CapturePipeline(
            cfg(buffer_bytes=MIB, buffer_size=10_000), stages=stages(FakeRedis())
        )
        before = dropped("buffer_full")
        # Never started: what is accepted stays held. 20 KiB of request and of response
        # headers each, 40 KiB an exchange.
        accepted = sum(pipe.submit(heavy(n, headers=20, value_bytes=KIB)) for n in range(100))
        held = pipe.held_bytes
        await pipe.stop(drain_timeout_s=0.1)
        return accepted, held, dropped("buffer_full") - before

    accepted, held, refused = asyncio.run(go())
    assert accepted <= MIB // (40 * KIB), accepted
    assert accepted + refused == 100
    assert held <= MIB
