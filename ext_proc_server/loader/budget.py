"""The per-shard stub budget (``loader.max_stubs``): WireMock slows down as its store grows.

A mapping whose id the shard does not hold yet is refused once the shard is full;
refused items are acknowledged and counted (a deliberate drop), and their claims held
until the shard has room (``held_claims``). Overwrites always pass.
The count covers every stub WireMock holds, the catch-all included: that is what it
pays for.
"""

from __future__ import annotations

import logging
import time

from ext_proc_server.core.metrics import LOADER_PROCESSED, LOADER_STUBS_REJECTED
from ext_proc_server.loader.entries import QueueItem
from ext_proc_server.loader.held_claims import hold_refused
from ext_proc_server.loader.retry import Retry
from ext_proc_server.loader.shards import Shard
from ext_proc_server.loader.stream import StreamConsumer

log = logging.getLogger(__name__)

# At the budget edge the known ids are re-listed from WireMock at most this often.
RESEED_INTERVAL_S = 30.0
BUDGET_LOG_INTERVAL_S = 60.0


class StubBudget:
    """Admits the items that fit each shard's budget; acks and counts the others."""

    def __init__(self, *, max_stubs: int, stream: StreamConsumer, retry: Retry) -> None:
        self.max_stubs = max_stubs
        self._stream = stream
        self._retry = retry
        self._rejected_unlogged = 0
        self._logged_at = 0.0

    async def admit(self, shard: Shard, items: list[QueueItem]) -> list[QueueItem]:
        """-> the items that may be imported. Raises Stopped when stopped while WireMock
        was down."""
        new_ids = {i.mapping_id for i in items} - shard.known_ids
        if not new_ids or shard.stub_count + len(new_ids) <= self.max_stubs:
            return items
        # At the edge: get the real numbers before refusing anything.
        await self._refresh(shard)
        new_ids -= shard.known_ids
        room = max(0, self.max_stubs - shard.stub_count)
        allowed: set[str] = set()
        accepted: list[QueueItem] = []
        rejected: list[QueueItem] = []
        for item in items:
            mapping_id = item.mapping_id
            if mapping_id not in new_ids or mapping_id in allowed:
                accepted.append(item)
            elif len(allowed) < room:
                allowed.add(mapping_id)
                accepted.append(item)
            else:
                rejected.append(item)
        if rejected:
            # Their claims hold until the shard has room (held_claims): no flood meanwhile.
            refused = [i.mapping_id for i in rejected]
            keys, now_s = self._stream.keys, time.time()

            def hold(pipe: object) -> None:
                hold_refused(pipe, keys=keys, shard=shard.name, mapping_ids=refused, now_s=now_s)

            await self._stream.ack(rejected, also=hold)
            LOADER_STUBS_REJECTED.labels(shard=shard.name).inc(len(rejected))
            LOADER_PROCESSED.labels(status="rejected_budget").inc(len(rejected))
            self._note_rejections(shard, len(rejected))
        return accepted

    async def _refresh(self, shard: Shard) -> None:
        """Re-read the stub count, and the known ids when they are old, waiting out outages."""
        count = await self._retry.through_outages(
            shard, shard.client.count_stubs, refusals_wait=True
        )
        shard.mark_up()
        shard.set_count(count)
        if time.monotonic() - shard.last_seed_at >= RESEED_INTERVAL_S:
            await self._retry.through_outages(shard, shard.seed, refusals_wait=True)
            shard.mark_up()

    def _note_rejections(self, shard: Shard, count: int) -> None:
        self._rejected_unlogged += count
        now = time.monotonic()
        if now - self._logged_at >= BUDGET_LOG_INTERVAL_S:
            log.warning(
                "stub budget: dropped %d new mappings (acked, counted) because shard %s holds "
                "%d of max_stubs=%d stubs; overwrites still load",
                self._rejected_unlogged, shard.name, shard.stub_count, self.max_stubs,
            )  # fmt: skip
            self._rejected_unlogged = 0
            self._logged_at = now
