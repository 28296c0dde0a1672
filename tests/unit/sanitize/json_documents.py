"""JSON documents the sanitizer's property tests build and write out themselves, so that
repeated keys and number spellings json.dumps never produces can be tested."""

from __future__ import annotations

import json
from collections.abc import Callable


class Raw(str):
    """A leaf written as is: number spellings json.dumps never produces."""


class Obj(list):
    """An object as (key, value) pairs: repeated keys allowed."""


def json_key(key: str, ascii_only: bool) -> str:
    return json.dumps(key, ensure_ascii=ascii_only)


def render(
    value: object,
    separators: tuple[str, str],
    ascii_only: bool,
    *,
    write_key: Callable[[str, bool], str] = json_key,
    leaf: Callable[[object], object] = lambda value: value,
) -> str:
    """The document's text; ``leaf`` turns a test's own wrapper into the value written."""
    item, colon = separators
    value = leaf(value)
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, Obj | list):
        parts = [
            (write_key(k, ascii_only) + colon if isinstance(value, Obj) else "")
            + render(v, separators, ascii_only, write_key=write_key, leaf=leaf)
            for k, v in (value if isinstance(value, Obj) else ((None, v) for v in value))
        ]
        opening, closing = "{}" if isinstance(value, Obj) else "[]"
        return opening + item.join(parts) + closing
    return json.dumps(value, ensure_ascii=ascii_only)
