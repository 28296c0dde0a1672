"""A JSON body as the noise normalizer reads and walks it: the document (orjson, json
where orjson refuses), the locations redacted in it, and what one walk of its tree
counts (:class:`JsonFacts`, which spares the matcher a second walk)."""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Set as AbstractSet
from decimal import Decimal
from typing import Any, NamedTuple

import orjson


class JsonFacts(NamedTuple):
    """What the normalizer saw while building a JSON tree. ``leaves``: values that are
    neither objects nor arrays; ``holes``: the Holes and Templates among them, ``any_holes``
    the "any" Holes among those; ``changed``: the ``id()`` of every object and array of
    the tree (alive as long as the tree) with a Hole or Template somewhere below. Only
    given when no string of the tree can start with "${", so every other value stands
    as it is in a matcher. (A tuple: a frozen dataclass costs more to build than the
    walk it spares on a small body.)"""

    leaves: int
    holes: int
    any_holes: int
    has_array: bool
    changed: AbstractSet[int]


class TextOnlyJson(ValueError):
    """A JSON body WireMock's JSON matcher cannot stand for: it is matched as its text."""


class NonFiniteNumber(TextOnlyJson):
    """A JSON number past a double (1e400 reads as infinity)."""


class InexactNumber(TextOnlyJson):
    """A JSON number a double does not hold (``10.000000000000000001`` reads as 10.0).
    WireMock compares JSON numbers by their decimal value: the stub's double would answer
    ``10`` (which a server reading decimals, Java's BigDecimal or Python's Decimal, takes
    apart) and miss the recorded request."""


class RepeatedKey(TextOnlyJson):
    """An object gives one key twice: servers read it apart (the first value, the last,
    or a 400), and WireMock's matcher reads the last."""


class TreeWalk:
    """One JSON body's walk: what each key seen so far is to the normalizer (``roles``),
    so a list of records looks its keys up once, whether a float kept in the tree is one
    json writes with an exponent, and the counts of :class:`JsonFacts`."""

    __slots__ = (
        "any_holes",
        "changed",
        "exponent_floats",
        "has_array",
        "holes",
        "keys",
        "leaves",
        "roles",
    )

    def __init__(self) -> None:
        self.roles: dict[str, int] = {}
        self.exponent_floats = False
        # The root, plus each object's or array's items, less itself.
        self.leaves = 1
        # The members of every object, as parsed (a key given twice counts once).
        self.keys = 0
        self.holes = 0
        self.any_holes = 0
        self.has_array = False
        self.changed: set[int] = set()

    def hole(self, *, any_value: bool = False) -> None:
        """A Hole (``any_value``: an "any" one) or a Template is put in the tree."""
        self.holes += 1
        if any_value:
            self.any_holes += 1

    def array(self, size: int) -> int:
        """An array of ``size`` items begins: -> the mark :meth:`ended` takes."""
        self.leaves += size - 1
        self.has_array = True
        return self.holes

    def ended(self, container: object, mark: int) -> None:
        """``container`` is built: noted when a hole was put in it or below since ``mark``."""
        if self.holes != mark:
            self.changed.add(id(container))

    def exponent_float(self, value: float) -> None:
        """``value`` (not 0, outside 1e-4 <= |x| < 1e16) is kept in the tree."""
        if not math.isfinite(value):
            raise NonFiniteNumber
        self.exponent_floats = True

    def facts(self) -> JsonFacts:
        return JsonFacts(self.leaves, self.holes, self.any_holes, self.has_array, self.changed)


# (JSON pointers redacted in a body, their ancestors).
Redacted = tuple[frozenset[str], frozenset[str]]
# Redaction sets recur (the same fields of the same APIs): each is read once.
REDACTIONS_CACHE_SIZE = 1024


@functools.lru_cache(maxsize=REDACTIONS_CACHE_SIZE)
def json_redactions(redactions: frozenset[str], part: str) -> Redacted:
    """The JSON pointers redacted in ``part``'s body, and their ancestors."""
    prefix = f"{part}.body.json:"
    pointers = frozenset(r.removeprefix(prefix) for r in redactions if r.startswith(prefix))
    return pointers, _ancestors(pointers)


def _ancestors(pointers: frozenset[str]) -> frozenset[str]:
    """Every proper prefix of the JSON pointers ("/a/b" -> "", "/a"): the nodes
    with a redacted location somewhere below them."""
    out = set()
    for pointer in pointers:
        parts = pointer.split("/")
        for end in range(1, len(parts)):
            out.add("/".join(parts[:end]))
    return frozenset(out)


def no_placeholder_start(text: str) -> bool:
    """True when no string of the JSON ``text`` can start with "${": it is neither written
    there nor as escapes of "$" or "{". Single characters first (memchr: the usual body
    has neither a "$" nor a backslash)."""
    return ("$" not in text or "${" not in text) and (
        "\\" not in text or ("\\u0024" not in text and "\\u007" not in text)
    )


# A key's end: its closing quote, then a colon (a string holding one matches too).
_KEY_END = re.compile(r'"\s*:')


def repeats_a_key(text: str, keys: int) -> bool:
    """Whether an object of the JSON ``text`` gives one key twice (``{"a": 1, "a": 2}``),
    given ``keys``, the members its parsed objects hold. Servers read such a body apart
    (the first value, the last, or a 400), and WireMock reads the last. Counting the
    key ends of the text settles most bodies: each key has one, and it cannot be fewer
    than the members; only a string that holds one (JSON inside a string) needs a
    parse. (A key end is counted as '":' unless a quote is followed by a space: no
    writer puts a tab or a line break between a key and its colon.)"""
    return _key_ends(text) != keys and _decoded_repeats(text)


