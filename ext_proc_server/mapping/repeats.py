"""The repeat fast path: "already recorded?" decided from the raw exchange, before sanitizing.

Mesh traffic is mostly repeats, and the dedup key (:mod:`ext_proc_server.mapping.dedup`)
is only known after sanitizing and normalizing. A repeat is recognized earlier by a
*repeat key*: a keyed BLAKE2b over the method, the canonical host (and the port, when not
the default), the path, the query (sorted, noise parameters left out), the request body
(whole: the dedup key's ``dedup_body_limit`` counts bytes of the canonical body, which a
raw byte past it may change), when the response has a ``Vary`` or is a CORS answer the
request headers that chose it (``Exchange.varied``), and what else chooses a stub (each
only when sent): ``Authorization``'s presence, ``Prefer`` and the headers naming the
operation, account or API version as sent (:mod:`~ext_proc_server.mapping.chosen_by`), a
body's ``Content-Type``, ``Accept-Language`` to an answer stating its ``Content-Language``
and ``Last-Event-ID`` (:mod:`~ext_proc_server.mapping.answer_choices`). Whatever tells two
dedup keys apart tells their repeat keys apart; plus
a *response fingerprint*: the status, content type and, for JSON, the body's shape (keys
and value types, not values). A repeat key seen before with the same
fingerprint is a repeat: it costs assembly, one hash and the fingerprint, and nothing is
sanitized, mapped or written. A changed fingerprint takes the full path, so a response
that drifts is still seen; a request that differs only in a secret (another token) has
another repeat key and is deduplicated after sanitizing, as always. Correctness never
depends on this path: it only skips work whose result is already recorded.

The key comes from a Secret (``collector.dedup_key``, env or file). Without one, each
process draws a random key and repeats are recognized in-process only. With one, every
replica computes the same keys and shares them in Redis (``<queue>:seen:<key>``): nothing
there can be computed without the key, so no digest of raw data can be brute-forced.

Two levels, like dedup: :class:`RepeatIndex` holds an in-process LRU (checked first, by
the stream itself), then the pipeline asks Redis for the keys the LRU does not know. The
LRU is indexed by the interpreter's own SipHash of the same parts (keyed per process,
never written anywhere), and a response byte for byte the recorded one is told by the
same kind of hash before any JSON is parsed: a repeat then costs two SipHash passes
(2 KiB: 0.8 µs, where a keyed BLAKE2b takes 2.9 µs here). The Secret-keyed digest is
computed only for Redis, the fingerprint only when a response is recorded or its bytes
changed.
Repeats are counted per mapping id (:meth:`RepeatIndex.drain_counts`): the pipeline hands
the counts of each batch to ``Stages.seen_again``, the hook that refreshes a stub's
``last_seen``. The repeats are counted in ints too and reach Prometheus in batches
(:meth:`RepeatIndex.flush_metrics`), like the streams' metrics.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from typing import NamedTuple

from ext_proc_server.core.config import CollectorConfig, cluster_hosts, dedup_key
from ext_proc_server.core.exchange import Exchange, HttpResponse, Pairs, Varied, query_pairs
from ext_proc_server.core.hosts import matched_port, told_apart
from ext_proc_server.core.metrics import COLLECTOR_DEDUPLICATION, COLLECTOR_REPEATS
from ext_proc_server.mapping.accepts import ACCEPT_HEADER, listed_type
from ext_proc_server.mapping.chosen_by import request_choices
from ext_proc_server.mapping.faithful import REFUSED_QUERY, query_refused
from ext_proc_server.mapping.noise import NoiseNormalizer
from ext_proc_server.mapping.repeat_texts import (
    Chosen,
    chosen_of,
    chosen_text,
    order_text,
    query_text,
    varied_text,
)
from ext_proc_server.mapping.shapes import NOT_JSON, JsonBody, load_json

KEY_BYTES = 16
FINGERPRINT_BYTES = 8
_PERSON_REQUEST = b"mockado-req"
_PERSON_RESPONSE = b"mockado-resp"
# Request heads (method, host, path, query) kept, and their characters at most.
_HEAD_CACHE_SIZE = 4096
_HEAD_CACHE_CHARS = 4 * 1024 * 1024
# The type of each JSON scalar in a shape.
_SCALAR_TYPES = {str: "s", int: "n", float: "n", bool: "b", type(None): "z"}
# The shape of a body that is not JSON.
NOT_JSON_SHAPE = b"\x00not-json"
# What a request's head is computed from (RepeatIndex.key).
_HeadParts = tuple[
    str, str, str, str, Pairs | str, Varied, bool, str | None, str, str, str, Chosen, bool
]


class RepeatKey:
    """One exchange's repeat key and the facts of its response, each digest computed only
    when needed and then kept.

    ``local``: the interpreter's SipHash of the key's parts (keyed per process), what the
    in-process LRU is indexed by; ``request``: the Secret-keyed BLAKE2b of the same parts,
    computed only for what leaves the process (the Redis claims). ``exact``: the same kind
    of in-process hash over the whole response (status, content type, flags, body), so a
    response byte for byte the recorded one needs no fingerprint (no JSON parse)."""

    __slots__ = (
        "_body",
        "_head",
        "_index",
        "_request",
        "content_type",
        "fingerprint",
        "local",
        "response_body",
        "response_flags",
        "status",
    )

    def __init__(
        self,
        index: RepeatIndex,
        head: str,
        body: bytes,
        response: ResponseFacts | None,
    ) -> None:
        self._index = index
        self._head = head
        self._body = body
        self.local = hash((head, body))
        self._request: bytes | None = None
        self.fingerprint: bytes | None = None
        if response is None:
            self.status, self.content_type, self.response_body, self.response_flags = (
                -1, "", b"", 0)  # fmt: skip
        else:
            self.status, self.content_type, self.response_body, self.response_flags = response

    @property
    def request(self) -> bytes:
        """The keyed digest of the request's parts (the Redis name)."""
        if self._request is None:
            self._request = self._index.keyed_digest(self._head, self._body)
        return self._request

    @property
    def exact(self) -> int:
        # The same tuple RepeatIndex.recorded hashes inline.
        return hash((self.status, self.content_type, self.response_flags, self.response_body))

    def __repr__(self) -> str:  # never the digests, the parts nor the response
        return "RepeatKey(...)"


