"""Each imported stub's lifecycle, and drift, decided against the shard's record.

Before a batch is imported, the stubs it replaces are read from the shard's record (one
``HMGET``). A replacing stub keeps the ``first_seen`` of the one it replaces, and its
``capture_count`` goes on from there; when the status or JSON shape differs, a drift
record is prepared. The records, the drift count and each stub's ``last_seen`` (in the
shard's seen index, for ``stub_ttl_s``) are written in the transaction that acknowledges
the landed items (:meth:`StubLifecycle.on_landed`), so a replayed item is never drift
twice.
"""

from __future__ import annotations

import json
import time
from collections.abc import Collection, Sequence
from typing import Any

from redis import asyncio as aioredis

from ext_proc_server.core.metrics import MOCKADO_DRIFT, namespace_label
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader.drift import (
    DriftRecord,
    drift_between,
    mockado_metadata,
    queue_drift,
    stub_lifecycle,
)
from ext_proc_server.loader.entries import QueueItem, as_text
from ext_proc_server.mapping.noise import NoiseNormalizer


class StubLifecycle:
    """``await stamp(shard, items)`` before importing; ``on_landed(...)`` in the ack."""

    def __init__(
        self,
        redis: aioredis.Redis,
        *,
        keys: RedisKeys,
        normalizer: NoiseNormalizer,
        namespaces: Collection[str],
    ) -> None:
        self._redis = redis
        self._keys = keys
        self._normalizer = normalizer
        self._namespaces = frozenset(namespaces)
        # Drift found by stamp(), by mapping id, until its item lands.
        self._pending: dict[str, DriftRecord] = {}

    async def stamp(self, shard: str, items: Sequence[QueueItem]) -> None:
        """Carry the lifecycle of the stubs ``items`` replace, and note their drift."""
        ids = [item.mapping_id for item in items]
        if not ids:
            return
        replaced = await self._redis.hmget(self._keys.shard_record(shard), ids)
        now = time.time()
        for item, raw in zip(items, replaced, strict=True):
            if raw is None or item.mapping is None or not mockado_metadata(item.mapping):
                continue  # a first capture, or a stub mockado did not write
            try:
                old = json.loads(as_text(raw))
            except ValueError:
                continue
            item.mapping = carried_over(old, item.mapping)
            item.encoded = ""  # encoded again from the stamped mapping
            path = str(mockado_metadata(item.mapping).get("path_template", "/"))
            drift = drift_between(
                old,
                item.mapping,
                noise=self._normalizer.noise_fields(path),
                shard=shard,
                at_s=now,
            )
            if drift is not None:
                self._pending[item.mapping_id] = drift

    def on_landed(self, pipe: Any, *, shard: str, items: Sequence[QueueItem]) -> list[DriftRecord]:
        """Queue the writes for landed ``items`` on the ack transaction's pipeline. ->
        the drift records written (counted with :meth:`count` once the ack succeeded)."""
        seen = {}
        for item in items:
            if item.mapping is not None:
                last_seen = stub_lifecycle(item.mapping)["last_seen"]
                seen[item.mapping_id] = float(last_seen or time.time())
        if seen:
            pipe.zadd(self._keys.seen_index(shard), seen)
        drifts = [d for d in (self._pending.pop(i, None) for i in seen) if d is not None]
        queue_drift(pipe, keys=self._keys, records=drifts)
        return drifts

    def count(self, drifts: Sequence[DriftRecord]) -> None:
        for drift in drifts:
            MOCKADO_DRIFT.labels(namespace=namespace_label(drift.namespace, self._namespaces)).inc()

    def forget(self, items: Sequence[QueueItem]) -> None:
        """Items that did not land (refused, handed back): their drift is found again
        when they come back."""
        for item in items:
            self._pending.pop(item.mapping_id, None)


def carried_over(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """``new`` with the lifecycle of the stub it replaces: the earliest first_seen, the
    latest last_seen, and the captures of both. A replay of the stub already recorded
    (same capture time) keeps the recorded lifecycle as it is."""
    before, after = stub_lifecycle(old), stub_lifecycle(new)
    meta = mockado_metadata(new)
    if mockado_metadata(old).get("captured_at_s") == meta.get("captured_at_s"):
        meta.update(before)
        return {**new, "metadata": {**(new.get("metadata") or {}), "mockado": meta}}
    firsts = [t for t in (before["first_seen"], after["first_seen"]) if t is not None]
    lasts = [t for t in (before["last_seen"], after["last_seen"]) if t is not None]
    meta.update(
        first_seen=min(firsts) if firsts else None,
        last_seen=max(lasts) if lasts else None,
        capture_count=int(before["capture_count"] or 0) + int(after["capture_count"] or 0),
    )
    return {**new, "metadata": {**(new.get("metadata") or {}), "mockado": meta}}
