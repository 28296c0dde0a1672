"""The per-exchange stages: sanitize -> dedup -> mapping -> claim + enqueue.

:class:`Stages` names every part in one place; :func:`default_stages` wires the
real ones (the sanitizer, the deduplicator, the mapping builder, Redis).
:func:`prepare` runs the CPU stages on one exchange and counts why one is
dropped; the pipeline's workers then write whole batches with the Redis stages.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple, Required, TypedDict, Unpack

from ext_proc_server.core import metrics, queue_entries
from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.errors import SanitizeError
from ext_proc_server.core.exchange import Exchange
from ext_proc_server.core.hosts import host_of
from ext_proc_server.core.queue_entries import QueueEntry
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.mapping import faithful, matchers, stubs
from ext_proc_server.mapping.dedup import Deduplicator, claim_batch, is_error_answer
from ext_proc_server.mapping.noise import NoiseNormalizer, NormalizedRequest
from ext_proc_server.mapping.removals import RemovedStubs
from ext_proc_server.mapping.repeats import RepeatIndex, RepeatKey
from ext_proc_server.mapping.sent_messages import exact_repeats_hash
from ext_proc_server.mapping.shapes import JsonBody
from ext_proc_server.pipeline import queue_writer, skips
from ext_proc_server.pipeline.kept_writes import KeptWrites
from ext_proc_server.pipeline.skips import Skipped
from ext_proc_server.sanitize import Sanitizer

log = logging.getLogger(__name__)

_dropped = metrics.COLLECTOR_DROPPED
_skips = metrics.COLLECTOR_STUBS_SKIPPED
ClaimAndEnqueueFn = Callable[..., Awaitable[list[bool]]]


# Keyed and Prepared are NamedTuples, immutable as a frozen dataclass is, built in C: a
# frozen dataclass's __init__ sets each field through object.__setattr__ (about 1.5k
# instructions a field), and every first-seen exchange builds two of each kind.
class Keyed(NamedTuple):
    """A sanitized exchange with its dedup hash. ``normalized``: what the dedup stage
    computed the hash from, when the mapping stage can reuse it (else None). ``host``:
    the canonical destination host, for shard routing ("" = from the authority).
    ``stub_hash``: what names the stub ("" = the dedup hash). ``shape``: the response's
    shape digest when the dedup stage computed it ("" = the mapping stage computes it);
    ``response_json``: the response's JSON body as read for it (None: not read).
    ``faithful_under``: the ``mark_truncated`` under which ``faithful.skip_reason`` found
    no reason for ``exchange`` (None: not asked), so the mapping stage need not ask again."""

    exchange: Exchange
    dedup_hash: str
    normalized: NormalizedRequest | None = None
    host: str = ""
    stub_hash: str = ""
    shape: str = ""
    response_json: JsonBody | None = None
    faithful_under: bool | None = None


class Prepared(NamedTuple):
    """One exchange ready for Redis: its dedup hash and its queue entry (None: a local
    duplicate, already queued), and its repeat key when the fast path is on."""

    dedup_hash: str
    entry: QueueEntry | None
    repeat_key: RepeatKey | None = None
    stub_hash: str = ""
    # An error answer (mapping.dedup.is_error_answer): a success seen again replaces it.
    error: bool = False
    # The stub answering an SQS send's exact repeats beside this one, claimed and queued as
    # its own item (mapping.sent_messages.exact_repeats), or None.
    exact_repeats: Prepared | None = None

    @property
    def mapping_id(self) -> str:
        """The id of the stub this exchange is recorded as."""
        return stubs.mapping_id(self.stub_hash or self.dedup_hash)


@dataclass(frozen=True, slots=True)
class Stages:
    """Every per-exchange part, in the order they run; each can be replaced alone."""

    sanitize: Callable[[Exchange], Exchange]
    dedup: Callable[[Exchange], Keyed]
    # (dedup hash, stub id, an error answer) -> new locally.
    is_new_locally: Callable[[str, str, bool], bool]
    # -> the WireMock mapping, or None when skipped on purpose (the stage counted why).
    build_mapping: Callable[[Keyed], dict[str, Any] | None]
    # (hashes, stubs) -> claimed?, one per hash; raises on Redis errors. ``stubs``: each
    # item's stub id and whether it is an error answer (a claim counts while its stub's
    # state exists, as in claim_and_enqueue).
    claim: Callable[[Sequence[str], Sequence[tuple[str, bool]]], Awaitable[list[bool]]]
    # (entries) -> None; raises on Redis errors.
    enqueue: Callable[[Sequence[QueueEntry]], Awaitable[None]]
    # Optional: claim and enqueue in one step (one Redis round trip per batch).
    # (hashes, entries) -> claimed-and-queued?, one per item; raises on Redis errors.
    # (hashes, entries, seen) with ``seen`` the repeat claims to set, (name, value) per
    # item, or () for none.
    claim_and_enqueue: ClaimAndEnqueueFn | None = None
    # (keyed, its mapping) -> (dedup hash, stub hash, mapping) of the stub answering an SQS
    # send's exact repeats beside it, or None (None: no such stubs).
    exact_repeats: (
        Callable[[Keyed, dict[str, Any]], tuple[str, str, dict[str, Any]] | None] | None
    ) = None
    # The repeat fast path (None: off): its index, and the Redis lookup of repeat claims
    # other replicas set (names) -> values, None where absent; raises on Redis errors.
    repeats: RepeatIndex | None = None
    seen_in_redis: Callable[[Sequence[str]], Awaitable[list[Any]]] | None = None
    # The last_seen hook: repeats per mapping id since the last call, about once per
    # flush_interval (None: not reported). Stub lifecycle plugs in here. -> the ids among
    # them whose stub was last queued from an error answer (by any replica).
    seen_again: Callable[[Mapping[str, int]], Awaitable[Sequence[str]]] | None = None
    # (stub ids) -> None: stubs last queued from an error answer; what the LRUs hold as
    # recorded for them is checked against Redis again (None: not told).
    held_by_errors: Callable[[Sequence[str]], None] | None = None
    # () -> None: forget, in the in-process LRUs, the stubs the loader removed since the
    # last call (about once per flush_interval; None: not followed).
    forget_removed: Callable[[], Awaitable[None]] | None = None
    # The canonical destination host of a sanitized exchange, for the skip record (None:
    # the authority's host).
    canonical_host: Callable[[Exchange], str] | None = None
    # (skips) -> None: add them to the per-host skip record; raises on Redis errors
    # (None: not recorded).
    record_skips: Callable[[Sequence[Skipped]], Awaitable[None]] | None = None
    # Whether Redis still holds the stubs queued (None: not followed): told of each stub
    # queued, asked about once per flush_interval; the LRUs forget it all when it does not.
    kept_writes: KeptWrites | None = None


class MapOptions(TypedDict, total=False):
    """How :func:`map_sanitized` (and :func:`prepare`) treat an exchange."""

    dedup_enabled: Required[bool]
    mark_truncated: bool  # collector.truncated_responses is "mark"
    repeat_key: RepeatKey | None  # the exchange's repeat key, when the fast path is on


def prepare(
    exchange: Exchange, stages: Stages, **options: Unpack[MapOptions]
) -> Prepared | Skipped | None:
    """Sanitize, dedup locally and map one exchange -> its queue entry (no entry for a
    local duplicate); ``Skipped`` when the rule gives it no stub (``mapping.faithful``,
    counted); None when it is dropped (counted by reason). Fails closed: an exchange
    the sanitizer cannot clean never goes further. The two halves, :func:`sanitize_one`
    and :func:`map_sanitized`, can also run a batch at a time, step by step."""
    clean = sanitize_one(exchange, stages, mark_truncated=options.get("mark_truncated", False))
    if clean is None:
        return None
    return map_sanitized(clean, stages, **options)


def sanitize_one(exchange: Exchange, stages: Stages, *, mark_truncated: bool) -> Exchange | None:
    """The sanitized exchange, or None when it is dropped (counted): the first half of
    :func:`prepare`."""
    if faithful.skip_reason(exchange, mark_truncated=mark_truncated):
        # Known before sanitizing (cut at the limit, dropped while captured): only the
        # parts the record names are sanitized, not a body that will not be kept.
        exchange = _without_bodies(exchange)
    return _sanitized(exchange, stages)


def map_sanitized(
    clean: Exchange,
    stages: Stages,
    *,
    dedup_enabled: bool,
    mark_truncated: bool = False,
    repeat_key: RepeatKey | None = None,
) -> Prepared | Skipped | None:
    """Dedup locally and map a sanitized exchange: the second half of :func:`prepare`."""
    try:
        reason = faithful.skip_reason(clean, mark_truncated=mark_truncated)
        if reason:
            return _skipped(clean, reason, stages)
        keyed = _checked_faithful(stages.dedup(clean), clean, mark_truncated)
        if keyed.normalized is not None:
            # No matcher tells this request from others: skipped here, so the per-host
            # record says why (build_mapping refuses it too, when handed no normalized).
            unmatchable = matchers.unmatchable_reason(keyed.normalized)
            if unmatchable:
                return _skipped(clean, unmatchable, stages)
        repeats = stages.repeats
        if repeat_key is not None and keyed.response_json is not None and repeats is not None:
            # The repeat fingerprint reads the response the shape was read from, when the
            # sanitizer left it as it was.
            repeats.fingerprint_from(repeat_key, keyed.response_json)
        # is_new_locally and claim count collector_deduplication_operations_total.
        response = clean.response
        error = response is not None and is_error_answer(response.status)
        stub_id = stubs.mapping_id(keyed.stub_hash or keyed.dedup_hash)
        if dedup_enabled and not stages.is_new_locally(keyed.dedup_hash, stub_id, error):
            return Prepared(keyed.dedup_hash, None, repeat_key, keyed.stub_hash, error)
        mapping = stages.build_mapping(keyed)
        if mapping is None:
            return None
        host = keyed.host or host_of(clean.request.authority)
        # Redis needs valid UTF-8: a value that is not (UnicodeEncodeError) cannot be queued.
        entry = queue_entries.encode_entry(mapping, host=host)
        beside = _exact_repeats(keyed, mapping, stages, host=host, repeat_key=repeat_key)
    except (UnicodeEncodeError, RecursionError):
        # A JSON body nested past the recursion limit cannot be normalized or mapped.
        _dropped.labels(reason="malformed").inc()
        return None
    except Exception:
        _dropped.labels(reason="internal_error").inc()
        log.exception("pipeline: mapping failed")
        return None
    return Prepared(keyed.dedup_hash, entry, repeat_key, keyed.stub_hash, error, beside)


def _checked_faithful(keyed: Keyed, clean: Exchange, mark_truncated: bool) -> Keyed:
    """``keyed`` saying that ``clean`` has no skip reason under ``mark_truncated`` (the
    caller has just asked): the mapping stage then does not ask again."""
    if keyed.exchange is not clean:  # a dedup stage that handed on another exchange
        return keyed
    return Keyed(
        clean,
        keyed.dedup_hash,
        keyed.normalized,
        keyed.host,
        keyed.stub_hash,
        keyed.shape,
        keyed.response_json,
        mark_truncated,
    )


def _exact_repeats(
    keyed: Keyed,
    mapping: dict[str, Any],
    stages: Stages,
    *,
    host: str,
    repeat_key: RepeatKey | None,
) -> Prepared | None:
    build = stages.exact_repeats
    built = build(keyed, mapping) if build is not None else None
    if built is None:
        return None
    dedup_hash, stub_hash, twin = built
    entry = queue_entries.encode_entry(twin, host=host)
    return Prepared(dedup_hash, entry, repeat_key, stub_hash)


def _without_bodies(exchange: Exchange) -> Exchange:
    """The exchange with its bodies emptied; the flags that say why are kept."""
    request = exchange.request.replace(body=b"")
    response = exchange.response
    if response is not None:
        response = response.replace(body=b"")
    return exchange.replace(request=request, response=response)


def _skipped(clean: Exchange, reason: str, stages: Stages) -> Skipped:
    request = clean.request
    host = stages.canonical_host(clean) if stages.canonical_host else ""
    skipped = Skipped(
        host=host or host_of(request.authority),
        reason=reason,
        method=request.method,
        path=request.path,
    )
    _skips.labels(reason=reason).inc()
    return skipped


def _sanitized(exchange: Exchange, stages: Stages) -> Exchange | None:
    try:
        clean = stages.sanitize(exchange)
    except SanitizeError:
        _dropped.labels(reason="sanitize_error").inc()
        return None
    except Exception:
        _dropped.labels(reason="sanitize_error").inc()
        log.exception("pipeline: sanitizer failed")
        return None
    if not clean.sanitized:
        _dropped.labels(reason="unsanitizable").inc()
        return None
    return clean


# -- the real parts ---------------------------------------------------------------------


class DedupStage:
    """The dedup hash, with the normalized request and the response's shape handed on to
    the mapping stage (each body is parsed once)."""

    def __init__(self, deduplicator: Deduplicator) -> None:
        self._deduplicator = deduplicator
        self.is_new_locally: Callable[[str, str, bool], bool] = deduplicator.is_new_locally

    def __call__(self, exchange: Exchange) -> Keyed:
        keys = self._deduplicator.keys(exchange)
        host = self._deduplicator.normalizer.canonical_host(exchange)
        return Keyed(
            exchange,
            keys.dedup_hash,
            keys.normalized,
            host,
            keys.stub_hash,
            keys.shape,
            keys.response_json,
        )


class MappingStage:
    """The WireMock stub of a keyed exchange."""

    def __init__(self, config: CollectorConfig, *, normalizer: NoiseNormalizer) -> None:
        self._config = config
        self._normalizer = normalizer

    def __call__(self, keyed: Keyed) -> dict[str, Any] | None:
        return stubs.build_mapping(
            keyed.exchange,
            dedup_hash=keyed.stub_hash or keyed.dedup_hash,
            config=self._config,
            normalizer=self._normalizer,
            normalized=keyed.normalized,
            shape=keyed.shape,
            faithful_under=keyed.faithful_under,
        )

    def exact_repeats(
        self, keyed: Keyed, mapping: dict[str, Any]
    ) -> tuple[str, str, dict[str, Any]] | None:
        """(dedup hash, stub hash, mapping) of the stub answering an SQS send's exact
        repeats beside ``mapping`` (``stubs.exact_repeats_mapping``), or None."""
        stub_hash = keyed.stub_hash or keyed.dedup_hash
        twin = stubs.exact_repeats_mapping(
            keyed.exchange,
            mapping,
            stub_hash=stub_hash,
            normalizer=self._normalizer,
            normalized=keyed.normalized,
        )
        if twin is None:
            return None
        return exact_repeats_hash(keyed.dedup_hash), exact_repeats_hash(stub_hash), twin


class ErrorHeldStubs:
    """Stubs another replica queued from an error answer: their successes are no longer
    taken as recorded, neither by the dedup LRU nor by the repeat index."""

    def __init__(self, deduplicator: Deduplicator, repeats: RepeatIndex | None) -> None:
        self._deduplicator = deduplicator
        self._repeats = repeats

    def __call__(self, stub_ids: Sequence[str]) -> None:
        newly = self._deduplicator.held_by_errors(stub_ids)
        if newly and self._repeats is not None:
            self._repeats.forget_mappings(newly)


class RedisStages:
    """The Redis side: dedup claims and XADDs, separately or in one round trip."""

    def __init__(self, redis: Any, *, keys: RedisKeys, ttl_s: int) -> None:
        self._redis = redis
        self._keys = keys
        self._ttl_s = ttl_s
        self._script = (
            queue_writer.ClaimAndEnqueue(redis, keys=keys, ttl_s=ttl_s)
            if redis is not None
            else None
        )
        self._report_seen = queue_writer.ReportSeen(redis, keys=keys) if redis is not None else None
        self._repeat_claims = (
            queue_writer.RepeatClaims(redis, keys=keys) if redis is not None else None
        )
        self._unique = metrics.COLLECTOR_DEDUPLICATION.labels(result="unique")
        self._duplicate = metrics.COLLECTOR_DEDUPLICATION.labels(result="duplicate")

    async def claim(self, hashes: Sequence[str], stubs: Sequence[tuple[str, bool]]) -> list[bool]:
        return await claim_batch(
            self._redis, keys=self._keys, hashes=list(hashes), ttl_s=self._ttl_s, stubs=stubs
        )

    async def enqueue(self, entries: Sequence[QueueEntry]) -> None:
        await queue_writer.enqueue_batch(self._redis, keys=self._keys, entries=entries)

    async def claim_and_enqueue(
        self,
        hashes: Sequence[str],
        entries: Sequence[QueueEntry],
        seen: Sequence[tuple[str, str]] = (),
        stubs: Sequence[tuple[str, bool]] = (),
    ) -> list[bool]:
        assert self._script is not None
        claimed = await self._script(hashes, entries, seen, stubs)
        queued = sum(claimed)
        if queued:
            self._unique.inc(queued)
        if len(claimed) - queued:
            self._duplicate.inc(len(claimed) - queued)
        return claimed

    async def seen_again(self, counts: Mapping[str, int]) -> list[str]:
        assert self._report_seen is not None
        return await self._report_seen(counts, now_s=time.time())

    async def record_skips(self, skipped: Sequence[Skipped]) -> None:
        await skips.record_skips(self._redis, keys=self._keys, skipped=skipped)

    async def seen_in_redis(self, names: Sequence[str]) -> list[Any]:
        assert self._repeat_claims is not None
        return await self._repeat_claims(names)

    @property
    def has_script(self) -> bool:
        return self._script is not None


def default_stages(config: CollectorConfig, *, redis: Any, keys: RedisKeys) -> Stages:
    """The real sanitizer, dedup and mapping, wired to one Redis client (None: no
    Redis; the one-round-trip script is then left out)."""
    normalizer = NoiseNormalizer(config)
    deduplicator = Deduplicator(config, normalizer=normalizer)
    dedup = DedupStage(deduplicator)
    writes = RedisStages(redis, keys=keys, ttl_s=config.dedup_ttl_s)
    repeats = RepeatIndex(config, normalizer=normalizer)
    mapping = MappingStage(config, normalizer=normalizer)
    return Stages(
        sanitize=Sanitizer(config).sanitize,
        dedup=dedup,
        is_new_locally=dedup.is_new_locally,
        build_mapping=mapping,
        exact_repeats=mapping.exact_repeats,
        claim=writes.claim,
        enqueue=writes.enqueue,
        claim_and_enqueue=writes.claim_and_enqueue if writes.has_script else None,
        repeats=repeats if repeats.enabled else None,
        seen_in_redis=writes.seen_in_redis if writes.has_script and repeats.shared else None,
        seen_again=writes.seen_again if redis is not None else None,
        held_by_errors=ErrorHeldStubs(deduplicator, repeats if repeats.enabled else None),
        forget_removed=(
            RemovedStubs(redis, keys=keys, deduplicator=deduplicator, repeats=repeats)
            if redis is not None
            else None
        ),
        canonical_host=normalizer.canonical_host,
        record_skips=writes.record_skips if redis is not None else None,
        kept_writes=(
            KeptWrites(redis, keys=keys, forget=_forgetting_all(deduplicator, repeats))
            if redis is not None
            else None
        ),
    )


def _forgetting_all(deduplicator: Deduplicator, repeats: RepeatIndex) -> Callable[[], None]:
    """Both LRUs forget every request they hold as recorded."""

    def forget() -> None:
        deduplicator.forget_all()
        repeats.forget_all()

    return forget
