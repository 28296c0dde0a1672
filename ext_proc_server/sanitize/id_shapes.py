"""Identifiers whose digits read as a phone, a card or a document: never personal.

A number found inside one of these is a part of an id, and replacing it changes the id a
client echoes or looks up. Each shape is a whole token, so a phone written next to an id
("ligue 11 91234-5678 id 5aa7...") is still found:

- a UUID, any version, any case (8-4-4-4-12 hex): its middle groups are all digits in one
  random UUID of 200 to 300 and read as a phone ("0869-4605-9570"); also joined by "-"
  to more (an idempotency key's "<uuid>-0001", "order-<uuid>"), where a number after
  it is its own (a card there is still found);
- an Amazon order number (3-7-7 digits: "900-4366557-6989271");
- an AWS account id as a field of an ARN ("arn:aws:iam::096924712866:role/x");
- an NF-e access key as DANFE prints it (eleven groups of four digits, its modulo-11
  check digit valid): any three of its groups may pass Luhn;
- a product's barcode as the value of a barcode's key (identifier_names.barcode_in_text).
"""

from __future__ import annotations

import re

from ext_proc_server.sanitize.hits import Hit
from ext_proc_server.sanitize.identifier_names import barcode_in_text

_HEX = "[0-9A-Fa-f]"
_HYPHENATED = re.compile(
    rf"{_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}|[0-9]{{3}}-[0-9]{{7}}-[0-9]{{7}}"
)
_TOKEN_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-")
_JOINED_UUID = re.compile(
    rf"(?<![0-9A-Za-z]){_HEX}{{8}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{4}}-{_HEX}{{12}}(?![0-9A-Za-z])"
)
_ARN_ACCOUNT = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{12}:")
_ACCESS_KEY_CHARS = frozenset("0123456789 ")
_ACCESS_KEY_WRITTEN = re.compile(r"[0-9]{4}(?: [0-9]{4}){10}")
# NF-e's check digit: weights 2 to 9 from the right, over the 43 digits before it.
_MOD11_WEIGHTS = ((2, 3, 4, 5, 6, 7, 8, 9) * 6)[:43]


# Longer than any shape above (a printed access key is 54 characters).
_REACH = 60


def drop_inside_ids(text: str, hits: list[Hit], first: int) -> None:
    """Remove ``hits[first:]`` (numbers just found) that lie inside an identifier."""
    kept = [hit for hit in hits[first:] if not inside_id(text, hit.start, hit.end)]
    if len(kept) != len(hits) - first:
        hits[first:] = kept


def inside_id(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] is a part of one of the identifiers above."""
    if text[start:end].startswith("+"):
        return False  # "+55 ..." is written as a phone, never inside an id
    before, after = _extent(text, start, end, _TOKEN_CHARS)
    if _HYPHENATED.fullmatch(text, before, after) or _in_joined_uuid(text, start, before, after):
        return True
    if text[start - 1 : start] == ":" and text[end : end + 1] == ":":
        arn = text.rfind("arn:", max(0, start - 40), start)
        if arn >= 0 and _ARN_ACCOUNT.fullmatch(text, arn, end + 1):
            return True
    before, after = _extent(text, start, end, _ACCESS_KEY_CHARS)
    while before < start and text[before] == " ":
        before += 1
    while after > end and text[after - 1] == " ":
        after -= 1
    if after - before == 54 and _access_key(text[before:after]):
        return True
    return barcode_in_text(text, start, end)


def _in_joined_uuid(text: str, start: int, before: int, after: int) -> bool:
    """Whether a UUID that a number starts in is one of the "-" joined parts of the
    token text[before:after]."""
    if after - before <= 36:
        return False
    return any(m.start() <= start < m.end() for m in _JOINED_UUID.finditer(text, before, after))


def _extent(text: str, start: int, end: int, chars: frozenset[str]) -> tuple[int, int]:
    """The run of ``chars`` around text[start:end], at most _REACH characters either
    side: the shapes are shorter, so a run cut there matches none (and a long run of
    digits with many findings is not walked once per finding)."""
    before, after = start, end
    floor = max(0, start - _REACH)
    while before > floor and text[before - 1] in chars:
        before -= 1
    ceiling = min(len(text), end + _REACH)
    while after < ceiling and text[after] in chars:
        after += 1
    return before, after


def _access_key(written: str) -> bool:
    if _ACCESS_KEY_WRITTEN.fullmatch(written) is None:
        return False
    digits = written.replace(" ", "")
    total = sum(int(d) * w for d, w in zip(reversed(digits[:43]), _MOD11_WEIGHTS, strict=True))
    check = 11 - total % 11
    return digits[43] == ("0" if check >= 10 else str(check))
