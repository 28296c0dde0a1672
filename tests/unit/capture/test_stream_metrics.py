"""Per-stream metrics are tallied and folded in batches: the same buckets as observe(),
exact after a scrape, flushed by the timer and on stop. The repeat fast path's counts
(collector_repeats_total and its duplicates) are folded with them."""

from __future__ import annotations

import asyncio
import logging
import time

import grpc
import httpx
from hypothesis import given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY, CollectorRegistry, Histogram

from ext_proc_server.capture import CaptureServer, ExtProcServicer, protos
from ext_proc_server.capture.stream_metrics import (
    MAX_REQUEST_KEYS,
    StreamTally,
    flush_every,
)
from ext_proc_server.core import metrics
from ext_proc_server.core.config import CollectorConfig, load_config
from ext_proc_server.core.probes import build_probe_app
from ext_proc_server.mapping.repeats import RepeatIndex
from tests.support.capture_seams import RecordingSink
from tests.support.processes import promised_port
from tests.unit.capture.stream_helpers import req_body, req_headers, resp_body, resp_headers
from tests.unit.capture.test_servicer import FakeContext

BUCKETS_S = (0.0001, 0.001, 0.01, 0.1, 1, 10)
METHOD = "/envoy.service.ext_proc.v3.ExternalProcessor/Process"


def samples(registry: CollectorRegistry) -> dict[tuple[str, str], float]:
    """Every sample but the creation time, by name and ``le``."""
    return {
        (sample.name, sample.labels.get("le", "")): sample.value
        for family in registry.collect()
        for sample in family.samples
        if not sample.name.endswith("_created")
    }


durations = st.lists(
    st.one_of(
        st.sampled_from(BUCKETS_S),  # on a bound: inclusive, as observe() counts it
        st.floats(min_value=0, max_value=30, allow_nan=False),
    ),
    max_size=200,
)


@settings(max_examples=200, deadline=None)
@given(durations)
def test_folded_buckets_are_what_observe_gives(values):
    folded_registry, observed_registry = CollectorRegistry(), CollectorRegistry()
    folded = metrics.TalliedHistogram("d_seconds", "d", buckets=BUCKETS_S, registry=folded_registry)
    observed = Histogram("d_seconds", "d", buckets=BUCKETS_S, registry=observed_registry)
    tally = StreamTally(duration=folded)
    for n, value in enumerate(values):
        tally.stream(value, "GET", 200)
        observed.observe(value)
        if n % 37 == 36:
            tally.flush()  # several batches add up
    tally.flush()
    got, want = samples(folded_registry), samples(observed_registry)
    got_sum, want_sum = got.pop(("d_seconds_sum", "")), want.pop(("d_seconds_sum", ""))
    assert got == want  # every bucket and the count exactly
    # The same values added in another order: equal up to rounding.
    assert abs(got_sum - want_sum) <= 1e-9 * max(1.0, want_sum)


def requests_total(text: str, method: str, status: str) -> float:
    prefix = f'collector_requests_total{{method="{method}",status="{status}"}} '
    for line in text.splitlines():
        if line.startswith(prefix):
            return float(line[len(prefix) :])
    return 0.0


def stream(method: str = "PUT", status: str = "200"):
    return [
        req_headers(method=method),
        req_body(b"{}", eos=True),
        resp_headers(status=status),
        resp_body(b"{}", eos=True),
    ]


async def send_stream(channel: grpc.aio.Channel, method: str, status: str) -> None:
    """One whole exchange's ext_proc stream over gRPC, read to its end."""
    call = channel.stream_stream(
        METHOD,
        request_serializer=protos.ProcessingRequest.SerializeToString,
        response_deserializer=protos.ProcessingResponse.FromString,
    )(iter(stream(method, status)))
    async for _ in call:
        pass


