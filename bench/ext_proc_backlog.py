"""What the collector holds unwritten (``collector_queue_size``), read from its /metrics."""

from __future__ import annotations

import re
import threading
import time

import httpx


def held(metrics_url: str) -> float:
    """collector_queue_size: captures the collector accepted but has not written yet."""
    text = httpx.get(metrics_url, timeout=10).text
    match = re.search(r"^collector_queue_size ([0-9.e+]+)$", text, re.M)
    return float(match.group(1)) if match else 0.0


class Backlog:
    """``collector_queue_size`` sampled every ``every_s`` in a thread, from ``start``
    until ``stop``: its peak, and when it was last seen above zero."""

    def __init__(self, metrics_url: str, *, every_s: float = 0.5) -> None:
        self._url, self._every_s = metrics_url, every_s
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self.peak, self.last_held_at = 0.0, 0.0

    def _sample(self) -> None:
        while not self._done.wait(self._every_s):
            now = held(self._url)
            self.peak = max(self.peak, now)
            if now:
                self.last_held_at = time.monotonic()

    def start(self) -> Backlog:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
