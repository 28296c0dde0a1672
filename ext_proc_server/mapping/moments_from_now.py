"""Moments a credential or a rate limit names, served relative to the moment of the replay.

A stub answers for days; a moment written in it passes. The ones a client acts on:

* ``<Expiration>`` of an STS answer with credentials (``AssumeRole``,
  ``AssumeRoleWithWebIdentity``, ``GetSessionToken``...): replayed after it, botocore gets
  credentials already expired, refreshes, gets them again and fails ("refreshed credentials
  are still expired"), so every pod using an assumed role against the mock breaks.
* ``"Expiration"`` of container, instance or Cognito credentials in JSON (``AccessKeyId``
  beside it).
* ``"expires_at"`` / ``"expires_on"`` of an OAuth token answer (``access_token`` beside it):
  Azure's IMDS, App Service's managed identity.
* ``X-RateLimit-Reset`` as epoch seconds (GitHub's): a client sleeping until the reset waits
  as long as the upstream had it wait, not a negative or a day-long time.

Each is served as WireMock's ``now`` plus the seconds it was after the answer (its ``Date``,
else the capture's time: ``moments.answered_at_s``), in the recorded form and width
(``moment_forms``), so the body keeps its length. An expired one stays expired, and anything
else is served as recorded. The stub is then templated, so every other ``{{`` of its body and
headers is written as a template that gives ``{{`` back: the rest is served byte for byte.
A digest of the body in a header would no longer describe it: a body whose digests are all
ones clients check only when present is served from now without them, any other as recorded
(``collector_moments_as_recorded_total``).
"""

from __future__ import annotations

import re
from collections.abc import Collection
from typing import Any

from ext_proc_server.core.metrics import COLLECTOR_MOMENTS_AS_RECORDED
from ext_proc_server.mapping.digests import is_digest
from ext_proc_server.mapping.moment_forms import ISO, MOMENT, moment_from_now
from ext_proc_server.mapping.moments import answered_at_s

TEMPLATE_TRANSFORMER = "response-template"
# "{{" and "}" as WireMock's Handlebars renders them back: as string literals. Around
# "{{", what the lexer would read with it goes in the literal too: the "{" and backslashes
# before it (a "{" makes "{{{{", a raw block; a backslash escapes a mustache after
# another), and a "}" after a mustache (read as part of its end, "}}}").
_LITERAL_CLOSE = "{{{trim '}'}}}"
_OPENS = re.compile(r"([{\\]*\{\{)(\}*)")
_RATE_LIMIT_RESET = "x-ratelimit-reset"
# Digests a client checks only when the answer has them: DynamoDB's CRC-32 (botocore's
# retryhandler.CRC32Checker skips the check without the header, as the Go and Java SDKs
# do). Served without it, a body with a moment from now is still accepted.
_OPTIONAL_DIGESTS = frozenset({"x-amz-crc32"})

# (the field's value, the text that says the body is a credential or a token answer)
_FIELDS = (
    (re.compile(rf"<Expiration>({ISO})</Expiration>"), "<AccessKeyId>"),
    (re.compile(rf'"Expiration"\s*:\s*"?({MOMENT})'), '"AccessKeyId"'),
    (re.compile(rf'"(?:expires_at|expires_on)"\s*:\s*"?({MOMENT})'), '"access_token"'),
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


def _body_from_now(
    body: str | None, headers: dict[str, Any], answered_s: float
) -> tuple[str | None, tuple[str, ...]]:
    """The body as a template with its moments from now (None: as recorded) and the digest
    headers it is served without. A digest names one body, and a templated one changes on
    every call: served only without digests clients treat as optional, else as recorded
    (counted)."""
    if not body:
        return None, ()
    templated = body_from_now(body, answered_s)
    digests = tuple(name for name in headers if is_digest(name.lower()))
    if templated is None or not digests:
        return templated, ()
    if all(name.lower() in _OPTIONAL_DIGESTS for name in digests):
        return templated, digests
    COLLECTOR_MOMENTS_AS_RECORDED.labels(reason="response_digest_required").inc()
    return None, ()


def served_from_now(
    definition: dict[str, Any], *, date: str | None, captured_at_s: float
) -> dict[str, Any]:
    """A stub's ``response`` (``stubs.response_definition``) with its expiry moments served
    from now (a copy), or ``definition`` itself when it names none. ``date``: the upstream's
    ``Date``."""
    headers = definition.get("headers") or {}
    reset = next((n for n in headers if n.lower() == _RATE_LIMIT_RESET), None)
    body = definition.get("body")
    if (reset is None and body is None) or "base64Body" in definition:
        return definition
    answered_s = answered_at_s(date, captured_at_s)
    if answered_s is None:
        return definition
    templated_body, dropped = _body_from_now(body, headers, answered_s)
    reset_value = headers.get(reset) if reset else None
    templated_reset = (
        moment_from_now(reset_value.strip(), answered_s) if isinstance(reset_value, str) else None
    )
    if templated_body is None and templated_reset is None:
        return definition
    given = {reset: templated_reset} if reset and templated_reset is not None else {}
    return templated(definition, headers=given, body=templated_body, dropped=dropped)


def templated(
    definition: dict[str, Any],
    *,
    headers: dict[str, str],
    body: str | None = None,
    dropped: Collection[str] = (),
) -> dict[str, Any]:
    """A stub's ``response`` as a WireMock template (a copy): the header values in
    ``headers`` and ``body`` (when given) as they are, every other header value and the
    body as literals that render back to themselves, the headers in ``dropped`` left out.
    A ``base64Body`` is never templated."""
    served = dict(definition)
    recorded = definition.get("headers") or {}
    if recorded or headers:
        served["headers"] = {
            name: [literal(v) for v in value] if isinstance(value, list) else literal(value)
            for name, value in recorded.items()
            if name not in dropped
        }
        served["headers"].update(headers)
    text = definition.get("body")
    if text is not None:
        served["body"] = body if body is not None else literal(text)
    served["transformers"] = [TEMPLATE_TRANSFORMER]
    return served
