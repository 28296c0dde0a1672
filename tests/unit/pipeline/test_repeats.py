"""The repeat fast path: a recorded exchange's repeats skip sanitizing; a changed response
or a request that differs only in a secret takes the full path and still dedups after
sanitizing. The real sanitizer, dedup and mapping; Redis in memory."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json

import grpc

from ext_proc_server.capture import ExtProcServicer
from ext_proc_server.core import metrics
from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.mapping.dedup import Deduplicator
from ext_proc_server.mapping.repeats import RepeatIndex, json_shape
from ext_proc_server.pipeline import CapturePipeline, default_stages
from tests.unit.capture.stream_helpers import req_body, req_headers, resp_body, resp_headers
from tests.unit.pipeline.pipeline_helpers import FakeRedis, wait_for

JSON = (("content-type", "application/json"),)
TOKEN_A = "tok-8f2c41d9e0b7a6c3"
TOKEN_B = "tok-1b9e77c0d4f2a8e5"


def _exchange(*, token: str = TOKEN_A, body: bytes = b'{"balance":10,"owner":"ana"}'):
    return Exchange(
        id="x",
        namespace="payments",
        request=HttpRequest(
            method="GET",
            path="/accounts/7",
            query=(("access_token", token), ("_", "1700000000")),
            authority="api:8080",
        ),
        response=HttpResponse(status=200, headers=JSON, body=body),
    )


class CountingSanitizer:
    def __init__(self, sanitize) -> None:
        self.calls = 0
        self._sanitize = sanitize

    def __call__(self, exchange: Exchange) -> Exchange:
        self.calls += 1
        return self._sanitize(exchange)


def _pipeline(config: CollectorConfig, redis: FakeRedis, *, seen_again=None):
    wired = default_stages(config, redis=None, keys=RedisKeys(queue="unit"))
    sanitizer = CountingSanitizer(wired.sanitize)
    wired = dataclasses.replace(
        wired,
        sanitize=sanitizer,
        claim=redis.claim,
        enqueue=redis.enqueue,
        seen_again=seen_again,
    )
    return CapturePipeline(config, stages=wired), sanitizer


def _repeats(index: RepeatIndex | None, level: str) -> float:
    """``collector_repeats_total{level}`` once the index's counts are folded in."""
    assert index is not None
    index.flush_metrics()
    return metrics.COLLECTOR_REPEATS.labels(level=level)._value.get()


def test_a_repeat_skips_sanitizing_and_a_changed_response_takes_the_full_path():
    config = CollectorConfig(flush_interval=0.01, async_workers=1)

    async def go():
        redis = FakeRedis()
        pipe, sanitizer = _pipeline(config, redis)
        pipe.start()
        assert pipe.submit(_exchange())
        await wait_for(lambda: len(redis.entries) == 1 and pipe.held == 0)
        assert sanitizer.calls == 1
        before = _repeats(pipe.repeats, "local")
        for _ in range(5):
            assert pipe.submit(_exchange())
        await wait_for(lambda: pipe.held == 0 and _repeats(pipe.repeats, "local") - before == 5)
        assert sanitizer.calls == 1  # none of the repeats was sanitized
        # Same shape, other values: still a repeat (values are not the fingerprint).
        assert pipe.submit(_exchange(body=b'{"balance":99,"owner":"bia"}'))
        await wait_for(lambda: pipe.held == 0 and _repeats(pipe.repeats, "local") - before == 6)
        assert sanitizer.calls == 1
        # Another shape (a new key): the full path sees it, and it replaces the stub
        # (drift: the same mapping id, queued again).
        assert pipe.submit(_exchange(body=b'{"balance":10,"owner":"ana","frozen":true}'))
        await wait_for(lambda: pipe.held == 0 and sanitizer.calls == 2)
        assert len(redis.entries) == 2
        ids = {json.loads(e["mapping"])["id"] for e in redis.entries}
        assert len(ids) == 1
        # Another status: the full path too.
        changed = _exchange()
        changed = changed.replace(response=dataclasses.replace(changed.response, status=500))
        assert pipe.submit(changed)
        await wait_for(lambda: pipe.held == 0 and sanitizer.calls == 3)
        await pipe.stop()

    asyncio.run(go())


