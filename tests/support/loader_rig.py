"""An in-process loader, its config, stubs and waiting, for loader tests; and a loader on
in-process fakes (FakeRedis, FakeWireMock) for unit tests."""

from __future__ import annotations

import asyncio
import fnmatch
import threading
import time
import uuid
from collections.abc import Callable

import httpx
import redis
from prometheus_client import REGISTRY
from redis.exceptions import LockNotOwnedError

from ext_proc_server.core.config import MockadoConfig, load_config
from ext_proc_server.core.queue_entries import encode_entry
from ext_proc_server.loader import DEFAULT_SHARD, Loader, QueueItem, ShardKeeper
from tests.support.fake_wiremock import FakeWireMock, mapping

# A matcher WireMock really refuses (HTTP 422 "is not a valid match operation").
POISON = {
    "id": "00000000-0000-4000-8000-00000000dead",
    "request": {"method": "POST", "urlPath": "/poison", "bodyPatterns": [{"noSuchMatcher": "x"}]},
    "response": {"status": 200},
}


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


def enqueue(url: str, queue: str, mappings: list[dict], *, host: str = "api") -> None:
    client = redis.Redis.from_url(url)
    pipe = client.pipeline(transaction=False)
    for queued_mapping in mappings:
        pipe.xadd(queue, encode_entry(queued_mapping, host=host))
    pipe.execute()
    client.close()


def queue_done(client: redis.Redis, queue: str) -> Callable[[], bool]:
    """Every item acked (acked items are deleted) and nothing pending."""

    def check() -> bool:
        if client.xlen(queue) != 0:
            return False
        groups = client.xinfo_groups(queue)
        return all(g["pending"] == 0 for g in groups)

    return check


def stubs_in(url: str, *, auth: tuple[str, str] | None = None) -> dict[str, dict]:
    """The recorded stubs a real WireMock holds (every mapping but the shard's catch-all):
    id -> its request and response."""
    resp = httpx.get(f"{url}/__admin/mappings", timeout=30, auth=auth)
    resp.raise_for_status()
    return {
        m["id"]: {"request": m["request"], "response": m["response"]}
        for m in resp.json()["mappings"]
        if not m.get("metadata", {}).get("mockado", {}).get("catch_all")
    }


def ids_in(url: str) -> list[str]:
    """Ids of the recorded stubs."""
    return list(stubs_in(url))


def transient(exc: Exception) -> bool:
    """Whether ``exc`` may go away by itself: a server not listening yet or restarting, Redis
    loading its data or busy running a script, a consumer group a loader has not created
    yet, WireMock answering 5xx while it starts. A refused password or command (NOAUTH,
    WRONGPASS, NOPERM), a wrong command or a 4xx answer stays what it is: retrying would
    only hide it behind a timeout."""
    if isinstance(exc, (redis.AuthenticationError, redis.exceptions.AuthorizationError)):
        return False
    if isinstance(exc, (redis.ConnectionError, redis.TimeoutError, httpx.TransportError)):
        return True  # BusyLoadingError (LOADING) is a ConnectionError
    if isinstance(exc, redis.ResponseError):
        # NOGROUP: the queue's consumer group, which a loader starting up creates.
        return str(exc).startswith(("BUSY ", "TRYAGAIN", "NOGROUP"))
    if isinstance(exc, httpx.HTTPStatusError):
        return exc.response.status_code >= 500
    return False


