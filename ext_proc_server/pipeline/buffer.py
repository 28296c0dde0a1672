"""After the stream: a bounded buffer, then sanitize -> dedup -> mapping -> Redis.

The gRPC streams only ``submit`` finished exchanges; ``submit`` never blocks
and never waits for Redis. ``async_workers`` tasks take batches of up to
``batch_size`` (waiting at most ``flush_interval`` to fill one), run the CPU
stages in the event loop, yielding every ``YIELD_EVERY_S`` (so streams stay
responsive; a thread would only add switching cost under the GIL), then write
the batch to Redis in one round trip: a Lua script that, per item, skips a
hash already claimed, else XADDs the mapping and sets the dedup claim
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
  counted as ``reason="redis_error"``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import OutOfMemoryError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from ext_proc_server.capture.filters import host_without_port
from ext_proc_server.core import metrics, queue_entries
from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.errors import QueueError, SanitizeError
from ext_proc_server.core.exchange import Exchange
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.pipeline import queue_writer as queue

log = logging.getLogger(__name__)

RETRY_FIRST_S = 0.1
RETRY_MAX_S = 5.0
# Longest CPU stretch of the pipeline before it lets the gRPC streams run.
YIELD_EVERY_S = 0.002


@dataclass(frozen=True, slots=True)
class Stages:
    """The per-exchange steps, injectable so the pipeline can be tested alone."""

    sanitize: Callable[[Exchange], Exchange]
    dedup_hash: Callable[[Exchange], str]
    is_new_locally: Callable[[str], bool]
    build_mapping: Callable[[Exchange, str], dict[str, Any] | None]
    # (hashes) -> claimed?, one per hash; raises on Redis errors.
    claim: Callable[[Sequence[str]], Awaitable[list[bool]]]
    # (entries) -> None; raises on Redis errors.
    enqueue: Callable[[Sequence[dict[str, str]]], Awaitable[None]]
    # Optional: claim and enqueue in one step (one Redis round trip per batch).
    # (hashes, entries) -> claimed-and-queued?, one per item; raises on Redis errors.
    claim_and_enqueue: (
        Callable[[Sequence[str], Sequence[dict[str, str]]], Awaitable[list[bool]]] | None
    ) = None


def default_stages(config: CollectorConfig, *, redis: Any, keys: RedisKeys) -> Stages:
    """The real sanitizer, dedup and mapping modules, wired to one Redis client."""
    from ext_proc_server.mapping import dedup
    from ext_proc_server.mapping import stubs as mapping
    from ext_proc_server.mapping.noise import NoiseNormalizer
    from ext_proc_server.sanitize import Sanitizer

    sanitizer = Sanitizer(config)
    normalizer = NoiseNormalizer(config)
    deduplicator = dedup.Deduplicator(config, normalizer=normalizer)

    # dedup_hash and build_mapping run back to back on the same exchange: the request
    # is normalized once (the costliest step after sanitizing) and shared.
    last: list[Any] = [None, None]

    def dedup_hash(exchange: Exchange) -> str:
        key, last[1] = deduplicator.hash_normalized(exchange)
        last[0] = exchange
        return key

    def build(exchange: Exchange, dedup_hash: str) -> dict[str, Any] | None:
        normalized = last[1] if last[0] is exchange else None
        last[0] = last[1] = None
        return mapping.build_mapping(
            exchange,
            dedup_hash=dedup_hash,
            config=config,
            normalizer=normalizer,
            normalized=normalized,
        )

    async def claim(hashes: Sequence[str]) -> list[bool]:
        return await dedup.claim_batch(
            redis, keys=keys, hashes=list(hashes), ttl_s=config.dedup_ttl_s
        )

    async def enqueue(entries: Sequence[dict[str, str]]) -> None:
        await queue.enqueue_batch(redis, keys=keys, entries=entries)

    script = (
        queue.ClaimAndEnqueue(redis, keys=keys, ttl_s=config.dedup_ttl_s)
        if redis is not None
        else None
    )
    unique = metrics.COLLECTOR_DEDUPLICATION.labels(result="unique")
    duplicate = metrics.COLLECTOR_DEDUPLICATION.labels(result="duplicate")

    async def claim_and_enqueue(
        hashes: Sequence[str], entries: Sequence[dict[str, str]]
    ) -> list[bool]:
        assert script is not None
        claimed = await script(hashes, entries)
        queued = sum(claimed)
        if queued:
            unique.inc(queued)
        if len(claimed) - queued:
            duplicate.inc(len(claimed) - queued)
        return claimed

    return Stages(
        sanitize=sanitizer.sanitize,
        dedup_hash=dedup_hash,
        is_new_locally=deduplicator.is_new_locally,
        build_mapping=build,
        claim=claim,
        enqueue=enqueue,
        claim_and_enqueue=claim_and_enqueue if script is not None else None,
    )


@dataclass(slots=True)
class _Prepared:
    dedup_hash: str
    entry: dict[str, str]


_dropped = metrics.COLLECTOR_DROPPED


class CapturePipeline:
    def __init__(self, config: CollectorConfig, *, stages: Stages) -> None:
        self._config = config
        self._stages = stages
        self._buffer: deque[Exchange] = deque()
        self._in_flight = 0
        self._limit = config.buffer_size
        self._batch_size = config.batch_size
        self._flush_interval_s = config.flush_interval
        self._dedup_enabled = config.dedup_enabled
        self._skip_truncated = config.truncated_responses == "skip"
        self._wakeup = asyncio.Event()
        self._stopping = False
        self._workers: list[asyncio.Task[None]] = []
        self._drop_buffer_full = _dropped.labels(reason="buffer_full")
        # Redis is failing: batches are being retried (for /readyz and tests).
        self.redis_failing = False
        self._redis_error_kind = ""

    # -- the streams' side ----------------------------------------------------------

    @property
    def held(self) -> int:
        return len(self._buffer) + self._in_flight

    def submit(self, exchange: Exchange) -> bool:
        """Hand over a finished exchange. Never blocks; False when it was dropped."""
        if self._stopping or self.held >= self._limit:
            self._drop_buffer_full.inc()
            return False
        self._buffer.append(exchange)
        metrics.COLLECTOR_QUEUE_SIZE.set(self.held)
        if not self._wakeup.is_set():
            self._wakeup.set()
        return True

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        for n in range(self._config.async_workers):
            self._workers.append(asyncio.create_task(self._worker(), name=f"pipeline-{n}"))

    async def stop(self, *, drain_timeout_s: float = 5.0) -> None:
        """Stop taking captures, flush what is held for up to drain_timeout_s, then give up."""
        self._stopping = True
        self._wakeup.set()
        pending: set[asyncio.Task[None]] = set()
        if self._workers:
            _done, pending = await asyncio.wait(self._workers, timeout=drain_timeout_s)
        lost = self.held
        for task in pending:
            task.cancel()  # the worker counts its unwritten batch
        for task in pending:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._buffer:
            _dropped.labels(reason="redis_error").inc(len(self._buffer))
        if lost:
            log.warning("shutdown: %d captures not flushed to Redis", lost)
        self._buffer.clear()
        self._in_flight = 0
        metrics.COLLECTOR_QUEUE_SIZE.set(0)

    # -- workers --------------------------------------------------------------------

    async def _worker(self) -> None:
        while True:
            batch = await self._take_batch()
            if batch is None:
                return
            self._in_flight += len(batch)
            try:
                prepared = await self._prepare(batch)
                await self._write(prepared)
            except asyncio.CancelledError:
                # Stopped past the drain deadline while Redis refused this batch.
                _dropped.labels(reason="redis_error").inc(len(batch))
                raise
            except Exception:
                _dropped.labels(reason="internal_error").inc(len(batch))
                log.exception("pipeline: batch of %d failed", len(batch))
            finally:
                self._in_flight -= len(batch)
                metrics.COLLECTOR_QUEUE_SIZE.set(self.held)

    async def _take_batch(self) -> list[Exchange] | None:
        while not self._buffer:
            if self._stopping:
                return None
            self._wakeup.clear()
            await self._wakeup.wait()
        if len(self._buffer) < self._batch_size and not self._stopping:
            # Let a batch fill for a moment: fewer, larger Redis round trips.
            await asyncio.sleep(self._flush_interval_s)
        take = min(self._batch_size, len(self._buffer))
        batch = [self._buffer.popleft() for _ in range(take)]
        return batch or await self._take_batch()

    async def _prepare(self, batch: list[Exchange]) -> list[_Prepared]:
        out: list[_Prepared] = []
        clock = time.perf_counter
        yield_at = clock() + YIELD_EVERY_S
        for exchange in batch:
            item = self._prepare_one(exchange)
            if item is not None:
                out.append(item)
            # Sanitizing is CPU work: let the gRPC streams run every few ms (a yield
            # per exchange costs an event-loop turn each and gains nothing).
            if clock() >= yield_at:
                await asyncio.sleep(0)
                yield_at = clock() + YIELD_EVERY_S
        return out

    def _prepare_one(self, exchange: Exchange) -> _Prepared | None:
        stages = self._stages
        if self._skip_truncated and exchange.response and exchange.response.body_truncated:
            _dropped.labels(reason="truncated_response").inc()
            return None
        try:
            clean = stages.sanitize(exchange)
        except SanitizeError:
            _dropped.labels(reason="sanitize_error").inc()
            return None
        except Exception:
            _dropped.labels(reason="sanitize_error").inc()
            log.exception("pipeline: sanitizer failed")
            return None
        if not clean.sanitized:
            _dropped.labels(reason="unsanitizable").inc()
            return None
        try:
            dedup_hash = stages.dedup_hash(clean)
            # is_new_locally and claim count collector_deduplication_operations_total.
            if self._dedup_enabled and not stages.is_new_locally(dedup_hash):
                return None
            mapping = stages.build_mapping(clean, dedup_hash)
            if mapping is None:
                # Skipped on purpose (e.g. a scenario limit); build_mapping counted why.
                return None
            entry = queue_entries.encode_entry(
                mapping, host=host_without_port(clean.request.authority)
            )
            # Redis needs valid UTF-8; a value that is not cannot be queued.
            entry[queue_entries.FIELD_MAPPING].encode("utf-8")
        except UnicodeEncodeError:
            _dropped.labels(reason="malformed").inc()
            return None
        except Exception:
            _dropped.labels(reason="internal_error").inc()
            log.exception("pipeline: mapping failed")
            return None
        return _Prepared(dedup_hash=dedup_hash, entry=entry)

    async def _write(self, prepared: list[_Prepared]) -> None:
        """Claim, then enqueue; each step is retried until Redis accepts it."""
        if not prepared:
            return
        combined = self._stages.claim_and_enqueue
        if self._dedup_enabled and combined is not None:
            hashes = [p.dedup_hash for p in prepared]
            entries = [p.entry for p in prepared]
            claimed = await self._retry(lambda: combined(hashes, entries))
            metrics.COLLECTOR_ENQUEUED.inc(sum(claimed))
            return
        if self._dedup_enabled:
            hashes = [p.dedup_hash for p in prepared]
            claimed = await self._retry(lambda: self._stages.claim(hashes))
            prepared = [p for p, ok in zip(prepared, claimed, strict=True) if ok]
        if not prepared:
            return
        entries = [p.entry for p in prepared]
        await self._retry(lambda: self._stages.enqueue(entries))
        metrics.COLLECTOR_ENQUEUED.inc(len(entries))

    async def _retry(self, attempt: Callable[[], Awaitable[Any]]) -> Any:
        """Run ``attempt`` until Redis accepts it -> its result. Only ``stop`` ends the
        retries, by cancelling the worker after the drain deadline."""
        delay_s = RETRY_FIRST_S
        while True:
            try:
                result = await attempt()
            except (QueueError, RedisError, OSError) as exc:
                kind = redis_error_kind(exc)
                metrics.COLLECTOR_REDIS_ERRORS.labels(error=kind).inc()
                if not self.redis_failing or kind != self._redis_error_kind:
                    # Once per outage and cause; never the error text (it may quote data).
                    if kind == "oom":
                        log.error(
                            "redis: write refused, Redis is out of memory (OOM: maxmemory "
                            "reached, policy noeviction); captures are held, then dropped as "
                            "buffer_full, until it has room; retrying"
                        )
                    else:
                        log.warning(
                            "redis: write failed (%s, %s); retrying", kind, _cause_name(exc)
                        )
                self._redis_error_kind = kind
                self.redis_failing = True
                await asyncio.sleep(delay_s)
                delay_s = min(delay_s * 2, RETRY_MAX_S)
                continue
            if self.redis_failing:
                log.info("redis: writes resumed")
            self.redis_failing = False
            self._redis_error_kind = ""
            return result


def _cause_name(exc: BaseException) -> str:
    cause = exc.__cause__ if isinstance(exc, QueueError) and exc.__cause__ else exc
    return type(cause).__name__


def redis_error_kind(exc: BaseException) -> str:
    """A failed Redis write -> "oom", "unavailable" or "other" (the metric's label)."""
    cause = exc.__cause__ if isinstance(exc, QueueError) and exc.__cause__ else exc
    if isinstance(cause, OutOfMemoryError) or "OOM command not allowed" in str(cause):
        return "oom"
    if isinstance(cause, RedisConnectionError | RedisTimeoutError | OSError):
        return "unavailable"
    return "other"
