"""WireMock request matchers for a normalized request.

Stable values become exact matchers; holes become optional or typed ones;
templates become regexes. Each constraint also adds to the pattern's
specificity, from which the stub's priority follows (see
:mod:`ext_proc_server.mapping.stubs`).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from typing import Any

from ext_proc_server.mapping.accepts import ACCEPT_HEADER, accept_matcher
from ext_proc_server.mapping.framed_bodies import (
    CONTENT_ENCODING_MATCHER,
    framed_body_matchers,
    is_framed,
    matched_in_framing,
)
from ext_proc_server.mapping.framed_uploads import CONTENT_ENCODING_HEADER
from ext_proc_server.mapping.java_regex import java_regex_escape
from ext_proc_server.mapping.multipart import body_regex, content_type_regex
from ext_proc_server.mapping.noise import (
    Hole,
    Normalized,
    NormalizedBody,
    NormalizedRequest,
    Template,
)
from ext_proc_server.mapping.query_order import form_pattern, url_pattern

# A dynamic value (a UUID, a sanitized email or name) inside a text or multipart body: it
# stays on its line and inside its element or quotes, so it cannot take in a second
# <id> element or another part the recording did not have.
_IN_VALUE = r'[^\r\n<>"]+?'
# The same in a JSON body sent with raw control characters: a replaced value may have
# held a line break or a tab, raw (docs/sanitizer.md "raw control characters").
_IN_RAW_VALUE = r'[^<>"]+?'
_ANY_OR_ABSENT = {"or": [{"matches": ".*"}, {"absent": True}]}
# An empty value in ``hasExactly``: WireMock 3.13's never pairs ``equalTo: ""`` with the
# empty value (``?q=1&q=`` or ``?q=`` would miss its own stub); a regex of the empty
# string does.
_EMPTY_AMONG_REPEATS = {"matches": "^$"}
# Values a matcher takes as they are (given no string starts with "${").
_PLAIN = frozenset({str, int, float, bool, type(None)})
# The JSON values that hold others.
_CONTAINERS = frozenset({dict, list})
# "any": any value, but the field sent (``ignore-element`` also took it absent, and a
# canary that leaves out a card or an idempotency key got the answer of one that sent it).
_JSON_PLACEHOLDER = {
    "any": "${json-unit.ignore}",
    "string": "${json-unit.any-string}",
    "number": "${json-unit.any-number}",
}


def request_pattern(normalized: NormalizedRequest) -> tuple[dict[str, Any], int]:
    """-> (WireMock request pattern, specificity). Specificity counts 2 per
    exact constraint and 1 per typed or partial one; optional ones count 0."""
    pattern: dict[str, Any] = {"method": normalized.method}
    specificity = 0
    pattern.update(destination_matchers(normalized))
    if normalized.path_is_stable:
        pattern["urlPath"] = normalized.path
        specificity += 2 * len(normalized.segments)
    else:
        parts = []
        for segment in normalized.segments:
            if isinstance(segment, Hole):
                parts.append("[^/]+")
            elif isinstance(segment, Template):
                parts.append(segment.regex(hole="[^/]+"))
                specificity += 1
            else:
                parts.append(java_regex_escape(segment))
                specificity += 2
        pattern["urlPathPattern"] = "/" + "/".join(parts)
    if normalized.query:
        pattern["queryParameters"], weight = _multi_value_matchers(normalized.query)
        specificity += weight
    if normalized.query_order:
        # The values' order too (no query matcher holds it): the raw URL's, as sent.
        path = pattern.pop("urlPath", None)
        path_regex = (
            "/".join(java_regex_escape(part) for part in path.split("/"))
            if path is not None
            else pattern.pop("urlPathPattern")
        )  # "/" unescaped, as in urlPathPattern
        pattern["urlPattern"] = url_pattern(path_regex, normalized.query_order)
        specificity += 1
    if normalized.varied:
        pattern["headers"], weight = _varied_matchers(normalized.varied)
        specificity += weight
    if normalized.accepted:
        pattern.setdefault("headers", {})[ACCEPT_HEADER] = accept_matcher(normalized.accepted)
        specificity += 1
    if normalized.answer_choices:
        chosen, weight = _varied_matchers(normalized.answer_choices)
        pattern.setdefault("headers", {}).update(chosen)
        specificity += weight
    body_matchers, weight = _request_body_matchers(normalized)
    if is_framed(normalized):
        headers = pattern.setdefault("headers", {})
        if CONTENT_ENCODING_HEADER not in headers:  # else sent without it: absent (varied)
            headers["Content-Encoding"] = CONTENT_ENCODING_MATCHER
            weight += 2
    pattern.update(body_matchers)
    specificity += weight
    if normalized.body.kind != "none":
        headers = pattern.setdefault("headers", {})
        if "content-type" not in {name.lower() for name in headers}:
            headers["Content-Type"] = _content_type_matcher(
                normalized.body, normalized.content_type
            )
    return pattern, specificity


def _request_body_matchers(normalized: NormalizedRequest) -> tuple[dict[str, Any], int]:
    """The request body's matchers and their weight. A payload sent aws-chunked is matched
    out of its framing, by the launcher's matcher (framed_bodies)."""
    if is_framed(normalized) and matched_in_framing(normalized.body):
        return framed_body_matchers(normalized.body, hole=_IN_VALUE)
    return _body_matchers(normalized.body)


