"""Exchange ids: 32 hex digits, like 16 random bytes, without a getrandom call each.

A random prefix per process and a counter: unique within the process, and across
processes and restarts as far as 64 random bits go. A forked child draws its own prefix.
"""

from __future__ import annotations

import itertools
import os

_COUNTER_MASK = (1 << 64) - 1


class _ExchangeIds:
    __slots__ = ("_counter", "_prefix")

    def __init__(self) -> None:
        self.redraw()

    def redraw(self) -> None:
        self._prefix = os.urandom(8).hex()
        self._counter = itertools.count()

    def next_id(self) -> str:
        return f"{self._prefix}{next(self._counter) & _COUNTER_MASK:016x}"


_IDS = _ExchangeIds()
os.register_at_fork(after_in_child=_IDS.redraw)


def next_exchange_id() -> str:
    """A new exchange's id."""
    return _IDS.next_id()
