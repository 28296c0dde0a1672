"""WireMock's matchers, as WireMock 3 evaluates them, to tell which part of a stub a miss
fails.

An answer here explains a miss; it never decides what is served. Each verdict is True
(matches), False (does not) or None: cannot tell (a matcher or a regex construct this
module does not evaluate as WireMock does). A matcher is never said to match unless it
does, so an unknown one is reported as unchecked, never hidden.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ext_proc_server.misses.java_regex import java_fullmatch
from ext_proc_server.misses.json_matching import (
    CANNOT_TELL,
    MAX_JSON_DIFFERENCES,
    json_differences,
    json_path_verdict,
    json_pointer,
    schema_verdict,
)

# True, False, or None (cannot tell).
Verdict = bool | None

__all__ = [
    "CANNOT_TELL",
    "MAX_JSON_DIFFERENCES",
    "Verdict",
    "body_verdict",
    "json_differences",
    "json_path_verdict",
    "json_pointer",
    "matcher_name",
    "one_value",
    "split_path_pattern",
    "value_verdict",
]


def all_of(verdicts: Iterable[Verdict]) -> Verdict:
    """False if any is False, else None if any is None, else True."""
    found: Verdict = True
    for verdict in verdicts:
        if verdict is False:
            return False
        if verdict is None:
            found = None
    return found


def any_of(verdicts: Iterable[Verdict]) -> Verdict:
    """True if any is True, else None if any is None, else False."""
    found: Verdict = False
    for verdict in verdicts:
        if verdict is True:
            return True
        if verdict is None:
            found = None
    return found


def matcher_name(matcher: Any) -> str:
    """The operation of a matcher (``equalTo``, ``matchesJsonPath``, ...), for a report."""
    if isinstance(matcher, Mapping):
        for key in matcher:
            if key not in _OPTIONS:
                return str(key)
    return "an unknown matcher"


# Keys beside a matcher's operation that qualify it.
_OPTIONS = frozenset({"caseInsensitive", "ignoreExtraElements", "ignoreArrayOrder",
                      "schemaVersion", "enablePlaceholders", "placeholderOpening",
                      "placeholderClosing", "xPathNamespaces"})  # fmt: skip


def value_verdict(matcher: Any, values: Sequence[str]) -> Verdict:
    """Does a WireMock matcher of a query parameter, header, form field or host accept
    ``values`` (a missing part is [])? A single-value matcher wants one value it accepts."""
    if not isinstance(matcher, Mapping):
        return None
    if "absent" in matcher:
        return (not values) == bool(matcher["absent"])
    if "or" in matcher:
        return any_of(value_verdict(m, values) for m in matcher["or"])
    if "and" in matcher:
        return all_of(value_verdict(m, values) for m in matcher["and"])
    if "hasExactly" in matcher:
        wanted = matcher["hasExactly"]
        if len(wanted) != len(values):
            return False
        return all_of(any_of(one_value(m, v) for v in values) for m in wanted)
    if "includes" in matcher:
        if not values:
            return False
        return all_of(any_of(one_value(m, v) for v in values) for m in matcher["includes"])
    if not values:
        return False
    return any_of(one_value(matcher, value) for value in values)


def one_value(matcher: Any, value: str) -> Verdict:
    """Does a string-value matcher accept ``value``?"""
    if not isinstance(matcher, Mapping):
        return None
    if "equalTo" in matcher:
        wanted = str(matcher["equalTo"])
        if matcher.get("caseInsensitive"):
            # Java's equalsIgnoreCase folds char by char: the same as here in ASCII.
            return wanted.lower() == value.lower() if (wanted + value).isascii() else None
        return wanted == value
    if "matches" in matcher:
        return java_fullmatch(str(matcher["matches"]), value)
    if "doesNotMatch" in matcher:
        found = java_fullmatch(str(matcher["doesNotMatch"]), value)
        return None if found is None else not found
    if "contains" in matcher:
        return str(matcher["contains"]) in value
    if "doesNotContain" in matcher:
        return str(matcher["doesNotContain"]) not in value
    if "or" in matcher:
        return any_of(one_value(m, value) for m in matcher["or"])
    if "and" in matcher:
        return all_of(one_value(m, value) for m in matcher["and"])
    return None


def body_verdict(pattern: Any, text: str, body_json: Any) -> Verdict:
    """Does a body pattern accept the body ``text`` ("" when empty; ``body_json`` its
    parsed JSON, or None)? ``equalToJson`` is for :func:`json_differences`."""
    if not isinstance(pattern, Mapping):
        return None
    if "absent" in pattern:
        return (not text) == bool(pattern["absent"])
    if "matchesJsonPath" in pattern:
        return json_path_verdict(pattern["matchesJsonPath"], text, body_json, one_value)[0]
    if "matchesJsonSchema" in pattern:
        return schema_verdict(pattern["matchesJsonSchema"], text, body_json)
    if "binaryEqualTo" in pattern:
        return _binary_equal(str(pattern["binaryEqualTo"]), text)
    if "or" in pattern:
        return any_of(body_verdict(p, text, body_json) for p in pattern["or"])
    if "and" in pattern:
        return all_of(body_verdict(p, text, body_json) for p in pattern["and"])
    return one_value(pattern, text)


def _binary_equal(encoded: str, text: str) -> Verdict:
    if "\ufffd" in text:
        return None  # the body was not UTF-8: its bytes are not known here
    try:
        wanted = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return wanted == text.encode("utf-8")


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
