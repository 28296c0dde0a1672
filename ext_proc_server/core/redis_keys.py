"""Every Redis key mockado uses, in one place.

The capture queue is a Redis Stream named by ``redis_queue``. Loaders consume
it through one consumer group; the dead-letter stream and the dedup claims
hang off the same name, so several mockado installations can share a Redis by
choosing different queue names.
"""

from __future__ import annotations

from dataclasses import dataclass

LOADER_GROUP = "mockado-loaders"


@dataclass(frozen=True, slots=True)
class RedisKeys:
    queue: str

    @property
    def stream(self) -> str:
        """The capture queue: a stream of WireMock mappings."""
        return self.queue

    @property
    def group(self) -> str:
        return LOADER_GROUP

    @property
    def dead_letter(self) -> str:
        """Items that failed retry_attempts times with a terminal error, with the reason."""
        return f"{self.queue}:dead"

    def dedup_claim(self, dedup_hash: str) -> str:
        """SET NX with a TTL: the first collector replica to claim a hash queues it."""
        return f"{self.queue}:dedup:{dedup_hash}"

    @property
    def dedup_prefix(self) -> str:
        return f"{self.queue}:dedup:"

    def repeat_claim(self, name: str) -> str:
        """The repeat fast path's claim: a keyed digest of a raw request (set only when
        every replica has the key); the value is the response fingerprint and mapping id."""
        return f"{self.queue}:seen:{name}"

    def stub_ids(self, shard: str) -> str:
        """The set of mapping ids a shard holds, for the stub budget."""
        return f"{self.queue}:stubs:{shard}"
