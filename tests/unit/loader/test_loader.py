"""The loader's decisions, against an in-process fake WireMock (httpx.MockTransport)
and a fake Redis that records acks, dead letters and hand-backs. No network."""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import pytest
from prometheus_client import REGISTRY

from ext_proc_server.core.config import load_config
from ext_proc_server.core.errors import WireMockError
from ext_proc_server.core.queue_entries import encode_entry
from ext_proc_server.loader.consumer import (
    DEFAULT_SHARD,
    Loader,
    QueueItem,
    Router,
    _split,
    backoff_s,
    parse_entry,
    shard_urls,
)
from ext_proc_server.loader.wiremock_client import WireMockClient, error_index
from tests.support.fake_wiremock import FakeWireMock, mapping


class _Pipe:
    def __init__(self, redis: FakeRedis) -> None:
        self.redis = redis
        self.calls: list[tuple] = []

    async def __aenter__(self) -> _Pipe:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    def xack(self, _stream, _group, *ids):
        self.calls.append(("ack", ids))

    def xdel(self, _stream, *ids):
        self.calls.append(("del", ids))

    def xadd(self, stream, fields):
        self.calls.append(("add", (stream, fields)))

    async def execute(self):
        for op, args in self.calls:
            if op == "ack":
                self.redis.acked.extend(args)
            elif op == "del":
                self.redis.deleted.extend(args)
            else:
                self.redis.added.append(args)
        return [1] * len(self.calls)


class FakeRedis:
    def __init__(self) -> None:
        self.acked: list[str] = []
        self.deleted: list[str] = []
        self.added: list[tuple[str, dict]] = []
        self.released: dict[str, int | None] = {}

    def pipeline(self, transaction: bool = True) -> _Pipe:
        return _Pipe(self)

    async def xclaim(self, _stream, _group, _consumer, _min_idle, ids, idle=None, justid=False):
        assert justid, "hand-backs must not count as deliveries"
        for entry_id in ids:
            self.released[entry_id] = idle
        return ids

    async def aclose(self) -> None:
        return None


def item(n: int, *, deliveries: int = 1, **request: object) -> QueueItem:
    return QueueItem(f"{n}-0", deliveries, host="api", mapping=mapping(n, **request))


def make_loader(wiremock: FakeWireMock, redis: FakeRedis, **loader: object) -> Loader:
    overrides = {f"loader.{k}": v for k, v in loader.items()}
    overrides.setdefault("loader.retry_backoff", 0.001)
    overrides.setdefault("loader.retry_max_delay", 0.01)
    config = load_config(env={}, overrides=overrides)
    return Loader(config, redis=redis, clients={DEFAULT_SHARD: wiremock.client()}, consumer="t")


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# -- entries ---------------------------------------------------------------------


def test_parse_entry_keeps_the_mapping_and_host():
    fields = {k.encode(): v.encode() for k, v in encode_entry(mapping(1), host="api.svc").items()}
    parsed = parse_entry("1-0", fields, deliveries=3)
    assert parsed.mapping == mapping(1)
    assert (parsed.host, parsed.deliveries, parsed.invalid_reason) == ("api.svc", 3, None)


def test_parse_entry_marks_undecodable_entries_invalid():
    parsed = parse_entry("1-0", {b"mapping": b"{not json", b"host": b"h"}, deliveries=1)
    assert parsed.mapping is None
    assert parsed.invalid_reason
    assert "{not json" not in parsed.invalid_reason  # never the raw content


def test_parse_entry_rejects_a_non_string_id_and_non_object_parts():
    bad_id = encode_entry({"id": 7, "request": {}, "response": {}})
    assert parse_entry("1-0", bad_id, deliveries=1).invalid_reason
    bad_part = encode_entry({"id": "x", "request": "GET /", "response": {}})
    assert parse_entry("1-0", bad_part, deliveries=1).invalid_reason


def test_a_mapping_without_id_gets_a_deterministic_one():
    bare = {"request": {"urlPath": "/a"}, "response": {"status": 200}}
    first = parse_entry("1-0", encode_entry(bare), deliveries=1).mapping
    again = parse_entry("2-0", encode_entry(dict(reversed(bare.items()))), deliveries=1).mapping
    other = parse_entry("3-0", encode_entry({**bare, "response": {"status": 201}}), deliveries=1)
    assert first["id"] == again["id"]
    assert uuid.UUID(first["id"])
    assert other.mapping["id"] != first["id"]


