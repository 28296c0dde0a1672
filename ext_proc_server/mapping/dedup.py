"""Dedup: one mapping per distinct request, however often it was seen.

The key is a SHA-256 over the request *as the mapping will match it*: the
upper-cased method, the destination host, the path, the sorted query, the
canonical body (JSON with sorted keys), the request headers the response varies on
(``Vary``, a CORS answer's Origin: ``Exchange.varied``, when there are any), a body's
Content-Type as its stub matches it (when not the usual one of its kind:
:func:`matched_content_type`) and the port (when not the default), with noise
replaced by fixed tokens (see :mod:`ext_proc_server.mapping.noise`). The canonical body
counts up to ``dedup_body_limit`` bytes. An SQS send whose stub holds its message as
recorded adds that message, noise included (``sent_messages.pinned_message_key``). The
claimed key also covers the response's shape
(status, JSON keys and types: :mod:`ext_proc_server.mapping.shapes`), so a known
request whose response changed shape is let through and replaces its stub (drift);
the stub's id still follows the request alone. With ``stateful_scenarios`` the
whole response digest is part of the key, so every new response is kept.

Two levels: an in-process LRU (:meth:`Deduplicator.is_new_locally`), then a
Redis claim shared by every collector replica, with a TTL, that counts only while its
stub's state exists (:func:`claim_batch`, or with the XADD in one script:
``pipeline.queue_writer.ClaimAndEnqueue``).

An error answer (:func:`is_error_answer`: a 5xx, 408 or 429) does not hold a stub: when a
request's stub was last queued from one, its success seen again is queued again (a 503
for a minute, then the 200) though its claim exists. A success never gives way to an
error already claimed, and successes of two shapes are claimed once each, as before.
A replica that saw only the successes learns of the error from Redis when it reports
their repeats (:meth:`Deduplicator.held_by_errors`), within a flush interval.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import NamedTuple

import orjson
from redis import asyncio as aioredis
from redis.exceptions import RedisError

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.errors import QueueError
from ext_proc_server.core.exchange import Exchange, HttpResponse
from ext_proc_server.core.hosts import told_apart
from ext_proc_server.core.metrics import COLLECTOR_DEDUPLICATION
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.mapping.multipart import content_type_regex
from ext_proc_server.mapping.noise import (
    Hole,
    NoiseNormalizer,
    NormalizedBody,
    NormalizedRequest,
    Template,
    canonical_default,
)
from ext_proc_server.mapping.query_order import out_of_sorted_order
from ext_proc_server.mapping.sent_messages import pinned_message_key
from ext_proc_server.mapping.shapes import JsonBody, response_shape, shape_digest

_DUMP = {"sort_keys": True, "separators": (",", ":"), "ensure_ascii": False}
# Holes and Templates are dataclasses: through canonical_default, as json does.
_ORJSON_OPTIONS = orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS


def is_error_answer(status: int) -> bool:
    """A 5xx, 408 or 429: an answer a service gives for a while, not one its stub keeps."""
    return status >= 500 or status in (408, 429)


def canonical_json(value: object, *, plain_floats: bool = False) -> bytes:
    """``json.dumps`` with sorted keys, compact, non-ASCII as is, holes as their tokens,
    in UTF-8: the bytes the dedup key has always hashed (stub ids follow them, so they
    never change). A non-finite float is written as json writes it (``Infinity``,
    ``NaN``), never as ``null``.

    ``plain_floats``: the caller knows every float in ``value`` is one json writes without
    an exponent (finite, 0 or 1e-4 <= |x| < 1e16). orjson then writes the same bytes
    several times cheaper (it writes 1e-05 as 0.00001 and infinity as null); json where
    orjson refuses a value (an integer past 64 bits, a lone surrogate: json then fails
    the same way as before)."""
    if plain_floats:
        try:
            return orjson.dumps(value, default=canonical_default, option=_ORJSON_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError
            pass
    return json.dumps(value, default=canonical_default, **_DUMP).encode()


# The Content-Type most requests send with each kind of body: their keys leave it out, as
# before the Content-Type joined the key (their stub ids do not move).
_USUAL_CONTENT_TYPES = {
    "json": "application/json",
    "form": "application/x-www-form-urlencoded",
    "text": "text/plain",
    "binary": "application/octet-stream",
    "multipart": content_type_regex("multipart/form-data; boundary=-", str).lower(),
}


def matched_content_type(body_kind: str, content_type: str) -> str | None:
    """A request body's Content-Type as its stub matches it (mapping.matchers: ignoring
    case, a multipart boundary any; "" matches none sent), or None when it is the usual
    one of ``body_kind`` or there is no body (no matcher): ``application/json`` and
    ``application/json; charset=utf-8`` are two stubs, and two keys."""
    if body_kind == "none":
        return None
    if body_kind == "multipart":
        matched = content_type_regex(content_type, str).lower()
    else:
        matched = content_type.lower()
    return None if matched == _USUAL_CONTENT_TYPES.get(body_kind) else matched


def _canonical_body(body: NormalizedBody) -> bytes:
    if body.kind == "json":
        return canonical_json(body.value, plain_floats=not body.exponent_floats)
    if body.kind == "form":
        # Names and values are strings.
        return canonical_json(_pairs(body.value), plain_floats=True)
    if body.kind == "binary":
        return str(body.value).encode("ascii")
    if body.kind == "text":
        value = body.value
        return (value.token() if isinstance(value, Template) else value).encode()
    if body.kind == "multipart":
        # The parts between the boundaries, not the boundary drawn for the call.
        return "\x00b".join(_text_token(part) for part in body.value).encode()
    return b""


def _text_token(value: object) -> str:
    if isinstance(value, Template):
        return value.token()
    if isinstance(value, Hole):
        return f"\x00{value.kind}"
    return str(value)


def _pairs(pairs: Iterable[tuple[str, object]]) -> list[list[object]]:
    # Whole-value holes are optional in the matcher, so they are left out of the key.
    return [[name, value] for name, value in pairs if not isinstance(value, Hole)]


def request_key_hash(normalized: NormalizedRequest, *, body_limit_bytes: int) -> str:
    """Hex SHA-256 of the normalized request (see the module docstring)."""
    head = canonical_json(
        [
            normalized.method,
            normalized.host,
            list(normalized.segments),
            _pairs(normalized.query),
            normalized.body.kind,
        ],
        plain_floats=True,  # strings only
    )
    digest = hashlib.sha256(head)
    digest.update(b"\x00")
    digest.update(_canonical_body(normalized.body)[:body_limit_bytes])
    if normalized.varied:
        # Only with a Vary: every other request keeps the key (and the stub id) it had.
        varied = [[name, list(values)] for name, values in normalized.varied]
        digest.update(b"\x00vary\x00" + canonical_json(varied, plain_floats=True))
    reordered = out_of_sorted_order(normalized.query_order)
    if reordered:
        # Only in another order than sorted: every other request keeps its key.
        digest.update(b"\x00order\x00" + canonical_json(reordered, plain_floats=True))
    if normalized.body.order:  # a form's fields, likewise
        reordered = out_of_sorted_order(normalized.body.order)
        if reordered:
            digest.update(b"\x00form-order\x00" + canonical_json(reordered, plain_floats=True))
    if normalized.accepted:
        # Only when Accept listed the answer's type: every other request keeps its key.
        digest.update(b"\x00accept\x00" + normalized.accepted.encode())
    if normalized.answer_choices:
        # Only those sent: a request that sent none keeps its key (mapping.answer_choices).
        sent = [[name, list(values)] for name, values in normalized.answer_choices if values]
        if sent:
            digest.update(b"\x00answer-choices\x00" + canonical_json(sent, plain_floats=True))
    content_type = matched_content_type(normalized.body.kind, normalized.content_type)
    if content_type is not None:
        # Only when not the usual type of its body: every other request keeps its key.
        digest.update(b"\x00content-type\x00" + content_type.encode("utf-8", "surrogateescape"))
    if told_apart(normalized.port):
        # Only on a port of its own: a call to the default port keeps its key and stub id.
        digest.update(b"\x00port\x00%d" % normalized.port)
    return digest.hexdigest()


def response_digest(
    response: HttpResponse | None, *, normalizer: NoiseNormalizer, path: str
) -> str:
    """Hex SHA-256 of the status and the noise-normalized body (headers ignored),
    so two responses differing only by timestamps or ids count as one."""
    if response is None:
        return hashlib.sha256(b"no-response").hexdigest()
    body = normalizer.normalize_body(response, part="response", path=path)
    digest = hashlib.sha256(f"{response.status}\x00{body.kind}\x00".encode())
    digest.update(_canonical_body(body) if body.kind != "opaque" else response.body)
    return digest.hexdigest()


def combine(request_hash: str, digest: str) -> str:
    return hashlib.sha256(f"{request_hash}:{digest}".encode()).hexdigest()


# A NamedTuple, not a frozen dataclass: built in C, not a field at a time through
# object.__setattr__ (once per first-seen exchange; about 1.5k instructions a field).
class DedupKeys(NamedTuple):
    """One exchange's keys. ``shape``: the response's shape digest when the key covers
    it (the stub's metadata reuses it: the body is parsed once), else "";
    ``response_json``: the response's JSON body as read for that shape (None: not read)."""

    dedup_hash: str
    stub_hash: str
    normalized: NormalizedRequest
    shape: str = ""
    response_json: JsonBody | None = None


class Deduplicator:
    """Dedup keys and the in-process LRU. Safe to share between threads and
    asyncio tasks: the lock is held only for a dict operation, never across an await."""

    def __init__(
        self,
        config: CollectorConfig,
        *,
        normalizer: NoiseNormalizer | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._config = config
        self._normalizer = normalizer or NoiseNormalizer(config)
        self._capacity = config.dedup_cache_size
        # hash -> (when it entered, its stub's id). An entry lives no longer than its Redis
        # claim (dedup_ttl_s), and no longer than its stub (mapping.removals).
        self._seen: OrderedDict[str, tuple[float, str]] = OrderedDict()
        # stub id -> whether its last queued answer was an error (bounded like _seen).
        self._stub_errors: dict[str, bool] = {}
        self._max_age_s = config.dedup_ttl_s
        self._clock = clock
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        """False: the pipeline skips both the LRU and the Redis claim."""
        return self._config.dedup_enabled

    @property
    def normalizer(self) -> NoiseNormalizer:
        return self._normalizer

    def hash(self, exchange: Exchange) -> str:
        """The dedup key (hex SHA-256). Only a sanitized exchange is hashed:
        a hash of raw data could be brute-forced back to a weak secret."""
        return self.hash_normalized(exchange)[0]

    def hash_normalized(self, exchange: Exchange) -> tuple[str, NormalizedRequest]:
        """-> (dedup key, the normalized request), so the mapping can reuse the
        normalization instead of doing it a second time."""
        key, _, normalized = self.key_parts(exchange)
        return key, normalized

    def key_parts(self, exchange: Exchange) -> tuple[str, str, NormalizedRequest]:
        """-> (dedup key, the stub's key, the normalized request): :meth:`keys` as a tuple."""
        keys = self.keys(exchange)
        return keys.dedup_hash, keys.stub_hash, keys.normalized

    def keys(self, exchange: Exchange) -> DedupKeys:
        """The dedup key, the stub's key, and what they were computed from. The dedup key
        is claimed; the stub's key names the stub (the request alone, so a drifted response
        replaces its stub; with stateful scenarios, the two are the same)."""
        if not exchange.sanitized:
            raise ValueError("dedup: exchange is not sanitized")
        normalized = self._normalizer.normalize_request(exchange)
        key = request_key_hash(normalized, body_limit_bytes=self._config.dedup_body_limit)
        pinned = pinned_message_key(exchange)
        if pinned is not None:
            # Its stub holds the message as recorded, noise included (mapping.sent_messages).
            key = combine(key, hashlib.sha256(pinned).hexdigest())
        response = exchange.response
        if self._config.stateful_scenarios:
            digest = response_digest(response, normalizer=self._normalizer, path=normalized.path)
            both = combine(key, digest)
            return DedupKeys(both, both, normalized)
        shape, parsed = self.response_shape(response, path=normalized.path)
        return DedupKeys(combine(key, shape), key, normalized, shape, parsed)

    def shape_digest(self, response: HttpResponse | None, *, path: str) -> str:
        """The response's shape digest (``shapes.shape_digest``), noise fields left out."""
        return self.response_shape(response, path=path)[0]

    def response_shape(
        self, response: HttpResponse | None, *, path: str
    ) -> tuple[str, JsonBody | None]:
        """:meth:`shape_digest`, and the response's JSON body as read for it."""
        if response is None:
            return shape_digest(0, None), None
        return response_shape(response, noise=self._normalizer.noise_fields(path))

    def is_new_locally(self, dedup_hash: str, stub_id: str = "", error: bool = False) -> bool:
        """Check-and-add in the LRU. A hash seen before counts as a duplicate, unless it
        is a success (``error`` False) of a stub (``stub_id``, its mapping id) last taken
        from an error answer; a new one is counted "unique" only once its Redis claim
        succeeds."""
        if self._capacity == 0:
            return True
        now = self._clock()
        with self._lock:
            entry = self._seen.get(dedup_hash)
            found = entry is not None and now - entry[0] <= self._max_age_s
            if found and not error and stub_id and self._stub_errors.get(stub_id):
                found = False  # the success is back: it replaces the error's stub
            if found:
                self._seen.move_to_end(dedup_hash)
            else:
                self._seen[dedup_hash] = (now, stub_id)
                self._seen.move_to_end(dedup_hash)
                if len(self._seen) > self._capacity:
                    self._seen.popitem(last=False)
                if stub_id:
                    self._mark(stub_id, error)
        if found:
            COLLECTOR_DEDUPLICATION.labels(result="duplicate").inc()
        return not found

    def held_by_errors(self, stub_ids: Iterable[str]) -> list[str]:
        """Stubs another replica last queued from an error answer: their successes, though
        seen here before, go to the Redis claim again. -> the ids not known here as such."""
        newly = []
        with self._lock:
            for stub_id in stub_ids:
                if not self._stub_errors.get(stub_id):
                    self._mark(stub_id, True)
                    newly.append(stub_id)
        return newly

    def _mark(self, stub_id: str, error: bool) -> None:
        # Under the lock.
        if len(self._stub_errors) >= self._capacity and stub_id not in self._stub_errors:
            self._stub_errors.clear()
        self._stub_errors[stub_id] = error

    def forget(self, hashes: Iterable[str]) -> None:
        """Drop hashes from the LRU, e.g. after their claim failed, so a later
        capture of the same request gets another chance."""
        with self._lock:
            for dedup_hash in hashes:
                self._seen.pop(dedup_hash, None)

    def forget_stubs(self, stub_ids: Collection[str]) -> int:
        """Drop every hash of these stubs (the loader removed them): their next capture is
        claimed again. A scan of the LRU, run only when stubs were removed. -> dropped."""
        with self._lock:
            stale = [h for h, (_, stub_id) in self._seen.items() if stub_id in stub_ids]
            for dedup_hash in stale:
                del self._seen[dedup_hash]
            for stub_id in stub_ids:
                self._stub_errors.pop(stub_id, None)
        return len(stale)

    def forget_all(self) -> None:
        with self._lock:
            self._seen.clear()
            self._stub_errors.clear()

    def __len__(self) -> int:
        with self._lock:
            return len(self._seen)


# The claims of a batch, as ClaimAndEnqueue (pipeline.queue_writer) takes them, without
# the XADD: a hash whose claim exists is a duplicate only while its stub has a state (the
# loader deletes a removed stub's state) and unless it is a success ("o") of a stub last
# claimed from an error answer ("e"); a claimed hash sets its claim and its stub's state.
# KEYS: claim per item, then stub state per item. ARGV: ttl_s, then "e" or "o" per item.
_CLAIM_LUA = """
local n = #KEYS / 2
local out = {}
for i = 1, n do
  local new = redis.call('EXISTS', KEYS[i]) == 0
  if not new then
    local state = redis.call('GET', KEYS[n + i])
    new = not state or (ARGV[1 + i] == 'o' and state == 'e')
  end
  if new then
    redis.call('SET', KEYS[i], '1', 'EX', ARGV[1])
    redis.call('SET', KEYS[n + i], ARGV[1 + i], 'EX', ARGV[1])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
"""


async def claim_batch(
    redis: aioredis.Redis,
    *,
    keys: RedisKeys,
    hashes: Sequence[str],
    ttl_s: int,
    stubs: Sequence[tuple[str, bool]],
) -> list[bool]:
    """Claim each hash in one round trip (a script). True: this replica claimed it first
    and queues the mapping ("unique"); False: another replica (or an earlier item of this
    batch) did ("duplicate"). ``stubs``: each item's stub id (its mapping id) and whether
    it is an error answer. A claim counts only while its stub's state exists, as in the
    one-round-trip path (``pipeline.queue_writer.ClaimAndEnqueue``)."""
    if not hashes:
        return []
    if len(stubs) != len(hashes):
        raise ValueError("dedup claim: one stub per hash")
    states = [keys.stub_state(stub) for stub, _ in stubs]
    flags = ["e" if error else "o" for _, error in stubs]
    claims = [keys.dedup_claim(dedup_hash) for dedup_hash in hashes]
    try:
        replies = await redis.register_script(_CLAIM_LUA)(
            keys=[*claims, *states], args=[str(ttl_s), *flags]
        )
    except RedisError as exc:
        raise QueueError(
            f"redis: dedup claim of {len(hashes)} hashes failed ({type(exc).__name__})"
        ) from exc
    claimed = [bool(reply) for reply in replies]
    unique = sum(claimed)
    if unique:
        COLLECTOR_DEDUPLICATION.labels(result="unique").inc(unique)
    if len(claimed) - unique:
        COLLECTOR_DEDUPLICATION.labels(result="duplicate").inc(len(claimed) - unique)
    return claimed
