"""A recorded ``Set-Cookie``'s lifetime, kept when its stub answers later.

``Expires`` names a moment: a session cookie recorded with ``Expires`` an hour after the
answer is, replayed the next day, already expired, and a client's cookie jar drops it (a
browser, Python's, Java's, Go's, OkHttp): the canary that logged in against the mock is
logged out on its next call. The stub's cookie gets ``Max-Age``, the seconds from the
answer to ``Expires`` on the upstream's own clock (its ``Date``, else the capture's), which
every client prefers to ``Expires`` (RFC 6265 5.3 step 3). A cookie already past its
``Expires`` (a logout clearing it) gets ``Max-Age=0``: still removed. One with a
``Max-Age`` of its own, without an ``Expires``, or with a date no client reads, is served
as recorded.
"""

from __future__ import annotations

import math
from http.cookiejar import http2time

_MAX_AGE = "max-age"
_EXPIRES = "expires"


def answered_at_s(date: str | None, captured_at_s: float) -> float | None:
    """When the upstream answered, on its clock: its ``Date``, else ``captured_at_s``;
    None when neither is known."""
    if date:
        parsed = http2time(date.strip())
        if parsed is not None:
            return float(parsed)
    return captured_at_s if captured_at_s > 0 else None


def with_lifetime(value: str, answered_s: float | None) -> str:
    """``value`` (a Set-Cookie) with ``Max-Age`` for its ``Expires``, seen from
    ``answered_s`` (:func:`answered_at_s`); as it is when there is nothing to carry."""
    _pair, sep, attributes = value.partition(";")
    if not sep or answered_s is None:
        return value
    expires_s = None
    for attribute in attributes.split(";"):
        name, _, attribute_value = attribute.partition("=")
        name = name.strip().lower()
        if name == _MAX_AGE:
            return value
        if name == _EXPIRES and expires_s is None:
            expires_s = http2time(attribute_value.strip())
    if expires_s is None:
        return value
    max_age = max(0, math.floor(expires_s - answered_s))
    return f"{value.rstrip().rstrip(';')}; Max-Age={max_age}"