def _key_ends(text: str) -> int:
    return len(_KEY_END.findall(text)) if '" ' in text else text.count('":')


def _decoded_repeats(text: str) -> bool:
    try:
        _PAIRS_DECODER.decode(text)
    except RepeatedKey:
        return True
    return False


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise RepeatedKey
    return out


def json_pointer_token(key: str) -> str:
    return key.replace("~", "~0").replace("/", "~1")


def _reject_constant(_: str) -> Any:  # NaN/Infinity: not JSON, and WireMock rejects them
    raise ValueError("non-finite number")


# One decoder (json.loads with an argument builds one per call).
_DECODER = json.JSONDecoder(parse_constant=_reject_constant)
# A number with fewer than 16 significant digits reads back from a double as the same
# decimal value (a double holds 15 for certain), unless it is past a double's range
# (1e-400 reads as 0.0, 4.123e-320 as its nearest subnormal): only a text with 16 digits
# (and dots) in a row, or an exponent of 3 digits, is read again. Its bytes are mapped to
# "0" (a digit, a dot), "e", "-" (a sign) or " ", then searched for those (a regex took
# 10x as long).
_NUMBER_CHARS = bytes(
    ord("0") if b in b"0123456789." else ord("e") if b in b"eE" else ord("-") if b in b"+-"
    else ord(" ")
    for b in range(256)
)  # fmt: skip
_SIXTEEN_DIGITS, _EXPONENT, _NEGATIVE_EXPONENT = b"0" * 16, b"0e000", b"0e-000"


def _exact_float(token: str) -> float:
    value = float(token)
    if math.isfinite(value) and Decimal(repr(value)) != Decimal(token):
        raise InexactNumber
    return value


_EXACT_DECODER = json.JSONDecoder(parse_constant=_reject_constant, parse_float=_exact_float)


def check_request_text(text: str, keys: int, document: dict | list | None = None) -> None:
    """Raises RepeatedKey when an object of the JSON ``text`` of a request (a document
    :func:`parse_json` read, whose objects hold ``keys`` members) gives one key twice
    (:func:`repeats_a_key`), InexactNumber when one of its numbers is not the decimal
    value of the double it reads as (only a text with 16 digits in a row or an exponent
    of 3 digits is parsed again). ``document``: the tree read from ``text``; when
    ``text`` is that tree as orjson writes it (:func:`written_by_orjson`), neither is
    searched for: a compact body is serialized first (cheaper than the searches on a
    2 KiB body), one written with spaces only before a parse the searches would make
    (on such a body the searches cost about what the serialization does)."""
    if document is not None and '": ' not in text[:_SPACED_PREFIX_CHARS]:
        if _written_from(text, document, spaced=False):
            return
        document = None  # not its writing: searched, as any body
    if _key_ends(text) != keys:
        if document is not None and _written_from(text, document, spaced=True):
            return
        document = None
        if _decoded_repeats(text):
            raise RepeatedKey
    mapped = text.encode("utf-8", "surrogatepass").translate(_NUMBER_CHARS)
    if _SIXTEEN_DIGITS in mapped or _EXPONENT in mapped or _NEGATIVE_EXPONENT in mapped:
        if document is not None and _written_from(text, document, spaced=True):
            return
        _EXACT_DECODER.decode(text)


# How far into a body a key followed by ": " (json.dumps's form) and a line break
# (pretty-printed, not serialized) are looked for.
_SPACED_PREFIX_CHARS = 128


def written_by_orjson(text: str, document: dict | list) -> bool:
    """Whether ``text`` is ``document`` as orjson writes it (compact, keys in the order
    read), as most clients send a body, or the same with a space after each comma and
    key (``json.dumps``'s separators; non-ASCII as is), as Python services send it. Then
    no object in it gives a key twice and each number is an integer or the shortest
    decimal that reads back as its double, the decimal value repr gives (a property test
    holds orjson's floats to repr's): ``document`` is the tree read from ``text``, so
    its keys are unique, and deleting spaces after commas and colons changes no number
    and no member count. One serialization in C, about a tenth of the searches it
    spares on a 2 KiB body."""
    return _written_from(text, document, spaced='": ' in text[:_SPACED_PREFIX_CHARS])


def _written_from(text: str, document: dict | list, *, spaced: bool) -> bool:
    """:func:`written_by_orjson`, ``spaced``: a key followed by ": " starts the text."""
    if spaced and ("\n" in text[:_SPACED_PREFIX_CHARS] or "\\u" in text):
        # Pretty-printed, or json.dumps's escapes of non-ASCII (orjson writes it as is):
        # not serialized, as it would not be the tree's writing.
        return False
    try:
        # Refused: an integer past 64 bits, a lone surrogate, nesting past 255 levels.
        dumped = orjson.dumps(document)
    except orjson.JSONEncodeError:
        return False
    if spaced:
        # A string holding ", " or '": ' is changed too: then it is searched, as before.
        text = text.replace(", ", ",").replace('": ', '":')
    return len(dumped) >= len(text) and dumped == text.encode("utf-8", "surrogatepass")


_PAIRS_DECODER = json.JSONDecoder(object_pairs_hook=_unique_pairs)


def parse_json(text: str) -> Any:
    """The document, or None when it is not JSON (NaN and Infinity are not). orjson reads
    it (about 3x cheaper) as json does, except an integer past 64 bits (see
    :func:`parse_json_exactly`); json reads what orjson refuses (a lone surrogate, a number
    past a double)."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        pass
    try:
        return _DECODER.decode(text)
    except ValueError:
        return None


def parse_json_exactly(text: str) -> Any:
    """json's reading of a document :func:`parse_json` read: an integer past 64 bits (which
    orjson reads as a float) stays exact."""
    return _DECODER.decode(text)
