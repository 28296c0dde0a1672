"""How an expiry moment is written in an answer, and the WireMock template that writes the
same form, as long after the replay as the moment was after the answer.

Each form is served at its recorded width (the body keeps its length and its
``content-length``):

* ISO 8601 in UTC with 0, 3, 6 or 9 fraction digits (STS ``<Expiration>``, container
  credentials, OAuth ``expires_at``).
* Epoch seconds, 10 digits (Azure's IMDS ``expires_on``, ``X-RateLimit-Reset``).
* Epoch seconds as a float: ``1.765012345E9`` as a JVM writes a double (Cognito's
  ``GetCredentialsForIdentity``; botocore reads any JSON number), ``1.765012345e+09``,
  ``1765012345.5``. The digits are the replay's epoch milliseconds cut to the recorded
  count; a JVM drops trailing zeros, so fewer digits than seconds are rounded up, and
  only when that adds less than the lifetime itself.
* ``MM/dd/yyyy HH:mm:ss +00:00``: App Service's and Functions' managed identity
  (``api-version=2017-09-01`` on Linux; azure-identity parses it with
  ``%m/%d/%Y %H:%M:%S``). The Windows form (``1/16/2020 5:24:12 AM +00:00``) changes
  width with the date and is served as recorded.

A moment at most ``MAX_AHEAD_S`` after the answer is served from now; an expired one,
or any other text, is not.
"""

from __future__ import annotations

import calendar
import math
import re

# A moment further after the answer than this is not a credential's lifetime (STS gives at
# most 36 hours, OAuth tokens hours, a rate-limit window an hour).
MAX_AHEAD_S = 7 * 86_400

ISO = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|\+00:00)"
EPOCH = r"(?<![\d.])\d{10}(?![\d.eE])"
FLOAT_EPOCH = r"(?<![\d.])\d{1,10}\.\d+(?:[eE]\+?0?9)?(?![\d.eE])"
APP_SERVICE = r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2} \+00:00"
# Any of them, as a regex alternation (the forms a JSON credential or token field takes).
MOMENT = f"{ISO}|{APP_SERVICE}|{FLOAT_EPOCH}|{EPOCH}"

_ISO_PARTS = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|\+00:00)")
_APP_SERVICE_PARTS = re.compile(r"(\d{2})/(\d{2})/(\d{4}) (\d{2}):(\d{2}):(\d{2}) \+00:00")
_FLOAT_PARTS = re.compile(r"(\d+)\.(\d+)([eE]\+?0?9)?")
# WireMock's "epoch" format: milliseconds, 13 digits until the year 2286.
_EPOCH_MS_DIGITS = 13
# The template variable the digits of a float moment are read into.
_DIGITS = "moment"


def _offset_s(moment_s: float, answered_s: float) -> int | None:
    offset = math.floor(moment_s - answered_s)
    return offset if 0 < offset <= MAX_AHEAD_S else None


def _now(offset_s: int, form: str) -> str:
    return f"{{{{now offset='{offset_s} seconds' timezone='UTC' format={form}}}}}"


def _utc_s(year: int, month: int, day: int, hour: int, minute: int, second: int) -> int | None:
    try:
        return calendar.timegm((year, month, day, hour, minute, second))
    except ValueError:
        return None


def _iso(value: str, answered_s: float) -> str | None:
    parts = _ISO_PARTS.fullmatch(value)
    if parts is None:
        return None
    fraction, zone = parts.group(7) or "", parts.group(8)
    if len(fraction) % 3:
        return None  # WireMock writes milliseconds: 3, 6 or 9 digits keep the width
    moment = _utc_s(*(int(parts.group(i)) for i in range(1, 7)))
    offset = None if moment is None else _offset_s(moment, answered_s)
    if offset is None:
        return None
    # Digits past the milliseconds and the zone, as one quoted literal.
    form = "yyyy-MM-dd'T'HH:mm:ss" + (".SSS" if fraction else "")
    suffix = "000" * max(0, len(fraction) // 3 - 1) + zone
    return _now(offset, f"\"{form}'{suffix}'\"")


def _app_service(value: str, answered_s: float) -> str | None:
    parts = _APP_SERVICE_PARTS.fullmatch(value)
    if parts is None:
        return None
    month, day, year, hour, minute, second = (int(parts.group(i)) for i in range(1, 7))
    moment = _utc_s(year, month, day, hour, minute, second)
    offset = None if moment is None else _offset_s(moment, answered_s)
    return None if offset is None else _now(offset, "\"MM/dd/yyyy HH:mm:ss' +00:00'\"")


def _float_epoch(value: str, answered_s: float) -> str | None:
    parts = _FLOAT_PARTS.fullmatch(value)
    if parts is None:
        return None
    whole, fraction, exponent = parts.group(1), parts.group(2), parts.group(3) or ""
    if len(whole) + (9 if exponent else 0) != 10 or whole[0] == "0":
        return None  # not epoch seconds of this era
    offset = _offset_s(float(value), answered_s)
    if offset is None:
        return None
    written = len(whole) + len(fraction)
    # The seconds the last written digit counts: rounded up to it, the served moment is
    # never sooner than the recorded lifetime, and at most one unit later.
    unit_s = 10 ** max(0, 10 - written)
    if unit_s > offset:
        return None
    kept = min(written, _EPOCH_MS_DIGITS)
    digits = f"'^(\\d{{{len(whole)}}})(\\d{{{kept - len(whole)}}})' '{_DIGITS}'"
    now = f"now offset='{offset + unit_s - 1} seconds' format='epoch'"
    return (
        f"{{{{regexExtract ({now}) {digits}}}}}{{{{{_DIGITS}.0}}}}.{{{{{_DIGITS}.1}}}}"
        + "0" * (written - kept)
        + exponent
    )


def moment_from_now(value: str, answered_s: float) -> str | None:
    """The template serving ``value`` (a form above) as the same time after the replay as
    it was after ``answered_s``, at the same width; None when it is not such a moment, or
    not one ``MAX_AHEAD_S`` after the answer."""
    if value.isdigit():
        offset = _offset_s(int(value), answered_s) if len(value) == 10 else None
        return None if offset is None else _now(offset, "'unix'")
    if "/" in value:
        return _app_service(value, answered_s)
    if "T" in value:
        return _iso(value, answered_s)
    return _float_epoch(value, answered_s)
