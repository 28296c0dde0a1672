"""Stubs the loader removed: the collector's in-process LRUs forget them, so their next
capture takes the full path and is claimed again."""

from __future__ import annotations

import asyncio

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.errors import QueueError
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.core.redis_keys import REMOVED_STUBS_KEPT_S, RedisKeys
from ext_proc_server.mapping.dedup import Deduplicator
from ext_proc_server.mapping.removals import READ_EVERY_S, READ_PAGE, RemovedStubs
from ext_proc_server.mapping.repeats import RepeatIndex

KEYS = RedisKeys(queue="q")
JSON = (("content-type", "application/json"),)


def _exchange(path: str) -> Exchange:
    return Exchange(
        id=path,
        request=HttpRequest(method="GET", path=path, authority="api:8080"),
        response=HttpResponse(status=200, headers=JSON, body=b'{"ok":1}'),
    )


class LogRedis:
    """The log of removed stubs in memory (XRANGE with an exclusive start), as the loader
    writes it: one entry per removal, its ids space-separated."""

    def __init__(self) -> None:
        self.entries: list[tuple[bytes, dict[bytes, bytes]]] = []
        self.reads = 0
        self.down = False

    def remove(self, *ids: str) -> None:
        entry_id = f"{len(self.entries) + 1}-0".encode()
        self.entries.append((entry_id, {b"ids": " ".join(ids).encode()}))

    async def xrange(self, name, min, max, count):
        assert name == KEYS.removed_stubs and max == "+" and min.startswith("(")
        self.reads += 1
        if self.down:
            raise RedisConnectionError("gone")
        after = int(min[1:].split("-")[0])
        return [e for e in self.entries if int(e[0].split(b"-")[0]) > after][:count]


class Held:
    """A Deduplicator and a RepeatIndex that hold two recorded requests, one per stub."""

    def __init__(self) -> None:
        config = CollectorConfig()
        self.dedup, self.repeats = Deduplicator(config), RepeatIndex(config)
        for n in (1, 2):
            assert self.dedup.is_new_locally(f"h{n}", f"stub-{n}")
            self.repeats.remember(self.repeats.key_of(_exchange(f"/p{n}")), f"stub-{n}")

    def recorded(self, n: int) -> tuple[bool, bool]:
        """(the dedup LRU, the repeat index) still take request n as recorded."""
        repeat = self.repeats.recorded(self.repeats.key_of(_exchange(f"/p{n}"))) is not None
        duplicate = not self.dedup.is_new_locally(f"h{n}", f"stub-{n}")
        return duplicate, repeat


def _follower(redis: LogRedis, held: Held, now: list[float]) -> RemovedStubs:
    return RemovedStubs(
        redis,  # type: ignore[arg-type]
        keys=KEYS,
        deduplicator=held.dedup,
        repeats=held.repeats,
        clock=lambda: now[0],
    )


def test_a_removed_stub_is_forgotten_by_both_lrus_and_the_others_kept() -> None:
    redis, held, now = LogRedis(), Held(), [100.0]
    follow = _follower(redis, held, now)
    assert asyncio.run(follow()) == 0  # nothing removed yet
    redis.remove("stub-1", "stub-9")
    now[0] += READ_EVERY_S
    assert asyncio.run(follow()) == 2
    assert held.recorded(1) == (False, False)
    assert held.recorded(2) == (True, True)


def test_the_log_is_read_at_most_every_read_every_s_and_from_where_it_stopped() -> None:
    redis, held, now = LogRedis(), Held(), [100.0]
    follow = _follower(redis, held, now)
    redis.remove("stub-1")
    assert asyncio.run(follow()) == 1
    redis.remove("stub-2")
    now[0] += READ_EVERY_S / 2
    assert asyncio.run(follow()) == 0  # not due: not read
    assert redis.reads == 1
    assert held.recorded(2) == (True, True)
    now[0] += READ_EVERY_S / 2
    assert asyncio.run(follow()) == 1  # only what is new
    assert held.recorded(2) == (False, False)


def test_a_long_log_is_read_page_by_page() -> None:
    redis, held, now = LogRedis(), Held(), [100.0]
    for n in range(READ_PAGE + 5):
        redis.remove(f"gone-{n}")
    redis.remove("stub-2")
    assert asyncio.run(_follower(redis, held, now)()) == READ_PAGE + 6
    assert redis.reads == 2
    assert held.recorded(2) == (False, False)


def test_a_failed_read_raises_and_the_next_turn_reads_again() -> None:
    redis, held, now = LogRedis(), Held(), [100.0]
    follow = _follower(redis, held, now)
    asyncio.run(follow())
    redis.remove("stub-1")
    redis.down = True
    now[0] += READ_EVERY_S
    with pytest.raises(QueueError, match="reading removed stubs failed"):
        asyncio.run(follow())
    redis.down = False
    assert asyncio.run(follow()) == 1
    assert held.recorded(1) == (False, False)


def test_a_collector_that_could_not_read_the_log_for_long_forgets_everything() -> None:
    redis, held, now = LogRedis(), Held(), [100.0]
    follow = _follower(redis, held, now)
    asyncio.run(follow())
    now[0] += REMOVED_STUBS_KEPT_S  # entries may have been trimmed unread meanwhile
    assert asyncio.run(follow()) == 0
    assert held.recorded(1) == (False, False)
    assert held.recorded(2) == (False, False)


def test_the_dedup_lru_forgets_every_hash_of_a_stub() -> None:
    dedup = Deduplicator(CollectorConfig())
    for dedup_hash, stub in (("a-200", "a"), ("a-201", "a"), ("b-200", "b")):
        assert dedup.is_new_locally(dedup_hash, stub)
    assert dedup.forget_stubs({"a"}) == 2
    assert dedup.is_new_locally("a-200", "a") and dedup.is_new_locally("a-201", "a")
    assert not dedup.is_new_locally("b-200", "b")


def test_an_answer_from_redis_that_a_forget_overtook_is_not_remembered() -> None:
    """Redis said "recorded" before the loader removed the stub, and the collector read
    the removal before it handled that answer: the answer is not trusted."""
    repeats = RepeatIndex(CollectorConfig(dedup_key="k" * 32))
    key = repeats.key_of(_exchange("/p1"))
    value = repeats.redis_value(key, "stub-1")
    since = repeats.forgets
    repeats.forget_mappings({"stub-1"})
    assert repeats.recorded_in_redis(key, value, since=since) is None
    assert not repeats.remember(key, "stub-1", since=since)
    assert repeats.recorded(key) is None
    # Asked again after the forget: remembered.
    assert repeats.recorded_in_redis(key, value, since=repeats.forgets) == "stub-1"
    assert repeats.recorded(repeats.key_of(_exchange("/p1"))) == "stub-1"
