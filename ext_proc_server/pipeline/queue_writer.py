"""The capture queue's wire format and its producer side.

Each stream entry carries one WireMock mapping as compact JSON, plus the
destination host (for shard routing) and the enqueue time (for queue lag).
The loader (``ext_proc_server.loader.consumer``) is the consumer side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import zip_longest

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from ext_proc_server.core.errors import QueueError
from ext_proc_server.core.queue_entries import FIELD_ENQUEUED_AT, FIELD_HOST, FIELD_MAPPING
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.mapping.stubs import mapping_id

# Claim-then-XADD for a whole batch in one round trip. Per item: skip it when its dedup
# claim exists (another replica, or an earlier item, queued it) unless it is a success
# ("o") of a stub last queued from an error answer ("e": mapping.dedup), or its stub has
# no state (the loader removed the stub: it is recorded again), else XADD, then set the
# claim and the stub's state. XADD goes first so a failed XADD never leaves a
# claim behind (a retry would then call the capture a duplicate and lose it). Then, when
# given, the item's repeat claim is set: queued now or before, it is recorded.
# KEYS: stream, claim key per item, stub state per item, then (optional) repeat claims.
# ARGV: ttl_s, item count, mapping, host, enqueued_at, state per item, then repeat values.
_CLAIM_AND_ENQUEUE_LUA = f"""
local n = tonumber(ARGV[2])
local with_seen = #KEYS > 2 * n + 1
local out = {{}}
for i = 1, n do
  local a = 3 + (i - 1) * 4
  local new = redis.call('EXISTS', KEYS[1 + i]) == 0
  if not new then
    local state = redis.call('GET', KEYS[1 + n + i])
    new = not state or (ARGV[a + 3] == 'o' and state == 'e')
  end
  if new then
    redis.call('XADD', KEYS[1], '*', '{FIELD_MAPPING}', ARGV[a], '{FIELD_HOST}', ARGV[a + 1],
               '{FIELD_ENQUEUED_AT}', ARGV[a + 2])
    redis.call('SET', KEYS[1 + i], '1', 'EX', ARGV[1])
    redis.call('SET', KEYS[1 + n + i], ARGV[a + 3], 'EX', ARGV[1])
    out[i] = 1
  else
    out[i] = 0
  end
  if with_seen then
    redis.call('SET', KEYS[1 + 2 * n + i], ARGV[2 + 4 * n + i], 'EX', ARGV[1])
  end
end
return out
"""


class ClaimAndEnqueue:
    """Dedup claims and XADDs of one batch in one round trip (a Lua script), instead
    of two pipelined round trips with one command per item each."""

    def __init__(self, redis: aioredis.Redis, *, keys: RedisKeys, ttl_s: int) -> None:
        self._keys = keys
        self._ttl_s = str(ttl_s)
        self._script = redis.register_script(_CLAIM_AND_ENQUEUE_LUA)

    async def __call__(
        self,
        hashes: Sequence[str],
        entries: Sequence[Mapping[str, bytes | str]],
        seen: Sequence[tuple[str, str]] = (),
        stubs: Sequence[tuple[str, bool]] = (),
    ) -> list[bool]:
        """-> claimed (and queued) per item; raises QueueError on Redis errors. ``seen``:
        (name, value) of each item's repeat claim, or () for none. ``stubs``: each item's
        stub id (its mapping id) and whether it is an error answer (none: the id of its
        dedup hash, not one)."""
        if not hashes:
            return []
        keys = [self._keys.stream]
        args = [self._ttl_s, str(len(hashes))]
        states = []
        for dedup_hash, entry, (stub, error) in zip_longest(
            hashes, entries, stubs, fillvalue=("", False)
        ):
            keys.append(self._keys.dedup_claim(dedup_hash))
            states.append(self._keys.stub_state(stub or mapping_id(dedup_hash)))
            mapping, host = entry[FIELD_MAPPING], entry[FIELD_HOST]
            args += (mapping, host, entry[FIELD_ENQUEUED_AT], "e" if error else "o")
        keys += states
        if seen:
            if len(seen) != len(hashes):
                raise ValueError("claim and enqueue: one repeat claim per item")
            keys += [self._keys.repeat_claim(name) for name, _ in seen]
            args += [value for _, value in seen]
        try:
            replies = await self._script(keys=keys, args=args)
        except RedisError as exc:
            raise QueueError(
                f"redis: claim and enqueue of {len(hashes)} mappings failed ({type(exc).__name__})"
            ) from exc
        return [bool(reply) for reply in replies]


async def enqueue_batch(
    redis: aioredis.Redis,
    *,
    keys: RedisKeys,
    entries: Sequence[Mapping[str, bytes | str]],
) -> None:
    """XADD every entry in one pipelined round trip. The stream is never trimmed:
    trimming would silently drop queued mappings."""
    if not entries:
        return
    try:
        async with redis.pipeline(transaction=False) as pipe:
            for entry in entries:
                pipe.xadd(keys.stream, dict(entry))
            await pipe.execute()
    except RedisError as exc:
        raise QueueError(
            f"redis: enqueue of {len(entries)} mappings failed ({type(exc).__name__})"
        ) from exc


# The repeat claims of a batch, each only while its stub has a state: the loader deletes
# a removed stub's state, so its claims no longer say it is recorded.
# KEYS: the repeat claims. ARGV: the stub states' prefix. A value is "fingerprint:id".
_REPEAT_CLAIMS_LUA = """
local out = {}
for i = 1, #KEYS do
  local value = redis.call('GET', KEYS[i])
  if value then
    local at = string.find(value, ':', 1, true)
    if not at or redis.call('EXISTS', ARGV[1] .. string.sub(value, at + 1)) == 0 then
      value = false
    end
  end
  out[i] = value
