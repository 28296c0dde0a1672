"""Per-stream metrics, tallied in plain Python and folded into Prometheus in batches.

prometheus_client takes a lock and walks the histogram's buckets on every ``observe``
and ``inc``: about 25k instructions of a repeat stream's (its duration observed, its
request counted). Streams run on one event loop, so the servicer counts them here in
ints (no lock: event-loop only) and :meth:`StreamTally.flush` adds the counts to the
metrics: every FLUSH_EVERY_S (:func:`flush_every`), right before a scrape served by this
process (its /metrics is then exact) and when the server stops (so a ``--workers N``
worker's last counts reach the multiprocess files before it exits). Names, labels and
meaning of the metrics are unchanged.
"""

from __future__ import annotations

import asyncio
import logging
from bisect import bisect_left
from collections.abc import Callable

from ext_proc_server.core import metrics

log = logging.getLogger(__name__)

# The most a scrape of another process's metrics (--workers N) lags behind.
FLUSH_EVERY_S = 1.0
# Distinct (method as sent, status) pairs held before a flush: a client picks the method.
MAX_REQUEST_KEYS = 1024


class StreamTally:
    """The servicer's per-stream counts since the last :meth:`flush`. Event-loop only:
    not thread-safe. ``duration``: the histogram the stream durations are folded into
    (default: ``collector_requests_duration_seconds``)."""

    __slots__ = ("_bounds", "_buckets", "_drops", "_duration", "_requests", "_sum_s", "_truncated")

    def __init__(
        self, *, duration: metrics.TalliedHistogram = metrics.COLLECTOR_REQUEST_DURATION
    ) -> None:
        self._duration = duration
        self._bounds = duration.upper_bounds
        self._buckets = [0] * len(self._bounds)
        self._sum_s = 0.0
        self._requests: dict[tuple[str, int | None], int] = {}
        self._drops: dict[str, int] = {}
        self._truncated = 0

    def stream(self, duration_s: float, method: str, status: int | None) -> None:
        """One exchange seen: its stream's duration, its method as sent, its status."""
        # The first bound >= the duration: the bucket Histogram.observe picks.
        self._buckets[bisect_left(self._bounds, duration_s)] += 1
        self._sum_s += duration_s
        key = (method, status)
        count = self._requests.get(key)
        if count is not None:
            self._requests[key] = count + 1
            return
        if len(self._requests) >= MAX_REQUEST_KEYS:
            self.flush()
        self._requests[key] = 1

    def dropped(self, reason: str) -> None:
        """One capture dropped (``reason``: one of ``metrics.DROP_REASONS``)."""
        self._drops[reason] = self._drops.get(reason, 0) + 1

    def truncated(self) -> None:
        self._truncated += 1

    def flush(self) -> None:
        """Add the counts to the Prometheus metrics and start again from zero."""
        buckets, sum_s = self._buckets, self._sum_s
        requests, drops, truncated = self._requests, self._drops, self._truncated
        self._buckets = [0] * len(self._bounds)
        self._sum_s = 0.0
        self._requests, self._drops, self._truncated = {}, {}, 0
        if any(buckets):
            self._duration.fold(buckets, sum_s)
        for (method, status), count in requests.items():
            labels = (metrics.method_label(method), metrics.status_label(status))
            metrics.COLLECTOR_REQUESTS.labels(*labels).inc(count)
        for reason, count in drops.items():
            metrics.COLLECTOR_DROPPED.labels(reason=reason).inc(count)
        if truncated:
            metrics.COLLECTOR_TRUNCATED.inc(truncated)


async def flush_every(flush: Callable[[], None], every_s: float = FLUSH_EVERY_S) -> None:
    """Call ``flush`` every ``every_s`` until cancelled; a failure is logged, the next
    call still comes."""
    while True:
        await asyncio.sleep(every_s)
        try:
            flush()
        except Exception:
            log.exception("metrics: folding the stream tallies failed")
