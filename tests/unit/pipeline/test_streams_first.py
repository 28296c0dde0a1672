"""Streams first: the pipeline's CPU stages wait while the servicer's streams are busy,
keep a minimum share, and never hold up a stop."""

import asyncio
import contextlib
import time

import pytest

from ext_proc_server.core.config import MIB
from ext_proc_server.core.stream_load import POLL_EVERY_S, StreamLoad
from ext_proc_server.pipeline import CapturePipeline
from ext_proc_server.pipeline.loop_demand import LoopDemand
from tests.unit.pipeline.pipeline_helpers import FakeRedis, cfg, dropped, exchange, stages, wait_for

# No minimum share within a test's life: a paused worker waits for the streams only.
NO_SHARE_S = 3600.0


def counted(redis):
    """Stages whose sanitize (the first CPU stage) counts its calls."""
    calls = []

    def sanitize(ex):
        calls.append(ex.request.path)
        return ex.replace(sanitized=True)

    return stages(redis, sanitize=sanitize), calls


@contextlib.asynccontextmanager
async def streams_at_work():
    """The streams' work: the event-loop thread kept busy, 1 ms of CPU per loop turn."""
    running = [True]

    async def work():
        while running[0]:
            until = time.thread_time() + 0.001
            while time.thread_time() < until:
                pass
            await asyncio.sleep(0)

    task = asyncio.ensure_future(work())
    try:
        yield
    finally:
        running[0] = False
        await task


def busy_load(*, streams=3, busy_above=2, share_every_s=NO_SHARE_S):
    load = StreamLoad(busy_above=busy_above, share_every_s=share_every_s)
    for _ in range(streams):
        load.stream_started()
    assert load.busy
    return load


def test_load_is_busy_above_its_bound_and_quiet_again_only_at_half():
    load = StreamLoad(busy_above=4)
    for _ in range(4):
        load.stream_started()
    assert not load.busy  # at the bound, not above
    load.stream_started()
    assert load.busy and load.active == 5
    load.stream_ended()
    load.stream_ended()
    assert load.busy  # 3: still above half
    load.stream_ended()
    assert not load.busy and load.active == 2
    load.stream_started()
    assert not load.busy  # no flapping: busy again only past 4


def test_waiting_for_quiet_ends_when_the_streams_drain():
    async def go():
        load = busy_load(streams=3, busy_above=2)
        assert not await load.wait_quiet(0.01)  # still busy: the wait times out
        waiter = asyncio.ensure_future(load.wait_quiet(NO_SHARE_S))
        await asyncio.sleep(0)
        load.stream_ended()
        load.stream_ended()
        assert await waiter

    asyncio.run(go())


def test_the_cpu_stages_wait_while_streams_are_busy_and_resume_when_they_drain():
    async def go():
        redis = FakeRedis()
        wired, calls = counted(redis)
        load = StreamLoad(busy_above=2, share_every_s=NO_SHARE_S)
        pipe = CapturePipeline(cfg(), stages=wired, load=load)
        pipe.start()
        assert pipe.submit(exchange("/before"))
        await wait_for(lambda: len(redis.entries) == 1)  # the workers run
        for _ in range(3):
            load.stream_started()
        async with streams_at_work():
            for n in range(20):
                assert pipe.submit(exchange(f"/p{n}"))
            # Many flush intervals: the workers take their batches, then wait.
            await asyncio.sleep(0.3)
            assert calls == ["/before"]
            assert pipe.held == 20 and len(redis.entries) == 1
            load.stream_ended()
            load.stream_ended()  # 1 left: quiet
            await wait_for(lambda: len(redis.entries) == 21 and pipe.held == 0)
        assert len(calls) == 21
        await pipe.stop()

    asyncio.run(go())


def running(load: StreamLoad, count: int, **config):
    """On the running loop: a started pipeline on a FakeRedis yielding to ``load``, its
    sanitize calls counted, with ``count`` exchanges submitted."""
    redis = FakeRedis()
    wired, calls = counted(redis)
    pipe = CapturePipeline(cfg(**config), stages=wired, load=load)
    pipe.start()
    for n in range(count):
        assert pipe.submit(exchange(f"/p{n}"))
    return pipe, redis, calls


def test_a_paused_pipeline_keeps_its_minimum_share():
    async def go():
        load = busy_load(share_every_s=0.01)
        pipe, redis, calls = running(load, 10)
        await wait_for(lambda: len(redis.entries) == 10)  # the streams never drain
        assert load.busy and len(calls) == 10
        await pipe.stop()

    asyncio.run(go())


def test_stop_drains_everything_held_even_while_streams_are_busy():
    async def go():
        pipe, redis, calls = running(busy_load(), 300, buffer_size=1000)
        lost_before = dropped("shutdown")
        async with streams_at_work():
            await asyncio.sleep(0.05)  # the workers are waiting for the streams
            assert calls == []
            await pipe.stop(drain_timeout_s=5.0)
        return redis, calls, dropped("shutdown") - lost_before

    redis, calls, lost = asyncio.run(go())
    assert len(calls) == 300 and len(redis.entries) == 300
    assert lost == 0


