"""Where a rewrite of the values a body encodes (base64 JSON or text) changed it.

Those rewrites run over a body's text once its format was read, so they cannot say
which field they changed. A matcher needs the field: a JSON string or form value
replaced inside its base64 is then any value of that field, and the rest of the body
is matched as it came. Comparing the two readings gives the fields; when the body is
no JSON or form, or its shape changed, the whole body is the place.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from ext_proc_server.sanitize.json_body import json_pointer

_FORM = "application/x-www-form-urlencoded"


def changed_places(before: str, after: str, *, content_type: str, where: str) -> set[str]:
    """The redaction locations of what differs between ``before`` and ``after``:
    ``<where>.json:<pointer>`` per JSON string, ``<where>.form.<name>`` per form field,
    else ``{where}``."""
    if before == after:
        return set()
    places: set[str] | None = None
    if content_type == _FORM:
        places = _form_places(before, after, where)
    elif before.lstrip()[:1] in ("{", "["):
        try:
            old, new = json.loads(before), json.loads(after)
        except ValueError:
            places = None
        else:
            found: set[str] = set()
            places = found if _json_places(old, new, [], found, where) else None
    return places if places else {where}


def _json_places(old: Any, new: Any, path: list[str | int], out: set[str], where: str) -> bool:
    """Adds each changed string's place to ``out``; False when the shape differs."""
    if isinstance(old, dict) and isinstance(new, dict):
        if list(old) != list(new):
            return False
        return all(_json_places(old[k], new[k], [*path, k], out, where) for k in old)
    if isinstance(old, list) and isinstance(new, list):
        if len(old) != len(new):
            return False
        pairs = zip(old, new, strict=True)
        return all(_json_places(a, b, [*path, i], out, where) for i, (a, b) in enumerate(pairs))
    if isinstance(old, str) and isinstance(new, str):
        if old != new:
            out.add(f"{where}.json:{json_pointer(path)}")
        return True
    return old == new


def _form_places(before: str, after: str, where: str) -> set[str] | None:
    old = parse_qsl(before, keep_blank_values=True)
    new = parse_qsl(after, keep_blank_values=True)
    if [name for name, _ in old] != [name for name, _ in new]:
        return None
    return {f"{where}.form.{name}" for (name, a), (_, b) in zip(old, new, strict=True) if a != b}