# -- routing ---------------------------------------------------------------------


def test_shards_route_by_host_pattern_and_share_urls():
    config = load_config(
        env={},
        overrides={
            "loader.wiremock_url": "http://wm-default:8080",
            "loader.shards": [
                {"host": "payments.*", "wiremock_url": "http://wm-pay:8080"},
                {"host": "*.billing.svc", "wiremock_url": "http://wm-pay:8080"},
                {"host": "orders", "wiremock_url": "http://wm-orders:8080"},
                {"host": "legacy", "wiremock_url": "http://wm-default:8080"},
            ],
            "serving.shard_groups": {"pay": ["payments.*"]},
        },
    )
    urls, routes = shard_urls(config)
    assert urls == {
        "default": "http://wm-default:8080",
        "pay": "http://wm-pay:8080",
        "shard-2": "http://wm-orders:8080",
    }
    router = Router(routes)
    assert router.shard_for("Payments.prod") == "pay"
    assert router.shard_for("x.billing.svc") == "pay"
    assert router.shard_for("orders") == "shard-2"
    assert router.shard_for("orders.other") == "default"
    assert router.shard_for("legacy") == "default"
    assert router.shard_for("") == "default"


# -- retry helpers ---------------------------------------------------------------


@pytest.mark.parametrize("attempt", [0, 1, 3, 10, 50])
def test_backoff_grows_with_jitter_and_is_capped(attempt):
    delays = [backoff_s(attempt, base_s=0.5, max_s=8.0) for _ in range(200)]
    full = min(8.0, 0.5 * 2**attempt)
    assert all(full / 2 <= d <= full for d in delays)
    assert len(set(delays)) > 1


def test_split_isolates_the_blamed_item_else_bisects():
    chunk = [item(n) for n in range(6)]
    assert [[i.entry_id for i in p] for p in _split(chunk, 2)] == [
        ["0-0", "1-0"], ["2-0"], ["3-0", "4-0", "5-0"],
    ]  # fmt: skip
    assert [len(p) for p in _split(chunk, 0)] == [1, 5]
    assert [len(p) for p in _split(chunk, None)] == [3, 3]
    assert [len(p) for p in _split(chunk, 99)] == [3, 3]


# -- the WireMock client ---------------------------------------------------------


def test_client_translates_statuses_and_connect_errors():
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/__admin/health":
            raise httpx.ConnectError("refused", request=request)
        if request.url.path == "/__admin/reset":
            return httpx.Response(503)
        pointer = {"pointer": "/mappings/4/request/bodyPatterns/0"}
        return httpx.Response(422, json={"errors": [{"source": pointer, "detail": "SECRET"}]})

    async def scenario() -> tuple[WireMockError, WireMockError, bool]:
        async with WireMockClient("http://x", transport=httpx.MockTransport(handler)) as client:
            with pytest.raises(WireMockError) as refused:
                await client.import_mappings([mapping(1)])
            with pytest.raises(WireMockError) as down:
                await client.reset()
            return refused.value, down.value, await client.health()

    refused, down, healthy = asyncio.run(scenario())
    assert refused.status_code == 422 and refused.is_terminal
    assert error_index(refused) == 4
    assert "SECRET" not in str(refused)
    assert down.status_code == 503 and not down.is_terminal
    assert healthy is False


# -- one batch -------------------------------------------------------------------


def test_a_refused_item_is_isolated_and_the_rest_lands():
    wiremock, redis = FakeWireMock(), FakeRedis()
    loader = make_loader(
        wiremock, redis, retry_attempts=3, claim_timeout_s=30, retry_backoff=1, retry_max_delay=30
    )
    items = [item(n) for n in range(5)] + [item(5, bad=True)] + [item(n) for n in range(6, 9)]
    asyncio.run(loader._process(items))
    assert sorted(wiremock.recorded) == sorted(mapping(n)["id"] for n in range(9) if n != 5)
    assert sorted(redis.acked) == sorted(f"{n}-0" for n in range(9) if n != 5)
    assert redis.deleted == redis.acked
    # First delivery of 3: handed back, to be reclaimed after a 0.5-1 s backoff.
    assert list(redis.released) == ["5-0"]
    assert 29_000 <= redis.released["5-0"] <= 29_500
    assert redis.added == []