def test_a_request_differing_only_in_a_secret_misses_the_fast_path_and_dedups_after_sanitizing():
    config = CollectorConfig(flush_interval=0.01, async_workers=1)

    async def go():
        redis = FakeRedis()
        pipe, sanitizer = _pipeline(config, redis)
        pipe.start()
        assert pipe.submit(_exchange(token=TOKEN_A))
        await wait_for(lambda: len(redis.entries) == 1 and pipe.held == 0)
        before = _repeats(pipe.repeats, "local")
        assert pipe.submit(_exchange(token=TOKEN_B))
        await wait_for(lambda: pipe.held == 0 and sanitizer.calls == 2)
        assert _repeats(pipe.repeats, "local") == before
        # Deduplicated after sanitizing: one mapping, holding neither token.
        assert len(redis.entries) == 1
        mapping = redis.entries[0]["mapping"].decode()
        assert TOKEN_A not in mapping and TOKEN_B not in mapping
        # Now both are recorded: each one's repeats take the fast path.
        for token in (TOKEN_A, TOKEN_B):
            assert pipe.submit(_exchange(token=token))
        await wait_for(lambda: pipe.held == 0 and _repeats(pipe.repeats, "local") - before == 2)
        assert sanitizer.calls == 2
        await pipe.stop()

    asyncio.run(go())


def test_repeat_counts_per_mapping_reach_the_last_seen_hook():
    config = CollectorConfig(flush_interval=0.01, async_workers=1)
    reported: list[dict[str, int]] = []

    async def seen_again(counts):
        reported.append(dict(counts))

    async def go():
        redis = FakeRedis()
        pipe, _ = _pipeline(config, redis, seen_again=seen_again)
        await _record_then_repeat(pipe, redis, times=3)
        await wait_for(lambda: sum(sum(c.values()) for c in reported) == 3)
        await pipe.stop()
        return json.loads(redis.entries[0]["mapping"])["id"]

    mapping_id = asyncio.run(go())
    assert {key for counts in reported for key in counts} == {mapping_id}


class ReplayContext:
    """A gRPC stream context that replays Envoy's messages, then EOF."""

    def __init__(self, messages):
        self._messages = list(messages)

    def invocation_metadata(self):
        return (("x-mockado-namespace", "payments"),)

    async def read(self):
        return self._messages.pop(0) if self._messages else grpc.aio.EOF


def test_the_stream_ends_a_repeat_itself_without_submitting_it():
    config = CollectorConfig()
    repeats = RepeatIndex(config)
    submitted: list[Exchange] = []
    servicer = ExtProcServicer(config=config, submit=submitted.append, repeats=repeats)

    body = b'{"balance":10}'
    stream = [
        req_headers(path="/accounts/7?x=1", method="GET", eos=True, authority="api:8080"),
        resp_headers(extra=JSON),
        resp_body(body, eos=True),
    ]
    asyncio.run(servicer.Process(None, ReplayContext(stream)))
    (first,) = submitted
    # The pipeline records it (here: by hand, as after its write).
    repeats.remember(repeats.key_of(first), "mapping-1")
    before = _repeats(repeats, "local")
    asyncio.run(servicer.Process(None, ReplayContext(stream)))
    assert len(submitted) == 1 and _repeats(repeats, "local") - before == 1
    assert repeats.drain_counts() == {"mapping-1": 1}
    # Another request (a body): submitted.
    post = req_headers(path="/accounts/7?x=1", method="POST", authority="api:8080")
    asyncio.run(
        servicer.Process(None, ReplayContext([post, req_body(b"{}", eos=True), *stream[1:]]))
    )
    assert len(submitted) == 2


def test_a_random_key_per_process_unless_one_is_configured():
    exchange = _exchange()
    one, two = RepeatIndex(CollectorConfig()), RepeatIndex(CollectorConfig())
    assert not one.shared and one.key_of(exchange).request != two.key_of(exchange).request
    keyed = CollectorConfig(dedup_key="k" * 32)
    assert RepeatIndex(keyed).shared
    first, again = RepeatIndex(keyed), RepeatIndex(keyed)
    assert first.key_of(exchange).request == again.key_of(exchange).request
    assert first.fingerprint(exchange.response) == again.fingerprint(exchange.response)
    # Noise parameters do not count; the order of the others does not either.
    shuffled = exchange.replace(
        request=dataclasses.replace(
            exchange.request, query=(("_", "1800000000"), ("access_token", TOKEN_A))
        )
    )
    assert first.key_of(shuffled).request == first.key_of(exchange).request


def test_the_fast_path_is_off_without_dedup_and_in_stateful_mode():
    assert RepeatIndex(CollectorConfig()).enabled
    assert not RepeatIndex(CollectorConfig(dedup_enabled=False)).enabled
    assert not RepeatIndex(CollectorConfig(stateful_scenarios=True)).enabled
    wired = default_stages(
        CollectorConfig(stateful_scenarios=True), redis=None, keys=RedisKeys(queue="u")
    )
    assert wired.repeats is None