def test_a_scrape_sees_every_stream_finished_before_it():
    servicer = ExtProcServicer(config=CollectorConfig(), submit=lambda exchange: True)

    async def ready() -> dict[str, bool]:
        return {}

    async def scenario() -> tuple[float, float]:
        app = build_probe_app(ready_check=ready, before_scrape=servicer.flush_metrics)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
            before = requests_total((await client.get("/metrics")).text, "PUT", "4xx")
            for _ in range(7):
                await servicer.Process(iter(()), FakeContext(stream("put", "404")))
            after = requests_total((await client.get("/metrics")).text, "PUT", "4xx")
            return before, after

    before, after = asyncio.run(scenario())
    assert after - before == 7


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_drops_and_truncations_are_tallied_and_folded():
    tally = StreamTally()

    def now() -> tuple[float, float]:
        return (
            value("collector_dropped_total", reason="malformed"),
            value("collector_truncated_total"),
        )

    before = now()
    for _ in range(3):
        tally.dropped("malformed")
    tally.truncated()
    assert now() == before
    tally.flush()
    assert now() == (before[0] + 3, before[1] + 1)
    tally.flush()  # nothing new: nothing added
    assert now() == (before[0] + 3, before[1] + 1)


def test_past_the_key_bound_the_tally_flushes_and_loses_nothing():
    tally = StreamTally()

    def other() -> float:
        return value("collector_requests_total", method="OTHER", status="5xx")

    before = other()
    for n in range(MAX_REQUEST_KEYS + 10):
        tally.stream(0.001, f"M{n}", 503)  # a client's own methods: all "OTHER"
    assert other() - before == MAX_REQUEST_KEYS  # flushed once, at the bound
    tally.flush()
    assert other() - before == MAX_REQUEST_KEYS + 10


def test_the_timer_flushes_again_after_a_failure(caplog):
    calls: list[float] = []

    def flush() -> None:
        calls.append(time.monotonic())
        if len(calls) == 1:
            raise RuntimeError("first")

    async def scenario() -> None:
        timer = asyncio.ensure_future(flush_every(flush, 0.01))
        deadline = time.monotonic() + 10
        while len(calls) < 3 and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
        timer.cancel()

    with caplog.at_level(logging.ERROR):
        asyncio.run(scenario())
    assert len(calls) >= 3
    assert "folding the stream tallies failed" in caplog.text


async def captured(sink: RecordingSink) -> None:
    """Wait (up to 10 s) until the sink holds an exchange."""
    deadline = time.monotonic() + 10
    while not sink.exchanges and time.monotonic() < deadline:
        await asyncio.sleep(0.01)


def server_config(port: int):
    """A collector on ``port`` whose Redis is never reached (port 9: nothing listens)."""
    return load_config(
        None,
        env={},
        overrides={"collector.grpc_port": port, "collector.redis_url": "redis://127.0.0.1:9/0"},
    )


def test_a_server_folds_its_last_streams_in_when_it_stops():
    port = promised_port()
    config = server_config(port)
    sink = RecordingSink()
    # No timer flush during the test: only the stop can add the count.
    server = CaptureServer(config, sink=sink, serve_http=False, metrics_every_s=3600)

    def deletes() -> float:
        return value("collector_requests_total", method="DELETE", status="2xx")

    async def scenario() -> tuple[float, float, float]:
        before = deletes()
        await server.start()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            await send_stream(channel, "DELETE", "204")
        await captured(sink)
        served = deletes()
        await server.stop()
        return before, served, deletes()

    before, served, stopped = asyncio.run(scenario())
    assert len(sink.exchanges) == 1
    assert served == before  # tallied, not yet folded
    assert stopped - before == 1


def repeat_counts() -> tuple[float, float]:
    """``collector_repeats_total{level="local"}`` and the dedup duplicates."""
    return (
        value("collector_repeats_total", level="local"),
        value("collector_deduplication_operations_total", result="duplicate"),
    )


