"""Capture and routing filters as Envoy matchers: host and path patterns, fnmatch globs
as RE2 regexes on :authority, and sample percentages as fractions."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from ext_proc_server.core.errors import RenderError


def is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def check_regex(body: str, *, what: str) -> None:
    try:
        re.compile(body)
    except re.error as exc:
        raise RenderError(f"{what}: invalid regex ({exc.msg})") from exc


def _glob_to_regex(pattern: str) -> str:
    out = []
    for char in pattern:
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        else:
            out.append(re.escape(char))
    return "".join(out)


def host_matcher(pattern: str) -> dict[str, Any]:
    """A host filter -> StringMatcher on :authority (any port, case-insensitive).

    ``re:REGEX`` is an RE2 regex; otherwise ``*`` and ``?`` are globs.
    """
    if not pattern:
        raise RenderError("host filter: empty pattern")
    body = pattern[3:] if pattern.startswith("re:") else _glob_to_regex(pattern)
    check_regex(body, what="host filter")
    return {"kind": "safe_regex", "value": f"(?i)(?:{body})(?::[0-9]+)?"}


def path_matcher(pattern: str) -> dict[str, Any]:
    """A path filter -> StringMatcher on :path. A prefix, or ``re:REGEX``.

    Envoy regexes (RE2) must match the whole path; the query string is allowed after it.
    """
    if pattern.startswith("re:"):
        body = pattern[3:]
        check_regex(body, what="path filter")
        return {"kind": "safe_regex", "value": f"(?:{body})(?:\\?.*)?"}
    if not pattern.startswith("/"):
        raise RenderError("path filter: a prefix must start with '/' (or use 're:')")
    return {"kind": "prefix", "value": pattern}


def route_matcher(pattern: str) -> dict[str, Any]:
    """An excluded path as a route match: prefix, or an RE2 regex on the path (no query)."""
    if pattern.startswith("re:"):
        check_regex(pattern[3:], what="path filter")
        return {"kind": "safe_regex", "value": pattern[3:]}
    return path_matcher(pattern)


def glob_authority_regex(pattern: str) -> str:
    """An fnmatch pattern as an RE2 regex on :authority: case-insensitive, any port.

    ``*`` any text, ``?`` one character, ``[seq]``/``[!seq]`` a class, as fnmatch reads them.
    """
    p = pattern.lower()
    out, i = [], 0
    while i < len(p):
        char = p[i]
        i += 1
        if char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        elif char == "[":
            j = i + 1 if p[i : i + 1] == "!" else i
            j = j + 1 if p[j : j + 1] == "]" else j
            j = p.find("]", j)
            if j < 0:
                out.append(re.escape(char))  # no closing bracket: a literal "["
                continue
            body, i = p[i:j], j + 1
            negate = body.startswith("!")
            body = (body[1:] if negate else body).replace("\\", "\\\\")
            body = body.replace("[", "\\[").replace("^", "\\^")
            out.append(f"[{'^' if negate else ''}{body}]")
        else:
            out.append(re.escape(char))
    body = "".join(out)
    check_regex(body, what="host pattern")
    return f"(?i)(?:{body})(?::[0-9]+)?"


def percent_text(percent: float) -> str:
    """10.0 -> "10", 12.5 -> "12.5"."""
    return f"{percent:g}"


def sample_fraction(percent: float) -> dict[str, Any]:
    """A FractionalPercent for ``percent``: HUNDRED when whole, else MILLION."""
    if not 0 <= percent <= 100:
        raise RenderError("sample_percent: must be between 0 and 100")
    if float(percent).is_integer():
        return {
            "numerator": int(percent),
            "denominator": "HUNDRED",
            "percent": percent_text(percent),
        }
    return {
        "numerator": round(percent * 10_000),
        "denominator": "MILLION",
        "percent": percent_text(percent),
    }
