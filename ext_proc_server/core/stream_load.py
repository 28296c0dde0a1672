"""Stream load: the capture streams in progress, shared by the servicer and the pipeline.

One event loop serves the gRPC streams and the first-seen pipeline (sanitize, dedup,
mapping). Past what one core can do, a stream that waits is lost where nobody counts
it (Envoy's circuit breaker skips capture), while an exchange that waits in the
pipeline's buffer is bounded and counted. So the streams go first: the servicer
counts its streams here, and the pipeline pauses its CPU stages while more than
``busy_above`` are in progress, resuming once they are down to half of it
(hysteresis: no flapping around one value).

Streams in progress include those waiting on a slow upstream, which cost nothing:
the pipeline also checks that the event loop is busy before it waits for them
(``pipeline.loop_demand``), and ``busy_above`` (``collector.pipeline_pause_streams``)
should sit above what the traffic keeps open when the collector keeps up (requests per
second times their duration). The pipeline keeps a minimum share while paused (one
exchange per worker every ``share_every_s``), so a wrong guess slows it down but never
stops it.

Streams waiting inside gRPC count too: grpc.aio hands new streams to the servicer one
per loop turn or two, so while the loop is busy they pile up there, open for Envoy
(whose circuit breaker counts them) and unseen by ``active``. Given a reader of the
streams open on the gRPC server (``watch_open_streams``), ``poll`` reads it at most every
``POLL_EVERY_S`` and the load is the larger of the two counts.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

# While the streams are busy, each pipeline worker still prepares one exchange this
# often: about 100 exchanges/s per worker, under 4% of a core at 380 us each.
SHARE_EVERY_S = 0.01
# How often ``poll`` reads the streams open on the gRPC server: a read costs about 0.25 ms
# (channelz), so about 1 % of a core while the pipeline runs; 256 streams (Envoy's default
# circuit breaker) take 0.26 s to pile up at 1,000 rps.
POLL_EVERY_S = 0.02


class StreamLoad:
    """Streams in progress on one event loop (``active``), whether they are many enough
    that the pipeline should wait (``busy``), and how long it may wait before it runs
    one exchange anyway (``share_every_s``). Event-loop only: not thread-safe."""

    __slots__ = (
        "_busy_above",
        "_polled_at",
        "_quiet",
        "_quiet_at",
        "_read_open_streams",
        "active",
        "busy",
        "open_streams",
        "share_every_s",
    )

    def __init__(self, *, busy_above: int, share_every_s: float = SHARE_EVERY_S) -> None:
        if busy_above < 1:
            raise ValueError("busy_above: at least 1")
        if share_every_s <= 0:
            raise ValueError("share_every_s: must be positive")
        self.active = 0
        # Streams open on the gRPC server at the last poll (handed over or not).
        self.open_streams = 0
        self.busy = False
        self.share_every_s = share_every_s
        self._busy_above = busy_above
        self._quiet_at = busy_above // 2
        self._quiet = asyncio.Event()
        self._quiet.set()
        self._read_open_streams: Callable[[], int | None] | None = None
        self._polled_at = 0.0

    def watch_open_streams(self, reader: Callable[[], int | None]) -> None:
        """Also count the streams open on the gRPC server, as ``reader`` returns them
        (None: unknown), read by ``poll``."""
        self._read_open_streams = reader

    def stream_started(self) -> None:
        self.active += 1
        self._update()

    def stream_ended(self) -> None:
        self.active -= 1
        self._update()

    def poll(self) -> None:
        """Read the streams open on the gRPC server, if watched and last read at least
        ``POLL_EVERY_S`` ago; the pipeline calls it before it decides to run or wait."""
        if self._read_open_streams is None:
            return
        now = time.monotonic()
        if now - self._polled_at < POLL_EVERY_S:
            return
        self._polled_at = now
        count = self._read_open_streams()
        self.open_streams = 0 if count is None else count
        self._update()

    def _update(self) -> None:
        load = max(self.active, self.open_streams)
        if load > self._busy_above and not self.busy:
            self.busy = True
            self._quiet.clear()
        elif self.busy and load <= self._quiet_at:
            self.busy = False
            self._quiet.set()

    async def wait_quiet(self, timeout_s: float) -> bool:
        """Wait until not busy, at most ``timeout_s``; True when quiet."""
        if not self.busy:
            return True
        try:
            await asyncio.wait_for(self._quiet.wait(), timeout_s)
        except TimeoutError:
            return False
        return True
