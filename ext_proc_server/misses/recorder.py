"""From webhook calls to the miss report, off every serving path.

The loader's /unmatched handler only parses the event and ``offer``s it: a bounded
queue in memory (past ``backlog``, a miss is counted as dropped, never waited for).
Every ``flush_interval_s`` the queued events are sanitized and reduced to templates (in
a worker thread), folded by logical miss, and written to the store; a miss new to the
report, or whose closest stub was last looked for more than ``closest_refresh_s`` ago,
gets its closest stub looked for among the stubs of its host's shard.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from redis.exceptions import RedisError

from ext_proc_server.core.errors import MockadoError
from ext_proc_server.core.metrics import MISSES_DROPPED, MISSES_RECORDED
from ext_proc_server.misses.closest import closest_stub
from ext_proc_server.misses.event import MissEvent
from ext_proc_server.misses.store import MissStore, MissUpdate
from ext_proc_server.misses.template import MissSample

log = logging.getLogger(__name__)

# Closest-stub lookups per flush (each compares the miss with every stub of its shard);
# the rest wait for a later flush, so a burst of new misses never stalls the report.
MAX_LOOKUPS_PER_FLUSH = 50

Describe = Callable[[MissEvent], MissSample]
StubsFor = Callable[[str], Awaitable[Sequence[Mapping[str, Any]]]]
NamespacesFor = Callable[[str], Sequence[str]]


@dataclass
class _Fold:
    sample: MissSample
    count: int
    last_seen_s: float


class MissRecorder:
    """``offer`` events; ``await run(stop)`` (or ``await flush()``) records them."""

    def __init__(
        self,
        *,
        store: MissStore,
        describe: Describe,
        stubs_for: StubsFor,
        namespaces_for: NamespacesFor,
        backlog: int = 1000,
        flush_interval_s: float = 1.0,
        closest_refresh_s: float = 60.0,
    ) -> None:
        self.store = store
        self._describe = describe
        self._stubs_for = stubs_for
        self._namespaces_for = namespaces_for
        self._events: collections.deque[MissEvent] = collections.deque()
        self._backlog = backlog
        self._flush_interval_s = flush_interval_s
        self._closest_refresh_s = closest_refresh_s
        # When this replica last looked for each miss's closest stub (bounded by the store).
        self._closest_at: dict[str, float] = {}

    def offer(self, event: MissEvent) -> None:
        if len(self._events) >= self._backlog:
            MISSES_DROPPED.labels(reason="backlog_full").inc()
            return
        self._events.append(event)

    async def run(self, stop: asyncio.Event) -> None:
        """Flush every ``flush_interval_s`` until ``stop``; a Redis outage is logged and
        the events of that flush are lost (they were counted as unmatched already)."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._flush_interval_s)
            try:
                await self.flush()
            except (RedisError, MockadoError) as exc:
                log.warning("miss report: could not record misses (%s)", type(exc).__name__)
            except Exception as exc:
                # A bug: logged by type only (a message could quote a raw request), and the
                # report keeps going with the next flush.
                log.error("miss report: flush failed (%s)", type(exc).__name__)

    async def flush(self) -> int:
        """Record every queued event now. -> how many were recorded."""
        events = list(self._events)
        self._events.clear()
        if not events:
            return 0
        folds = await asyncio.to_thread(self._fold, events)
        stored = await self.store.descriptions(list(folds))
        room = await self.store.room()
        updates: list[MissUpdate] = []
        stubs: dict[str, Sequence[Mapping[str, Any]]] = {}
        lookups = MAX_LOOKUPS_PER_FLUSH
        for miss_id, fold in folds.items():
            old = stored.get(miss_id)
            if old is None:
                if room <= 0:
                    MISSES_DROPPED.labels(reason="report_full").inc(fold.count)
                    continue
                room -= 1
            description = None
            if old is None or (lookups > 0 and self._refresh_due(miss_id)):
                description = await self._description(fold, old, stubs, lookup=lookups > 0)
                lookups -= 1
            updates.append(MissUpdate(miss_id, fold.count, fold.last_seen_s, description))
        await self.store.write(updates)
        recorded = sum(u.count for u in updates)
        MISSES_RECORDED.inc(recorded)
        return recorded

    def _fold(self, events: list[MissEvent]) -> dict[str, _Fold]:
        folds: dict[str, _Fold] = {}
        for event in events:
            try:
                sample = self._describe(event)
            except MockadoError:
                MISSES_DROPPED.labels(reason="invalid").inc()
                continue
            fold = folds.get(sample.miss_id)
            if fold is None:
                folds[sample.miss_id] = _Fold(sample, 1, event.seen_at_s)
            else:
                fold.count += 1
                fold.last_seen_s = max(fold.last_seen_s, event.seen_at_s)
        return folds

    def _refresh_due(self, miss_id: str) -> bool:
        last = self._closest_at.get(miss_id)
        return last is None or time.monotonic() - last >= self._closest_refresh_s

    async def _description(
        self,
        fold: _Fold,
        old: Mapping[str, Any] | None,
        stubs: dict[str, Sequence[Mapping[str, Any]]],
        *,
        lookup: bool,
    ) -> dict[str, Any]:
        """The stored description; ``lookup`` False leaves the closest stub for later."""
        sample = fold.sample
        closest = None
        if lookup:
            if sample.host not in stubs:
                stubs[sample.host] = await self._stubs_for(sample.host)
            closest = await asyncio.to_thread(closest_stub, sample, stubs[sample.host])
            if len(self._closest_at) >= 2 * max(1, self.store.max_misses):
                self._closest_at.clear()
            self._closest_at[sample.miss_id] = time.monotonic()
        namespaces = set(self._namespaces_for(sample.host))
        same_host = closest is not None and all(d.kind != "host" for d in closest.differences)
        if closest is not None and same_host and closest.namespace:
            namespaces.add(closest.namespace)
        return {
            "host": sample.destination,
            "method": sample.method,
            "path": sample.path,
            "query_keys": list(sample.query_keys),
            "namespaces": sorted(namespaces),
            "first_seen_s": old["first_seen_s"] if old else fold.last_seen_s,
            "closest": closest.as_dict() if closest else None,
            # Not looked for yet (this flush had its fill): it is when the miss recurs.
            "closest_pending": not lookup,
        }
