"""Recorded stubs written by earlier versions, narrowed to today's matchers or retired.

Earlier versions wrote stubs that answered requests they were not recorded for (see
docs/mappings.md "What a mapping matches"). Every stub written today carries
``stub_format: 3`` in ``metadata.mockado`` (:data:`STUB_FORMAT`); one without it is older,
and one without ``priority_scale`` too was written before today's matchers. A stub
WireMock holds keeps its matchers and answer until a capture of its request replaces it,
so each import rewrites an old one, once, from what it holds, and marks it. Before today's
matchers:

* ``equalToJson``: ``ignoreArrayOrder`` dropped; a ``matchesJsonSchema`` pattern holding
  each array to its recorded length (``matchers.array_lengths_schema``);
  ``${json-unit.ignore-element}`` (absent allowed) becomes ``${json-unit.ignore}``.
* a text or multipart ``matches``: each wildcard ``.+?`` or ``[^\\r\\n]+?`` becomes one
  value's, ``[^\\r\\n<>"]+?``.
* no body matcher, for a method whose requests carry no body (GET, HEAD, DELETE,
  OPTIONS, TRACE): ``bodyPatterns: [{"absent": true}]``.
* a ``Set-Cookie`` with ``Expires`` and no ``Max-Age`` (written before cookies got one,
  on any scale): ``Max-Age`` from the stub's recorded answer (``mapping.cookie_lifetimes``).

And before this format (``mapping.old_answers``): an SQS send whose answer gives MD5s held
to its message, or retired (``old_answers.RETIRED_MESSAGE_UNKNOWN``); Azure's echoed
``x-ms-client-request-id`` served as the replayed request's; expiries served from now.

Each rewrite only narrows what the stub matches: the upgraded stub never answers a
request the old one did not. A stub it cannot make faithful is retired instead (a miss
is visible, a wrong answer is not): one with no body matcher for a method that may carry
a body (an old multipart upload, or a request without a body: nothing it holds tells
them apart).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ext_proc_server.mapping.cookie_lifetimes import (
    cookies_without_lifetime,
    with_cookie_lifetimes,
)
from ext_proc_server.mapping.matchers import array_lengths_schema
from ext_proc_server.mapping.old_answers import faithful_response, pinned_send
from ext_proc_server.mapping.priority import (
    PRIORITY_SCALE,
    SCALE_KEY,
    on_current_scale,
)

# Why an old stub was retired (the loader's ``wiremock_loader_stubs_retired`` reason).
RETIRED_BODY_UNKNOWN = "old_stub_body_unknown"
# metadata.mockado.stub_format of a stub written (or rewritten) on today's format.
FORMAT_KEY = "stub_format"
STUB_FORMAT = 3
# Methods whose requests carry no body (RFC 9110 gives their content no meaning).
_BODILESS_METHODS = frozenset({"GET", "HEAD", "DELETE", "OPTIONS", "TRACE"})
_OLD_IGNORE = "${json-unit.ignore-element}"
_IGNORE = "${json-unit.ignore}"
_IN_VALUE = r'[^\r\n<>"]+?'
_OLD_WILDCARDS = (".+?", r"[^\r\n]+?")
_BODY_MATCHER_KEYS = ("bodyPatterns", "formParameters", "multipartPatterns")
# Old stubs a WireMock already holds are imported again this many at a time.
REIMPORT_BATCH_SIZE = 500


def on_old_format(mapping: Any) -> bool:
    """Whether this is a recorded stub written by an earlier version: before this format
    (:func:`before_current_format`), or serving a ``Set-Cookie`` by its ``Expires`` alone
    (``mapping.cookie_lifetimes``)."""
    return before_current_format(mapping) or bool(
        _recorded(mapping) and cookies_without_lifetime(mapping)
    )


def before_current_format(mapping: Any) -> bool:
    """A ``metadata.mockado`` without ``stub_format`` :data:`STUB_FORMAT` or later, or
    before today's matchers (a catch-all or pass-through aside)."""
    mockado = _recorded(mapping)
    if mockado is None:
        return False
    written = mockado.get(FORMAT_KEY)
    return SCALE_KEY not in mockado or not (type(written) is int and written >= STUB_FORMAT)