end
return out
"""


class RepeatClaims:
    """The values of repeat claims (None where absent, or where the loader removed the
    stub since), in one round trip."""

    def __init__(self, redis: aioredis.Redis, *, keys: RedisKeys) -> None:
        self._keys = keys
        self._script = redis.register_script(_REPEAT_CLAIMS_LUA)

    async def __call__(self, names: Sequence[str]) -> list[bytes | None]:
        if not names:
            return []
        claims = [self._keys.repeat_claim(n) for n in names]
        try:
            values = await self._script(keys=claims, args=[self._keys.stub_state_prefix])
        except RedisError as exc:
            raise QueueError(
                f"redis: lookup of {len(names)} repeat claims failed ({type(exc).__name__})"
            ) from exc
        return [value or None for value in values]


# Repeats per mapping id: stamp last_seen and add to the count, all ids in one command.
# One HINCRBY per id in a redis-py pipeline cost the collector about 13 us of CPU per id
# (packing each command, parsing each reply); the script's arguments about 2.5 us.
# Returns the ids whose stub was last queued from an error answer ("e", see
# _CLAIM_AND_ENQUEUE_LUA): the reporting replica may hold their success as recorded.
# KEYS: last_seen hash, seen_counts hash, then each id's stub state.
# ARGV: now, then (mapping id, count) pairs.
_REPORT_SEEN_LUA = """
local now = ARGV[1]
local held = {}
for i = 2, #ARGV, 2 do
  redis.call('HSET', KEYS[1], ARGV[i], now)
  redis.call('HINCRBY', KEYS[2], ARGV[i], ARGV[i + 1])
  if redis.call('GET', KEYS[2 + i / 2]) == 'e' then
    held[#held + 1] = ARGV[i]
  end
end
return held
"""


class ReportSeen:
    """Repeats per mapping id, for the loader to stamp ``last_seen`` and
    ``capture_count`` on the stubs (two hashes, one round trip, one script call; the
    loader takes them). Answers which of those stubs were last queued from an error
    answer, by any replica."""

    def __init__(self, redis: aioredis.Redis, *, keys: RedisKeys) -> None:
        self._keys = keys
        self._hashes = [keys.last_seen, keys.seen_counts]
        self._script = redis.register_script(_REPORT_SEEN_LUA)

    async def __call__(self, counts: Mapping[str, int], *, now_s: float) -> list[str]:
        """-> the reported ids held by an error answer. Raises QueueError on Redis errors."""
        if not counts:
            return []
        args: list[str | int] = [f"{now_s:.3f}"]
        for stub_id, count in counts.items():
            args += (stub_id, count)
        keys = self._hashes + [self._keys.stub_state(stub_id) for stub_id in counts]
        try:
            held = await self._script(keys=keys, args=args)
        except RedisError as exc:
            raise QueueError(
                f"redis: reporting {len(counts)} repeated mappings failed ({type(exc).__name__})"
            ) from exc
        return [value.decode() if isinstance(value, bytes) else str(value) for value in held]