class ResponseFacts(NamedTuple):
    """What a response's fingerprint reads."""

    status: int
    # The bare, lower-cased media type.
    content_type: str
    body: bytes
    # 1: truncated, 2: dropped.
    flags: int


def response_facts(response: HttpResponse | None) -> ResponseFacts | None:
    if response is None:
        return None
    flags = response.body_truncated | (response.body_dropped << 1)
    return ResponseFacts(response.status, response.content_type, response.body, flags)


def json_shape(body: bytes) -> bytes:
    """The shape of a JSON document: its keys in order and each value's type, not the
    values (``{"a":1,"b":[true,"x"]}`` -> ``{ a n b [ b s ] }``). Not JSON: one token.
    Parsed by :func:`~ext_proc_server.mapping.shapes.load_json` (orjson, json where it
    refuses): the same bytes as json alone, so other replicas' claims still match."""
    try:
        document = load_json(body)
    except (ValueError, RecursionError):
        return NOT_JSON_SHAPE
    return document_shape(document)


def document_shape(document: object) -> bytes:
    """:func:`json_shape` of a document :func:`~ext_proc_server.mapping.shapes.load_json`
    read (:data:`~ext_proc_server.mapping.shapes.NOT_JSON`: the one token)."""
    if document is NOT_JSON:
        return NOT_JSON_SHAPE
    out: list[str] = []
    try:
        _walk(document, out)
    except (ValueError, RecursionError):
        # Nested past the recursion limit: one token, as for a body that is not JSON.
        return NOT_JSON_SHAPE
    return "\x00".join(out).encode("utf-8", "surrogatepass")


def _walk(node: object, out: list[str]) -> None:
    # Scalars (most nodes) are added inline, without a call each.
    kind = type(node)
    if kind is dict:
        out.append("{")
        for key, value in node.items():  # type: ignore[attr-defined]
            out.append(key)
            scalar = _SCALAR_TYPES.get(type(value))
            if scalar is None:
                _walk(value, out)
            else:
                out.append(scalar)
        out.append("}")
    elif kind is list:
        out.append("[")
        for value in node:  # type: ignore[attr-defined]
            scalar = _SCALAR_TYPES.get(type(value))
            if scalar is None:
                _walk(value, out)
            else:
                out.append(scalar)
        out.append("]")
    else:
        out.append(_SCALAR_TYPES.get(kind, "?"))


