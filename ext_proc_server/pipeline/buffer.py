"""After the stream: a bounded buffer, and the workers that empty it.

The gRPC streams only ``submit`` finished exchanges; ``submit`` never blocks
and never waits for Redis. ``async_workers`` tasks take batches of up to
``batch_size`` (waiting at most ``flush_interval`` to fill one), run the CPU
stages (:func:`~ext_proc_server.pipeline.stages.prepare`, a step at a time over
the batch) in the event loop, yielding every ``YIELD_EVERY_S`` (so streams stay
responsive; a thread would only add switching cost under the GIL), then write
the batch to Redis in one round trip: a Lua script that, per item, skips a hash
already claimed, else XADDs the mapping and sets the dedup claim
(``Stages.claim_and_enqueue``; without it, two pipelined round trips: claims,
then XADDs).

Bounds and loss, decided once:

* Everything held - waiting in the buffer or in a batch being written - counts
  against ``buffer_size``. When full, new captures are dropped
  (``collector_dropped_total{reason="buffer_full"}``); memory never grows past it.
* A batch taken from the buffer is retried with backoff (0.1 s doubling to 5 s)
  until Redis accepts it, so when Redis comes back, flushing resumes on its own
  and nothing accepted is lost while the process lives. On shutdown the buffer is
  flushed best effort for ``drain_timeout_s``; what is still held then is
  counted as ``reason="shutdown"``. A Redis back empty lost what no loader had taken:
  the in-process LRUs then forget every recorded request (``kept_writes``), so those
  requests are recorded again at their next capture.
* What is held is bounded twice: ``buffer_size`` exchanges and ``buffer_bytes``, their
  bodies, headers, query and trailers plus ``EXCHANGE_OVERHEAD_BYTES`` each
  (``held_size``); the first bound hit drops.

Streams first: given a :class:`~ext_proc_server.core.stream_load.StreamLoad` (the
servicer's count of streams in progress), the CPU stages pause while it is busy, so a
burst past one core's capacity waits here, bounded and counted, rather than in Envoy,
where its circuit breaker would skip capture uncounted. While paused each worker
still prepares one exchange every ``StreamLoad.share_every_s`` (never starved); streams
that leave the event-loop thread mostly idle (under ``LOOP_BUSY_SHARE`` of a check: they
wait on slow upstreams) do not pause it; and a stopping pipeline does not pause (the
drain has the loop: no stream is accepted then).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Iterable
from itertools import chain

from redis.exceptions import RedisError

from ext_proc_server.core import metrics
from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.errors import QueueError
from ext_proc_server.core.exchange import Exchange, Pairs
from ext_proc_server.core.queue_entries import QueueEntry
from ext_proc_server.core.stream_load import StreamLoad
from ext_proc_server.core.tasks import cancel_and_wait
from ext_proc_server.mapping.repeats import RepeatIndex, RepeatKey
from ext_proc_server.pipeline.loop_demand import LoopDemand
from ext_proc_server.pipeline.retry import RedisRetry
from ext_proc_server.pipeline.skips import Skipped
from ext_proc_server.pipeline.stages import Prepared, Stages, map_sanitized, sanitize_one

log = logging.getLogger(__name__)

# Longest CPU stretch of the pipeline before it lets the gRPC streams run.
YIELD_EVERY_S = 0.002
# A paused worker looks this often whether the streams still keep the loop busy (and
# whether the pipeline is stopping).
PAUSE_CHECK_EVERY_S = 0.01
# Below this share of a check that the event-loop thread ran or waited for a CPU
# (LoopDemand), the streams in progress are waiting on their upstreams, not on this
# process: no pause, for IDLE_STREAMS_S (a check costs PAUSE_CHECK_EVERY_S).
LOOP_BUSY_SHARE = 0.25
IDLE_STREAMS_S = 0.1
# What one held exchange costs besides its bodies and its header, query and trailer
# pairs (the exchange, its two messages and their objects), for ``buffer_bytes``.
EXCHANGE_OVERHEAD_BYTES = 3 * 1024
# What one (name, value) pair costs besides its text: a tuple and two str objects.
PAIR_OVERHEAD_BYTES = 160

_dropped = metrics.COLLECTOR_DROPPED


class CapturePipeline:
    """The bounded buffer between the streams and Redis, and its workers. ``load``: the
    streams in progress, which the CPU stages yield to (None: they never pause)."""

    def __init__(
        self, config: CollectorConfig, *, stages: Stages, load: StreamLoad | None = None
    ) -> None:
        self._config = config
        self._stages = stages
        self._load = load
        self._buffer: deque[Exchange] = deque()
        # What each buffered exchange counts against buffer_bytes (held_size), in order.
        self._sizes: deque[int] = deque()
        self._in_flight = 0
        self._held_bytes = 0
        # Until then (time.monotonic), the streams in progress were seen idle: no pause.
        self._streams_idle_until = 0.0
        self._loop_demand: LoopDemand | None = None
        self._limit = config.buffer_size
        self._limit_bytes = config.buffer_bytes
        self._batch_size = config.batch_size
        self._flush_interval_s = config.flush_interval
        self._dedup_enabled = config.dedup_enabled
        self._mark_truncated = config.truncated_responses == "mark"
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._workers: list[asyncio.Task[None]] = []
        self._drop_buffer_full = _dropped.labels(reason="buffer_full")
        self._retry = RedisRetry()
        self._reporter: asyncio.Task[None] | None = None
        # Duplicates found after sanitizing (local, or claimed by another replica), per
        # mapping id, for Stages.seen_again beside the fast path's repeats. Bounded.
        self._duplicates: dict[str, int] = {}

    @property
    def repeats(self) -> RepeatIndex | None:
        """The repeat fast path's index (None: off), for the streams to check first."""
        return self._stages.repeats

    @property
    def redis_failing(self) -> bool:
        """Redis is failing: batches are being retried."""
        return self._retry.failing

    # -- the streams' side ----------------------------------------------------------

    @property
    def held(self) -> int:
        return len(self._buffer) + self._in_flight

    @property
    def held_bytes(self) -> int:
        """What the held exchanges weigh, as ``buffer_bytes`` counts it."""
        return self._held_bytes

    def submit(self, exchange: Exchange) -> bool:
        """Hand over a finished exchange. Never blocks; False when it was dropped."""
        size = held_size(exchange)
        if (
            self._stopping
            or self.held >= self._limit
            or self._held_bytes + size > self._limit_bytes
        ):
            self._drop_buffer_full.inc()
            return False
        self._held_bytes += size
        self._buffer.append(exchange)
        self._sizes.append(size)
        metrics.COLLECTOR_QUEUE_SIZE.set(self.held)
        if not self._wakeup.is_set():
            self._wakeup.set()
        return True

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        """Start the workers; on the event loop's thread (LoopDemand reads that thread)."""
        if self._load is not None:
            self._loop_demand = LoopDemand()
        for n in range(self._config.async_workers):
            self._workers.append(asyncio.create_task(self._worker(), name=f"pipeline-{n}"))
        stages = self._stages
        if (
            stages.seen_again is not None
            or stages.forget_removed is not None
            or stages.kept_writes is not None
        ):
            self._reporter = asyncio.create_task(self._report_repeats(), name="pipeline-repeats")

    async def stop(self, *, drain_timeout_s: float = 5.0) -> None:
        """Stop taking captures, flush what is held for up to drain_timeout_s, then give up."""
        self._stopping = True
        self._wakeup.set()
        if self._reporter is not None:
            await self._stop_reporter(drain_timeout_s)
        pending: set[asyncio.Task[None]] = set()
        if self._workers:
            _done, pending = await asyncio.wait(self._workers, timeout=drain_timeout_s)
        lost = self.held
        # Cancelled, a worker counts its unwritten batch.
        await cancel_and_wait(pending, timeout_s=drain_timeout_s)
        if self._buffer:
            _dropped.labels(reason="shutdown").inc(len(self._buffer))
        if lost:
            log.warning("shutdown: %d captures not flushed to Redis (reason=shutdown)", lost)
        self._buffer.clear()
        self._sizes.clear()
        self._in_flight = 0
        self._held_bytes = 0
        if self._loop_demand is not None:
            self._loop_demand.close()
        metrics.COLLECTOR_QUEUE_SIZE.set(0)

    # -- workers --------------------------------------------------------------------

    async def _worker(self) -> None:
        while True:
            taken = await self._take_batch()
            if taken is None:
                return
            batch, batch_bytes = taken
            self._in_flight += len(batch)
            try:
                fresh = await self._skip_repeats(batch)
                prepared, skipped = await self._prepare(fresh)
                since = self._stages.repeats.forgets if self._stages.repeats else None
                await self._write(prepared)
                self._remember(prepared, since)
                await self._record_skips(skipped)
            except asyncio.CancelledError:
                # Stopped past the drain deadline while Redis refused this batch.
                _dropped.labels(reason="shutdown").inc(len(batch))
                raise
            except Exception:
                _dropped.labels(reason="internal_error").inc(len(batch))
                log.exception("pipeline: batch of %d failed", len(batch))
            finally:
                self._in_flight -= len(batch)
                self._held_bytes -= batch_bytes
                metrics.COLLECTOR_QUEUE_SIZE.set(self.held)

    async def _take_batch(self) -> tuple[list[Exchange], int] | None:
        """The next batch and what it counts against buffer_bytes; None once stopped."""
        while not self._buffer:
            if self._stopping:
                return None
            self._wakeup.clear()
            await self._wakeup.wait()
        if len(self._buffer) < self._batch_size and not self._stopping:
            # Let a batch fill for a moment: fewer, larger Redis round trips.
            await asyncio.sleep(self._flush_interval_s)
        take = min(self._batch_size, len(self._buffer))
        if not take:
            return await self._take_batch()
        batch = [self._buffer.popleft() for _ in range(take)]
        return batch, sum(self._sizes.popleft() for _ in range(take))

    async def _skip_repeats(self, batch: list[Exchange]) -> list[tuple[Exchange, RepeatKey | None]]:
        """The fast path for exchanges the streams could not decide: the in-process LRU
        again (an earlier one may have been recorded since), then the repeat claims of
        other replicas in one Redis round trip. A lookup that fails takes the full path."""
        repeats = self._stages.repeats
        if repeats is None:
            return [(exchange, None) for exchange in batch]
        keyed = []
        for exchange in batch:
            key = repeats.key_of(exchange)
            if repeats.recorded(key) is None:
                keyed.append((exchange, key))
        lookup = self._stages.seen_in_redis
        if not keyed or lookup is None:
            return keyed
        since = repeats.forgets
        try:
            values = await lookup([repeats.redis_name(key) for _, key in keyed])
        except (QueueError, RedisError, OSError):
            return keyed
        return [
            (exchange, key)
            for (exchange, key), value in zip(keyed, values, strict=True)
            if repeats.recorded_in_redis(key, value, since=since) is None
        ]

    def _remember(self, prepared: list[Prepared], since: int | None) -> None:
        """Every item written (queued now, or already queued) is recorded: its repeats
        take the fast path from now on (unless a stub was forgotten during the write:
        ``since``, ``RepeatIndex.forgets`` before it)."""
        repeats = self._stages.repeats
        if repeats is None:
            return
        for item in prepared:
            if item.repeat_key is not None:
                repeats.remember(item.repeat_key, item.mapping_id, since=since)

    async def _report_repeats(self) -> None:
        """Hand the repeat counts to ``Stages.seen_again`` and follow the stubs the loader
        removed (``Stages.forget_removed``) once per flush interval, until stop. It ends
        on its own: a cancel in the middle of a report would lose the counts
        taken, and redis-py (8.2) can swallow a cancel, leaving the task running forever."""
        while not self._stopping:
            await asyncio.sleep(self._flush_interval_s)
            await self._hand_over_repeats()
            await self._forget_removed()
            await self._check_kept_writes()

    async def _forget_removed(self) -> None:
        """Stubs the loader removed are no longer taken as recorded (``Stages.forget_removed``).
        A failed read is tried again at the next turn."""
        forget = self._stages.forget_removed
        if forget is None:
            return
        try:
            await forget()
        except (QueueError, RedisError, OSError) as exc:
            log.debug("pipeline: removed stubs not read (%s)", type(exc).__name__)

    async def _check_kept_writes(self) -> None:
        """A Redis that lost the stubs queued: the LRUs forget them (``KeptWrites``). A
        failed check is tried again at the next turn."""
        kept = self._stages.kept_writes
        if kept is None:
            return
        try:
            await kept.check()
        except (QueueError, RedisError, OSError) as exc:
            log.debug("pipeline: queued stubs not looked for (%s)", type(exc).__name__)

    async def _stop_reporter(self, timeout_s: float) -> None:
        """Let the reporter finish its report, then hand over the rest. Bounded: a
        report stuck on Redis is cancelled and not waited for."""
        assert self._reporter is not None
        _done, pending = await asyncio.wait([self._reporter], timeout=timeout_s)
        if pending:
            await cancel_and_wait(pending, timeout_s=0)
        else:
            await self._hand_over_repeats()

    def _count_duplicates(self, items: Iterable[Prepared]) -> None:
        """Captures of a recorded request that took the full path: seen again too."""
        if self._stages.seen_again is None:
            return
        counts = self._duplicates
        for item in items:
            mapping_id = item.mapping_id
            if mapping_id in counts:
                counts[mapping_id] += 1
            elif len(counts) < self._config.dedup_cache_size:
                counts[mapping_id] = 1

    async def _hand_over_repeats(self) -> None:
        repeats, hook = self._stages.repeats, self._stages.seen_again
        if hook is None:
            return
        counts, self._duplicates = self._duplicates, {}
        for mapping_id, count in (repeats.drain_counts() if repeats else {}).items():
            counts[mapping_id] = counts.get(mapping_id, 0) + count
        if not counts:
            return
        try:
            held = await hook(counts)
        except Exception:
            log.exception("pipeline: reporting %d repeated mappings failed", len(counts))
            return
        if held and self._stages.held_by_errors is not None:
            self._stages.held_by_errors(held)

    async def _prepare(
        self, batch: list[tuple[Exchange, RepeatKey | None]]
    ) -> tuple[list[Prepared], list[Skipped]]:
        """Sanitize the whole batch, then dedup and map it. One step at a time over a
        batch keeps that step's code and tables in the CPU caches: about a fifth less CPU
        per exchange, measured side by side, than each exchange through every step."""
        stages, mark_truncated = self._stages, self._mark_truncated
        yield_at = time.perf_counter() + YIELD_EVERY_S
        clean: list[tuple[Exchange, RepeatKey | None]] = []
        for exchange, repeat_key in batch:
            yield_at = await self._take_turn(yield_at)
            sanitized = sanitize_one(exchange, stages, mark_truncated=mark_truncated)
            if sanitized is not None:
                clean.append((sanitized, repeat_key))
        out: list[Prepared] = []
        skipped: list[Skipped] = []
        for exchange, repeat_key in clean:
            yield_at = await self._take_turn(yield_at)
            item = map_sanitized(
                exchange,
                stages,
                dedup_enabled=self._dedup_enabled,
                mark_truncated=mark_truncated,
                repeat_key=repeat_key,
            )
            if isinstance(item, Skipped):
                skipped.append(item)
            elif item is not None:
                if item.exact_repeats is not None:
                    # Before its first stub: the repeat claim and record both write are then
                    # the first stub's, written last.
                    out.append(item.exact_repeats)
                out.append(item)
        return out, skipped

    async def _take_turn(self, yield_at: float) -> float:
        """Before each exchange's step: streams first (wait while they are busy), and the
        gRPC streams run every YIELD_EVERY_S of this CPU work (a yield per exchange costs
        an event-loop turn each and gains nothing). -> when the next yield is due."""
        load = self._load
        if load is not None:
            load.poll()
            if load.busy and not self._stopping and self._may_pause():
                await self._yield_to_streams(load)
                return time.perf_counter() + YIELD_EVERY_S
        if time.perf_counter() >= yield_at:
            await asyncio.sleep(0)
            return time.perf_counter() + YIELD_EVERY_S
        return yield_at

    def _may_pause(self) -> bool:
        return time.monotonic() >= self._streams_idle_until

    async def _yield_to_streams(self, load: StreamLoad) -> None:
        """Streams first: wait while they are busy, at most ``load.share_every_s`` (then
        one exchange runs anyway: never starved). Many streams that leave the event loop
        mostly idle are waiting on their upstreams (a stream lasts the whole exchange):
        waiting for them gains nothing, so the pipeline runs. A stop ends the wait: the
        drain has the loop then."""
        demand = self._loop_demand
        deadline = time.monotonic() + load.share_every_s
        while load.busy and not self._stopping:
            started = time.monotonic()
            # A quiet loop hands the waiting streams over: read their count again.
            load.poll()
            if not load.busy:
                return
            if started >= deadline:
                return
            wanted = demand.seconds() if demand is not None else 0.0
            if await load.wait_quiet(min(deadline - started, PAUSE_CHECK_EVERY_S)):
                return
            if demand is None:
                continue
            # What the loop thread ran or waited to run over the wait: the streams' work.
            busy_share = (demand.seconds() - wanted) / max(time.monotonic() - started, 1e-6)
            if busy_share < LOOP_BUSY_SHARE:
                self._streams_idle_until = time.monotonic() + IDLE_STREAMS_S
                return

    async def _record_skips(self, skipped: list[Skipped]) -> None:
        """Best effort, not retried: collector_stubs_skipped_total has counted them."""
        record = self._stages.record_skips
        if not skipped or record is None:
            return
        try:
            await record(skipped)
        except (QueueError, RedisError, OSError) as exc:
            log.warning("pipeline: %d skips not recorded (%s)", len(skipped), exc)

    async def _write(self, prepared: list[Prepared]) -> None:
        """Claim, then enqueue; each step is retried until Redis accepts it. Local
        duplicates (no entry) are not written."""
        self._count_duplicates(p for p in prepared if p.entry is None)
        prepared = [p for p in prepared if p.entry is not None]
        if not prepared:
            return
        entries: list[QueueEntry] = [p.entry for p in prepared if p.entry is not None]
        combined = self._stages.claim_and_enqueue
        if self._dedup_enabled and combined is not None:
            hashes = [p.dedup_hash for p in prepared]
            seen = self._repeat_claims(prepared)
            stubs = [(p.mapping_id, p.error) for p in prepared]
            claimed = await self._retry.run(lambda: combined(hashes, entries, seen, stubs))
            metrics.COLLECTOR_ENQUEUED.inc(sum(claimed))
            self._queued(p for p, ok in zip(prepared, claimed, strict=True) if ok)
            self._count_duplicates(p for p, ok in zip(prepared, claimed, strict=True) if not ok)
            return
        if self._dedup_enabled:
            hashes = [p.dedup_hash for p in prepared]
            stubs = [(p.mapping_id, p.error) for p in prepared]
            claimed = await self._retry.run(lambda: self._stages.claim(hashes, stubs))
            self._count_duplicates(p for p, ok in zip(prepared, claimed, strict=True) if not ok)
            prepared = [p for p, ok in zip(prepared, claimed, strict=True) if ok]
            entries = [e for e, ok in zip(entries, claimed, strict=True) if ok]
        if not entries:
            return
        await self._retry.run(lambda: self._stages.enqueue(entries))
        metrics.COLLECTOR_ENQUEUED.inc(len(entries))
        if self._dedup_enabled:
            self._queued(prepared)

    def _queued(self, items: Iterable[Prepared]) -> None:
        """Stubs Redis accepted, for ``KeptWrites`` (their states now exist)."""
        kept = self._stages.kept_writes
        if kept is not None:
            for item in items:
                kept.queued(item.mapping_id)

    def _repeat_claims(self, prepared: list[Prepared]) -> list[tuple[str, str]]:
        """(name, value) of each item's repeat claim, when they are shared in Redis."""
        repeats = self._stages.repeats
        if repeats is None or self._stages.seen_in_redis is None:
            return []
        claims = []
        for item in prepared:
            if item.repeat_key is None:
                return []
            value = repeats.redis_value(item.repeat_key, item.mapping_id)
            claims.append((repeats.redis_name(item.repeat_key), value))
        return claims


def held_size(exchange: Exchange) -> int:
    """What one held exchange counts against ``buffer_bytes``: its bodies, its path, its
    header, query and trailer pairs (their text plus PAIR_OVERHEAD_BYTES each), plus
    EXCHANGE_OVERHEAD_BYTES."""
    request, response = exchange.request, exchange.response
    size = EXCHANGE_OVERHEAD_BYTES + len(request.body) + len(request.path)
    size += _pairs_size(request.headers) + _pairs_size(request.query)
    if request.trailers:
        size += _pairs_size(request.trailers)
    if response is not None:
        size += len(response.body) + _pairs_size(response.headers)
        if response.trailers:
            size += _pairs_size(response.trailers)
    return size


def _pairs_size(pairs: Pairs) -> int:
    """The text of ``pairs`` plus PAIR_OVERHEAD_BYTES each (the tuple and its two str)."""
    return len("".join(chain.from_iterable(pairs))) + PAIR_OVERHEAD_BYTES * len(pairs)
