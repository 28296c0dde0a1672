"""Moments a credential or a rate limit names, served relative to the moment of the replay.

A stub answers for days; a moment written in it passes. The ones a client acts on:

* ``<Expiration>`` of an STS answer with credentials (``AssumeRole``,
  ``AssumeRoleWithWebIdentity``, ``GetSessionToken``...): replayed after it, botocore gets
  credentials already expired, refreshes, gets them again and fails ("refreshed credentials
  are still expired"), so every pod using an assumed role against the mock breaks.
* ``"Expiration"`` of container or instance credentials in JSON (``AccessKeyId`` beside it).
* ``"expires_at"`` / ``"expires_on"`` of an OAuth token answer (``access_token`` beside it),
  epoch seconds as a number or a string (Azure's IMDS), or an ISO 8601 moment.
* ``X-RateLimit-Reset`` as epoch seconds (GitHub's): a client sleeping until the reset waits
  as long as the upstream had it wait, not a negative or a day-long time.

Each is served as WireMock's ``now`` plus the seconds it was after the answer (its ``Date``,
else the capture's time: ``moments.answered_at_s``), in the recorded form and width, so the
body keeps its length. Only a moment after the answer and at most ``MAX_AHEAD_S`` later is
served so: an expired one stays expired, and anything else is served as recorded. The stub is
then templated, so every other ``{{`` of its body and headers is written as a template that
gives ``{{`` back: the rest is served byte for byte. A body whose digest is in its headers is
served as recorded (the digest would no longer describe it).
"""

from __future__ import annotations

import calendar
import math
import re
from typing import Any

from ext_proc_server.mapping.moments import answered_at_s

TEMPLATE_TRANSFORMER = "response-template"
# A moment further after the answer than this is not a credential's lifetime (STS gives at
# most 36 hours, OAuth tokens hours, a rate-limit window an hour).
MAX_AHEAD_S = 7 * 86_400
# "{{" and "}" as WireMock's Handlebars renders them back: as string literals. Around
# "{{", what the lexer would read with it goes in the literal too: the "{" and backslashes
# before it (a "{" makes "{{{{", a raw block; a backslash escapes a mustache after
# another), and a "}" after a mustache (read as part of its end, "}}}").
_LITERAL_CLOSE = "{{{trim '}'}}}"
_OPENS = re.compile(r"([{\\]*\{\{)(\}*)")
_RATE_LIMIT_RESET = "x-ratelimit-reset"

