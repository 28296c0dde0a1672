"""How long a capture stream waits for its answer: streams past their deadline are cancelled.

Envoy opens at most ``control_plane.collector.max_requests`` capture streams at a time,
and a stream lasts as long as its exchange: a long poll, a blocking query or an answer
whose body trickles would hold one for its whole life, and enough of them would leave
every other exchange uncaptured. So each stream has a deadline, and a stream still
running at its deadline is cancelled (the servicer then decides it, counted, and closes
its capture stream; the proxied exchange goes on untouched).

One timer per second of deadlines, not one per stream: a timer costs each stream a few
microseconds, a dict entry far less. A deadline is thus up to a second late.
"""

from __future__ import annotations

import asyncio
import math


class AnswerWaits:
    """Deadlines of the streams in progress, on one event loop.

    ``start(task, wait_s)`` gives ``task`` (:meth:`task`) a deadline ``wait_s`` from now
    and returns its slot; ``end(task, slot)`` takes it away (always, as the stream ends).
    At its deadline a task is cancelled and :meth:`expired` then tells that cancellation
    from any other.
    """

    __slots__ = ("_expired", "_slots")

    def __init__(self) -> None:
        # Whole seconds of loop time -> the tasks due then (a dict: ordered, O(1) removal).
        self._slots: dict[int, dict[asyncio.Task, None]] = {}
        self._expired: set[asyncio.Task] = set()

    def task(self) -> asyncio.Task | None:
        """The stream's task, to be given a deadline: the running one, or None when the
        stream is driven by hand outside an event loop (no timer could cancel it)."""
        try:
            return asyncio.current_task()
        except RuntimeError:
            return None

    def start(self, task: asyncio.Task, wait_s: float) -> int:
        loop = asyncio.get_running_loop()
        slot = math.ceil(loop.time() + wait_s)
        due = self._slots.get(slot)
        if due is None:
            due = self._slots[slot] = {}
            loop.call_at(slot, self._expire, slot)
        due[task] = None
        return slot

    def end(self, task: asyncio.Task, slot: int) -> None:
        due = self._slots.get(slot)
        if due is not None:
            due.pop(task, None)
        self._expired.discard(task)

    def expired(self, task: asyncio.Task) -> bool:
        """Whether ``task`` was cancelled by its deadline (once: the answer is taken)."""
        if task in self._expired:
            self._expired.discard(task)
            return True
        return False

    def _expire(self, slot: int) -> None:
        for task in self._slots.pop(slot, {}):
            if not task.done():
                self._expired.add(task)
                task.cancel()

    def __len__(self) -> int:
        """Streams with a deadline now."""
        return sum(len(due) for due in self._slots.values())
