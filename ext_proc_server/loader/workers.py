"""One worker and one bounded in-memory backlog per shard.

A WireMock that is down holds back only its own items while the other shards keep
loading. Past ``shard_backlog_items``, dispatching waits, so the pump reads nothing
more and memory stays bounded; waiting items stay pending in Redis and are
heart-beaten like any held item.
"""

from __future__ import annotations

import asyncio
import logging

from ext_proc_server.core.metrics import LOADER_SHARD_BACKLOG
from ext_proc_server.core.tasks import cancel_and_wait
from ext_proc_server.loader.entries import QueueItem
from ext_proc_server.loader.loading import BatchLoader
from ext_proc_server.loader.routing import Router
from ext_proc_server.loader.shards import Shard
from ext_proc_server.loader.stream import StreamConsumer

log = logging.getLogger(__name__)
# How long close() waits for a cancelled shard worker before going on without it.
WORKER_STOP_TIMEOUT_S = 5.0


class ShardWorkers:
    """``start()``, then ``dispatch(items)`` batch after batch, then ``close()``.

    A worker that fails stops nothing by itself: ``failure`` holds its exception and
    ``check()`` raises it in the caller, which then closes the workers."""

    def __init__(
        self,
        *,
        shards: dict[str, Shard],
        router: Router,
        batches: BatchLoader,
        stream: StreamConsumer,
        stop: asyncio.Event,
        backlog_items: int,
        batch_size: int,
    ) -> None:
        self._shards = shards
        self._router = router
        self._batches = batches
        self._stream = stream
        self._stop = stop
        self._backlog_items = backlog_items
        self._batch_size = batch_size
        self._backlogs: dict[str, asyncio.Queue[QueueItem | None]] = {}
        self._room: dict[str, asyncio.Semaphore] = {}
        # Items dispatched to a shard and not yet landed or handed back.
        self._waiting: dict[str, int] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._failed = asyncio.Event()
        self._full_logged: set[str] = set()
        self.failure: BaseException | None = None

    def start(self) -> None:
        self.failure = None
        self._failed = asyncio.Event()
        for name, shard in self._shards.items():
            self._backlogs[name] = asyncio.Queue()
            self._room[name] = asyncio.Semaphore(self._backlog_items)
            self._set_waiting(name, 0)
            task = asyncio.create_task(self._work(shard), name=f"loader-shard-{name}")
            task.add_done_callback(self._done)
            self._tasks[name] = task

    def check(self) -> None:
        """Raise the first worker failure, if any."""
        if self.failure is not None:
            raise self.failure

    async def close(self, *, graceful: bool) -> None:
        """Graceful: each worker finishes its in-flight import and hands back the rest.
        Otherwise (a Redis error) they are cancelled: what they held stays pending in
        Redis under this consumer and is read again after the error."""
        tasks = list(self._tasks.values())
        if graceful and self.failure is None:
            for backlog in self._backlogs.values():
                backlog.put_nowait(None)
            # Bounded: an import in flight gives up after wiremock_timeout, and a
            # worker waiting out an outage wakes on stop.
            await asyncio.gather(*tasks, return_exceptions=True)
        await cancel_and_wait(tasks, timeout_s=WORKER_STOP_TIMEOUT_S)
        for name in self._backlogs:
            self._set_waiting(name, 0)
        self._tasks.clear()
        self._backlogs.clear()
        self._room.clear()

    async def dispatch(self, items: list[QueueItem]) -> None:
        """Route items to their shards' backlogs, waiting for room where one is full.
        On stop, what could not be queued is handed back at once."""
        valid = await self._batches.drop_invalid(items)
        for index, item in enumerate(valid):
            name = self._router.shard_for(item.host)
            if not await self._take_room(name):
                await self._stream.give_back(valid[index:])
                return
            self._backlogs[name].put_nowait(item)
            self._set_waiting(name, self._waiting[name] + 1)

    def _done(self, task: asyncio.Task[None]) -> None:
        if task.cancelled() or task.exception() is None:
            return
        if self.failure is None:
            self.failure = task.exception()
        self._failed.set()

    def _set_waiting(self, name: str, count: int) -> None:
        self._waiting[name] = count
        LOADER_SHARD_BACKLOG.labels(shard=name).set(count)

    async def _take_room(self, name: str) -> bool:
        """One slot in the shard's backlog; False if the loader stops or a worker failed
        first."""
        room = self._room[name]
        if not room.locked():
            await room.acquire()  # free: returns at once
            return True
        if name not in self._full_logged:
            self._full_logged.add(name)
            log.warning(
                "shard %s: %d items wait for its wiremock; reading the queue waits too",
                name, self._backlog_items,
            )  # fmt: skip
        acquire = asyncio.ensure_future(room.acquire())
        stopped = asyncio.ensure_future(self._stop.wait())
        failed = asyncio.ensure_future(self._failed.wait())
        try:
            await asyncio.wait({acquire, stopped, failed}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopped.cancel()
            failed.cancel()
            if not acquire.done():
                acquire.cancel()
        got = acquire.done() and not acquire.cancelled()
        if got and (self._stop.is_set() or self.failure is not None):
            room.release()
            got = False
        if got:
            self._full_logged.discard(name)
        return got

    async def _work(self, shard: Shard) -> None:
        backlog, room = self._backlogs[shard.name], self._room[shard.name]
        ending = False
        while not ending:
            first = await backlog.get()
            if first is None:
                break
            batch, ending = self._take_batch(backlog, first)
            try:
                if self._stop.is_set():
                    await self._stream.give_back(batch)
                    break
                await self._batches.load_shard(shard, batch)
            finally:
                for _ in batch:
                    room.release()
                self._set_waiting(shard.name, self._waiting[shard.name] - len(batch))
        # Stopping: items still queued were read but not imported.
        left: list[QueueItem] = []
        while not backlog.empty():
            queued = backlog.get_nowait()
            if queued is not None:
                left.append(queued)
        await self._stream.give_back(left)

    def _take_batch(
        self, backlog: asyncio.Queue[QueueItem | None], first: QueueItem
    ) -> tuple[list[QueueItem], bool]:
        """``first`` and what else is queued, up to batch_size. -> (batch, end marker seen)."""
        batch = [first]
        while len(batch) < self._batch_size and not backlog.empty():
            following = backlog.get_nowait()
            if following is None:
                return batch, True
            batch.append(following)
        return batch, False
