"""A multipart request body, matched whatever boundary the next call draws.

A client draws a new boundary for every call, so the recorded bytes never come again;
what must come again is everything between the boundaries. The body is kept as the
text between its boundaries, and its matcher is a regex in which the first boundary is
any boundary (RFC 2046: 1 to 70 of its characters) and every later one the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable

# RFC 2046 "bchars": what a boundary may hold (a space, but not last).
_BOUNDARY_CHARS = r"[0-9A-Za-z'()+_,\-./:=? ]{0,69}[0-9A-Za-z'()+_,\-./:=?]"


# The boundary parameter's value in a Content-Type header, quoted or not.
_BOUNDARY_PARAM = re.compile(r';\s*boundary\s*=\s*"?([^";]+)', re.IGNORECASE)


def boundary_of(content_type: str) -> str:
    """The ``boundary`` parameter of a multipart Content-Type header, or ""."""
    found = _BOUNDARY_PARAM.search(content_type)
    return found.group(1).strip() if found else ""


def split_at_boundary(text: str, boundary: str) -> tuple[str, ...]:
    """The text between the delimiters (``--`` and ``boundary``) of a body, at least two
    parts, or () when the body holds none."""
    delimiter = f"--{boundary}"
    if not boundary or delimiter not in text:
        return ()
    return tuple(text.split(delimiter))


def body_regex(parts: tuple[str, ...], part_regex: Callable[[str], str]) -> str:
    """The Java regex of a body whose ``parts`` sat between delimiters: ``part_regex``
    gives each part's; the first boundary is any, every later one the same."""
    first, *rest = parts
    return (
        "(?s)" + part_regex(first) + f"\\-\\-({_BOUNDARY_CHARS})"
        + "\\-\\-\\1".join(map(part_regex, rest))
    )  # fmt: skip


def content_type_regex(content_type: str, escape: Callable[[str], str]) -> str:
    """The Java regex of a multipart Content-Type header with any boundary in place of the
    recorded one (``escape``: a literal's regex)."""
    found = _BOUNDARY_PARAM.search(content_type)
    if found is None:
        return "(?i)" + escape(content_type)
    start, end = found.span(1)
    return "(?i)" + escape(content_type[:start]) + _BOUNDARY_CHARS + escape(content_type[end:])