def _body_matchers(body: NormalizedBody) -> tuple[dict[str, Any], int]:
    """The body's matchers (``bodyPatterns`` or ``formParameters``) and their weight. No
    body matches only requests without one: a recording of ``POST /search`` with no body
    (everything) says nothing of one that sends a filter."""
    if body.kind == "json":
        facts = body.facts
        if facts is None:
            walk = JsonWalk()
            expected, weight, has_array = walk.expected(body.value), walk.weight, walk.has_array
        else:
            # What JsonWalk would give, from what the normalizer saw: only the objects and
            # arrays with a hole below are rebuilt.
            expected = _with_placeholders(body.value, facts.changed)
            weight = 2 * (facts.leaves - facts.holes) + facts.holes
            has_array = facts.has_array
        if not isinstance(expected, dict | list):
            # WireMock reads a string here as JSON text: a scalar (a hole, when a key at
            # the root was sanitized) goes as the text that spells it.
            expected = json.dumps(expected, ensure_ascii=False)
        patterns: list[dict[str, Any]] = [{"equalToJson": expected, "ignoreExtraElements": True}]
        if has_array:
            # ignoreExtraElements also takes extra array items ({"ids": [1]} would answer
            # {"ids": [1, 2]}); the schema holds each array to its recorded length. Items
            # are compared in order: an order may mean something (a patch, a route, a sort).
            patterns.append(
                {"matchesJsonSchema": array_lengths_schema(expected), "schemaVersion": "V202012"}
            )
        return {"bodyPatterns": patterns}, weight
    if body.kind == "form" and body.value:
        matchers, weight = _multi_value_matchers(body.value)
        if body.order:
            # The values' order too, as for a query (formParameters does not hold it).
            pattern = {"matches": form_pattern(body.order)}
            return {"formParameters": matchers, "bodyPatterns": [pattern]}, weight + 1
        return {"formParameters": matchers}, weight
    if body.kind == "binary":
        return {"bodyPatterns": [{"binaryEqualTo": body.value}]}, 2
    if body.kind == "text":
        if isinstance(body.value, Template):
            hole = _IN_RAW_VALUE if body.raw_controls else _IN_VALUE
            return {"bodyPatterns": [{"matches": "(?s)" + body.value.regex(hole=hole)}]}, 1
        return {"bodyPatterns": [{"equalTo": body.value}]}, 2
    if body.kind == "multipart":
        return {"bodyPatterns": [{"matches": body_regex(body.value, _part_regex)}]}, 1
    if body.kind == "none":
        return {"bodyPatterns": [{"absent": True}]}, 0
    return {}, 0


def _part_regex(value: Normalized) -> str:
    """The text between two boundaries, its dynamic values as ``_IN_VALUE``."""
    if isinstance(value, Template):
        return value.regex(hole=_IN_VALUE)
    if isinstance(value, Hole):
        return _IN_VALUE
    return java_regex_escape(value)


def _content_type_matcher(body: NormalizedBody, content_type: str) -> dict[str, Any]:
    """The recorded Content-Type of a request with a body: the same body sent as
    ``text/plain`` or without a type may be refused (415) or read otherwise. A multipart
    type's boundary is any (a new one every call)."""
    if not content_type:
        return {"absent": True}
    if body.kind == "multipart":
        return {"matches": content_type_regex(content_type, java_regex_escape)}
    return {"equalTo": content_type, "caseInsensitive": True}


