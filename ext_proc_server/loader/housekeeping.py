"""The loader's periodic chores, done between batches: keeping held items claimed, queue
metrics, each shard's catch-all, and removing consumers that left without saying so."""

from __future__ import annotations

import time

from ext_proc_server.loader.shards import Shard
from ext_proc_server.loader.stream import StreamConsumer

METRICS_INTERVAL_S = 2.0
# How often to check that each shard still has its catch-all (one cheap GET per shard).
CATCH_ALL_CHECK_INTERVAL_S = 5.0
STALE_CONSUMER_CHECK_INTERVAL_S = 300.0


class Housekeeping:
    def __init__(self, *, stream: StreamConsumer, shards: dict[str, Shard]) -> None:
        self._stream = stream
        self._shards = shards
        self._next_metrics_at = 0.0
        self._next_catch_all_check_at = 0.0
        self._next_stale_check_at = 0.0

    async def tick(self) -> None:
        """Whatever is due; cheap when nothing is."""
        # Items waiting in a down shard's backlog stay claimed by this live consumer.
        await self._stream.heartbeat()
        now = time.monotonic()
        if now >= self._next_metrics_at:
            self._next_metrics_at = now + METRICS_INTERVAL_S
            await self._stream.update_queue_metrics()
        if now >= self._next_catch_all_check_at:
            self._next_catch_all_check_at = now + CATCH_ALL_CHECK_INTERVAL_S
            for shard in self._shards.values():
                await shard.ensure_catch_all()
        if now >= self._next_stale_check_at:
            self._next_stale_check_at = now + STALE_CONSUMER_CHECK_INTERVAL_S
            await self._stream.remove_stale_consumers()
