"""Every Redis key mockado uses, in one place.

The capture queue is a Redis Stream named by ``redis_queue``. Loaders consume
it through one consumer group; the dead-letter stream, the dedup claims and the
per-shard records of what each WireMock should hold hang off the same name, so
several mockado installations can share a Redis by choosing different queue names.
"""

from __future__ import annotations

from dataclasses import dataclass

LOADER_GROUP = "mockado-loaders"
# How long the log of removed stubs keeps an entry: a collector that could not read it
# for longer forgets every stub it holds as recorded (mapping.removals).
REMOVED_STUBS_KEPT_S = 3600


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

    def stub_state(self, stub_id: str) -> str:
        """Whether the stub (by its mapping id) was last queued from an error answer ("e")
        or not ("o"): a success recorded again after an error replaces it (mapping.dedup).
        Also what keeps the stub's claims: a dedup or repeat claim counts only while its
        stub's state exists, and the loader deletes it when it removes the stub."""
        return f"{self.queue}:stub-state:{stub_id}"

    @property
    def kept_marker(self) -> str:
        """A random token set once (SET NX, no TTL) and never deleted; each collector
        keeps the one it read (pipeline.kept_writes). Gone, or another token later: Redis
        restarted empty since. Under the stub-state prefix, so the grants on stub states
        cover it; no mapping id (a UUID) is ``kept-marker``."""
        return f"{self.queue}:stub-state:kept-marker"

    @property
    def stub_state_prefix(self) -> str:
        """:meth:`stub_state` without the id (a script appends the id it read)."""
        return f"{self.queue}:stub-state:"

    @property
    def removed_stubs(self) -> str:
        """A stream of the stubs the loader removed (retired, expired, refused): one entry
        per removal, field ``ids`` the space-separated mapping ids, trimmed past
        :data:`REMOVED_STUBS_KEPT_S`. Collectors follow it to forget those stubs."""
        return f"{self.queue}:removed"

    def refused_stubs(self, shard: str) -> str:
        """A sorted set per shard: ids of new stubs the stub budget refused, scored by the
        first refusal. Their claims hold until the shard has room (loader.held_claims)."""
        return f"{self.queue}:refused:{shard}"

    @property
    def dead_lettered_stubs(self) -> str:
        """A sorted set: ids of dead-lettered stubs, scored by when their claims are
        released (loader.held_claims)."""
        return f"{self.queue}:dead-held"

    def dedup_claim(self, dedup_hash: str) -> str:
        """SET NX with a TTL: the first collector replica to claim a hash queues it."""
        return f"{self.queue}:dedup:{dedup_hash}"

    @property
    def dedup_prefix(self) -> str:
        return f"{self.queue}:dedup:"

    def shard_record(self, shard: str) -> str:
        """What a WireMock shard should hold: a hash of mapping id -> the mapping JSON as
        imported. Written in the transaction that acks landed items; read to reload a
        WireMock that restarted empty."""
        return f"{self.queue}:record:{shard}"

    def resync_lock(self, shard: str) -> str:
        """A short lock (with a TTL) taken by the one loader replica reloading a shard."""
        return f"{self.queue}:resync-lock:{shard}"

    def repeat_claim(self, name: str) -> str:
        """The repeat fast path's claim: a keyed digest of a raw request (set only when
        every replica has the key); the value is the response fingerprint and mapping id."""
        return f"{self.queue}:seen:{name}"

    @property
    def misses(self) -> str:
        """The miss report: a hash of miss id -> the sanitized miss JSON (host, method,
        path template, query keys, closest stub). At most ``loader.max_misses`` fields."""
        return f"{self.queue}:misses"

    @property
    def miss_counts(self) -> str:
        """Miss id -> how many times it was seen (HINCRBY)."""
        return f"{self.queue}:misses:count"

    @property
    def miss_last_seen(self) -> str:
        """Miss id -> when it was last seen (epoch seconds)."""
        return f"{self.queue}:misses:seen"

    def skip_counts(self, host: str) -> str:
        """Stubs not written for one destination host: a hash of skip reason -> count,
        with a TTL (pipeline.skips). ``host`` is the canonical, sanitized host."""
        return f"{self.queue}:skips:{host}"

    def skip_recent(self, host: str) -> str:
        """The latest skips of one host: a sorted set of "reason method path" (sanitized
        path) scored by time, capped in length, with a TTL."""
        return f"{self.queue}:skips-recent:{host}"

    @property
    def skipped_hosts(self) -> str:
        """Hosts with skips: a sorted set of host scored by the time of the last skip,
        capped in length, with a TTL."""
        return f"{self.queue}:skips-hosts"

    @property
    def drift_log(self) -> str:
        """A capped list of drift records (JSON, newest first): a recorded request whose
        response changed status or shape. Sanitized: host, path template, changes, time."""
        return f"{self.queue}:drift"

    @property
    def last_seen(self) -> str:
        """Collectors report repeats here (mapping id -> epoch seconds of the last one);
        the loader takes the hash and stamps the stubs in batches."""
        return f"{self.queue}:last-seen"

    @property
    def seen_counts(self) -> str:
        """Beside ``last_seen``: mapping id -> repeats since the loader last took it."""
        return f"{self.queue}:seen-count"

    def seen_index(self, shard: str) -> str:
        """A sorted set per shard: mapping id scored by its last_seen, for stub_ttl_s."""
        return f"{self.queue}:seen-at:{shard}"
