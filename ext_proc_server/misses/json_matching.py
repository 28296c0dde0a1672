"""WireMock's JSON body matchers, as WireMock 3 evaluates them: ``equalToJson`` (JsonUnit,
with its placeholders), ``matchesJsonPath`` (the paths mockado writes) and
``matchesJsonSchema`` (the keywords mockado writes). What is not evaluated here as
WireMock does is "cannot tell" (None, or :data:`CANNOT_TELL` for a JSON pointer).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from ext_proc_server.misses.java_regex import java_fullmatch

MAX_JSON_DIFFERENCES = 10
CANNOT_TELL = "cannot tell"
_PLACEHOLDER = re.compile(r"\$\{json-unit\.([a-z-]+)\}(.*)", re.DOTALL)
# One step of a JSONPath: .name, ['name'] or [index].
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_-]*)|\['([^'\\]*)'\]|\[([0-9]+)\]")
_NOT_FOUND = object()
# The JSON Schema keywords mockado's array-length schemas use.
_SCHEMA_KEYWORDS = frozenset({"properties", "minItems", "maxItems", "prefixItems"})


def json_differences(
    expected: Any, actual: Any, pointer: str = "", *, extra_elements: bool = True
) -> list[tuple[str, str]]:
    """Where ``actual`` fails ``equalToJson`` (``extra_elements``: with
    ignoreExtraElements, which JsonUnit reads as extra fields and extra array items
    ignored): (JSON pointer, what differs or :data:`CANNOT_TELL`) pairs, at most
    ``MAX_JSON_DIFFERENCES``."""
    out: list[tuple[str, str]] = []
    _walk(expected, actual, pointer, out, extra_elements)
    return out[:MAX_JSON_DIFFERENCES]


# Long because it is JsonUnit's comparison, one JSON kind after another.
def _walk(expected: Any, actual: Any, pointer: str, out: list[tuple[str, str]],
          extra: bool) -> None:  # fmt: skip
    if len(out) >= MAX_JSON_DIFFERENCES:
        return
    where = pointer or "/"
    if isinstance(expected, str) and (placeholder := _PLACEHOLDER.fullmatch(expected)):
        verdict = _placeholder(placeholder.group(1), placeholder.group(2), actual)
        if verdict is not True:
            out.append((where, CANNOT_TELL if verdict is None else "a different value"))
        return
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            out.append((where, "not an object"))
            return
        for key, value in expected.items():
            child = f"{pointer}/{key}"
            if key not in actual:
                out.append((child, "missing"))
            else:
                _walk(value, actual[key], child, out, extra)
        if not extra and set(actual) - set(expected):
            out.append((where, "more fields"))
    elif isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) < len(expected):
            out.append((where, "a different array"))
            return
        if not extra and len(actual) != len(expected):
            out.append((where, "a different array"))
            return
        for index, want in enumerate(expected):
            _walk(want, actual[index], f"{pointer}/{index}", out, extra)
    else:
        verdict = _scalar_equal(expected, actual)
        if verdict is not True:
            out.append((where, CANNOT_TELL if verdict is None else "a different value"))


def _scalar_equal(expected: Any, actual: Any) -> bool | None:
    numbers = (int, float)
    if isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual
    if isinstance(expected, numbers) and isinstance(actual, numbers):
        return expected == actual  # by value: JsonUnit takes 2.0 for 2
    return type(expected) is type(actual) and expected == actual


def _placeholder(kind: str, rest: str, actual: Any) -> bool | None:
    if kind == "ignore" and not rest:
        return True
    if kind == "any-string" and not rest:
        return isinstance(actual, str)
    if kind == "any-number" and not rest:
        return isinstance(actual, (int, float)) and not isinstance(actual, bool)
    if kind == "any-boolean" and not rest:
        return isinstance(actual, bool)
    if kind == "regex":
        return java_fullmatch(rest, actual) if isinstance(actual, str) else False
    return None


def _equal_json(expected: Any, actual: Any, *, extra: bool) -> bool | None:
    if isinstance(expected, str):
        try:
            expected = json.loads(expected)
        except ValueError:
            return None
    found = json_differences(expected, actual, extra_elements=extra)
    if not found:
        return True
    return None if all(detail == CANNOT_TELL for _, detail in found) else False


def json_pointer(expression: str) -> str | None:
    """The JSON pointer of a JSONPath of names and indexes (``$.Entries[0].Id`` ->
    ``/Entries/0/Id``), or None for any other JSONPath."""
    if not expression.startswith("$"):
        return None
    steps, at = [], 1
    while at < len(expression):
        step = _STEP.match(expression, at)
        if step is None:
            return None
        steps.append(next(g for g in step.groups() if g is not None))
        at = step.end()
    return "".join(f"/{s}" for s in steps) or "/"


def _find(document: Any, pointer: str) -> Any:
    node = document
    for step in pointer.split("/")[1:] if pointer != "/" else []:
        if isinstance(node, dict) and step in node:
            node = node[step]
        elif isinstance(node, list) and step.isdigit() and int(step) < len(node):
            node = node[int(step)]
        else:
            return _NOT_FOUND
    return node


def json_path_verdict(
    spec: Any, text: str, body_json: Any, one_value: Callable[[Any, str], bool | None]
) -> tuple[bool | None, str]:
    """Does ``matchesJsonPath`` ``spec`` (an expression, or one with a value matcher) accept
    the body? -> (verdict, what differs). ``one_value`` evaluates a string matcher."""
    expression = spec.get("expression") if isinstance(spec, Mapping) else spec
    pointer = json_pointer(expression) if isinstance(expression, str) else None
    if pointer is None:
        return None, CANNOT_TELL
    if body_json is None:
        return (None, CANNOT_TELL) if text.lstrip()[:1] in ("{", "[") else (False, "not JSON")
    found = _find(body_json, pointer)
    if found is None:
        return None, CANNOT_TELL  # JSON null: JsonPath's null, not a missing value
    matcher = {k: v for k, v in spec.items() if k != "expression"} if spec is not expression else {}
    if "absent" in matcher:
        verdict = (found is _NOT_FOUND) == bool(matcher["absent"])
        return verdict, "present" if found is not _NOT_FOUND else "missing"
    if found is _NOT_FOUND:
        return False, "missing"
    if not matcher:
        return True, ""
    if "equalToJson" in matcher:
        verdict = _equal_json(matcher["equalToJson"], found,
                              extra=bool(matcher.get("ignoreExtraElements")))  # fmt: skip
        return verdict, "a different value" if verdict is False else CANNOT_TELL
    if not isinstance(found, str):
        return None, CANNOT_TELL  # WireMock matches a number or an object as its JSON text
    verdict = one_value(matcher, found)
    return verdict, "a different value" if verdict is False else CANNOT_TELL


def schema_verdict(schema: Any, text: str, body_json: Any) -> bool | None:
    """Does ``matchesJsonSchema`` ``schema`` accept the body? Only the keywords mockado
    writes (properties, prefixItems, minItems, maxItems) are evaluated."""
    if body_json is None:
        return None if text.lstrip()[:1] in ("{", "[") else False
    if isinstance(schema, str):
        try:
            schema = json.loads(schema)
        except ValueError:
            return None
    return _schema(schema, body_json)


def _schema(schema: Any, node: Any) -> bool | None:
    if isinstance(schema, bool):
        return schema
    if not isinstance(schema, Mapping) or set(schema) - _SCHEMA_KEYWORDS:
        return None
    if isinstance(node, list):
        if len(node) < schema.get("minItems", 0) or len(node) > schema.get("maxItems", len(node)):
            return False
        pairs = list(zip(schema.get("prefixItems", []), node, strict=False))
    elif isinstance(node, dict):
        props = schema.get("properties", {})
        pairs = [(sub, node[key]) for key, sub in props.items() if key in node]
    else:
        return True
    verdicts = [_schema(sub, child) for sub, child in pairs]
    if False in verdicts:
        return False
    return None if None in verdicts else True
