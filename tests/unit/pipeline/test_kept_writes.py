"""A Redis that lost the stubs queued (restarted empty): the in-process LRUs forget every
request they hold as recorded, so the next capture of one is recorded again instead of
being counted as a repeat of a stub that exists nowhere."""

from __future__ import annotations

import asyncio

import pytest
from redis.exceptions import ConnectionError as RedisConnectionError

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.errors import QueueError
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.pipeline import default_stages
from ext_proc_server.pipeline.kept_writes import CHECK_EVERY_S, KeptWrites

KEYS = RedisKeys(queue="q")


class StateRedis:
    """The stub states and the marker, in memory: EXISTS, GET and SET (NX), as the
    collector's grants allow."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.strings: dict[str, bytes] = {}
        self.asked = 0  # EXISTS asked
        self.down = False

    def register_script(self, _script: str) -> None:
        """The collector's scripts are registered when it is wired; none runs here."""

    def _answering(self) -> None:
        if self.down:
            raise RedisConnectionError("gone")

    async def exists(self, *names: str) -> int:
        self.asked += 1
        self._answering()
        return sum(1 for name in names if name in self.keys)

    async def get(self, name: str) -> bytes | None:
        self._answering()
        return self.strings.get(name)

    async def set(self, name: str, value: str, *, nx: bool = False) -> bool | None:
        self._answering()
        if nx and name in self.strings:
            return None
        self.strings[name] = value.encode()
        return True

    def restart_empty(self) -> None:
        self.keys.clear()
        self.strings.clear()


def _exchange(path: str) -> Exchange:
    return Exchange(
        id=path,
        request=HttpRequest(method="GET", path=path, authority="api:8080"),
        response=HttpResponse(
            status=200, headers=(("content-type", "application/json"),), body=b'{"ok":1}'
        ),
    )


def _kept(redis: StateRedis, now: list[float], forgets: list[int]) -> KeptWrites:
    return KeptWrites(
        redis,  # type: ignore[arg-type]
        keys=KEYS,
        forget=lambda: forgets.append(1),
        clock=lambda: now[0],
    )


def test_redis_restarted_empty_makes_both_lrus_forget_what_they_hold_as_recorded() -> None:
    redis = StateRedis()
    wired = default_stages(CollectorConfig(), redis=redis, keys=KEYS)
    assert wired.kept_writes is not None and wired.repeats is not None
    repeats, dedup = wired.repeats, wired.is_new_locally
    key = repeats.key_of(_exchange("/orders/1"))
    assert dedup("h1", "stub-1", False)  # first seen: recorded from now on
    repeats.remember(key, "stub-1")
    wired.kept_writes.queued("stub-1")  # queued, then Redis restarted with no data
    assert not dedup("h1", "stub-1", False) and repeats.recorded(key) is not None
    assert asyncio.run(wired.kept_writes.check()) is True
    assert dedup("h1", "stub-1", False), "the dedup LRU still takes the lost stub as recorded"
    assert repeats.recorded(key) is None, "the repeat index still takes it as recorded"


def test_the_first_stub_queued_since_a_forget_is_the_witness_and_checks_are_spaced() -> None:
    redis, now, forgets = StateRedis(), [100.0], []
    kept = _kept(redis, now, forgets)
    assert asyncio.run(kept.check()) is False and redis.asked == 0  # nothing queued: no ask
    redis.keys.add(KEYS.stub_state("first"))
    kept.queued("first")
    kept.queued("second")  # its state was never written: it is not the one asked about
    assert asyncio.run(kept.check()) is False and redis.asked == 1
    assert redis.strings[KEYS.kept_marker]  # the token, kept from now on
    now[0] += CHECK_EVERY_S / 2
    assert asyncio.run(kept.check()) is False  # not due
    redis.restart_empty()
    now[0] += CHECK_EVERY_S / 2
    assert asyncio.run(kept.check()) is True and forgets == [1]
    assert redis.asked == 1  # the token told: the witness was not asked for again
    # Forgotten once: no witness until the next stub is queued.
    now[0] += CHECK_EVERY_S
    assert asyncio.run(kept.check()) is False and redis.asked == 1
    redis.keys.add(KEYS.stub_state("third"))
    kept.queued("third")
    assert asyncio.run(kept.check()) is False and redis.asked == 2 and forgets == [1]


def test_a_redis_that_cannot_answer_forgets_nothing_and_is_asked_again() -> None:
    redis, now, forgets = StateRedis(), [100.0], []
    kept = _kept(redis, now, forgets)
    kept.queued("stub-1")
    redis.down = True
    with pytest.raises(QueueError):
        asyncio.run(kept.check())
    assert forgets == []
    redis.down = False
    redis.keys.add(KEYS.stub_state("stub-1"))
    assert asyncio.run(kept.check()) is False and redis.asked == 1 and forgets == []


def test_a_witness_removed_after_it_was_found_is_no_forget() -> None:
    """The loader removed it (or its TTL ran out): Redis kept the token, and its data."""
    redis, now, forgets = StateRedis(), [100.0], []
    kept = _kept(redis, now, forgets)
    redis.keys.add(KEYS.stub_state("first"))
    kept.queued("first")
    assert asyncio.run(kept.check()) is False
    redis.keys.discard(KEYS.stub_state("first"))  # the loader retired it
    for _ in range(3):
        now[0] += CHECK_EVERY_S
        assert asyncio.run(kept.check()) is False and forgets == []
    redis.restart_empty()
    redis.keys.add(KEYS.stub_state("after"))  # queued into the Redis that came back
    kept.queued("after")
    now[0] += CHECK_EVERY_S
    assert asyncio.run(kept.check()) is True and forgets == [1]


def test_a_witness_gone_before_it_was_first_found_is_a_forget() -> None:
    """Nothing proves the marker read then was there when the witness was written."""
    redis, now, forgets = StateRedis(), [100.0], []
    kept = _kept(redis, now, forgets)
    kept.queued("never-written")
    assert asyncio.run(kept.check()) is True and forgets == [1]


def test_another_token_after_a_restart_is_a_forget() -> None:
    """Redis restarted empty and another collector set the marker again first."""
    redis, now, forgets = StateRedis(), [100.0], []
    kept = _kept(redis, now, forgets)
    redis.keys.add(KEYS.stub_state("first"))
    kept.queued("first")
    assert asyncio.run(kept.check()) is False
    redis.restart_empty()
    redis.strings[KEYS.kept_marker] = b"set by another collector"
    now[0] += CHECK_EVERY_S
    assert asyncio.run(kept.check()) is True and forgets == [1]