class RepeatIndex:
    """Repeat keys, the in-process LRU of recorded ones, and the per-mapping repeat counts.

    Thread-safe (a lock around each dict operation). ``enabled`` is False when dedup is
    off or in stateful mode (where every new response value matters).
    """

    def __init__(
        self,
        config: CollectorConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        normalizer: NoiseNormalizer | None = None,
    ):
        secret = dedup_key(config)
        # Shared: every replica has the same key, so the keys may go to Redis.
        self.shared = secret is not None
        self._key = secret if secret is not None else os.urandom(32)
        if len(self._key) > 64:  # BLAKE2b takes at most 64 key bytes
            self._key = hashlib.sha512(self._key).digest()
        self._normalizer = normalizer or NoiseNormalizer(config)
        self._hosts = cluster_hosts(config)
        self._capacity = config.dedup_cache_size
        self.enabled = config.dedup_enabled and not config.stateful_scenarios and self._capacity > 0
        # repeat key (local) -> (fingerprint, mapping id, exact hash of the last response
        # seen, when it was recorded). An entry lives no longer than the dedup claim
        # (dedup_ttl_s), and no longer than its stub (mapping.removals).
        self._recorded: OrderedDict[int, tuple[bytes, str, int, float]] = OrderedDict()
        self._max_age_s = config.dedup_ttl_s
        self._clock = clock
        self._counts: dict[str, int] = {}
        # How many times recorded keys were forgotten: a read of Redis that a forget
        # overtook is not remembered (see forgets).
        self._forgets = 0
        self._handed: dict[str, RepeatKey] = {}
        self._lock = threading.Lock()
        # The head of each request's key by its parts: a repeat's query is not sorted and
        # filtered again, and its head's hash is kept by the string. Bounded in entries
        # and in characters (the keys hold about as many again): URLs can be long.
        self._heads: dict[_HeadParts, str] = {}
        self._destinations: dict[tuple[str, str], str] = {}
        self._head_chars = 0
        # Repeats found since the last flush_metrics, by level: plain ints under the lock
        # (a Prometheus inc takes its own lock, about 6k instructions a repeat each).
        self._local_hits = 0
        self._redis_hits = 0

    # -- keys -----------------------------------------------------------------------

    def key(
        self,
        *,
        method: str,
        host: str,
        path: str,
        query: Pairs | str,
        body: bytes,
        body_state: str,
        response: ResponseFacts | None,
        varied: Varied = (),
        credentials: bool = False,
        prefer: str | None = None,
        content_type: str = "",
        accept: str = "",
        chosen: Chosen = (),
        refused_query: bool = False,
    ) -> RepeatKey:
        """The repeat key of a raw exchange's parts. ``host``: :meth:`destination`;
        ``query``: its pairs, or the query string as sent (split only when its head is
        not kept: a repeat's query is not split);
        ``body_state``: "", "truncated" or "dropped" (what became of the request body);
        ``varied``: the request headers the response varies on (``Exchange.varied``);
        ``credentials``: the request carried ``Authorization``; ``prefer``: its ``Prefer``
        values joined by NUL (None: not sent); ``content_type``: its first
        ``Content-Type`` as sent (counted only with a body); ``accept``: its ``Accept``
        values joined by "," ("": none); ``chosen``: the headers that choose a stub as
        sent (mapping.repeat_texts.chosen_values). What chooses a stub beside the Vary'd
        headers (mapping.chosen_by, the Content-Type matcher, mapping.accepts,
        mapping.answer_choices); ``refused_query``: marked ``faithful.REFUSED_QUERY``."""
        if not body and not body_state:
            content_type = ""  # no body: its stub matches no Content-Type
        # The response's media type only with an Accept (mapping.accepts reads both).
        answered = response.content_type if accept and response is not None else ""
        parts = (
            method, host, path, body_state, query, varied, credentials, prefer, content_type,
            accept, answered, chosen, refused_query,
        )  # fmt: skip
        head = self._heads.get(parts)
        if head is None:
            head = self._head(parts)
        # The whole body past the dedup limit: the dedup key counts that many bytes of the
        # canonical body (sorted keys), which another raw byte past them may change.
        return RepeatKey(self, head, body, response)

    def _head(self, parts: _HeadParts) -> str:
        # A pure function of its parts (the normalizer holds no state past construction),
        # so kept without the lock: a race recomputes or drops an entry, never changes one.
        (method, host, path, body_state, query, varied, credentials, prefer, content_type,
         accept, answered, chosen, refused) = parts  # fmt: skip
        if isinstance(query, str):
            refused = refused or query_refused(query)
            query = query_pairs(query)
        if query:
            noise = self._normalizer.noise_fields(path)
            head = "\x00".join((method, host, path, body_state, query_text(query, noise)))
            order = order_text(query, noise)
            if order:
                # Only in another order than sorted: every other request keeps its key.
                head += f"\x00order\x00{order}"
        else:
            head = "\x00".join((method, host, path, body_state, ""))
        if refused:
            # Decoded, "50%" reads as "50%25": never a repeat of that one's stub (faithful).
            head += "\x00refused-query"
        if varied:
            # Only with a Vary: every other request keeps the key it had.
            head += "\x00vary\x00" + "\x00".join(varied_text(n, v) for n, v in varied)
        # Each only when sent: every other request keeps the key it had. repr: unambiguous.
        if credentials:
            head += "\x00authorization"
        if prefer is not None:
            head += f"\x00prefer\x00{prefer!r}"
        if content_type:
            head += f"\x00content-type\x00{content_type!r}"
        if answered and not any(name == ACCEPT_HEADER for name, _ in varied):
            accepted = listed_type(accept, answered)
            if accepted:  # Only when Accept listed the answer's type, as the dedup key.
                head += f"\x00accept\x00{accepted!r}"
        if chosen:
            head += chosen_text(chosen)
        if len(self._heads) >= _HEAD_CACHE_SIZE or self._head_chars >= _HEAD_CACHE_CHARS:
            self._heads.clear()
            self._head_chars = 0
        self._heads[parts] = head
        self._head_chars += len(head)
        return head

    def keyed_digest(self, head: str, body: bytes) -> bytes:
        """The Secret-keyed digest of a repeat key's parts."""
        digest = hashlib.blake2b(key=self._key, digest_size=KEY_BYTES, person=_PERSON_REQUEST)
        digest.update(head.encode("utf-8", "surrogateescape"))
        digest.update(b"\x00")
        digest.update(body)
        return digest.digest()

    def fingerprint_of(self, key: RepeatKey) -> bytes:
        if key.fingerprint is None:
            key.fingerprint = self._fingerprint(
                key.status, key.content_type, key.response_flags, key.response_body
            )
        return key.fingerprint

    def fingerprint(self, response: HttpResponse | None) -> bytes:
        """Status, content type, truncated/dropped and, for JSON, the body's shape."""
        facts = response_facts(response)
        if facts is None:
            return self._fingerprint(-1, "", 0, b"")
        return self._fingerprint(facts.status, facts.content_type, facts.flags, facts.body)

    def fingerprint_from(self, key: RepeatKey, parsed: JsonBody) -> None:
        """``parsed``: the sanitized response's body as read for its shape. When it is byte
        for byte the body ``key`` saw (the sanitizer found nothing there), ``key``'s
        fingerprint is computed from it: the body is not parsed a second time."""
        if key.fingerprint is not None or parsed.body != key.response_body:
            return
        if key.status < 0 or "json" not in key.content_type:
            return
        key.fingerprint = self._digest(
            key.status, key.content_type, key.response_flags, document_shape(parsed.document)
        )

    def _fingerprint(self, status: int, content_type: str, flags: int, body: bytes) -> bytes:
        shape = json_shape(body) if "json" in content_type and body else None
        return self._digest(status, content_type, flags, shape)

    def _digest(self, status: int, content_type: str, flags: int, shape: bytes | None) -> bytes:
        digest = hashlib.blake2b(
            key=self._key, digest_size=FINGERPRINT_BYTES, person=_PERSON_RESPONSE
        )
        if status < 0:  # no response
            return digest.digest()
        # The same bytes as before ResponseFacts: claims other versions set still match.
        text = f"{status}\x00{content_type}\x00{flags & 1:d}{flags >> 1:d}"
        digest.update(text.encode("utf-8", "surrogateescape"))
        if shape is not None:  # a JSON body's
            digest.update(shape)
        return digest.digest()

    def hand_over(self, exchange: Exchange, key: RepeatKey) -> None:
        """The stream computed ``key`` for ``exchange``, which it submits: the pipeline's
        ``key_of`` takes it instead of computing it again (bounded; a dropped exchange's
        key is forgotten with the others when the bound is reached)."""
        with self._lock:
            if len(self._handed) >= self._capacity:
                self._handed.clear()
            self._handed[exchange.id] = key

    def key_of(self, exchange: Exchange) -> RepeatKey:
        """The repeat key of a raw (not yet sanitized) exchange."""
        with self._lock:
            handed = self._handed.pop(exchange.id, None)
        if handed is not None:
            return handed
        request = exchange.request
        state = "dropped" if request.body_dropped else "truncated" if request.body_truncated else ""
        credentials, prefer = request_choices(request.headers)
        response = exchange.response
        return self.key(
            method=request.method,
            host=self.destination(request.authority, namespace=exchange.namespace),
            path=request.path,
            query=request.query,
            body=request.body,
            body_state=state,
            response=response_facts(exchange.response),
            varied=exchange.varied,
            credentials=credentials,
            prefer="\x00".join(prefer) if prefer else None,
            content_type=request.header("content-type") or "",
            accept=",".join(v for n, v in request.headers if n.lower() == ACCEPT_HEADER),
            chosen=chosen_of(request.headers, response.headers if response is not None else ()),
            refused_query=request.headers[:1] == (REFUSED_QUERY,),
        )

    def destination(self, authority: str, *, namespace: str) -> str:
        """The canonical host, and the port when the dedup key holds it (not the default),
        so a call to another port of one Service is never taken for a repeat. Kept per
        (authority, namespace), without the lock, as the heads are: every repeat asks."""
        key = (authority, namespace)
        found = self._destinations.get(key)
        if found is None:
            found = self._hosts.canonical(authority, namespace=namespace)
            port = matched_port(authority)
            if told_apart(port):
                found = f"{found}\x00{port}"
            if len(self._destinations) >= _HEAD_CACHE_SIZE:
                self._destinations.clear()
            self._destinations[key] = found
        return found

    # -- the in-process LRU -----------------------------------------------------------

    def recorded(self, key: RepeatKey) -> str | None:
        """The mapping id when ``key`` was recorded with the same fingerprint (a repeat,
        counted), else None."""
        # RepeatKey.exact, inline: one call less per repeat.
        exact = hash((key.status, key.content_type, key.response_flags, key.response_body))
        with self._lock:
            found = self._recorded.get(key.local)
            if found is None:
                return None
            fingerprint, mapping_id, recorded_exact, recorded_at = found
            if self._clock() - recorded_at > self._max_age_s:
                return None  # older than its claim: the full path claims it again
            same = recorded_exact == exact
            if same:
                self._recorded.move_to_end(key.local)
                # _count, inline: most repeats end here.
                count = self._counts.get(mapping_id)
                if count is not None:
                    self._counts[mapping_id] = count + 1
                elif len(self._counts) < self._capacity:
                    self._counts[mapping_id] = 1
                self._local_hits += 1
        if not same:
            # Other bytes: parse the shape (outside the lock).
            if fingerprint != self.fingerprint_of(key):
                return None
            with self._lock:
                # Same shape, other bytes: keep these, the likelier next ones.
                self._recorded[key.local] = (fingerprint, mapping_id, exact, recorded_at)
                self._recorded.move_to_end(key.local)
                self._count(mapping_id)
                self._local_hits += 1
        return mapping_id

    @property
    def forgets(self) -> int:
        """Changes whenever recorded keys are forgotten. Read before asking Redis, and
        handed to :meth:`remember` or :meth:`recorded_in_redis` with the answer: a stub
        forgotten meanwhile (removed by the loader after Redis answered) is then not
        remembered from that answer."""
        return self._forgets

    def remember(self, key: RepeatKey, mapping_id: str, *, since: int | None = None) -> bool:
        """``key`` is recorded (queued, or found already queued) as ``mapping_id``.
        ``since``: :attr:`forgets` when Redis was asked. -> False: not remembered (keys
        were forgotten since)."""
        fingerprint, exact = self.fingerprint_of(key), key.exact
        now = self._clock()
        with self._lock:
            if since is not None and since != self._forgets:
                return False
            self._recorded[key.local] = (fingerprint, mapping_id, exact, now)
            self._recorded.move_to_end(key.local)
            if len(self._recorded) > self._capacity:
                self._recorded.popitem(last=False)
        return True

    def forget_mappings(self, mapping_ids: Iterable[str]) -> int:
        """Forget the recorded keys of these stubs (another replica queued an error answer
        for them: what this index holds may no longer be what they answer; or the loader
        removed them: mapping.removals), so their next exchanges take the full path. A scan
        of the LRU, run only when a stub changes hands. -> how many keys were forgotten."""
        ids = set(mapping_ids)
        if not ids:
            return 0
        with self._lock:
            self._forgets += 1
            stale = [local for local, entry in self._recorded.items() if entry[1] in ids]
            for local in stale:
                del self._recorded[local]
        return len(stale)

    def forget_all(self) -> None:
        """Forget every recorded key (what removed stubs the LRU holds is not known)."""
        with self._lock:
            self._forgets += 1
            self._recorded.clear()

    # -- Redis (shared keys only) -----------------------------------------------------

    @staticmethod
    def redis_name(key: RepeatKey) -> str:
        return key.request.hex()

    def redis_value(self, key: RepeatKey, mapping_id: str) -> str:
        return f"{self.fingerprint_of(key).hex()}:{mapping_id}"

    def recorded_in_redis(
        self, key: RepeatKey, value: str | bytes | None, *, since: int | None = None
    ) -> str | None:
        """The mapping id when another replica recorded ``key`` with this fingerprint
        (remembered locally and counted), else None; None too when keys were forgotten
        since Redis was asked (``since``: :attr:`forgets` then): the full path decides."""
        if value is None:
            return None
        text = value.decode() if isinstance(value, bytes) else value
        fingerprint, _, mapping_id = text.partition(":")
        if not mapping_id or fingerprint != self.fingerprint_of(key).hex():
            return None
        if not self.remember(key, mapping_id, since=since):
            return None
        with self._lock:
            self._count(mapping_id)
            self._redis_hits += 1
        return mapping_id

    # -- repeat counts (the last_seen hook) ---------------------------------------------

    def _count(self, mapping_id: str) -> None:
        # Held under the lock (inline in recorded: keep both alike). Bounded: past the
        # LRU's size, ids not counted yet wait for the next drain.
        count = self._counts.get(mapping_id)
        if count is not None:
            self._counts[mapping_id] = count + 1
        elif len(self._counts) < self._capacity:
            self._counts[mapping_id] = 1

    def drain_counts(self) -> dict[str, int]:
        """Repeats per mapping id since the last call."""
        with self._lock:
            counts, self._counts = self._counts, {}
        return counts

    # -- metrics ----------------------------------------------------------------------

    def flush_metrics(self) -> None:
        """Add the repeats found since the last call to ``collector_repeats_total`` (by
        level) and to the duplicates of
        ``collector_deduplication_operations_total``: a repeat is a
        duplicate found early, so every exchange keeps one dedup outcome. The capture
        server calls it with its stream tallies (on a timer, before a scrape, on stop)."""
        with self._lock:
            local, redis = self._local_hits, self._redis_hits
            self._local_hits = self._redis_hits = 0
        if local:
            COLLECTOR_REPEATS.labels(level="local").inc(local)
        if redis:
            COLLECTOR_REPEATS.labels(level="redis").inc(redis)
        if local or redis:
            COLLECTOR_DEDUPLICATION.labels(result="duplicate").inc(local + redis)

    def __len__(self) -> int:
        with self._lock:
            return len(self._recorded)
