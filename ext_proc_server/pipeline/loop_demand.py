"""How much the event-loop thread wants a CPU: its CPU time plus its time waiting for one.

The pipeline pauses for the streams only while they keep the loop busy. CPU time alone
(``time.thread_time``) under-reads a loop starved by its neighbours (a pod on a busy node
runs less than its wall time, yet has work waiting all along), so on Linux the run-queue
wait is added (``/proc/thread-self/schedstat``: ns on a CPU, ns waiting for one). Elsewhere,
or when that file is missing, it is CPU time only.
"""

from __future__ import annotations

import os
import time

_SCHEDSTAT = "/proc/thread-self/schedstat"


class LoopDemand:
    """Seconds the calling thread ran or waited to run; open it in the thread it reads."""

    __slots__ = ("_fd",)

    def __init__(self) -> None:
        try:
            self._fd: int | None = os.open(_SCHEDSTAT, os.O_RDONLY)
        except OSError:
            self._fd = None

    def seconds(self) -> float:
        if self._fd is not None:
            try:
                ran_ns, waited_ns, _slices = os.pread(self._fd, 128, 0).split()
                return (int(ran_ns) + int(waited_ns)) / 1e9
            except (OSError, ValueError):
                self.close()
        return time.thread_time()

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