def before_current_matchers(mapping: Any) -> bool:
    """A ``metadata.mockado`` without ``priority_scale`` (a catch-all or pass-through
    aside)."""
    mockado = _recorded(mapping)
    return mockado is not None and SCALE_KEY not in mockado


def _recorded(mapping: Any) -> dict[str, Any] | None:
    """A recorded stub's ``metadata.mockado``, or None."""
    if not isinstance(mapping, dict):
        return None
    metadata = mapping.get("metadata")
    mockado = metadata.get("mockado") if isinstance(metadata, dict) else None
    if not isinstance(mockado, dict) or "catch_all" in mockado:
        return None
    return mockado


def retire_reason(mapping: dict[str, Any]) -> str:
    """Why an old-format stub cannot be made faithful, or ""."""
    if not before_current_format(mapping):
        return ""  # only its cookies are old
    request = mapping.get("request")
    if not isinstance(request, dict):
        return ""  # WireMock refuses it on import
    if before_current_matchers(mapping) and not (
        any(key in request for key in _BODY_MATCHER_KEYS) or _empty_form(request)
    ):
        method = str(request.get("method") or "ANY").upper()
        if method not in _BODILESS_METHODS:
            return RETIRED_BODY_UNKNOWN
    return pinned_send(mapping)[1]


def on_current_format(mapping: dict[str, Any]) -> tuple[dict[str, Any] | None, str]:
    """-> (the stub to import, "") : ``mapping`` itself unless written on the old format,
    else a narrowed copy, marked; or (None, why) when it cannot be made faithful."""
    if not on_old_format(mapping):
        return mapping, ""
    reason = retire_reason(mapping)
    if reason:
        return None, reason
    if not before_current_format(mapping):
        return with_cookie_lifetimes(mapping), ""
    upgraded = mapping
    mockado = {**mapping["metadata"]["mockado"], FORMAT_KEY: STUB_FORMAT}
    if before_current_matchers(mapping):
        upgraded = on_current_scale(mapping)
        request = upgraded.get("request")
        if isinstance(request, dict):
            upgraded = {**upgraded, "request": _narrowed_request(request)}
        mockado[SCALE_KEY] = PRIORITY_SCALE
    upgraded = {**upgraded, "metadata": {**upgraded["metadata"], "mockado": mockado}}
    if isinstance(upgraded.get("request"), dict):
        upgraded["request"] = pinned_send(upgraded)[0]
    if isinstance(upgraded.get("response"), dict):
        upgraded["response"] = faithful_response(upgraded)
    return with_cookie_lifetimes(upgraded), ""


def encoded_on_current_format(encoded: str) -> tuple[str | None, str]:
    """:func:`on_current_format` for a mapping encoded as compact JSON: the text itself
    unless it changes (text that is not a JSON object is left to WireMock to refuse)."""
    try:
        mapping = json.loads(encoded)
    except ValueError:
        return encoded, ""
    if not on_old_format(mapping):
        return encoded, ""
    upgraded, reason = on_current_format(mapping)
    if upgraded is None:
        return None, reason
    return json.dumps(upgraded, separators=(",", ":"), ensure_ascii=False), ""


@dataclass(slots=True)
class OldStubs:
    """The old-format stubs a WireMock holds: ``batches`` to import again (narrowed on
    import), and the ``retired`` ones to remove, as (id, reason)."""

    batches: list[list[dict[str, Any]]] = field(default_factory=list)
    retired: list[tuple[str, str]] = field(default_factory=list)


