"""The recorded stub closest to a miss, and what differs between them.

Runs in the loader, off WireMock's serving path, once per distinct miss (see
``recorder``). Each stub's request pattern is compared part by part with the sanitized
miss; every part that would not match is one difference, weighted by how far apart it
puts the two (a different path segment counts more than a missing query key). The stub
with the lowest total wins, among the stubs for the miss's host when there are any.
Differences name parts, never values: a path segment shows the miss's template segment
and the stub's own (already sanitized) segment.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ext_proc_server.misses.matching import (
    CANNOT_TELL,
    body_verdict,
    json_differences,
    json_path_verdict,
    json_pointer,
    matcher_name,
    one_value,
    split_path_pattern,
    value_verdict,
)
from ext_proc_server.misses.sqs_sends import guard_reasons
from ext_proc_server.misses.template import MissSample

# The launcher's request matcher of an SQS send answered with computed MD5s (evaluated as
# the launcher does); any other custom matcher is "cannot tell".
SQS_SEND_MATCHER = "mockado-sqs-send"

# How far apart each kind of difference puts a miss and a stub.
# "unchecked": a matcher not evaluated here as WireMock does; it is named, never scored.
WEIGHTS = {"host": 20, "port": 2, "method": 4, "path": 6, "path segment": 3,
           "query key": 1, "header": 1, "body field": 1, "body": 2, "unchecked": 0}  # fmt: skip
MAX_DIFFERENCES = 20


@dataclass(frozen=True, slots=True)
class Difference:
    kind: str  # one of WEIGHTS
    name: str  # which part: a segment's position, a key, a header, a JSON pointer
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class Closest:
    stub_id: str
    method: str
    url: str  # the stub's URL matcher, as recorded
    namespace: str
    differences: tuple[Difference, ...]

    @property
    def score(self) -> int:
        return sum(WEIGHTS[d.kind] for d in self.differences)

    def as_dict(self) -> dict[str, Any]:
        return {
            "stub_id": self.stub_id,
            "method": self.method,
            "url": self.url,
            "namespace": self.namespace,
            "differences": [d.as_dict() for d in self.differences[:MAX_DIFFERENCES]],
        }


def closest_stub(miss: MissSample, mappings: Iterable[Mapping[str, Any]]) -> Closest | None:
    """The closest recorded stub (catch-alls skipped), or None when there is none."""
    best: Closest | None = None
    for mapping in mappings:
        meta = (mapping.get("metadata") or {}).get("mockado") or {}
        if meta.get("catch_all"):
            continue
        found = compare(miss, mapping)
        if best is None or found.score < best.score:
            best = found
    return best


def compare(miss: MissSample, mapping: Mapping[str, Any]) -> Closest:
    request = mapping.get("request") or {}
    meta = (mapping.get("metadata") or {}).get("mockado") or {}
    url_kind, url = _url_matcher(request)
    differences = [
        *_host(miss, request.get("host")),
        *_port(miss, request.get("port")),
        *_method(miss, str(request.get("method") or "ANY")),
        *_path(miss, url_kind, url),
        *_pairs("query key", miss.query, request.get("queryParameters") or {}),
        *_pairs("header", miss.headers, _lower_keys(request.get("headers") or {})),
        *_body(miss, request),
        *_custom(miss, request.get("customMatcher")),
    ]
    return Closest(
        stub_id=str(mapping.get("id") or mapping.get("uuid") or ""),
        method=str(request.get("method") or "ANY"),
        url=url,
        namespace=str(meta.get("namespace") or ""),
        differences=tuple(differences),
    )


def _url_matcher(request: Mapping[str, Any]) -> tuple[str, str]:
    for kind in ("url", "urlPath", "urlPattern", "urlPathPattern", "urlPathTemplate"):
        if kind in request:
            return kind, str(request[kind])
    return "any", ""


def _host(miss: MissSample, matcher: Any) -> list[Difference]:
    if matcher is None:
        return []
    verdict = value_verdict(matcher, [miss.host])
    if verdict is None:
        return [_unchecked("host", matcher)]
    return [] if verdict else [Difference("host", "host", "recorded for another host")]


def _unchecked(name: str, matcher: Any) -> Difference:
    return Difference("unchecked", name, f"{CANNOT_TELL} ({matcher_name(matcher)})")


def _port(miss: MissSample, port: Any) -> list[Difference]:
    if not isinstance(port, int) or not port or not miss.port or port == miss.port:
        return []
    return [Difference("port", "port", f"port {miss.port}, the stub wants {port}")]


def _method(miss: MissSample, method: str) -> list[Difference]:
    if method.upper() in ("ANY", miss.method):
        return []
    return [Difference("method", "method", f"{miss.method}, the stub wants {method.upper()}")]


def _path(miss: MissSample, kind: str, url: str) -> list[Difference]:
    if kind == "any":
        return []
    path = _path_part(kind, url)
    if kind in ("url", "urlPath"):
        wanted = [re.escape(s) for s in path.removeprefix("/").split("/")]
        shown = path.removeprefix("/").split("/")
    elif kind == "urlPathTemplate":
        shown = path.removeprefix("/").split("/")
        wanted = ["[^/]+" if s.startswith("{") else re.escape(s) for s in shown]
    else:
        # mockado's patterns join one regex per segment with "/".
        shown = wanted = split_path_pattern(path)
    template = miss.path.removeprefix("/").split("/")
    if len(wanted) != len(miss.segments):
        detail = f"{len(miss.segments)} segments, the stub has {len(wanted)}"
        return [Difference("path", "path", detail)]
    out = []
    for index, (segment, regex) in enumerate(zip(miss.segments, wanted, strict=True)):
        if not _fullmatch(regex, segment):
            detail = f"/{template[index]}, the stub has /{shown[index]}"
            out.append(Difference("path segment", str(index + 1), detail))
    return out


def _path_part(kind: str, url: str) -> str:
    """The path of a URL matcher: a ``url`` ends at its "?", a ``urlPattern`` at its first
    escaped "\\?" (mapping.query_order's ordered query; a "?" elsewhere is regex syntax,
    as in "(?:"), a path matcher holds no query."""
    if kind == "url":
        return url.split("?", 1)[0]
    if kind != "urlPattern":
        return url
    escaped = False
    for index, char in enumerate(url):
        if escaped:
            if char == "?":
                return url[: index - 1]
            escaped = False
        elif char == "\\":
            escaped = True
    return url


def _fullmatch(regex: str, value: str) -> bool:
    try:
        return re.fullmatch(regex, value) is not None
    except re.error:
        return False


def _pairs(
    kind: str, actual: Mapping[str, list[str]], matchers: Mapping[str, Any]
) -> list[Difference]:
    out = []
    for name, matcher in matchers.items():
        values = actual.get(name.lower() if kind == "header" else name)
        verdict = value_verdict(matcher, values or [])
        if verdict is None:
            out.append(_unchecked(str(name), matcher))
        elif not verdict:
            detail = "missing" if not values else "a different value"
            out.append(Difference(kind, str(name), detail))
    return out


def _lower_keys(matchers: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k).lower(): v for k, v in matchers.items()}


def _body(miss: MissSample, request: Mapping[str, Any]) -> list[Difference]:
    out: list[Difference] = []
    if request.get("formParameters"):
        out += _pairs("body field", miss.body_form or {}, request["formParameters"])
    if request.get("multipartPatterns"):
        out.append(_unchecked("body", {"multipartPatterns": None}))
    for pattern in request.get("bodyPatterns") or []:
        if isinstance(pattern, Mapping) and "equalToJson" in pattern:
            out += _json_body(miss, pattern)
        elif isinstance(pattern, Mapping) and "matchesJsonPath" in pattern:
            out += _json_path(miss, pattern["matchesJsonPath"])
        else:
            verdict = body_verdict(pattern, miss.body_text, miss.body_json)
            if verdict is None:
                out.append(_unchecked("body", pattern))
            elif not verdict:
                out.append(Difference("body", "body", "a different body"))
    return out


def _json_body(miss: MissSample, pattern: Mapping[str, Any]) -> list[Difference]:
    expected = pattern["equalToJson"]
    if isinstance(expected, str):
        try:
            expected = json.loads(expected)
        except ValueError:
            return [_unchecked("body", pattern)]
    if pattern.get("ignoreArrayOrder"):
        return [_unchecked("body", pattern)] if miss.body_json is not None else [_not_json()]
    if miss.body_json is None:
        return [_not_json()]
    extra = bool(pattern.get("ignoreExtraElements"))
    return [
        _unchecked(pointer, pattern) if detail == CANNOT_TELL
        else Difference("body field", pointer, detail)
        for pointer, detail in json_differences(expected, miss.body_json, extra_elements=extra)
    ]  # fmt: skip


def _not_json() -> Difference:
    return Difference("body", "body", "not JSON, the stub wants JSON")


def _json_path(miss: MissSample, spec: Any) -> list[Difference]:
    verdict, detail = json_path_verdict(spec, miss.body_text, miss.body_json, one_value)
    expression = spec.get("expression") if isinstance(spec, Mapping) else spec
    pointer = json_pointer(str(expression)) or "body"
    if verdict is None:
        return [_unchecked(pointer, {"matchesJsonPath": spec})]
    if verdict:
        return []
    if detail == "not JSON":
        return [_not_json()]
    return [Difference("body field", pointer, detail)]


def _custom(miss: MissSample, matcher: Any) -> list[Difference]:
    if matcher is None:
        return []
    name = str(matcher.get("name")) if isinstance(matcher, Mapping) else ""
    if name != SQS_SEND_MATCHER:
        return [Difference("unchecked", name or "customMatcher", f"{CANNOT_TELL} (customMatcher)")]
    out = []
    for entry, which, reason in guard_reasons(miss.sqs_sends, matcher.get("parameters")):
        message = f"entry {entry}" if entry else "the message"
        if reason is None:
            out.append(Difference("unchecked", SQS_SEND_MATCHER, f"{CANNOT_TELL} ({message})"))
        else:
            detail = f"no {which} MD5 for {message}: {reason}"
            out.append(Difference("body", SQS_SEND_MATCHER, detail))
    return out