def recorded_servicer() -> tuple[ExtProcServicer, list]:
    """A servicer with a repeat index in which ``stream("GET", "200")`` is recorded."""
    config = CollectorConfig()
    repeats = RepeatIndex(config)
    submitted: list = []
    servicer = ExtProcServicer(config=config, submit=submitted.append, repeats=repeats)
    asyncio.run(servicer.Process(iter(()), FakeContext(stream("GET", "200"))))
    (first,) = submitted
    repeats.remember(repeats.key_of(first), "mapping-1")  # as the pipeline does
    servicer.flush_metrics()
    return servicer, submitted


def test_a_scrape_counts_every_repeat_exactly_once():
    servicer, submitted = recorded_servicer()

    async def ready() -> dict[str, bool]:
        return {}

    def scraped(text: str) -> tuple[float, float]:
        found = {"local": 0.0, "duplicate": 0.0}
        for line in text.splitlines():
            if line.startswith('collector_repeats_total{level="local"} '):
                found["local"] = float(line.rsplit(" ", 1)[1])
            if line.startswith('collector_deduplication_operations_total{result="duplicate"} '):
                found["duplicate"] = float(line.rsplit(" ", 1)[1])
        return found["local"], found["duplicate"]

    async def scenario() -> list[tuple[float, float]]:
        app = build_probe_app(ready_check=ready, before_scrape=servicer.flush_metrics)
        transport = httpx.ASGITransport(app=app)
        seen = []
        async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
            seen.append(scraped((await client.get("/metrics")).text))
            for _ in range(7):
                await servicer.Process(iter(()), FakeContext(stream("GET", "200")))
            seen.append(repeat_counts())  # tallied, not yet folded
            seen.append(scraped((await client.get("/metrics")).text))
            seen.append(scraped((await client.get("/metrics")).text))  # nothing new
        return seen

    before, tallied, after, again = asyncio.run(scenario())
    assert len(submitted) == 1  # the repeats ended at their streams
    assert tallied == before
    assert after == (before[0] + 7, before[1] + 7)
    assert again == after


def test_repeats_found_in_redis_are_folded_under_their_level():
    config = CollectorConfig(dedup_key="k" * 32)
    recorder, other = RepeatIndex(config), RepeatIndex(config)
    key = recorder.key(
        method="GET", host="api", path="/a", query=(), body=b"", body_state="", response=None
    )
    claim = recorder.redis_value(key, "mapping-1")

    def redis_now() -> float:
        return value("collector_repeats_total", level="redis")

    before, duplicates = redis_now(), repeat_counts()[1]
    for _ in range(3):
        assert other.recorded_in_redis(key, claim) == "mapping-1"
    assert other.recorded(key) == "mapping-1"  # remembered: local from now on
    assert (redis_now(), repeat_counts()[1]) == (before, duplicates)
    other.flush_metrics()
    assert redis_now() - before == 3
    assert repeat_counts()[1] - duplicates == 4


class RepeatingSink(RecordingSink):
    """A sink with a repeat index, as the pipeline's: its streams can end as repeats."""

    def __init__(self, config: CollectorConfig) -> None:
        super().__init__()
        self.repeats = RepeatIndex(config)


def test_a_server_folds_its_last_repeats_in_when_it_stops():
    port = promised_port()
    config = server_config(port)
    sink = RepeatingSink(config.collector)
    server = CaptureServer(config, sink=sink, serve_http=False, metrics_every_s=3600)

    async def scenario() -> tuple[tuple[float, float], ...]:
        await server.start()
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            await send_stream(channel, "GET", "200")
            await captured(sink)
            sink.repeats.remember(sink.repeats.key_of(sink.exchanges[0]), "mapping-1")
            server.flush_metrics()  # the first stream's own counts
            before = repeat_counts()
            for _ in range(2):
                await send_stream(channel, "GET", "200")
        # A stream's count is taken before its RPC returns: both are tallied by now.
        served = repeat_counts()
        await server.stop()
        return before, served, repeat_counts()

    before, served, stopped = asyncio.run(scenario())
    assert len(sink.exchanges) == 1  # the two repeats ended at their streams
    assert served == before  # tallied, not yet folded
    assert stopped == (before[0] + 2, before[1] + 2)
