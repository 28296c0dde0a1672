"""The collector's check that Redis still holds the stubs it queued (``KeptWrites``), with
a real redis-server: a stub the loader removes on purpose is no reason to forget, a Redis
that restarted empty is, even when another collector set the marker again first."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import redis
from redis import asyncio as aioredis

from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader.claims import release_claims
from ext_proc_server.pipeline.kept_writes import CHECK_EVERY_S, KeptWrites
from tests.support.processes import RedisHandle

KEYS = RedisKeys(queue="kept-writes")


class Collector:
    """One collector's check, on its own clock and client, counting its forgets."""

    def __init__(self, url: str) -> None:
        self.client = aioredis.Redis.from_url(url)
        self.now = 100.0
        self.forgets = 0
        self.kept = KeptWrites(self.client, keys=KEYS, forget=self._forget, clock=lambda: self.now)

    def _forget(self) -> None:
        self.forgets += 1

    async def queue(self, mapping_id: str) -> None:
        """What the queue script writes for a stub (its state), then what the buffer tells."""
        await self.client.set(KEYS.stub_state(mapping_id), "o")
        self.kept.queued(mapping_id)

    async def check(self) -> bool:
        self.now += CHECK_EVERY_S
        return await self.kept.check()


def _retire(url: str, mapping_id: str) -> None:
    """The loader's removal of a stub (lifecycle): its state goes, the log names it."""
    with redis.Redis.from_url(url) as client:
        pipe = client.pipeline(transaction=True)
        release_claims(pipe, keys=KEYS, mapping_ids=[mapping_id])
        pipe.execute()


def test_a_stub_the_loader_retires_is_not_taken_for_a_redis_restarted_empty(
    redis_factory: Callable[..., RedisHandle],
) -> None:
    server = redis_factory()

    async def go() -> tuple[list[bool], int]:
        collector = Collector(server.url)
        try:
            await collector.queue("witness-1")
            await collector.queue("stub-2")
            checks = [await collector.check()]
            _retire(server.url, "witness-1")
            checks.append(await collector.check())
            await collector.queue("stub-3")
            _retire(server.url, "stub-2")
            checks.append(await collector.check())
            _retire(server.url, "stub-3")
            checks.append(await collector.check())
            return checks, collector.forgets
        finally:
            await collector.client.aclose()

    checks, forgets = asyncio.run(go())
    assert checks == [False, False, False, False]
    assert forgets == 0


def test_a_redis_restarted_empty_is_a_forget_even_after_another_collector_marked_it(
    redis_factory: Callable[..., RedisHandle],
) -> None:
    server = redis_factory()

    async def go() -> tuple[int, list[bool], Collector, Collector]:
        first, second = Collector(server.url), Collector(server.url)
        try:
            await first.queue("witness-1")
            checks = [await first.check()]
            server.process.stop(timeout_s=10)
            redis_factory(port=server.port)  # the same port, no data
            size = await second.client.dbsize()
            await second.queue("witness-of-the-second")  # marks the new Redis first
            checks.append(await second.check())
            checks.append(await first.check())  # its client reconnects through
            return size, checks, first, second
        finally:
            await first.client.aclose()
            await second.client.aclose()

    size, checks, first, second = asyncio.run(go())
    assert size == 0
    assert checks == [False, False, True]
    assert (first.forgets, second.forgets) == (1, 0)