def test_an_item_out_of_deliveries_goes_to_dead_letter_with_its_reason():
    wiremock, redis = FakeWireMock(), FakeRedis()
    loader = make_loader(wiremock, redis, retry_attempts=3)
    before = metric("wiremock_loader_mappings_processed_total", status="dead_lettered")
    asyncio.run(loader._process([item(1), item(2, deliveries=3, bad=True)]))
    assert list(wiremock.recorded) == [mapping(1)["id"]]
    [(stream, fields)] = redis.added
    assert stream == "mockado:mappings:dead"
    assert fields["reason"] == "WireMockError HTTP 422"
    assert fields["status_code"] == "422"
    assert fields["source_id"] == "2-0"
    assert json.loads(fields["mapping"]) == mapping(2, bad=True)
    assert sorted(redis.acked) == ["1-0", "2-0"]
    assert metric("wiremock_loader_mappings_processed_total", status="dead_lettered") == before + 1


def test_an_undecodable_entry_is_dead_lettered_without_its_content():
    wiremock, redis = FakeWireMock(), FakeRedis()
    loader = make_loader(wiremock, redis)
    broken = parse_entry("9-0", {b"mapping": b"[1, 2", b"host": b"api"}, deliveries=1)
    asyncio.run(loader._process([broken, item(1)]))
    [(_, fields)] = redis.added
    assert fields["error_type"] == "invalid_item"
    assert "mapping" not in fields
    assert sorted(redis.acked) == ["1-0", "9-0"]
    assert list(wiremock.recorded) == [mapping(1)["id"]]


def test_an_outage_is_waited_out_without_touching_the_poison_budget():
    wiremock, redis = FakeWireMock(), FakeRedis()
    wiremock.down_for = 4
    loader = make_loader(wiremock, redis, retry_attempts=1)
    asyncio.run(loader._process([item(n) for n in range(3)]))
    assert len(wiremock.recorded) == 3
    assert sorted(redis.acked) == ["0-0", "1-0", "2-0"]
    assert redis.added == [] and redis.released == {}


def test_stop_during_an_outage_hands_the_batch_back_unacked():
    wiremock, redis = FakeWireMock(), FakeRedis()
    wiremock.down_for = 10**6
    loader = make_loader(wiremock, redis, claim_timeout_s=7)

    async def scenario() -> None:
        stop = asyncio.Event()
        loader._stop = stop
        task = asyncio.create_task(loader._process([item(1), item(2)]))
        await asyncio.sleep(0.05)
        stop.set()
        await asyncio.wait_for(task, timeout=5)

    asyncio.run(scenario())
    assert redis.acked == [] and redis.added == []
    # Idle = claim_timeout_s: any replica's XAUTOCLAIM takes them at once.
    assert redis.released == {"1-0": 7000, "2-0": 7000}


def test_the_stub_budget_refuses_new_ids_and_lets_overwrites_through():
    wiremock, redis = FakeWireMock(), FakeRedis()
    for n in (1, 2):
        wiremock.stubs[mapping(n)["id"]] = mapping(n)
    # 2 recorded + the catch-all the seed installs: room for two more.
    loader = make_loader(wiremock, redis, max_stubs=5)
    shard = loader.shards[DEFAULT_SHARD]
    before = metric("wiremock_loader_stubs_rejected_total", shard="default")

    async def scenario() -> None:
        await shard.seed()
        overwrite = QueueItem("1-1", 1, mapping={**mapping(1), "response": {"status": 204}})
        await loader._process([overwrite, item(3), item(4), item(5), item(6)])

    asyncio.run(scenario())
    assert sorted(wiremock.recorded) == sorted(mapping(n)["id"] for n in (1, 2, 3, 4))
    assert wiremock.stubs[mapping(1)["id"]]["response"] == {"status": 204}
    # Refused ones are acked (a counted drop), not retried.
    assert sorted(redis.acked) == sorted(["1-1", "3-0", "4-0", "5-0", "6-0"])
    assert metric("wiremock_loader_stubs_rejected_total", shard="default") == before + 2
    assert shard.stub_count == 5
    assert metric("wiremock_loader_stub_count", shard="default") == 5


