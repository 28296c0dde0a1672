"""Noise normalization: values that change on every call, found once for both
the dedup hash and the WireMock matchers.

A canary sends fresh request ids, timestamps, nonces and its own credentials, never the
sanitized placeholder a capture stored. Every such value becomes a :class:`Hole` (the whole
value is dynamic) or a :class:`Template` (a string with dynamic parts, such as
``order-<uuid>``). The dedup hash serializes holes as fixed tokens, so 1,000 calls that
differ only by noise hash alike; the mapping makes them tolerant matchers: a canary matches.

What counts as noise:

* by value, anywhere: UUIDs, ISO-8601 datetimes (with a time part), ``SANITIZED_*``;
* by value in a time-like field (``ts``, ``timestamp``, ``time``, ``date``,
  ``*_at``/``*At``, ``created``, ``updated`` ...): 10- or 13-digit epochs;
* by field name: :data:`DEFAULT_NOISE_FIELDS` plus ``collector.noise_rules`` (a JSON
  key, query parameter or form field whose value is always noise);
* by location: every place listed in ``Exchange.redactions``.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import re
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple
from urllib.parse import parse_qsl

from ext_proc_server.core.config import CollectorConfig, cluster_hosts
from ext_proc_server.core.exchange import RAW_CONTROLS_SENT, Exchange, HttpMessage, Pairs
from ext_proc_server.core.hosts import matched_port, url_host
from ext_proc_server.mapping.accepts import accepted_type
from ext_proc_server.mapping.answer_choices import answer_choices
from ext_proc_server.mapping.chosen_by import DECODED_LENGTH_HEADER, with_choices
from ext_proc_server.mapping.framed_uploads import absent_encoding, unlabelled_upload
from ext_proc_server.mapping.java_regex import java_regex_escape
from ext_proc_server.mapping.json_tree import (
    JsonFacts,
    Redacted,
    TextOnlyJson,
    TreeWalk,
    check_request_text,
    json_pointer_token,
    json_redactions,
    no_placeholder_start,
    parse_json,
    parse_json_exactly,
)
from ext_proc_server.mapping.multipart import boundary_of, split_at_boundary
from ext_proc_server.mapping.noise_fields import DEFAULT_NOISE_FIELDS
from ext_proc_server.mapping.query_order import sent_order

_UUID = r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
_ISO_DATETIME = (
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d{1,9})?)?(?:Z|[+-]\d{2}:?\d{2})?"
)
# The sanitizer's placeholder tokens (tokens mode), e.g. SANITIZED_EMAIL or SANITIZED_JWT_3.
SANITIZED_PATTERN = r"SANITIZED(?:_[A-Za-z0-9]+)*"
# Anything dynamic inside a longer string. Word boundaries stop a UUID-looking
# run inside a longer hex string from being half-replaced.
_DYNAMIC_PART = re.compile(
    rf"(?<![0-9A-Za-z])(?:{_UUID}|{_ISO_DATETIME}|{SANITIZED_PATTERN})(?![0-9A-Za-z])"
)
_DYNAMIC_WHOLE = re.compile(rf"(?:{_UUID}|{_ISO_DATETIME}|{SANITIZED_PATTERN})")
_SANITIZED_ANY = re.compile(SANITIZED_PATTERN)
_SANITIZED_WHOLE = _SANITIZED_ANY
_RAW_SENT = f"request.body.{RAW_CONTROLS_SENT}"  # the request is not strict JSON
_EPOCH = re.compile(r"\d{10}(?:\.\d{1,6})?|\d{13}")
_TIME_LIKE_FIELD = re.compile(
    r"(?:^|_)(?:ts|timestamp|time|date|datetime|at|created|updated|modified|expires|expiry)$"
)
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")

_FORM = "application/x-www-form-urlencoded"
# The shortest text a UUID or an ISO datetime (both with a "-") can match:
# "2024-01-02T03:04", 16 characters. A SANITIZED token holds "SANITIZED".
_SHORTEST_DYNAMIC = 16
# What a JSON key is to the normalizer (_json_plain looks each up once per body).
_PLAIN, _NOISE, _TIME_LIKE = 0, 1, 2
# json (repr) writes a float without an exponent when it is 0 or 1e-4 <= |x| < 1e16.
_PLAIN_FLOAT_MIN, _PLAIN_FLOAT_END = 1e-4, 1e16


# Field names (JSON keys, query names) recur on every call: each is folded once, in caches
# bounded so that a client cannot grow them.
FIELD_KEY_CACHE_SIZE = 8192


@functools.lru_cache(maxsize=FIELD_KEY_CACHE_SIZE)
def field_key(name: str) -> str:
    """ "requestId", "X-Request-ID" and "request_id" all become "request_id"."""
    return _CAMEL_BOUNDARY.sub("_", name).replace("-", "_").lower()


@functools.lru_cache(maxsize=FIELD_KEY_CACHE_SIZE)
def _is_time_like(name: str) -> bool:
    return bool(_TIME_LIKE_FIELD.search(field_key(name)))


@dataclass(frozen=True, slots=True)
class Hole:
    """A whole value that is dynamic. ``any`` matches any value or none (a noise field, a
    redacted location); ``string``/``number`` need a value of that JSON type (a UUID, an
    epoch)."""

    kind: Literal["any", "string", "number"]


HOLE_ANY = Hole("any")
HOLE_STRING = Hole("string")
HOLE_NUMBER = Hole("number")


@dataclass(frozen=True, slots=True)
class Template:
    """A string with dynamic parts: ``("order-", HOLE_ANY, ".pdf")``."""

    parts: tuple[str | Hole, ...]

    def regex(self, *, hole: str) -> str:
        """A Java regex: stable parts escaped, ``hole`` at each dynamic part."""
        return "".join(hole if isinstance(p, Hole) else java_regex_escape(p) for p in self.parts)

    def token(self) -> str:
        """The canonical form used in the dedup hash."""
        return "\x00t:" + "".join("\x00*" if isinstance(p, Hole) else p for p in self.parts)


Normalized = str | Hole | Template
BodyKind = Literal["none", "json", "form", "text", "binary", "multipart", "opaque"]


@dataclass(frozen=True, slots=True)
class NormalizedBody:
    # none: no body; binary: bytes that are not UTF-8 (matched exactly); opaque: a body
    # no matcher can safely describe (truncated, dropped, a multipart response or one
    # without its boundary, redacted at unknown places, framing not built again).
    kind: BodyKind
    # json: a tree of dict/list/scalars/Hole/Template; form: pairs; text: str or Template;
    # binary: the bytes in base64 (sent aws-chunked: the payload, which the launcher reads
    # out of any framing, framed_bodies); multipart: the normalized texts between its
    # boundaries; opaque: None.
    value: Any = None
    # json: False when every float in ``value`` is written by json without an exponent
    # (dedup's canonical text is then orjson's, several times cheaper).
    exponent_floats: bool = True
    # json: what the walk that built ``value`` saw, so the matcher need not walk it again
    # (None: the matcher walks it).
    facts: JsonFacts | None = dataclasses.field(default=None, compare=False, repr=False)
    # form: the names given different stable values, with them in the order sent
    # (mapping.query_order).
    order: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # text: a JSON document sent with raw control characters, which a hole may hold.
    raw_controls: bool = False


# A NamedTuple, immutable as the dataclasses above are but built in C: a frozen
# dataclass's __init__ sets each of its 13 fields through object.__setattr__, some 20k
# instructions per normalized request.
class NormalizedRequest(NamedTuple):
    method: str
    # The canonical host (core.hosts.ClusterHosts) as WireMock's host matcher compares it:
    # lower-cased, no port (``port``), IPv6 in brackets.
    host: str
    path: str
    segments: tuple[Normalized, ...]
    # Sorted by name then value; holes included (the matcher lists them as optional).
    query: tuple[tuple[str, Normalized], ...]
    body: NormalizedBody
    # Every name of the in-cluster Service ``host`` is (api, api.payments, ...); () for
    # any other host, which matches only itself.
    host_aliases: tuple[str, ...] = ()
    # The request headers that chose the response (Vary...; mapping.chosen_by), each
    # with its values (none: not sent; a sanitized one is a hole).
    varied: tuple[tuple[str, tuple[Normalized, ...]], ...] = ()
    # The port the stub matches (core.hosts.matched_port: 80 when none, 0: any).
    port: int = 0
    # A request body's Content-Type as sent ("" for none): a server reads the body by it.
    content_type: str = ""
    # The response's media type when the request's Accept lists it (mapping.accepts).
    accepted: str = ""
    # Names given different stable values, with them in the order sent (mapping.query_order).
    query_order: tuple[tuple[str, tuple[str, ...]], ...] = ()
    # Headers the answer shows it was chosen by, as sent ((): none); mapping.answer_choices.
    answer_choices: tuple[tuple[str, tuple[Normalized, ...]], ...] = ()

    @property
    def path_is_stable(self) -> bool:
        for segment in self.segments:  # noqa: SIM110 - all() over a generator costs 3x
            if not isinstance(segment, str):
                return False
        return True


class NoiseNormalizer:
    """Finds the dynamic parts of a request (or response) the same way for the
    dedup hash and for the mapping's matchers. Thread-safe: it holds no state
    past construction."""

    def __init__(self, config: CollectorConfig) -> None:
        self._rules = tuple(
            (rule.path_prefix, frozenset(field_key(f) for f in rule.fields))
            for rule in config.noise_rules
        )
        # Pseudonyms are not recognizable tokens: an unstructured body redacted
        # in that mode has dynamic parts we cannot locate.
        self._pseudonyms = config.sanitize_mode == "pseudonyms"
        self._hosts = cluster_hosts(config)

    def canonical_host(self, exchange: Exchange) -> str:
        """The destination's canonical host (no port, no brackets), seen from the
        exchange's namespace: every name of one Kubernetes Service gives its FQDN."""
        return self._hosts.canonical(exchange.request.authority, namespace=exchange.namespace)

    # -- field and value rules ------------------------------------------------

    def noise_fields(self, path: str) -> frozenset[str]:
        """Snake-cased names whose values are noise on this path."""
        fields = DEFAULT_NOISE_FIELDS
        for prefix, names in self._rules:
            if path.startswith(prefix):
                fields = fields | names
        return fields

    @staticmethod
    def is_time_like(name: str) -> bool:
        return _is_time_like(name)

    def normalize_string(self, value: str, *, field: str | None = None) -> Normalized:
        """A string value: stable, a whole Hole, or a Template with holes."""
        # Every dynamic part (UUID, datetime, SANITIZED token) holds "SANITIZED" or a "-"
        # in 16 characters or more: C scans spare the regex, which is slow on long text
        # (16 us per 1.6 KB).
        if ("-" not in value or len(value) < _SHORTEST_DYNAMIC) and "SANITIZED" not in value:
            first = None
        else:
            first = _DYNAMIC_PART.search(value)
        if first is None:
            # Fast path for the common stable value. A whole UUID, datetime or
            # SANITIZED token always has a dynamic part, an epoch never does.
            if field is not None and _is_time_like(field) and _EPOCH.fullmatch(value):
                return HOLE_STRING
            return value
        if _SANITIZED_WHOLE.fullmatch(value):
            # The original may have been a number: keep the type open.
            return HOLE_ANY
        if _DYNAMIC_WHOLE.fullmatch(value):
            return HOLE_STRING
        parts: list[str | Hole] = []
        last = 0
        for match in _DYNAMIC_PART.finditer(value, first.start()):
            if match.start() > last:
                parts.append(value[last : match.start()])
            parts.append(HOLE_ANY)
            last = match.end()
        if last < len(value):
            parts.append(value[last:])
        return Template(tuple(parts))

    def _normalize_number(self, value: int | float, *, field: str | None) -> Any:
        if (
            field is not None
            and not isinstance(value, bool)
            and _is_time_like(field)
            and _EPOCH.fullmatch(repr(value) if isinstance(value, float) else str(value))
        ):
            return HOLE_NUMBER
        return value

    # -- request parts --------------------------------------------------------

    def normalize_request(self, exchange: Exchange) -> NormalizedRequest:
        # Sent framed without Content-Encoding: its payload, in that framing (framed_uploads).
        unlabelled = unlabelled_upload(exchange.request)
        request = unlabelled or exchange.request
        redactions = exchange.redactions
        path = request.path or "/"
        fields = self.noise_fields(path)
        host = self.canonical_host(exchange)
        return NormalizedRequest(
            method=request.method.upper(),
            host=url_host(host),  # as WireMock compares it (NormalizedRequest.host)
            host_aliases=self._hosts.aliases(host),
            path=path,
            segments=self._segments(path, redactions),
            query=(query := self._pairs(request.query, fields, redactions, "request.query.")),
            query_order=sent_order(request.query, query),
            body=self.normalize_body(
                request,
                part="request",
                path=path,
                redactions=redactions,
                fields=fields,
                framed=request.header(DECODED_LENGTH_HEADER) is not None,
            ),
            varied=(varied := self._varied(exchange, redactions) + absent_encoding(unlabelled)),
            port=matched_port(request.authority),
            content_type=(request.header("content-type") or "") if request.body else "",
            accepted=accepted_type(exchange, varied_names := frozenset(n for n, _ in varied)),
            answer_choices=answer_choices(exchange, varied_names, HOLE_ANY),
        )

    def _varied(
        self, exchange: Exchange, redactions: frozenset[str]
    ) -> tuple[tuple[str, tuple[Normalized, ...]], ...]:
        # As sent: a value that chose the response is matched exactly (another ETag or
        # language is a miss); a sanitized one is any; see mapping.chosen_by.
        varied = tuple(
            (name, tuple(HOLE_ANY for _ in values))
            if f"request.header.{name}" in redactions
            else (name, values)
            for name, values in exchange.varied
        )
        return with_choices(varied, exchange.request, HOLE_ANY)

    def _segments(self, path: str, redactions: frozenset[str]) -> tuple[Normalized, ...]:
        out: list[Normalized] = []
        for index, segment in enumerate(path.removeprefix("/").split("/")):
            if f"request.path.{index}" in redactions:
                out.append(HOLE_ANY)
            else:
                normalized = self.normalize_string(segment)
                out.append(HOLE_ANY if isinstance(normalized, Hole) else normalized)
        return tuple(out)

    def _pairs(
        self, pairs: Pairs, fields: frozenset[str], redactions: frozenset[str], prefix: str
    ) -> tuple[tuple[str, Normalized], ...]:
        out: list[tuple[str, Normalized]] = []
        for name, value in pairs:
            if (
                field_key(name) in fields
                or f"{prefix}{name}" in redactions
                or f"{prefix}{name.lower()}" in redactions
            ):
                out.append((name, HOLE_ANY))
                continue
            normalized = self.normalize_string(value, field=name)
            # Query and form values have no JSON type: any whole hole is "any".
            out.append((name, HOLE_ANY if isinstance(normalized, Hole) else normalized))
        return tuple(sorted(out, key=lambda p: (p[0], _sort_token(p[1]))))

    # Long because each body kind is told apart here, in the order that decides it.
    def normalize_body(
        self,
        message: HttpMessage,
        *,
        part: Literal["request", "response"],
        path: str,
        redactions: frozenset[str] = frozenset(),
        fields: frozenset[str] | None = None,
        framed: bool = False,
    ) -> NormalizedBody:
        """``framed``: sent aws-chunked (as text: framed_bodies; binary: framed_uploads)."""
        if message.body_truncated or message.body_dropped:
            return NormalizedBody("opaque")
        if not message.body:
            return NormalizedBody("none")
        if fields is None:
            fields = self.noise_fields(path)
        content_type = message.content_type
        multipart = content_type.startswith("multipart/")
        try:
            text = message.body.decode("utf-8")
        except UnicodeDecodeError:
            # Binary, or text in another charset: only these exact bytes match (sent
            # aws-chunked: the payload, whatever its framing).
            if multipart and not framed:
                return NormalizedBody("opaque")
            return NormalizedBody("binary", base64.b64encode(message.body).decode("ascii"))
        # Redacted somewhere unknown and nothing marks where: no safe matcher.
        blind = f"{part}.body" in redactions and (
            self._pseudonyms or not _SANITIZED_ANY.search(text)
        )
        if framed and not blind:  # blind: opaque, whatever the type
            return NormalizedBody("text", self.normalize_string(text))
        if multipart:
            # A new boundary every call: what lies between the boundaries is matched.
            parts = split_at_boundary(text, boundary_of(message.header("content-type") or ""))
            if blind or not parts or part == "response":
                return NormalizedBody("opaque")
            return NormalizedBody("multipart", tuple(map(self.normalize_string, parts)))
        if content_type == _FORM:
            if blind:
                return NormalizedBody("opaque")
            pairs = tuple(parse_qsl(text, keep_blank_values=True))
            normalized = self._pairs(pairs, fields, redactions, f"{part}.body.form.")
            return NormalizedBody("form", normalized, order=sent_order(pairs, normalized))
        if "json" in content_type or (not content_type and text.lstrip()[:1] in ("{", "[")):
            if part == "request" and _RAW_SENT in redactions and not self._pseudonyms:
                # Sent not strict JSON, which WireMock's JSON matchers refuse: its text.
                return NormalizedBody("text", self.normalize_string(text), raw_controls=True)
            parsed = parse_json(text)
            if isinstance(parsed, dict | list):
                if blind:
                    return NormalizedBody("opaque")
                try:
                    redacted = json_redactions(redactions, part)
                    return self._json_body(parsed, text, fields, redacted, part == "request")
                except TextOnlyJson:
                    # A number past a double or not held by one, a key given twice
                    # (json_tree): the body is matched as its exact text, as NaN is.
                    pass
        if blind:
            return NormalizedBody("opaque")
        return NormalizedBody("text", self.normalize_string(text))

    def _json_body(
        self, parsed: Any, text: str, fields: frozenset[str], redacted: Redacted, request: bool
    ) -> NormalizedBody:
        """The normalized tree of a parsed JSON document. Raises TextOnlyJson for a number
        past a double, or in a ``request`` for a key given twice or a number a double does
        not hold."""
        walk = TreeWalk()
        value = self._json_tree(parsed, walk, fields, redacted)
        if walk.exponent_floats:
            # orjson reads an integer past 64 bits as a float (from about 9.2e18, always
            # with an exponent): json's reading instead, which keeps it exact.
            walk = TreeWalk()
            value = self._json_tree(parse_json_exactly(text), walk, fields, redacted)
        if request:
            check_request_text(text, walk.keys, parsed)
        facts = walk.facts() if no_placeholder_start(text) else None
        return NormalizedBody("json", value, walk.exponent_floats, facts)

    def _json_tree(
        self, parsed: Any, walk: TreeWalk, fields: frozenset[str], redacted: Redacted
    ) -> Any:
        pointers, ancestors = redacted
        if not pointers:
            return self._json_plain(parsed, None, fields, walk)
        return self._json(parsed, "", None, fields, pointers, ancestors, walk)

    def _json(
        self,
        node: Any,
        pointer: str,
        field: str | None,
        fields: frozenset[str],
        pointers: frozenset[str],
        ancestors: frozenset[str],
        walk: TreeWalk,
    ) -> Any:
        if pointer in pointers:
            walk.hole(any_value=True)
            return HOLE_ANY
        if pointer not in ancestors:
            # No redacted location below this node: no pointers to build.
            return self._json_plain(node, field, fields, walk)
        if isinstance(node, dict):
            mark = walk.holes
            walk.leaves += len(node) - 1
            walk.keys += len(node)
            out = {}
            for key, value in node.items():
                child = f"{pointer}/{json_pointer_token(key)}"
                if field_key(key) in fields:
                    walk.hole(any_value=True)
                    out[key] = HOLE_ANY
                else:
                    out[key] = self._json(value, child, key, fields, pointers, ancestors, walk)
            walk.ended(out, mark)
            return out
        if isinstance(node, list):
            mark = walk.array(len(node))
            # Items inherit the field name: "updated": [1700000000, ...] are epochs too.
            items = [
                self._json(v, f"{pointer}/{i}", field, fields, pointers, ancestors, walk)
                for i, v in enumerate(node)
            ]
            walk.ended(items, mark)
            return items
        return self._json_plain(node, field, fields, walk)

    # Long because the object loop is inline: a call per leaf was most of this walk's cost.
    def _json_plain(
        self, node: Any, field: str | None, fields: frozenset[str], walk: TreeWalk
    ) -> Any:
        """``_json`` without redacted pointers: no pointer strings to build (the hot path).
        An object or array with no hole below is returned as it is, not copied: most are
        (the tree is the caller's, parsed for this walk, and never modified after)."""
        if isinstance(node, str):
            normalized = self.normalize_string(node, field=field)
            if type(normalized) is not str:
                walk.hole(any_value=normalized is HOLE_ANY)
            return normalized
        if isinstance(node, dict):
            keys = walk.roles
            # TreeWalk's counts inline (its array() and ended() are calls): per object,
            # not per leaf.
            walk.leaves += len(node) - 1
            walk.keys += len(node)
            out = None  # the copy, made at the first value that changes
            for key, value in node.items():
                role = keys.get(key)
                if role is None:
                    role = keys[key] = (
                        _NOISE
                        if field_key(key) in fields
                        else _TIME_LIKE
                        if _is_time_like(key)
                        else _PLAIN
                    )
                kind = type(value)
                if role == _NOISE:
                    walk.hole(any_value=True)
                    value = HOLE_ANY
                elif kind is str:
                    # normalize_string's stable case inline: no dynamic part can fit.
                    if ("-" not in value or len(value) < _SHORTEST_DYNAMIC) and (
                        "SANITIZED" not in value
                    ):
                        if role != _TIME_LIKE or not _EPOCH.fullmatch(value):
                            continue
                        walk.hole()
                        value = HOLE_STRING
                    else:
                        value = self.normalize_string(value, field=key)
                        if type(value) is str:
                            continue
                        walk.hole(any_value=value is HOLE_ANY)
                elif kind is int or kind is float:
                    # Scalars inline (a call per leaf is most of this walk's cost).
                    if (
                        kind is float
                        and value
                        and not (_PLAIN_FLOAT_MIN <= abs(value) < _PLAIN_FLOAT_END)
                    ):
                        walk.exponent_float(value)
                    if role != _TIME_LIKE:
                        continue
                    value = self._normalize_number(value, field=key)
                    if value is not HOLE_NUMBER:
                        continue
                    walk.hole()
                elif kind is bool or value is None:
                    continue
                else:
                    normalized = self._json_plain(value, key, fields, walk)
                    if normalized is value:
                        continue
                    value = normalized
                if out is None:
                    out = node.copy()  # keeps the key order; the value is replaced in place
                out[key] = value
            if out is None:
                return node
            walk.changed.add(id(out))
            return out
        if isinstance(node, list):
            return self._json_plain_items(node, field, fields, walk)
        if isinstance(node, int | float) and not isinstance(node, bool):
            if (
                type(node) is float
                and node
                and not (_PLAIN_FLOAT_MIN <= abs(node) < _PLAIN_FLOAT_END)
            ):
                walk.exponent_float(node)
            number = self._normalize_number(node, field=field)
            if number is HOLE_NUMBER:
                walk.hole()
            return number
        return node

    def _json_plain_items(
        self, node: list[Any], field: str | None, fields: frozenset[str], walk: TreeWalk
    ) -> list[Any]:
        """An array's items for ``_json_plain`` (itself when none changes). A method, not a
        comprehension there: that made cells of every call's arguments, which the object
        loop then read through (a tenth of the walk); the frames per level are the same."""
        mark = walk.array(len(node))
        items = None  # the copy, made at the first item that changes
        for index, v in enumerate(node):
            normalized = self._json_plain(v, field, fields, walk)
            if normalized is not v:
                if items is None:
                    items = node.copy()
                items[index] = normalized
        if items is None:
            return node
        walk.ended(items, mark)
        return items


def _sort_token(value: Normalized) -> str:
    if isinstance(value, Hole):
        return "\x00*"
    if isinstance(value, Template):
        return value.token()
    return value


def canonical_default(value: Any) -> Any:
    """``json.dumps(default=...)`` for Holes and Templates in the dedup hash."""
    if isinstance(value, Hole):
        return f"\x00{value.kind}"
    if isinstance(value, Template):
        return value.token()
    raise TypeError(type(value).__name__)
