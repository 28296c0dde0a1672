"""Values percent-encoded more than once (``?nome=Maria%2520Souza``; a ``redirect_uri``
whose own query was encoded before it was): each layer decoded, at most
:data:`MAX_LAYERS`, the innermost read, and a value that changed encoded again to the
depth it came in, leaving unencoded what each layer left so. A value nothing changed
in comes back as it was, byte for byte.
"""

from __future__ import annotations

import re
from urllib.parse import quote, quote_plus, unquote_plus

MAX_LAYERS = 3
# An escaped "%" followed by two hex digits: what decodes to an escape.
_ESCAPED_ESCAPE = re.compile(r"%25[0-9A-Fa-f]{2}")
# Characters a layer may leave unencoded in a value ("&" never: it ends the value; "+"
# is a space, written back by quote_plus).
_MAY_STAY = frozenset("!$'()*,/:;=?@~")


def peeled(raw: str) -> str | None:
    """``raw`` decoded once, when what it decodes to is still percent-encoded (an
    escaped escape, ``%2520``); None otherwise (most values: one C search)."""
    if "%25" not in raw or _ESCAPED_ESCAPE.search(raw) is None:
        return None
    try:
        return unquote_plus(raw, errors="strict")
    except UnicodeDecodeError:
        return None


def wrapped(raw: str, fresh: str) -> str:
    """``fresh`` (a sanitized inner layer) encoded again as ``raw`` encoded it."""
    safe = "".join(sorted(_MAY_STAY.intersection(raw)))
    return quote_plus(fresh, safe=safe) if "+" in raw else quote(fresh, safe=safe)


def peeled_all(raw: str) -> tuple[str, int]:
    """``raw`` decoded once, then again while it is still percent-encoded (at most
    :data:`MAX_LAYERS`), and the number of layers beyond the first."""
    value, layers = raw, 0
    while layers < MAX_LAYERS and (inner := peeled(value)) is not None:
        value, layers = inner, layers + 1
    return unquote_plus(value), layers


def wrapped_again(fresh: str, layers: int) -> str:
    """``fresh``, encoded once already, encoded ``layers`` times more."""
    for _ in range(layers):
        fresh = quote(fresh, safe="")
    return fresh
