"""An in-process loader, its config, stubs and waiting, for loader tests; and a loader on
in-process fakes (FakeRedis, FakeWireMock) for unit tests."""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Callable

import httpx
import redis
from prometheus_client import REGISTRY

from ext_proc_server.core.config import MockadoConfig, load_config
from ext_proc_server.loader import DEFAULT_SHARD, Loader, QueueItem
from tests.support.fake_wiremock import FakeWireMock, mapping


def stub(n: int, *, run: str, persistent: bool = False, body: str | None = None) -> dict:
    mapping = {
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{run}/{n}")),
        "request": {"method": "GET", "urlPath": f"/{run}/item/{n}"},
        "response": {"status": 200, "body": body or f"item {n}"},
    }
    if persistent:
        mapping["persistent"] = True
    return mapping


def config_for(redis_url: str, wiremock_url: str, queue: str, **loader: object) -> MockadoConfig:
    overrides = {
        "loader.redis_url": redis_url,
        "loader.wiremock_url": wiremock_url,
        "loader.redis_queue": queue,
        "loader.retry_backoff": 0.05,
        "loader.retry_max_delay": 0.5,
        "loader.http_port": 0,
    }
    overrides.update({f"loader.{k}": v for k, v in loader.items()})
    return load_config(env={}, overrides=overrides)


class LoaderThread:
    """An in-process Loader on its own event loop thread."""

    def __init__(self, config: MockadoConfig) -> None:
        self.config = config
        self._started = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._main()), daemon=True)

    async def _main(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.stop = asyncio.Event()
        self.loader = Loader(self.config)
        self._started.set()
        try:
            await self.loader.run(self.stop)
        finally:
            await self.loader.aclose()

    def __enter__(self) -> LoaderThread:
        self._thread.start()
        assert self._started.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self._thread.join(60)
        assert not self._thread.is_alive(), "loader did not stop"


def wait_for(check: Callable[[], bool], *, timeout_s: float = 60, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (httpx.HTTPError, redis.RedisError):
            pass
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


# -- a loader on in-process fakes ------------------------------------------------------


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
        if self.redis.failure is not None:
            raise self.redis.failure
        for op, args in self.calls:
            if op == "ack":
                self.redis.acked.extend(args)
            elif op == "del":
                self.redis.deleted.extend(args)
            else:
                self.redis.added.append(args)
        return [1] * len(self.calls)


class FakeRedis:
    """The Redis calls a loader makes while loading, recorded: acks, deletes, dead letters
    (``added``) and hand-backs (``released``: entry id -> idle ms). A transaction raises
    ``failure`` when it is set."""

    def __init__(self) -> None:
        self.acked: list[str] = []
        self.deleted: list[str] = []
        self.added: list[tuple[str, dict]] = []
        self.released: dict[str, int | None] = {}
        self.failure: BaseException | None = None

    def pipeline(self, transaction: bool = True) -> _Pipe:
        return _Pipe(self)

    async def xclaim(self, _stream, _group, _consumer, _min_idle, ids, idle=None, justid=False):
        assert justid, "hand-backs must not count as deliveries"
        for entry_id in ids:
            self.released[entry_id] = idle
        return ids

    async def ping(self) -> bool:
        return True

    async def aclose(self) -> None:
        return None


# The second shard of fake_loader(..., orders=...): hosts "orders" go there.
ORDERS_SHARD = "shard-1"


def fake_loader(
    redis: FakeRedis, default: FakeWireMock, *, orders: FakeWireMock | None = None, **loader: object
) -> Loader:
    """A Loader on fakes, with quick retries; ``orders`` adds the shard ORDERS_SHARD."""
    overrides = {f"loader.{k}": v for k, v in loader.items()}
    overrides.setdefault("loader.retry_backoff", 0.001)
    overrides.setdefault("loader.retry_max_delay", 0.01)
    clients = {DEFAULT_SHARD: default.client()}
    if orders is not None:
        overrides["loader.shards"] = [{"host": "orders", "wiremock_url": "http://wm-orders:8080"}]
        clients[ORDERS_SHARD] = orders.client()
    config = load_config(env={}, overrides=overrides)
    return Loader(config, redis=redis, clients=clients, consumer="t")


def queued(n: int, *, host: str = "api", deliveries: int = 1, **request: object) -> QueueItem:
    """Held item n, carrying fake_wiremock.mapping(n, **request)."""
    return QueueItem(f"{n}-0", deliveries, host=host, mapping=mapping(n, **request))
