"""What the collector holds unwritten (``collector_queue_size``), read from its /metrics.

The sampler runs in the load generator's process while it offers load: it keeps one
HTTP client for all its reads. A new client per read (``httpx.get``) builds a TLS
context each time, about 20 ms of CPU, twice a second, in the process whose event
loop must send a request every millisecond.
"""

from __future__ import annotations

import re
import threading
import time

import httpx

_QUEUE_SIZE = re.compile(r"^collector_queue_size ([0-9.e+]+)$", re.M)


def held(metrics_url: str, *, client: httpx.Client | None = None) -> float:
    """collector_queue_size: captures the collector accepted but has not written yet.
    ``client``: one to reuse (default: a new one for this read)."""
    if client is None:
        with httpx.Client() as own:
            return _queue_size(own, metrics_url)
    return _queue_size(client, metrics_url)


def _queue_size(client: httpx.Client, metrics_url: str) -> float:
    match = _QUEUE_SIZE.search(client.get(metrics_url, timeout=10).text)
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
        with httpx.Client() as client:
            while not self._done.wait(self._every_s):
                now = held(self._url, client=client)
                self.peak = max(self.peak, now)
                if now:
                    self.last_held_at = time.monotonic()

    def start(self) -> Backlog:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._done.set()
        self._thread.join()