_ISO = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:Z|\+00:00)"
_EPOCH = r"(?<!\d)\d{10}(?![\d.eE])"
_ISO_PARTS = re.compile(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(Z|\+00:00)")
# (the field's value, the text that says the body is a credential or a token answer)
_FIELDS = (
    (re.compile(rf"<Expiration>({_ISO})</Expiration>"), "<AccessKeyId>"),
    (re.compile(rf'"Expiration"\s*:\s*"?({_ISO}|{_EPOCH})'), '"AccessKeyId"'),
    (re.compile(rf'"(?:expires_at|expires_on)"\s*:\s*"?({_ISO}|{_EPOCH})'), '"access_token"'),
)


def _opened(found: re.Match[str]) -> str:
    return f"{{{{{{trim '{found.group(1)}'}}}}}}" + _LITERAL_CLOSE * len(found.group(2))


def literal(text: str, *, after_mustache: bool = False) -> str:
    """``text`` as a template WireMock renders back to ``text``; ``after_mustache``: it
    follows one (its leading "}" are written as mustaches too)."""
    if after_mustache:
        rest = text.lstrip("}")
        return _LITERAL_CLOSE * (len(text) - len(rest)) + literal(rest)
    return _OPENS.sub(_opened, text) if "{{" in text else text


def _offset_s(moment_s: float, answered_s: float) -> int | None:
    offset = math.floor(moment_s - answered_s)
    return offset if 0 < offset <= MAX_AHEAD_S else None


def _now(offset_s: int, form: str) -> str:
    return f"{{{{now offset='{offset_s} seconds' timezone='UTC' format={form}}}}}"


def moment_from_now(value: str, answered_s: float) -> str | None:
    """The template serving ``value`` (ISO 8601 in UTC, or 10-digit epoch seconds) as the
    same time after the replay as it was after ``answered_s``, at the same width; None when
    it is not such a moment, or not one ``MAX_AHEAD_S`` after the answer."""
    if value.isdigit():
        offset = _offset_s(int(value), answered_s) if len(value) == 10 else None
        return None if offset is None else _now(offset, "'unix'")
    parts = _ISO_PARTS.fullmatch(value)
    if parts is None:
        return None
    fraction, zone = parts.group(7) or "", parts.group(8)
    if len(fraction) % 3:
        return None  # WireMock writes milliseconds: 3, 6 or 9 digits keep the width
    try:
        moment = calendar.timegm(tuple(int(parts.group(i)) for i in range(1, 7)))
    except ValueError:
        return None
    offset = _offset_s(moment, answered_s)
    if offset is None:
        return None
    # Digits past the milliseconds and the zone, as one quoted literal.
    form = "yyyy-MM-dd'T'HH:mm:ss" + (".SSS" if fraction else "")
    suffix = "000" * max(0, len(fraction) // 3 - 1) + zone
    return _now(offset, f"\"{form}'{suffix}'\"")


def body_from_now(text: str, answered_s: float) -> str | None:
    """``text`` as a template with each expiry moment (``_FIELDS``) from now and the rest
    literal; None when it names none."""
    spans: list[tuple[int, int, str]] = []
    for pattern, beside in _FIELDS:
        if beside not in text:
            continue
        for found in pattern.finditer(text):
            template = moment_from_now(found.group(1), answered_s)
            if template is not None:
                spans.append((found.start(1), found.end(1), template))
    if not spans:
        return None
    out, at = [], 0
    for start, end, template in sorted(spans):
        if start < at:
            continue
        out += (literal(text[at:start], after_mustache=at > 0), template)
        at = end
    out.append(literal(text[at:], after_mustache=True))
    return "".join(out)


def served_from_now(
    definition: dict[str, Any], *, date: str | None, captured_at_s: float, digested: bool
) -> dict[str, Any]:
    """A stub's ``response`` (``stubs.response_definition``) with its expiry moments served
    from now (a copy), or ``definition`` itself when it names none. ``date``: the upstream's
    ``Date``; ``digested``: the body's digest is in a header."""
    headers = definition.get("headers") or {}
    reset = next((n for n in headers if n.lower() == _RATE_LIMIT_RESET), None)
    body = definition.get("body")
    if reset is None and (body is None or digested):
        return definition
    if "base64Body" in definition:
        return definition
    answered_s = answered_at_s(date, captured_at_s)
    if answered_s is None:
        return definition
    templated_body = body_from_now(body, answered_s) if body and not digested else None
    reset_value = headers.get(reset) if reset else None
    templated_reset = (
        moment_from_now(reset_value.strip(), answered_s) if isinstance(reset_value, str) else None
    )
    if templated_body is None and templated_reset is None:
        return definition
    given = {reset: templated_reset} if reset and templated_reset is not None else {}
    return templated(definition, headers=given, body=templated_body)


def templated(
    definition: dict[str, Any], *, headers: dict[str, str], body: str | None = None
) -> dict[str, Any]:
    """A stub's ``response`` as a WireMock template (a copy): the header values in
    ``headers`` and ``body`` (when given) as they are, every other header value and the
    body as literals that render back to themselves. A ``base64Body`` is never templated."""
    served = dict(definition)
    recorded = definition.get("headers") or {}
    if recorded or headers:
        served["headers"] = {
            name: [literal(v) for v in value] if isinstance(value, list) else literal(value)
            for name, value in recorded.items()
        }
        served["headers"].update(headers)
    text = definition.get("body")
    if text is not None:
        served["body"] = body if body is not None else literal(text)
    served["transformers"] = [TEMPLATE_TRANSFORMER]
    return served