def test_streams_that_leave_the_loop_idle_do_not_hold_the_pipeline():
    """Many streams in progress, all waiting on a slow upstream: nothing to yield to."""

    async def go():
        load = busy_load(streams=50)  # and no minimum share within the test
        pipe, redis, calls = running(load, 30)
        await wait_for(lambda: len(redis.entries) == 30)
        assert load.busy and len(calls) == 30
        await pipe.stop()

    asyncio.run(go())


def test_a_backlog_past_buffer_size_is_dropped_and_counted():
    async def go():
        redis = FakeRedis()
        wired, calls = counted(redis)
        pipe = CapturePipeline(cfg(buffer_size=10), stages=wired, load=busy_load())
        pipe.start()
        before = dropped("buffer_full")
        accepted = sum(pipe.submit(exchange(f"/p{n}")) for n in range(15))
        assert accepted == 10 and dropped("buffer_full") - before == 5
        assert pipe.held == 10 and calls == []
        await pipe.stop()
        return redis

    assert len(asyncio.run(go()).entries) == 10  # what was accepted is still written


def test_held_bytes_are_bounded_by_buffer_bytes():
    async def go():
        redis = FakeRedis()
        wired, _calls = counted(redis)
        pipe = CapturePipeline(cfg(buffer_bytes=MIB), stages=wired, load=busy_load())
        pipe.start()
        before = dropped("buffer_full")
        big = b"x" * (300 * 1024)
        accepted = [pipe.submit(exchange(f"/big{n}", body=big)) for n in range(4)]
        assert accepted == [True, True, True, False]  # 3 x (300 KiB + overhead) fit in 1 MiB
        assert dropped("buffer_full") - before == 1
        assert 900 * 1024 < pipe.held_bytes <= MIB
        assert pipe.submit(exchange("/small"))  # a small one still fits
        await pipe.stop()
        assert pipe.held_bytes == 0
        return redis

    assert len(asyncio.run(go()).entries) == 4


@pytest.mark.parametrize("busy_above", [0, -1])
def test_a_load_needs_a_positive_bound(busy_above):
    with pytest.raises(ValueError, match="busy_above"):
        StreamLoad(busy_above=busy_above)


def test_loop_demand_counts_at_least_the_threads_cpu_time():
    demand = LoopDemand()
    try:
        before, cpu = demand.seconds(), time.thread_time()
        until = cpu + 0.02
        while time.thread_time() < until:
            pass
        spent = time.thread_time() - cpu
        assert demand.seconds() - before >= spent * 0.9  # schedstat's clock, or CPU time
    finally:
        demand.close()


class WaitingInGrpc:
    """The streams open on the gRPC server, as the server's reader reports them: set by
    the test, counted per read."""

    def __init__(self, count: int | None = 0) -> None:
        self.count = count
        self.reads = 0

    def __call__(self) -> int | None:
        self.reads += 1
        return self.count


def test_streams_waiting_in_grpc_make_the_load_busy_once_polled():
    load = StreamLoad(busy_above=4)
    grpc_open = WaitingInGrpc(10)
    load.poll()  # nothing watched: nothing read
    assert not load.busy
    load.watch_open_streams(grpc_open)
    load.poll()
    assert grpc_open.reads == 1
    assert load.busy and load.active == 0 and load.open_streams == 10


def test_the_load_is_quiet_only_when_both_counts_are_down_to_half():
    load = StreamLoad(busy_above=4)
    load.watch_open_streams(WaitingInGrpc(10))
    load.poll()
    for _ in range(3):
        load.stream_started()
    for _ in range(3):
        load.stream_ended()
    assert load.busy  # gRPC still held 10 at the last read


def test_an_unknown_count_of_open_streams_counts_as_none():
    load = StreamLoad(busy_above=4)
    load.watch_open_streams(WaitingInGrpc(None))
    load.poll()
    assert not load.busy and load.open_streams == 0


def test_the_cpu_stages_wait_for_streams_grpc_has_not_handed_over():
    """No stream in the servicer, but gRPC holds many for it: the pipeline waits until
    they are handed over, then runs."""

    async def go():
        grpc_open = WaitingInGrpc(0)
        load = StreamLoad(busy_above=2, share_every_s=NO_SHARE_S)
        load.watch_open_streams(grpc_open)
        pipe, redis, calls = running(load, 0)
        assert pipe.submit(exchange("/before"))
        await wait_for(lambda: len(redis.entries) == 1)  # the workers run
        grpc_open.count = 50
        await asyncio.sleep(2 * POLL_EVERY_S)  # the count is read again from now on
        async with streams_at_work():
            for n in range(20):
                assert pipe.submit(exchange(f"/p{n}"))
            await asyncio.sleep(0.3)
            assert load.active == 0 and load.busy
            assert calls == ["/before"] and pipe.held == 20
            grpc_open.count = 1  # handed over and done
            await wait_for(lambda: len(redis.entries) == 21 and pipe.held == 0)
        assert len(calls) == 21
        await pipe.stop()

    asyncio.run(go())
