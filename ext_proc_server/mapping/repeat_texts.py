"""The plain texts of a repeat key's request parts (mapping.repeats): a query, the order
of its values, a Vary'd header, the headers that choose a stub as sent. Each is
unambiguous: two parts that differ never give one text."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from ext_proc_server.core.exchange import Pairs
from ext_proc_server.mapping.answer_choices import ACCEPT_LANGUAGE_HEADER, LAST_EVENT_ID_HEADER
from ext_proc_server.mapping.chosen_by import OPERATION_HEADERS, SCOPE_HEADERS
from ext_proc_server.mapping.noise import field_key

# Query parameter names seen (snake-cased once each, for the noise test).
_FIELD_KEY_CACHE_SIZE = 4096
_field_key = lru_cache(maxsize=_FIELD_KEY_CACHE_SIZE)(field_key)
# Characters the plain texts of a query and of Vary'd values use as separators.
_SEPARATORS = ("&", "\x00", "\x01", "\x02")
# Request headers that choose a stub as sent, keyed each when sent (chosen_values): the
# operation, account and API version (mapping.chosen_by), and what an answer shows it was
# chosen by (mapping.answer_choices). Accept-Language only to an answer stating its
# Content-Language (browsers send it with every call); Last-Event-ID whenever sent (only
# an event stream's reconnection sends it; an event stream named on a second
# Content-Type line chooses by it too).
CHOSEN_HEADERS = OPERATION_HEADERS | SCOPE_HEADERS | {ACCEPT_LANGUAGE_HEADER, LAST_EVENT_ID_HEADER}
# Values of a header sent more than once, joined as the stream joins them (header_fields).
CHOSEN_JOINER = "\x00"
CONTENT_LANGUAGE_HEADER = "content-language"
CONTENT_LANGUAGE_JOINER = ","
_CONTENT_LANGUAGE = frozenset({CONTENT_LANGUAGE_HEADER})
# The request headers of a key as (name, values joined), sorted by name; (): none sent.
Chosen = tuple[tuple[str, str], ...]


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


def chosen_values(fields: Mapping[str, str], content_language: str | None) -> Chosen:
    """The :data:`CHOSEN_HEADERS` in ``fields`` (lower-cased names; the values of one sent
    more than once joined by :data:`CHOSEN_JOINER`), sorted by name; ``Accept-Language``
    only when the response's ``Content-Language`` (its lines joined by
    :data:`CONTENT_LANGUAGE_JOINER`) states a language, as mapping.answer_choices reads
    it."""
    if fields.keys().isdisjoint(CHOSEN_HEADERS):
        return ()  # most requests
    stated = content_language is not None and content_language.strip()
    return tuple(
        sorted(
            (name, value)
            for name, value in fields.items()
            if name in CHOSEN_HEADERS and (stated or name != ACCEPT_LANGUAGE_HEADER)
        )
    )


def chosen_of(request_headers: Pairs, response_headers: Pairs) -> Chosen:
    """:func:`chosen_values` of an exchange's headers, joined as the stream joins them."""
    languages = _joined(response_headers, _CONTENT_LANGUAGE, CONTENT_LANGUAGE_JOINER)
    return chosen_values(
        _joined(request_headers, CHOSEN_HEADERS, CHOSEN_JOINER),
        languages.get(CONTENT_LANGUAGE_HEADER),
    )


def chosen_text(chosen: Chosen) -> str:
    """The chosen headers as ``\\x00name\\x00repr(value)`` each: names of a fixed set,
    values as sent."""
    return "".join(f"\x00{name}\x00{value!r}" for name, value in chosen)


def _joined(headers: Pairs, names: frozenset[str], joiner: str) -> dict[str, str]:
    """The values of each of ``names`` in ``headers``, joined in the order sent."""
    found: dict[str, list[str]] = {}
    for name, value in headers:
        lower = name.lower()
        if lower in names:
            found.setdefault(lower, []).append(value)
    return {name: joiner.join(values) for name, values in found.items()}