def wait_for(check: Callable[[], bool], *, timeout_s: float = 60, what: str = "condition") -> None:
    """Until ``check()`` is true; only a :func:`transient` error is retried, any other
    raises at once."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except (httpx.HTTPError, redis.RedisError) as exc:
            if not transient(exc):
                raise
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

    def xadd(self, stream, fields, **_trim):
        self.calls.append(("add", (stream, fields)))

    def hdel(self, key, *fields):
        self.calls.append(("hdel", (key, fields)))

    def delete(self, *keys):
        self.calls.append(("delete", keys))

    def hset(self, key, mapping):
        self.calls.append(("hset", (key, mapping)))

    def zadd(self, key, mapping, nx=False):
        self.calls.append(("zadd_nx" if nx else "zadd", (key, mapping)))

    def zremrangebyrank(self, key, start, end):
        self.calls.append(("trim", (key, start, end)))

    def zrem(self, key, *members):
        self.calls.append(("hdel", (key, members)))

    def lpush(self, key, *values):
        self.calls.append(("lpush", (key, values)))

    def ltrim(self, key, start, end):
        self.calls.append(("ltrim", (key, start, end)))

    async def execute(self):
        """All or nothing, like MULTI/EXEC."""
        if self.redis.failure is not None:
            raise self.redis.failure
        for op, args in self.calls:
            if op == "ack":
                self.redis.acked.extend(args)
            elif op == "del":
                self.redis.deleted.extend(args)
            elif op in ("hset", "zadd"):
                key, mapping = args
                self.redis.hashes.setdefault(key, {}).update(mapping)
            elif op == "zadd_nx":
                key, mapping = args
                held = self.redis.hashes.setdefault(key, {})
                held.update({k: v for k, v in mapping.items() if k not in held})
            elif op == "trim":
                pass  # sorted sets here stay far below their caps
            elif op == "lpush":
                key, values = args
                self.redis.lists[key] = [*reversed(values), *self.redis.lists.get(key, [])]
            elif op == "ltrim":
                key, start, end = args
                self.redis.lists[key] = self.redis.lists.get(key, [])[start : end + 1]
            elif op == "hdel":
                key, fields = args
                for name in fields:
                    self.redis.hashes.get(key, {}).pop(name, None)
            elif op == "delete":
                self.redis.dropped_keys.extend(args)
            else:
                self.redis.added.append(args)
        return [1] * len(self.calls)


class FakeLock:
    """redis-py's non-blocking Lock, on FakeRedis.locks (name -> this lock's token)."""

    def __init__(self, redis: FakeRedis, name: str) -> None:
        self.redis = redis
        self.name = name
        self.token = uuid.uuid4().hex

    async def acquire(self) -> bool:
        self.redis.lock_attempts += 1
        if self.name in self.redis.locks:
            return False
        self.redis.locks[self.name] = self.token
        self.redis.lock_acquisitions += 1
        return True

    async def reacquire(self) -> bool:
        if self.redis.locks.get(self.name) != self.token:
            raise LockNotOwnedError("lock not owned")
        return True

    async def release(self) -> None:
        if self.redis.locks.get(self.name) != self.token:
            raise LockNotOwnedError("lock not owned")
        del self.redis.locks[self.name]


class FakeRedis:
    """The Redis calls a loader makes while loading, recorded: acks, deletes, dead letters
    (``added``, and the log of removed stubs), hand-backs (``released``: entry id -> idle
    ms), the shard records (``hashes``), keys deleted (``dropped_keys``) and reload locks
    (``locks``). A transaction or a read raises ``failure``
    when it is set."""

    def __init__(self) -> None:
        self.acked: list[str] = []
        self.deleted: list[str] = []
        self.added: list[tuple[str, dict]] = []
        self.released: dict[str, int | None] = {}
        self.failure: BaseException | None = None
        # Hashes (the shard records) and held locks, by key.
        # Hashes and sorted sets (the shard records, the seen index) and lists, by key.
        self.hashes: dict[str, dict[str, str]] = {}
        self.lists: dict[str, list[str]] = {}
        self.locks: dict[str, str] = {}
        self.lock_attempts = 0
        self.lock_acquisitions = 0
        # Names of the loaders in the consumer group (XINFO CONSUMERS).
        self.consumers: list[str] = []
        # Keys deleted in a transaction (the stub states of removed stubs).
        self.dropped_keys: list[str] = []

    def pipeline(self, transaction: bool = True) -> _Pipe:
        return _Pipe(self)

    async def hlen(self, key):
        if self.failure is not None:
            raise self.failure
        return len(self.hashes.get(key, {}))

    async def hmget(self, key, fields):
        # Not failed by ``failure``: the tests that set it fail the ack after an import.
        held = self.hashes.get(key, {})
        return [held.get(f) for f in fields]

    async def hscan(self, key, cursor=0, count=None):
        """Pages of ``count`` in insertion order; the cursor is the next position."""
        entries = list(self.hashes.get(key, {}).items())
        end = cursor + (count or 10)
        page = {k.encode(): v.encode() for k, v in entries[cursor:end]}
        return (end if end < len(entries) else 0), page

    async def hdel(self, key, *fields):
        held = self.hashes.get(key, {})
        return sum(held.pop(f, None) is not None for f in fields)

    async def hkeys(self, key):
        return [k.encode() for k in self.hashes.get(key, {})]

    async def zmscore(self, key, members):
        held = self.hashes.get(key, {})
        return [held.get(m) for m in members]

    async def scan_iter(self, match=None, count=None):
        """Keys of non-empty hashes (records, seen indexes) matching ``match``."""
        for key in [k for k, held in self.hashes.items() if held]:
            if match is None or fnmatch.fnmatchcase(key, match):
                yield key.encode()

    async def xinfo_consumers(self, _stream, _group):
        """The consumer group's members: ``consumers`` (names), nothing pending."""
        return [{"name": name.encode(), "pending": 0, "idle": 0} for name in self.consumers]

    def lock(self, name, timeout=None, blocking=True):
        assert not blocking, "a replica that finds the shard being reloaded carries on"
        return FakeLock(self, name)

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


def keeper_check(config: MockadoConfig, *, shard: str, wiremock_url: str) -> tuple[bool, str]:
    """One check of ``shard``'s keeper against ``wiremock_url`` -> (whether the pod is
    Ready, what the check did)."""

    async def check() -> tuple[bool, str]:
        keeper = ShardKeeper(config, shard=shard, wiremock_url=wiremock_url)
        try:
            holding = await keeper.check()
            return keeper.ready, holding.value
        finally:
            await keeper.aclose()

    return asyncio.run(check())
