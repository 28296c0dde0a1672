"""Nuxt 3's page state (``<script type="application/json" id="__NUXT_DATA__">``), written
by devalue: one flat JSON array whose objects hold the indexes of their values,
``[["ShallowReactive",1],{"data":2},{"cliente":3},{"nome":4},"Maria Souza"]``. Read as
a JSON document, its keys name numbers (which the field rules would replace, breaking
the page) and its strings sit under no key. Here each string is read as the field of the
key that points at it, in the place its parents' keys make, and replaced in place; the
indexes stay.
"""

from __future__ import annotations

import json

from ext_proc_server.sanitize import fields, key_lines
from ext_proc_server.sanitize.run import Run, is_token, quoted_json

# devalue's wrappers of a reactive value: ["ShallowReactive", 1], ["Reactive", 1]...
_WRAPPERS = frozenset({"ShallowReactive", "Reactive", "Ref", "ShallowRef", "EmptyRef"})
_OPENINGS = tuple(f'[["{w}",' for w in _WRAPPERS)
_DECODER = json.JSONDecoder()
_MAX_ELEMENTS = 100_000


def is_payload(text: str) -> bool:
    """Whether a JSON script's text is a devalue payload (Nuxt 3 opens with a wrapper)."""
    return text.lstrip().startswith(_OPENINGS)


def sanitize_payload(run: Run, text: str) -> str | None:
    """The payload with each string its key names replaced, or None if it is not one."""
    elements = _elements(text)
    if elements is None:
        return None
    paths = _paths([value for value, _, _ in elements])
    siblings: dict[tuple[str, ...], set[str]] = {}
    for path in paths.values():
        siblings.setdefault(path[:-1], set()).add(path[-1])
    rules = run.scanner.field_rules
    edits = []
    for index, path in paths.items():
        value, start, end = elements[index]
        if not isinstance(value, str) or not value.strip() or is_token(value):
            continue
        place = key_lines.place_of(path[:-1], siblings)
        cls = fields.field_verdict(rules, place, path[-1], list(path[:-1]))
        if cls is None or (type(cls) is fields.Verdict and not fields.value_fits(cls, value)):
            continue
        edits.append((start, end, quoted_json(run.replace(fields.resolved(cls), value))))
    if not edits:
        return run.scrub(text)  # every detector, on what no key names
    out = []
    last = 0
    for start, end, replacement in sorted(edits):
        out += (text[last:start], replacement)
        last = end
    return run.scrub("".join([*out, text[last:]]))


def _elements(text: str) -> list[tuple[object, int, int]] | None:
    """The top-level array's elements with their spans, or None."""
    pos = text.find("[")
    if pos < 0:
        return None
    pos += 1
    out: list[tuple[object, int, int]] = []
    try:
        while len(out) < _MAX_ELEMENTS:
            while pos < len(text) and text[pos] in " \t\r\n,":
                pos += 1
            if pos >= len(text):
                return None
            if text[pos] == "]":
                return out
            value, end = _DECODER.raw_decode(text, pos)
            out.append((value, pos, end))
            pos = end
    except ValueError:
        return None
    return None


def _paths(values: list[object]) -> dict[int, tuple[str, ...]]:
    """For each element an object's key points at, the keys down to it from the root
    (a list's items keep their list's key; a wrapper passes its parent's on)."""
    paths: dict[int, tuple[str, ...]] = {}
    pending: list[tuple[int, tuple[str, ...]]] = [(0, ())]
    seen = set()
    while pending:
        index, path = pending.pop()
        if index in seen or not 0 <= index < len(values):
            continue
        seen.add(index)
        value = values[index]
        if isinstance(value, dict):
            for key, child in value.items():
                if type(child) is int:
                    pending.append((child, (*path, key)))
                    paths.setdefault(child, (*path, key))
        elif isinstance(value, list):
            items = value[1:] if value and value[0] in _WRAPPERS else value
            for child in items:
                if type(child) is int:
                    pending.append((child, path))
                    if path:
                        paths.setdefault(child, path)
    return paths
