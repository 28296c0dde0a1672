"""The plain texts of a repeat key's request parts (mapping.repeats): a query, the order
of its values, a Vary'd header. Each is unambiguous: two parts that differ never give
one text."""

from __future__ import annotations

from functools import lru_cache

from ext_proc_server.core.exchange import Pairs
from ext_proc_server.mapping.noise import field_key

# Query parameter names seen (snake-cased once each, for the noise test).
_FIELD_KEY_CACHE_SIZE = 4096
_field_key = lru_cache(maxsize=_FIELD_KEY_CACHE_SIZE)(field_key)
# Characters the plain texts of a query and of Vary'd values use as separators.
_SEPARATORS = ("&", "\x00", "\x01", "\x02")


def query_text(query: Pairs, noise: frozenset[str]) -> str:
    """The query's parameters sorted, noise left out, as ``n=v`` joined by ``&``; when a
    decoded name holds ``=`` or a name or value a separator (``a%3Db=c`` is not ``a=b=c``),
    their repr instead, marked by a leading \\x02 the plain text never holds."""
    kept = [(n, v) for n, v in query if _field_key(n) not in noise]
    for name, value in kept:
        if "=" in name or any(c in name or c in value for c in _SEPARATORS):
            return "\x02" + repr(sorted(kept))
    return "&".join(sorted([f"{n}={v}" for n, v in kept]))


def order_text(query: Pairs, noise: frozenset[str]) -> str:
    """The names given more than one value in another order than sorted, with them in
    the order sent (their repr), else "": the sorted text above holds no order, the
    dedup key does (mapping.query_order)."""
    values_of: dict[str, list[str]] = {}
    for name, value in query:
        if _field_key(name) not in noise:
            values_of.setdefault(name, []).append(value)
    if len(values_of) == len(query):
        return ""  # each name once: most queries
    reordered = [(n, vs) for n, vs in values_of.items() if len(vs) > 1 and vs != sorted(vs)]
    return repr(reordered) if reordered else ""


def varied_text(name: str, values: tuple[str, ...]) -> str:
    """A Vary'd header as ``name=values`` joined by \\x01; sent once empty (not the same as
    not sent) or holding a separator: its repr instead, marked by a leading \\x02."""
    if values == ("",) or "=" in name or any(c in v for v in values for c in _SEPARATORS):
        return "\x02" + repr((name, values))
    return f"{name}={chr(1).join(values)}"
