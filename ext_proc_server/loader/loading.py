"""Importing held items into their shard's WireMock, and what follows each answer.

* Accepted: acknowledged and written to the shard's record in one transaction, and
  the shard's known ids and stub count move on.
* WireMock down (connect error, timeout, 5xx): the batch stays held and is retried
  with backoff, forever, without touching the poison budget.
* Refused (4xx): the batch is split to isolate the bad item; the rest lands. The bad
  item goes back to the group with a backoff (its idle time is set so the periodic
  ``XAUTOCLAIM`` redelivers it later), or to the dead-letter stream once its delivery
  count reaches ``retry_attempts``.
* Undecodable entries are dead-lettered at once: decoding again cannot help.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from ext_proc_server.core.errors import WireMockError
from ext_proc_server.core.metrics import LOADER_ERRORS, LOADER_PROCESSED, NO_SHARD
from ext_proc_server.loader.budget import StubBudget
from ext_proc_server.loader.drift import DriftRecord
from ext_proc_server.loader.entries import QueueItem
from ext_proc_server.loader.lifecycle import StubLifecycle
from ext_proc_server.loader.retry import Retry, Stopped
from ext_proc_server.loader.routing import Router
from ext_proc_server.loader.shards import Shard
from ext_proc_server.loader.stream import StreamConsumer
from ext_proc_server.loader.wiremock_client import split_refused

log = logging.getLogger(__name__)

# meta.total is re-read at most this often after imports; counted locally in between.
COUNT_REFRESH_INTERVAL_S = 5.0


class BatchLoader:
    """Loads held items into their shards; every item ends acknowledged, dead-lettered
    or handed back to the group."""

    def __init__(
        self,
        *,
        shards: dict[str, Shard],
        router: Router,
        stream: StreamConsumer,
        budget: StubBudget,
        retry: Retry,
        retry_attempts: int,
        lifecycle: StubLifecycle | None = None,
    ) -> None:
        self._lifecycle = lifecycle
        self._shards = shards
        self._router = router
        self._stream = stream
        self._budget = budget
        self._retry = retry
        self._retry_attempts = retry_attempts

    async def drop_invalid(self, items: list[QueueItem]) -> list[QueueItem]:
        """Dead-letter undecodable items. -> the others."""
        for item in items:
            if item.mapping is None:
                # Decoding is deterministic: retrying an undecodable entry cannot help.
                LOADER_ERRORS.labels(error_type="invalid_item", shard=NO_SHARD).inc()
                await self._stream.dead_letter(
                    item, error_type="invalid_item", reason=item.invalid_reason or "invalid"
                )
        return [i for i in items if i.mapping is not None]

    async def load_batch(self, items: list[QueueItem]) -> None:
        """Load one batch to the end, every shard at once (``Loader.drain_once``; the
        running loader hands items to its shard workers instead)."""
        by_shard: dict[str, list[QueueItem]] = {}
        for item in await self.drop_invalid(items):
            by_shard.setdefault(self._router.shard_for(item.host), []).append(item)
        results = await asyncio.gather(
            *(self.load_shard(self._shards[name], group) for name, group in by_shard.items()),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                raise result

    async def load_shard(self, shard: Shard, items: list[QueueItem]) -> None:
        """Import valid items routed to ``shard``; on stop, what is left is handed back."""
        async with shard.lock:
            try:
                accepted = await self._budget.admit(shard, items)
            except Stopped:
                await self._stream.give_back(items)
                return
            if accepted and self._lifecycle is not None:
                await self._lifecycle.stamp(shard.name, accepted)
            # A work stack: a refused chunk is split and its parts pushed back.
            stack = [accepted] if accepted else []
            while stack:
                chunk = stack.pop()
                try:
                    left_out = await self._import(shard, chunk, rest=stack)
                except Stopped:
                    left = [i for part in [chunk, *stack] for i in part]
                    if self._lifecycle is not None:
                        self._lifecycle.forget(left)
                    await self._stream.give_back(left)
                    return
                except WireMockError as exc:
                    LOADER_ERRORS.labels(error_type="wiremock_rejected", shard=shard.name).inc()
                    if len(chunk) == 1:
                        await self._poisoned(chunk[0], exc)
                    else:
                        stack.extend(reversed(split_refused(chunk, exc.item_index)))
                    continue
                await self._landed(shard, chunk, left_out=left_out)

    async def _import(
        self, shard: Shard, chunk: list[QueueItem], *, rest: list[list[QueueItem]]
    ) -> list[int]:
        """Import until WireMock answers. Refusals raise; outages wait (no budget used).
        -> the positions in ``chunk`` left out (old stubs that cannot be made faithful)."""
        encoded = [i.mapping_json() for i in chunk]
        left_out = await self._retry.through_outages(
            shard,
            lambda: shard.client.import_encoded(encoded),
            held=len(chunk) + sum(len(part) for part in rest),
        )
        if shard.mark_up():
            # WireMock may have restarted empty: re-learn what it holds.
            with contextlib.suppress(WireMockError):
                await shard.seed()
        return left_out

    async def _landed(self, shard: Shard, chunk: list[QueueItem], *, left_out: list[int]) -> None:
        """Ack the chunk. What WireMock took goes to the record; an item left out (an old
        stub retired by the import) is acked without it, its claims released at once."""
        skipped = set(left_out)
        retired = [chunk[at] for at in sorted(skipped)]
        landed = [item for at, item in enumerate(chunk) if at not in skipped]
        lifecycle, drifts = self._lifecycle, list[DriftRecord]()
        if lifecycle is None:
            await self._stream.ack(landed, landed_on=shard.name, retired=retired)
        else:
            lifecycle.forget(retired)

            def also(pipe: object) -> None:
                drifts.extend(lifecycle.on_landed(pipe, shard=shard.name, items=landed))

            await self._stream.ack(landed, landed_on=shard.name, also=also, retired=retired)
            lifecycle.count(drifts)
        LOADER_PROCESSED.labels(status="loaded").inc(len(landed))
        new_ids = {i.mapping_id for i in landed} - shard.known_ids
        shard.known_ids |= new_ids
        now = time.monotonic()
        if now - shard.last_count_at >= COUNT_REFRESH_INTERVAL_S:
            shard.last_count_at = now
            try:
                shard.set_count(await shard.client.count_stubs())
                return
            except WireMockError:
                pass  # counted locally below; refreshed after the next import
        shard.set_count(shard.stub_count + len(new_ids))

    async def _poisoned(self, item: QueueItem, exc: WireMockError) -> None:
        """WireMock refused this one item: retry later via the group, or dead-letter it."""
        if self._lifecycle is not None:
            self._lifecycle.forget([item])
        if item.deliveries >= self._retry_attempts:
            await self._stream.dead_letter(
                item,
                error_type="wiremock_rejected",
                reason=f"WireMockError HTTP {exc.status_code}",
                status_code=exc.status_code,
            )
            return
        # Hand it back with an idle time that makes XAUTOCLAIM redeliver it after the backoff.
        delay_ms = int(1000 * self._retry.delay_s(item.deliveries - 1))
        await self._stream.release([item], idle_ms=max(0, self._stream.claim_timeout_ms - delay_ms))
        log.info(
            "mapping refused by wiremock (HTTP %s), delivery %d of %d; retrying later",
            exc.status_code, item.deliveries, self._retry_attempts,
        )  # fmt: skip
