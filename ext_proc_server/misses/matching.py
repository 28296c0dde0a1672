"""Just enough of WireMock's matchers to tell which part of a stub a miss fails.

An answer here explains a miss; it never decides what is served. A matcher this module
does not know counts as matching, so it is never blamed for a difference.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

# json-unit placeholders mockado writes for holes: any value matches them.
_PLACEHOLDER = re.compile(r"\$\{json-unit\.[a-z-]+\}")
MAX_JSON_DIFFERENCES = 10


def value_matches(matcher: Any, values: Sequence[str]) -> bool:
    """Does a WireMock string-value matcher accept ``values`` (a missing part is [])?"""
    if not isinstance(matcher, Mapping):
        return True
    if "absent" in matcher:
        return (not values) == bool(matcher["absent"])
    if "or" in matcher:
        return any(value_matches(m, values) for m in matcher["or"])
    if "and" in matcher:
        return all(value_matches(m, values) for m in matcher["and"])
    if "hasExactly" in matcher:
        wanted = matcher["hasExactly"]
        return len(wanted) == len(values) and all(value_matches(m, values) for m in wanted)
    if "includes" in matcher:
        return all(value_matches(m, values) for m in matcher["includes"])
    return any(_one_value(matcher, value) for value in values)


def _one_value(matcher: Mapping[str, Any], value: str) -> bool:
    if "equalTo" in matcher:
        wanted = str(matcher["equalTo"])
        if matcher.get("caseInsensitive"):
            return wanted.lower() == value.lower()
        return wanted == value
    if "matches" in matcher:
        return _fullmatch(str(matcher["matches"]), value)
    if "doesNotMatch" in matcher:
        return not _fullmatch(str(matcher["doesNotMatch"]), value)
    if "contains" in matcher:
        return str(matcher["contains"]) in value
    return True


def _fullmatch(regex: str, value: str) -> bool:
    try:
        return re.fullmatch(regex, value, flags=re.DOTALL) is not None
    except re.error:
        return True  # a Java-only construct: not ours to blame


def split_path_pattern(pattern: str) -> list[str]:
    """A path regex split at each "/" outside brackets and escapes, one part per segment."""
    parts, current, depth, escaped = [], [], 0, False
    for char in pattern.removeprefix("/"):
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "[":
            depth += 1
        elif char == "]" and depth:
            depth -= 1
        elif char == "/" and not depth:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def json_differences(expected: Any, actual: Any, pointer: str = "") -> list[tuple[str, str]]:
    """Where ``actual`` fails ``equalToJson`` with ignoreExtraElements: (JSON pointer,
    what differs) pairs, at most ``MAX_JSON_DIFFERENCES``."""
    out: list[tuple[str, str]] = []
    _walk(expected, actual, pointer, out)
    return out[:MAX_JSON_DIFFERENCES]


def _walk(expected: Any, actual: Any, pointer: str, out: list[tuple[str, str]]) -> None:
    if len(out) >= MAX_JSON_DIFFERENCES:
        return
    if isinstance(expected, str) and _PLACEHOLDER.fullmatch(expected):
        return
    where = pointer or "/"
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            out.append((where, "not an object"))
            return
        for key, value in expected.items():
            child = f"{pointer}/{key}"
            if key not in actual:
                out.append((child, "missing"))
            else:
                _walk(value, actual[key], child, out)
    elif isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            out.append((where, "a different array"))
            return
        for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
            _walk(want, got, f"{pointer}/{index}", out)
    elif expected != actual or type(expected) is not type(actual):
        out.append((where, "a different value"))