def unmatchable_reason(normalized: NormalizedRequest) -> str:
    """Why no WireMock matcher tells this request from others, or "". ``body_unmatchable``:
    a body redacted at places nothing marks (pseudonyms in free text), or a multipart body
    without its boundary. Then for the query, and a form body:

    * ``undecodable``: a name or value that is not UTF-8 once percent-decoded. The capture
      and WireMock both read each bad byte as U+FFFD, so ``q=caf%E9`` (ISO-8859-1) would
      also match ``q=caf%E8``.
    * ``repeats``: a name holding one value (exact or partly) more than once. WireMock
      3.13's ``hasExactly`` checks the count and that each matcher finds some value, not
      that each value is found: ``q=1&q=1`` would also match ``q=1&q=2``, and
      ``q=1&q=1&q=2`` would match ``q=1&q=2&q=2``.
    """
    body = normalized.body
    if body.kind == "opaque":
        # Any body would match: another upload, another search. A reason the normalizer
        # gave (a binary payload in signed chunks: framed_uploads) names itself.
        return body.value if isinstance(body.value, str) else "request_body_unmatchable"
    form = body.value if body.kind == "form" and body.value else ()
    for part, pairs in (("query", normalized.query), ("form", form)):
        if _undecodable(pairs):
            return f"request_{part}_undecodable"
        if _ambiguous_repeats(pairs):
            return f"request_{part}_repeats"
    return ""


def _undecodable(pairs: tuple[tuple[str, Normalized], ...]) -> bool:
    for name, value in pairs:
        if "\ufffd" in name:
            return True
        if type(value) is str:
            if "\ufffd" in value:
                return True
        elif isinstance(value, Template) and any(
            isinstance(p, str) and "\ufffd" in p for p in value.parts
        ):
            return True
    return False


def _ambiguous_repeats(pairs: tuple[tuple[str, Normalized], ...]) -> bool:
    """Pairs sorted by name then value (``NormalizedRequest.query``): a repeated value
    sits next to itself. Holes are left out: their matcher takes any value by design."""
    for at in range(1, len(pairs)):
        if pairs[at] == pairs[at - 1] and not isinstance(pairs[at][1], Hole):
            return True
    return False


def destination_matchers(normalized: NormalizedRequest) -> dict[str, Any]:
    """``host`` and ``port``, each when known. WireMock's host is Host without its port and
    its port Host's port (80 when there is none), so one Service's ports answer the same
    path apart (docs/mappings.md "Ports"). The port adds no specificity: two ports never
    match one request, and priorities stay as they were."""
    out: dict[str, Any] = {}
    if normalized.host:
        out["host"] = host_matcher(normalized.host, normalized.host_aliases)
    if normalized.port:
        out["port"] = normalized.port
    return out


def host_matcher(host: str, aliases: tuple[str, ...] = ()) -> dict[str, Any]:
    """The destination: any name of an in-cluster Service (``aliases``: short name,
    name.namespace, name.namespace.svc, the FQDN; a final dot and a port allowed), else
    exactly ``host``. Case-insensitive: Jetty may reuse the first Host casing on a
    kept-alive connection."""
    if not aliases:
        return {"equalTo": host, "caseInsensitive": True}
    names = "|".join(java_regex_escape(alias) for alias in aliases)
    return {"matches": f"(?i)(?:{names})\\.?(?::[0-9]+)?"}


def _value_matcher(value: Normalized) -> tuple[dict[str, Any], int]:
    if isinstance(value, Hole):
        return dict(_ANY_OR_ABSENT), 0
    if isinstance(value, Template):
        return {"matches": value.regex(hole=".+")}, 1
    return {"equalTo": value}, 2


def _varied_matchers(
    varied: tuple[tuple[str, tuple[Normalized, ...]], ...],
) -> tuple[dict[str, Any], int]:
    """The request headers the response varies on, as recorded: absent when not sent;
    present with any value when sanitized; else as query values are matched."""
    out: dict[str, Any] = {}
    weight = 0
    for name, values in varied:
        parts = [
            ({"matches": ".*"}, 1) if isinstance(v, Hole) else _value_matcher(v) for v in values
        ]
        if not parts:
            out[name], w = {"absent": True}, 2
        elif len(parts) == 1:
            out[name], w = parts[0]
        else:
            out[name] = {"hasExactly": [m for m, _ in parts]}
            w = sum(w for _, w in parts)
        weight += w
    return out, weight


