"""A whole value written in base64 or base64url (a header's, a query parameter's, a
form field's, a Kubernetes Secret's): its bytes, and how it was written (alphabet,
padding, percent-escapes), so a sanitized value is written back the same way and
still decodes.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import NamedTuple

_TOKEN = re.compile(r"[A-Za-z0-9+/_-]+={0,2}")
# The same, "+", "/" and "=" percent-escaped or not: a value's shape, told by one regex.
_SHAPE = re.compile(r"(?:[A-Za-z0-9+/_-]|%2[BbFf])+(?:={0,2}|(?:%3[Dd]){1,2})")
_URL_ALPHABET = str.maketrans("-_", "+/")
_PERCENT = (("%2B", "+"), ("%2b", "+"), ("%2F", "/"), ("%2f", "/"), ("%3D", "="), ("%3d", "="))
# base64 of text mixes cases and digits well before this many characters.
_CASE_PREFIX_CHARS = 64
# Text: no control character but tab and line breaks.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Form(NamedTuple):
    url: bool  # "-_" rather than "+/"
    padded: bool
    percent: bool  # "+", "/", "=" written as "%2B", "%2F", "%3D"


def may_be_token(value: str) -> bool:
    """Whether a whole value is written in base64's characters (before ``read``)."""
    return _SHAPE.fullmatch(value) is not None


def read(value: str, *, min_chars: int) -> tuple[bytes, Form] | None:
    """The bytes of a value that is one base64 or base64url token of ``min_chars`` or
    more (percent-escaped "+/=" allowed), and how it was written; None for anything
    else, and for runs that are all lower case, all upper case or all digits (words,
    hex ids, numbers)."""
    token = value
    percent = "%" in value
    if percent:
        for escape, char in _PERCENT:
            token = token.replace(escape, char)
        if "%" in token:
            return None
    if len(token) < min_chars or not _TOKEN.fullmatch(token):
        return None
    body = token.rstrip("=")
    head = body[:_CASE_PREFIX_CHARS]
    if head.islower() or head.isupper() or head.isdigit() or len(body) % 4 == 1:
        return None
    url = "-" in body or "_" in body
    if url and ("+" in body or "/" in body):
        return None  # two alphabets: not one token
    data = decoded(body, url=url)
    if data is None:
        return None
    padded = token.endswith("=") or len(token) % 4 == 0
    if not url and "+" not in body and "/" not in body and not padded:
        url = True  # neither alphabet's own characters, unpadded: as base64url leaves it
    return data, Form(url=url, padded=padded, percent=percent)


def decoded(body: str, *, url: bool) -> bytes | None:
    """The bytes of unpadded base64 (base64url with ``url``), or None if it is not."""
    try:
        return base64.b64decode(
            (body.translate(_URL_ALPHABET) if url else body) + "=" * (-len(body) % 4),
            validate=True,
        )
    except (binascii.Error, ValueError):
        return None


def text_of(data: bytes) -> str | None:
    """``data`` as UTF-8 text (no control character but tabs and line breaks), or None."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if not text.strip() or _CONTROL.search(text):
        return None
    return text


def write(data: bytes, form: Form) -> str:
    """``data`` in base64 as ``form`` says it was written."""
    out = (base64.urlsafe_b64encode if form.url else base64.b64encode)(data).decode("ascii")
    if not form.padded:
        out = out.rstrip("=")
    if form.percent:
        out = out.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    return out


def read_text(value: str, *, min_chars: int) -> tuple[str, Form] | None:
    """``read`` for a value that holds text."""
    found = read(value, min_chars=min_chars)
    if found is None:
        return None
    text = text_of(found[0])
    return None if text is None else (text, found[1])
