"""The order of a query parameter's values, where it may mean something.

``?sort=name&sort=date`` sorts by name first, ``?sort=date&sort=name`` by date; an
``?ids=2&ids=1`` may answer in the order asked. WireMock 3.13's ``hasExactly`` holds a
name to its recorded values in any order, and has no matcher for their order, so the
recording of one order answered the other. A name given two or more different values,
all stable, is held to them in the order sent by the stub's ``urlPattern`` (the raw URL
WireMock sees: a lookahead per name, each value in any of its percent-encodings), beside
its ``hasExactly``. An order other than the sorted one joins the request's key: each order
is its own stub, and every other request keeps the key it had.

A form body (``application/x-www-form-urlencoded``) has the query's syntax, and a server
reads a field's values in order alike (``ids=3&ids=1`` bound to a list, ``tags[]=x&tags[]=y``):
its fields are held the same way, by a ``matches`` body pattern beside its
``formParameters``, and an order other than sorted joins the key.
"""

from __future__ import annotations

from typing import Any

from ext_proc_server.mapping.java_regex import java_regex_escape

# Sent as they are: RFC 3986's unreserved characters.
_UNRESERVED = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~")
# Characters a query value never holds raw: they split or end it, or "+" is a space.
_NEVER_RAW = frozenset("&#+%")
# Whole parameters ("name=value&") before the next one looked for.
_SKIP = "(?:[^&]*&)*?"


def sent_order(
    raw: tuple[tuple[str, str], ...], query: tuple[tuple[str, Any], ...]
) -> tuple[tuple[str, tuple[str, ...]], ...]:
    """Each name of ``query`` (normalized, sorted) given two or more different values, all
    stable (plain strings), with its values as ``raw`` sent them, in order."""
    values_of: dict[str, list[Any]] = {}
    for name, value in query:
        values_of.setdefault(name, []).append(value)
    out: list[tuple[str, tuple[str, ...]]] = []
    for name, values in values_of.items():
        if len(values) < 2 or any(type(v) is not str for v in values) or len(set(values)) < 2:
            continue
        sent = tuple(value for key, value in raw if key == name)
        if sorted(sent) == sorted(values):
            out.append((name, sent))
    return tuple(out)


def out_of_sorted_order(order: tuple[tuple[str, tuple[str, ...]], ...]) -> list[list[Any]]:
    """The names of :func:`sent_order` whose values came in another order than sorted,
    for the request's key."""
    return [[name, list(values)] for name, values in order if list(values) != sorted(values)]


def url_pattern(path_regex: str, order: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    """A ``urlPattern``: the path as ``path_regex`` matches it, then a query holding each
    name's values in ``order``, any other parameters around and between them."""
    return f"{path_regex}\\?{_in_order(order)}.*"


def form_pattern(order: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    """A form body (``application/x-www-form-urlencoded``, a query's syntax) holding each
    name's values in ``order``, any other fields around and between them."""
    return f"(?s){_in_order(order)}.*"


def _in_order(order: tuple[tuple[str, tuple[str, ...]], ...]) -> str:
    lookaheads = []
    for name, values in order:
        encoded_name = _encoded(name)
        sequence = "&".join(f"{_SKIP}{encoded_name}={_encoded(value)}" for value in values)
        lookaheads.append(f"(?={sequence}(?:&|$))")
    return "".join(lookaheads)


def _encoded(text: str) -> str:
    """A Java regex of ``text`` as a query sends it: each character as it is or
    percent-encoded (hex in any case), a space also as "+"."""
    parts = []
    for char in text:
        if char in _UNRESERVED:
            parts.append(char)
            continue
        encoded = "".join(_percent(byte) for byte in char.encode("utf-8"))
        if char == " ":
            parts.append(f"(?:\\+|{encoded})")
        elif char in _NEVER_RAW:
            parts.append(encoded)
        else:
            parts.append(f"(?:{java_regex_escape(char)}|{encoded})")
    return "".join(parts)


def _percent(byte: int) -> str:
    return "%" + "".join(f"[{d}{d.lower()}]" if d.isalpha() else d for d in f"{byte:02X}")