def _multi_value_matchers(
    pairs: tuple[tuple[str, Normalized], ...],
) -> tuple[dict[str, Any], int]:
    """Query or form parameters: one matcher per name, which needs exactly the recorded
    values (in any order). A single value too: WireMock's plain matcher takes a name
    given more values when one of them matches, so ``id=1`` would answer ``id=1&id=2``
    (and ``id=2&id=1``) with one item's answer. A noise name (all holes) takes any."""
    out: dict[str, Any] = {}
    weight = 0
    for name in names_of(pairs):
        values = [v for n, v in pairs if n == name]
        if all(isinstance(v, Hole) for v in values):
            matcher, w = _value_matcher(values[0])
        else:
            parts = [_value_matcher(v) for v in values]
            matcher = {
                "hasExactly": [dict(_EMPTY_AMONG_REPEATS) if v == "" else m
                               for (m, _), v in zip(parts, values, strict=True)]
            }  # fmt: skip
            w = sum(w for _, w in parts)
        out[name] = matcher
        weight += w
    return out, weight


def array_lengths_schema(node: Any) -> Any:
    """A JSON Schema (2020-12) that holds each array of the JSON value ``node`` to its
    length and says nothing else (``True``: any value)."""
    kind = type(node)
    if kind is dict:
        if _CONTAINERS.isdisjoint(map(type, node.values())):
            return True  # no array below: most objects (a C pass, no step per member)
        properties = {}
        for key, value in node.items():
            if type(value) is dict or type(value) is list:
                schema = array_lengths_schema(value)
                if schema is not True:
                    properties[key] = schema
        return {"properties": properties} if properties else True
    if kind is list:
        out: dict[str, Any] = {"minItems": len(node), "maxItems": len(node)}
        if _CONTAINERS.isdisjoint(map(type, node)):
            return out  # items without arrays below
        items = [
            array_lengths_schema(v) if type(v) is dict or type(v) is list else True for v in node
        ]
        if any(schema is not True for schema in items):
            out["prefixItems"] = items
        return out
    return True


def _with_placeholders(node: Any, changed: AbstractSet[int]) -> Any:
    """``JsonWalk.expected`` of a normalized tree none of whose strings starts with "${":
    the objects and arrays not in ``changed`` (ids) hold no hole and are kept as they
    are (the matcher shares them with the tree; neither is modified after)."""
    # Loops, not comprehensions: those would make a cell of ``changed`` in every call.
    kind = type(node)
    if kind is dict:
        if id(node) not in changed:
            return node
        out = {}
        for key, value in node.items():
            out[key] = value if type(value) in _PLAIN else _with_placeholders(value, changed)
        return out
    if kind is list:
        if id(node) not in changed:
            return node
        items = []
        for value in node:
            items.append(value if type(value) in _PLAIN else _with_placeholders(value, changed))
        return items
    if kind is Hole:
        return _JSON_PLACEHOLDER[node.kind]
    if kind is Template:
        return "${json-unit.regex}" + node.regex(hole=".+")
    return node


class JsonWalk:
    """One pass over a normalized JSON tree: the expected value of ``equalToJson``
    (holes and templates as json-unit placeholders), the summed leaf weights (2 per
    exact value, 1 per hole or template: each must be there) and whether it holds an
    array."""

    __slots__ = ("has_array", "weight")

    def __init__(self) -> None:
        self.weight = 0
        self.has_array = False

    def expected(self, node: Any) -> Any:
        kind = type(node)
        if kind is int or kind is float or kind is bool or node is None:
            self.weight += 2  # the commonest leaves first, by exact type
            return node
        if isinstance(node, str):
            self.weight += 2
            if node.startswith("${json-unit."):
                return "${json-unit.regex}" + java_regex_escape(node)
            return node
        if isinstance(node, dict):
            # Plain leaves inline, without a call each (most of the nodes).
            out = {}
            weight = 0
            for key, value in node.items():
                kind = type(value)
                if (kind is int or kind is float or kind is bool or value is None) or (
                    kind is str and not value.startswith("${json-unit.")
                ):
                    weight += 2
                    out[key] = value
                else:
                    out[key] = self.expected(value)
            self.weight += weight
            return out
        if isinstance(node, list):
            self.has_array = True
            expected = self.expected
            return [expected(v) for v in node]
        if isinstance(node, Hole):
            self.weight += 1
            return _JSON_PLACEHOLDER[node.kind]
        if isinstance(node, Template):
            self.weight += 1
            return "${json-unit.regex}" + node.regex(hole=".+")
        self.weight += 2
        return node


def names_of(pairs: Iterable[tuple[str, Normalized]]) -> list[str]:
    seen: dict[str, None] = {}
    for name, _ in pairs:
        seen.setdefault(name, None)
    return list(seen)
