"""The loader's periodic chores, done between batches: keeping held items claimed, queue
metrics, and removing consumers that left without saying so. (Each shard's catch-all
and stubs are watched by ``resync``.)"""

from __future__ import annotations

import time

from ext_proc_server.loader.stream import StreamConsumer

METRICS_INTERVAL_S = 2.0
STALE_CONSUMER_CHECK_INTERVAL_S = 300.0


class Housekeeping:
    def __init__(self, *, stream: StreamConsumer) -> None:
        self._stream = stream
        self._next_metrics_at = 0.0
        self._next_stale_check_at = 0.0

    async def tick(self) -> None:
        """Whatever is due; cheap when nothing is."""
        # Items waiting in a down shard's backlog stay claimed by this live consumer.
        await self._stream.heartbeat()
        now = time.monotonic()
        if now >= self._next_metrics_at:
            self._next_metrics_at = now + METRICS_INTERVAL_S
            await self._stream.update_queue_metrics()
        if now >= self._next_stale_check_at:
            self._next_stale_check_at = now + STALE_CONSUMER_CHECK_INTERVAL_S
            await self._stream.remove_stale_consumers()