def old_stubs(mappings: Iterable[Any], *, size: int = REIMPORT_BATCH_SIZE) -> OldStubs:
    """The stubs of ``mappings`` written on the old format (:func:`on_old_format`)."""
    kept: list[dict[str, Any]] = []
    out = OldStubs()
    for mapping in mappings:
        if not on_old_format(mapping):
            continue
        reason = retire_reason(mapping)
        if reason:
            out.retired.append((str(mapping.get("id") or mapping.get("uuid")), reason))
        else:
            kept.append(mapping)
    step = max(1, size)
    out.batches = [kept[start : start + step] for start in range(0, len(kept), step)]
    return out


def _empty_form(request: dict[str, Any]) -> bool:
    """The one body written without a body matcher since bodies matched their type: a
    form without fields, its Content-Type matched in any case (a ``Vary: Content-Type``
    matcher is written without ``caseInsensitive``)."""
    headers = request.get("headers")
    if not isinstance(headers, dict):
        return False
    for name, matcher in headers.items():
        if isinstance(name, str) and name.lower() == "content-type" and isinstance(matcher, dict):
            value = matcher.get("equalTo")
            return (
                matcher.get("caseInsensitive") is True
                and isinstance(value, str)
                and ("x-www-form-urlencoded" in value.lower())
            )
    return False


def _narrowed_request(request: dict[str, Any]) -> dict[str, Any]:
    patterns = request.get("bodyPatterns")
    if any(key in request for key in _BODY_MATCHER_KEYS):
        if not isinstance(patterns, list):
            return request
        narrowed = [_narrowed_pattern(p) for p in patterns]
        if not any(_is_length_schema(p) for p in patterns):
            for pattern in narrowed:
                if isinstance(pattern, dict) and "equalToJson" in pattern:
                    schema = array_lengths_schema(pattern["equalToJson"])
                    if schema is not True:
                        narrowed.append({"matchesJsonSchema": schema, "schemaVersion": "V202012"})
                    break
        return {**request, "bodyPatterns": narrowed}
    if _empty_form(request):
        return request  # as written today
    return {**request, "bodyPatterns": [{"absent": True}]}


def _narrowed_pattern(pattern: Any) -> Any:
    if not isinstance(pattern, dict):
        return pattern
    if "equalToJson" in pattern:
        out = {k: v for k, v in pattern.items() if k != "ignoreArrayOrder"}
        expected = out["equalToJson"]
        if isinstance(expected, str):
            try:
                expected = json.loads(expected)
            except ValueError:
                return out  # WireMock refuses it on import
        out["equalToJson"] = _without_ignore_element(expected)
        return out
    regex = pattern.get("matches")
    if isinstance(regex, str) and regex.startswith("(?s)"):
        return {**pattern, "matches": one_value_wildcards(regex)}
    return pattern


def _is_length_schema(pattern: Any) -> bool:
    return isinstance(pattern, dict) and "matchesJsonSchema" in pattern


def _without_ignore_element(node: Any) -> Any:
    kind = type(node)
    if kind is str:
        return _IGNORE if node == _OLD_IGNORE else node
    if kind is dict:
        return {key: _without_ignore_element(value) for key, value in node.items()}
    if kind is list:
        return [_without_ignore_element(value) for value in node]
    return node


def one_value_wildcards(regex: str) -> str:
    """``regex`` (a Java regex whose literals are backslash-escaped) with each old body
    wildcard (``.+?`` or ``[^\\r\\n]+?``) as one value's, ``[^\\r\\n<>"]+?``. Escaped text
    (``\\.\\+\\?``) is left as it is."""
    out: list[str] = []
    at = 0
    size = len(regex)
    while at < size:
        char = regex[at]
        if char == "\\":
            out.append(regex[at : at + 2])
            at += 2
            continue
        for old in _OLD_WILDCARDS:
            if regex.startswith(old, at):
                out.append(_IN_VALUE)
                at += len(old)
                break
        else:
            out.append(char)
            at += 1
    return "".join(out)
