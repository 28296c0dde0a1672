"""Stubs the loader removed, recorded again at their next capture.

A claim says "already recorded": while it holds, a capture of its request is a repeat and
writes nothing. When the loader removes a stub (an old-format stub retired, a stub past
``loader.stub_ttl_s``, a stub WireMock refuses on reload) the claim would go on saying so
until it expires (``dedup_ttl_s``), and the request would miss all that time. So:

* In Redis, a dedup or repeat claim counts only while its stub's state
  (``RedisKeys.stub_state``) exists; the loader deletes the state of every stub it removes
  (``loader.claims``), in the same step as it logs the removal. A claim written before it
  is then ignored by every replica at once.
* In-process, the LRUs (``Deduplicator``, ``RepeatIndex``) hold recorded requests for
  up to ``dedup_ttl_s``. The loader appends the removed ids to a stream
  (``RedisKeys.removed_stubs``); :class:`RemovedStubs` reads what is new in it (one
  ``XRANGE``, empty nearly always) at most every :data:`READ_EVERY_S`, and both LRUs forget
  those stubs. A running collector records a removed stub's request again at its first
  capture after that read: within :data:`READ_EVERY_S` plus a ``flush_interval``.

The stream keeps an hour (``REMOVED_STUBS_KEPT_S``); a collector that could not read it
for half that long forgets every stub it holds as recorded (the next captures ask Redis).
Only mapping ids go there, never a request.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from redis import asyncio as aioredis
from redis.exceptions import RedisError

from ext_proc_server.core.errors import QueueError
from ext_proc_server.core.redis_keys import REMOVED_STUBS_KEPT_S, RedisKeys
from ext_proc_server.mapping.dedup import Deduplicator
from ext_proc_server.mapping.repeats import RepeatIndex

log = logging.getLogger(__name__)

# How often a collector reads the log of removed stubs, at most.
READ_EVERY_S = 1.0
# Entries read per round trip.
READ_PAGE = 256
# The log's field holding the removed ids.
IDS_FIELD = "ids"


class RemovedStubs:
    """``await removed()``: forget, in both in-process LRUs, the stubs the loader removed
    since the last read. -> how many ids were read (0 when not due yet)."""

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        keys: RedisKeys,
        deduplicator: Deduplicator,
        repeats: RepeatIndex,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._redis = redis
        self._key = keys.removed_stubs
        self._deduplicator = deduplicator
        self._repeats = repeats
        self._clock = clock
        # The last entry read ("0-0": the whole log, at start: the LRUs are empty then).
        self._cursor = "0-0"
        self._last_read_at: float | None = None

    async def __call__(self) -> int:
        now = self._clock()
        last = self._last_read_at
        if last is not None and now - last < READ_EVERY_S:
            return 0
        read = 0
        while True:
            entries = await self._page()
            ids: set[str] = set()
            for _entry_id, fields in entries:
                ids.update(_text(fields.get(IDS_FIELD.encode(), b"")).split())
            if ids:
                self._deduplicator.forget_stubs(ids)
                self._repeats.forget_mappings(ids)
                read += len(ids)
            if entries:
                self._cursor = _text(entries[-1][0])
            if len(entries) < READ_PAGE:
                break
        if last is not None and now - last > REMOVED_STUBS_KEPT_S / 2:
            # Entries may have left the log unread: nothing held is trusted.
            self._deduplicator.forget_all()
            self._repeats.forget_all()
            log.info("removed stubs not read for %.0fs: forgot every recorded request", now - last)
        self._last_read_at = now
        return read

    async def _page(self) -> list[tuple[bytes, dict[bytes, bytes]]]:
        try:
            entries: list[tuple[bytes, dict[bytes, bytes]]] = await self._redis.xrange(
                self._key, min=f"({self._cursor}", max="+", count=READ_PAGE
            )
        except RedisError as exc:
            raise QueueError(f"redis: reading removed stubs failed ({type(exc).__name__})") from exc
        return entries


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