def test_json_shape_keeps_keys_and_types_not_values():
    assert json_shape(b'{"a": 1, "b": [true, "x"]}') == json_shape(b'{"a":2,"b":[false,"yy"]}')
    assert json_shape(b'{"a":1}') != json_shape(b'{"a":"1"}')
    assert json_shape(b'{"a":1}') != json_shape(b'{"b":1}')
    assert json_shape(b'{"a":{"b":1}}') != json_shape(b'{"a":[1]}')
    assert json_shape(b'{"a":"say \\"b\\": 1"}') == json_shape(b'{"a":"other"}')


def test_json_shape_and_fingerprint_bytes_are_pinned_whichever_parser_reads_the_body():
    # Other replicas' claims hold these fingerprints: the bytes must not change. Pinned
    # from json.loads; orjson reads the first document, json the ones orjson refuses.
    assert json_shape(b'{"a": 1, "b": [true, "x", null, 1.5], "c": {}, "a": "dup"}') == (
        b"{\x00a\x00s\x00b\x00[\x00b\x00s\x00z\x00n\x00]\x00c\x00{\x00}\x00}"
    )
    assert json_shape(b'{"n": NaN, "i": -Infinity}') == b"{\x00n\x00n\x00i\x00n\x00}"
    assert json_shape(b'{"big": 123456789012345678901234567890}') == b"{\x00big\x00n\x00}"
    assert json_shape(b'\xef\xbb\xbf{"bom": 1}') == b"{\x00bom\x00n\x00}"
    assert json_shape(b'{"s": "\\ud800"}') == b"{\x00s\x00s\x00}"
    assert json_shape('{"u16": [1]}'.encode("utf-16")) == b"{\x00u16\x00[\x00n\x00]\x00}"
    assert json_shape(b'{"a":') == json_shape(b"\xff") == b"\x00not-json"
    index = RepeatIndex(CollectorConfig(dedup_key="k" * 32))
    body = b'{"a": 1, "b": [true, "x", null, 1.5], "c": {}, "a": "dup"}'
    response = HttpResponse(status=200, headers=JSON, body=body)
    assert index.fingerprint(response).hex() == "e6f1e6348a41ce9f"


def test_a_recorded_entry_lives_no_longer_than_its_dedup_claim():
    now = [1000.0]
    config = CollectorConfig(dedup_ttl_s=60)
    repeats = RepeatIndex(config, clock=lambda: now[0])
    key = repeats.key_of(_exchange())
    repeats.remember(key, "stub-1")
    now[0] += 59
    assert repeats.recorded(repeats.key_of(_exchange())) == "stub-1"
    # Past dedup_ttl_s the Redis claim is gone too: the full path claims and records it
    # again (a stub expired by loader.stub_ttl_s meanwhile comes back).
    now[0] += 2
    assert repeats.recorded(repeats.key_of(_exchange())) is None
    dedup = Deduplicator(config, clock=lambda: now[0])
    assert dedup.is_new_locally("h") and not dedup.is_new_locally("h")
    now[0] += 61
    assert dedup.is_new_locally("h")
    assert not dedup.is_new_locally("h")


def test_a_stub_held_by_an_error_elsewhere_is_forgotten_by_the_index_and_the_lru():
    """Another replica queued an error answer for "stub-1": this replica's recorded
    success of it is no longer a repeat, and its dedup hash goes to Redis again, once."""
    config = CollectorConfig()
    repeats, dedup = RepeatIndex(config), Deduplicator(config)
    key = repeats.key_of(_exchange())
    other = repeats.key_of(dataclasses.replace(_exchange(), request=HttpRequest(
        method="GET", path="/accounts/8", authority="api:8080")))  # fmt: skip
    repeats.remember(key, "stub-1")
    repeats.remember(other, "stub-2")
    assert dedup.is_new_locally("h-200", "stub-1") and not dedup.is_new_locally("h-200", "stub-1")
    assert dedup.held_by_errors(["stub-1", "stub-3"]) == ["stub-1", "stub-3"]
    assert dedup.held_by_errors(["stub-1"]) == []  # known already: nothing to forget again
    assert repeats.forget_mappings(["stub-1"]) == 1
    assert repeats.recorded(repeats.key_of(_exchange())) is None
    assert repeats.recorded(other) == "stub-2"
    # The success goes to Redis again, once; an error answer of it stays a duplicate.
    assert dedup.is_new_locally("h-200", "stub-1")
    assert not dedup.is_new_locally("h-200", "stub-1")
    # This replica sees the error answer itself: new once, then a duplicate; and the
    # success after it goes to Redis again.
    assert dedup.is_new_locally("h-503", "stub-1", error=True)
    assert not dedup.is_new_locally("h-503", "stub-1", error=True)
    assert dedup.held_by_errors(["stub-1"]) == []
    assert dedup.is_new_locally("h-200", "stub-1")


