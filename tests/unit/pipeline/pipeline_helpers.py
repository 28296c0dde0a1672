"""Exchanges, stages and an in-memory Redis for the pipeline tests."""

import asyncio

from ext_proc_server.core import metrics
from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.errors import QueueError
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.pipeline import Keyed, Stages


def exchange(path="/a", *, body=b"{}", truncated=False):
    return Exchange(
        id=path,
        request=HttpRequest(method="GET", path=path, authority="api.example:8080"),
        response=HttpResponse(status=200, body=body, body_truncated=truncated),
    )


def dropped(reason):
    return metrics.COLLECTOR_DROPPED.labels(reason=reason)._value.get()


def skipped(reason):
    return metrics.COLLECTOR_STUBS_SKIPPED.labels(reason=reason)._value.get()


class FakeRedis:
    """Claims and stream entries in memory; ``down`` makes every call fail."""

    def __init__(self):
        self.down = False
        self.claimed = set()
        self.entries = []
        self.calls = 0

    async def claim(self, hashes, stubs=()):
        self.calls += 1
        if self.down:
            raise QueueError("redis: down")
        out = []
        for h in hashes:
            out.append(h not in self.claimed)
            self.claimed.add(h)
        return out

    async def enqueue(self, entries):
        self.calls += 1
        if self.down:
            raise QueueError("redis: down")
        self.entries.extend(entries)


def stages(redis, *, sanitize=None, seen=None):
    seen = set() if seen is None else seen

    def is_new(h, stub="", error=False):
        new = h not in seen
        seen.add(h)
        return new

    return Stages(
        sanitize=sanitize or (lambda ex: ex.replace(sanitized=True)),
        dedup=lambda ex: Keyed(ex, ex.request.path),
        is_new_locally=is_new,
        build_mapping=lambda keyed: {
            "request": {"url": keyed.exchange.request.path},
            "metadata": {"h": keyed.dedup_hash},
        },
        claim=redis.claim,
        enqueue=redis.enqueue,
    )


def cfg(**kw):
    base = {"flush_interval": 0.01, "batch_size": 10, "async_workers": 2, "buffer_size": 100}
    base.update(kw)
    return CollectorConfig(**base)


async def wait_for(cond, timeout_s=5.0):
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not cond():
        assert asyncio.get_running_loop().time() < deadline, "condition not reached"
        await asyncio.sleep(0.01)
