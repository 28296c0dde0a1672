"""A person's name kept in parts (``first_name``, ``middle_name``, ``last_name``) that a
body also writes whole: Plaid's identity answer holds an owner's ``"names": ["Alberta
Bobbeth Charleson"]`` beside the user's ``"first_name": "Alberta"``. The parts, joined
in reading order (with and without the middle one), are names the exchange replaced, so
``echoed_names`` replaces them where a body repeats them as whole words."""

from __future__ import annotations

from collections.abc import Iterable

from ext_proc_server.sanitize.fields import NAME, key_words
from ext_proc_server.sanitize.run import Run

# A key's first word, and the place of the part it names in a written name.
_PART_ORDER = {
    "first": 0,
    "given": 0,
    "fore": 0,
    "forename": 0,
    "middle": 1,
    "last": 2,
    "family": 2,
    "sur": 2,
    "surname": 2,
}


def note_whole_names(
    run: Run, members: Iterable[tuple[str, object]], verdicts: Iterable[str | None]
) -> None:
    """Add to ``run.names_seen`` the whole names an object's name parts make (a first
    and a last part at least)."""
    parts: dict[int, str] = {}
    for (key, value), cls in zip(members, verdicts, strict=True):
        if cls != NAME or type(value) is not str or not value.strip():
            continue
        words = key_words(key)
        order = _PART_ORDER.get(words[0]) if words else None
        if order is not None and order not in parts:
            parts[order] = value.strip()
    if 0 not in parts or 2 not in parts:
        return
    run.names_seen.add(f"{parts[0]} {parts[2]}")
    if 1 in parts:
        run.names_seen.add(f"{parts[0]} {parts[1]} {parts[2]}")