def test_the_key_a_stream_computes_is_the_one_its_exchange_gives():
    # The stream keys a repeat from the raw parts it read; the pipeline, from the built
    # exchange (when no key was handed over): both must agree, or repeats would be missed.
    config = CollectorConfig()
    repeats = RepeatIndex(config)
    submitted: list[Exchange] = []
    servicer = ExtProcServicer(config=config, submit=submitted.append, repeats=repeats)

    stream = [
        req_headers(path="/accounts/7?b=2&a=1&_=17", authority="api:8080"),
        req_body(b'{"q":1}', eos=True),
        resp_headers(extra=(("content-type", "Application/JSON; charset=utf-8"),)),
        resp_body(b'{"balance":10}', eos=True),
    ]
    asyncio.run(servicer.Process(None, ReplayContext(stream)))
    (exchange,) = submitted
    handed, computed = repeats.key_of(exchange), repeats.key_of(exchange)
    assert handed is not computed
    assert handed.local == computed.local and handed.request == computed.request
    assert handed.exact == computed.exact
    assert repeats.fingerprint_of(handed) == repeats.fingerprint_of(computed)
    assert repeats.fingerprint_of(handed) == repeats.fingerprint(exchange.response)


def test_a_byte_for_byte_repeat_parses_no_json_and_a_changed_shape_still_misses():
    repeats = RepeatIndex(CollectorConfig())
    repeats.remember(repeats.key_of(_exchange()), "stub-1")
    same = repeats.key_of(_exchange())
    assert repeats.recorded(same) == "stub-1"
    assert same.fingerprint is None  # told by the exact hash: no shape was computed
    values = repeats.key_of(_exchange(body=b'{"balance":99,"owner":"bia"}'))
    assert repeats.recorded(values) == "stub-1" and values.fingerprint is not None
    shape = repeats.key_of(_exchange(body=b'{"balance":"10","owner":"ana"}'))
    assert repeats.recorded(shape) is None


class SwallowingHook:
    """A repeat report that stays in flight until released, and swallows a cancel
    on the way, as redis-py 8.2's pipelines can."""

    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.reported: list[dict[str, int]] = []

    async def __call__(self, counts) -> None:
        self.started.set()
        with contextlib.suppress(asyncio.CancelledError):
            await self.release.wait()
        self.reported.append(dict(counts))


async def _record_then_repeat(pipe: CapturePipeline, redis: FakeRedis, *, times: int) -> None:
    """Start the pipeline, record one exchange, then submit ``times`` repeats of it."""
    pipe.start()
    assert pipe.submit(_exchange())
    await wait_for(lambda: len(redis.entries) == 1 and pipe.held == 0)
    for _ in range(times):
        assert pipe.submit(_exchange())


async def _report_in_flight(hook: SwallowingHook) -> CapturePipeline:
    config = CollectorConfig(flush_interval=0.01, async_workers=1)
    redis = FakeRedis()
    pipe, _ = _pipeline(config, redis, seen_again=hook)
    await _record_then_repeat(pipe, redis, times=3)
    await asyncio.wait_for(hook.started.wait(), 10)
    return pipe


async def _stops(stopping: asyncio.Task[None]) -> bool:
    """stop() returned on its own (asyncio.wait: no cancel that stop() might swallow)."""
    done, _ = await asyncio.wait([stopping], timeout=10)
    stopping.cancel()
    return stopping in done


def test_stop_waits_for_a_repeat_report_in_flight_and_returns():
    hook = SwallowingHook()

    async def go():
        pipe = await _report_in_flight(hook)
        stopping = asyncio.create_task(pipe.stop())
        await asyncio.sleep(0.05)
        hook.release.set()
        # A cancelled reporter that swallowed the cancel kept stop() waiting forever.
        return await _stops(stopping)

    assert asyncio.run(go())
    assert sum(sum(c.values()) for c in hook.reported) == 3


def test_stop_gives_up_on_a_repeat_report_stuck_on_redis():
    hook = SwallowingHook()

    async def go():
        pipe = await _report_in_flight(hook)
        return await _stops(asyncio.create_task(pipe.stop(drain_timeout_s=0.2)))

    assert asyncio.run(go())
