"""Whether a typed entry is a name/value pair (``{"name": "nome", "value": ...}``):
its type member is a pair's name (typed_entries), so a name it names is no doubt."""

from __future__ import annotations

import functools

from ext_proc_server.sanitize.fields import key_words, typed_pair
from ext_proc_server.sanitize.typed_entries import is_pair_name


@functools.lru_cache(maxsize=4096)
def is_pair(keys: tuple[str, ...]) -> bool:
    """Whether the entry with these keys is a name/value pair."""
    found = typed_pair(keys)
    return found is not None and is_pair_name("".join(key_words(keys[found[0]])))