def test_the_budget_counts_a_repeated_new_id_once():
    wiremock, redis = FakeWireMock(), FakeRedis()
    # The catch-all takes one of the two places (the budget counts every stub WireMock holds).
    loader = make_loader(wiremock, redis, max_stubs=2)

    async def scenario() -> None:
        await loader.shards[DEFAULT_SHARD].seed()
        await loader._process([item(7), QueueItem("7-1", 1, mapping=mapping(7)), item(8)])

    asyncio.run(scenario())
    assert list(wiremock.recorded) == [mapping(7)["id"]]
    assert sorted(redis.acked) == ["7-0", "7-1", "8-0"]


# -- per-shard workers -------------------------------------------------------------


def make_sharded_loader(
    default: FakeWireMock, orders: FakeWireMock, redis: FakeRedis, **loader: object
) -> Loader:
    overrides: dict[str, object] = {f"loader.{k}": v for k, v in loader.items()}
    overrides.update({
        "loader.retry_backoff": 0.001,
        "loader.retry_max_delay": 0.01,
        "loader.shards": [{"host": "orders", "wiremock_url": "http://wm-orders:8080"}],
    })  # fmt: skip
    config = load_config(env={}, overrides=overrides)
    clients = {DEFAULT_SHARD: default.client(), "shard-1": orders.client()}
    return Loader(config, redis=redis, clients=clients, consumer="t")


def routed(n: int, host: str) -> QueueItem:
    return QueueItem(f"{n}-0", 1, host=host, mapping=mapping(n))


async def wait_for(check, *, timeout_s: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not check():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.005)


def test_a_down_shard_holds_back_only_its_own_items():
    default, orders, redis = FakeWireMock(), FakeWireMock(), FakeRedis()
    orders.down_for = 10**6
    loader = make_sharded_loader(default, orders, redis)

    async def scenario() -> None:
        loader._stop = asyncio.Event()
        loader._start_workers()
        # Batch after batch mixes both shards; the orders WireMock refuses connections.
        for batch in range(5):
            await loader._dispatch(
                [routed(batch * 10 + n, "orders" if n % 2 else "api") for n in range(10)]
            )
        await wait_for(lambda: len(default.recorded) == 25)
        assert orders.recorded == {}
        assert metric("wiremock_loader_shard_backlog", shard="shard-1") >= 24
        orders.down_for = 0  # back: its backlog lands too, in order
        await wait_for(lambda: len(orders.recorded) == 25)
        loader._stop.set()
        await loader._stop_workers(graceful=True)

    asyncio.run(scenario())
    assert sorted(redis.acked) == sorted(f"{n}-0" for n in range(50))
    assert redis.released == {} and redis.added == []
    assert metric("wiremock_loader_shard_backlog", shard="shard-1") == 0


def test_a_full_backlog_makes_reading_wait_and_stop_hands_everything_back():
    default, orders, redis = FakeWireMock(), FakeWireMock(), FakeRedis()
    orders.down_for = 10**6
    loader = make_sharded_loader(default, orders, redis, shard_backlog_items=4, claim_timeout_s=7)

    async def scenario() -> None:
        loader._stop = asyncio.Event()
        loader._start_workers()
        dispatch = asyncio.create_task(loader._dispatch([routed(n, "orders") for n in range(10)]))
        await asyncio.sleep(0.1)
        # Four queued, the fifth waits for room: the pump would read nothing more.
        assert not dispatch.done()
        assert metric("wiremock_loader_shard_backlog", shard="shard-1") == 4
        loader._stop.set()
        await asyncio.wait_for(dispatch, timeout=5)
        await asyncio.wait_for(loader._stop_workers(graceful=True), timeout=5)

    asyncio.run(scenario())
    assert redis.acked == [] and orders.recorded == {}
    # Nothing lost: every item read is handed back, claimable at once by any replica.
    assert redis.released == {f"{n}-0": 7000 for n in range(10)}


def test_a_worker_failure_reaches_the_pump():
    default, orders, redis = FakeWireMock(), FakeWireMock(), FakeRedis()
    loader = make_sharded_loader(default, orders, redis)

    async def broken_ack(items) -> None:
        raise RuntimeError("redis gone")

    loader._ack = broken_ack  # type: ignore[method-assign]

    async def scenario() -> None:
        loader._stop = asyncio.Event()
        loader._start_workers()
        await loader._dispatch([routed(1, "api")])
        await wait_for(lambda: loader._worker_error is not None)
        with pytest.raises(RuntimeError, match="redis gone"):
            loader._raise_worker_error()
        await loader._stop_workers(graceful=True)

    asyncio.run(scenario())
    assert loader._workers == {}
