"""java.util.regex's full match (what WireMock's ``matches`` does), where Python's re
reads the regex the same way."""

from __future__ import annotations

import re

# java.util.regex constructs Python's re reads otherwise or not at all: a class by
# property (\p{L}), an end anchor (\z, \Z), \h, \v, \R, \X; a class union or intersection.
_JAVA_ONLY_ESCAPE = re.compile(r"\\[pPzZhHvRX]")
_NESTED_CLASS = re.compile(r"\[[^\]]*\[|&&")


def java_fullmatch(regex: str, value: str) -> bool | None:
    """``Pattern.matches(regex, value)`` as WireMock evaluates it (DOTALL; classes and case
    folding in ASCII, as in Java), or None when ``regex`` holds a construct Python reads
    otherwise."""
    unescaped = regex.replace("\\\\", "")
    if _JAVA_ONLY_ESCAPE.search(unescaped):
        return None
    if _NESTED_CLASS.search(re.sub(r"\\.", "", unescaped)):
        return None
    try:
        return re.fullmatch(regex, value, flags=re.ASCII | re.DOTALL) is not None
    except re.error:
        return None
