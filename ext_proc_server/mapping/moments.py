"""Moments a recorded response names in its headers, served as the durations they were
from the answer: a stub answers for days after the capture.

* ``Set-Cookie`` with ``Expires``: a session cookie recorded with ``Expires`` an hour
  after the answer is, replayed the next day, already expired, and a client's cookie jar
  drops it (a browser, Python's, Java's, Go's, OkHttp): the canary that logged in against
  the mock is logged out on its next call. The cookie gets ``Max-Age``, the seconds from
  the answer to ``Expires``, which every client prefers to ``Expires`` (RFC 6265 5.3
  step 3). One already past its ``Expires`` (a logout clearing it) gets ``Max-Age=0``:
  still removed. One with a ``Max-Age`` of its own is served as recorded.
* ``Retry-After`` as a date (a 503 or 429 saying when to come back): replayed later, the
  date has passed and a client retries at once, where the upstream had it wait. It is
  served as the seconds it was from the answer (RFC 9110 10.2.3 allows either form).

"The answer" is the upstream's ``Date`` (the moments are on its clock), else the capture's
time. A date no client reads is served as recorded.
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


def _seconds_until(date: str, answered_s: float) -> int | None:
    moment = http2time(date.strip())
    return None if moment is None else max(0, math.floor(moment - answered_s))


def with_lifetime(value: str, answered_s: float | None) -> str:
    """``value`` (a Set-Cookie) with ``Max-Age`` for its ``Expires``, seen from
    ``answered_s`` (:func:`answered_at_s`); as it is when there is nothing to carry."""
    _pair, sep, attributes = value.partition(";")
    if not sep or answered_s is None:
        return value
    max_age = None
    for attribute in attributes.split(";"):
        name, _, attribute_value = attribute.partition("=")
        name = name.strip().lower()
        if name == _MAX_AGE:
            return value
        if name == _EXPIRES and max_age is None:
            max_age = _seconds_until(attribute_value, answered_s)
    if max_age is None:
        return value
    return f"{value.rstrip().rstrip(';')}; Max-Age={max_age}"


def retry_delay(value: str, answered_s: float | None) -> str:
    """``value`` (a Retry-After) as seconds from ``answered_s`` when it is a date; as it
    is otherwise (already seconds, or nothing a client reads)."""
    if answered_s is None or value.strip().isdigit():
        return value
    seconds = _seconds_until(value, answered_s)
    return value if seconds is None else str(seconds)
