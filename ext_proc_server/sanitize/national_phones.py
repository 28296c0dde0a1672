"""Other countries' phones written nationally, found in any text by their layout.

Without "+<country>" a number's country is only in its layout, and most layouts are
also those of ids, quantities and dates. Only layouts that little else shares are read,
each validated against phonenumbers' metadata for the countries that write it: NANP's
"(424) 621-9489" (any digits: parentheses around an area code are a phone's alone),
"447-359-3824", "447.359.3824" and "1-447-359-3824" (valid for the US or Canada),
"200 123 4567" (valid in the US, Mexico or Italy), Spain's "612 34 56 78", France's
"06 12 34 56 78", the UK's "07400 123456", "0121 234 5678" and "020 7946 0958",
Argentina's "011 15-2345-6789" and "011 2345-6789", Australia's "0412 345 678". An
extension that follows ("x533", "ext. 12") goes with the number. Portugal's and Peru's
"912 345 678" stay (a quantity written with spaces between thousands reads the same),
as do bare digit runs (ids, epoch seconds) and "123-45-6789" (a US SSN's layout).
"""

from __future__ import annotations

import re

import phonenumbers

from ext_proc_server.sanitize.hits import Hit

# Every digit becomes "0": a layout is then one bytes.find (C speed) in the mapped copy.
_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_NANP_PARENS = ()  # parentheses around the area code: a phone, whatever its digits
_NANP = ("US",)  # phonenumbers answers for every NANP country given "US" (Canada too)
# (a piece every layout of the group holds, ((layout, countries whose numbers it is
# validated against), ...)): most texts hold no piece, so they cost five finds.
_LAYOUT_GROUPS: tuple[tuple[bytes, tuple[tuple[bytes, tuple[str, ...]], ...]], ...] = (
    (
        b"0-0000",
        (
            (b"(000) 000-0000", _NANP_PARENS),
            (b"(000)000-0000", _NANP_PARENS),
            (b"000-000-0000", _NANP),
            (b"000 00-0000-0000", ("AR",)),
            (b"000 0000-0000", ("AR",)),
        ),
    ),
    (b"0.0000", ((b"000.000.0000", _NANP),)),
    (
        b"0 0000",
        (
            (b"000 000 0000", ("US", "MX", "IT")),
            (b"00000 000000", ("GB",)),
            (b"0000 000 0000", ("GB",)),
            (b"000 0000 0000", ("GB",)),
        ),
    ),
    (b"0 00 00 0", ((b"000 00 00 00", ("ES",)), (b"00 00 00 00 00", ("FR",)))),
    (b"0 000 0", ((b"0000 000 000", ("AU",)),)),
)
# Layouts whose first digit is the trunk prefix 0 (a number without it is no phone's).
_TRUNK_LAYOUTS = frozenset(
    {b"00 00 00 00 00", b"00000 000000", b"0000 000 0000", b"000 0000 0000", b"0000 000 000"}
    | {b"000 00-0000-0000", b"000 0000-0000"}
)
_WORD = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
# A neighbour that makes the layout part of something longer: a word, a "+<country>"
# number (found elsewhere), a dotted or dashed code ("1.447.359.3824" is a version).
_JOINING = frozenset("+./-:")
_EXTENSION = re.compile(r" ?(?:x|ext\.? ?|extension ?)[0-9]{1,6}(?![0-9A-Za-z_])", re.IGNORECASE)
_SEPARATORS = " .-"


def find_national_phones(text: str, raw: bytes, hits: list[Hit]) -> None:
    """Add a "phone" hit for each national number found (``raw``: ``text`` as ASCII
    bytes, one per character)."""
    mapped = raw.translate(_DIGITS_AS_ZERO)
    find = mapped.find
    for piece, layouts in _LAYOUT_GROUPS:
        if find(piece) < 0:
            continue
        for layout, regions in layouts:
            at = find(layout)
            while at >= 0:
                end = at + len(layout)
                span = _phone_span(text, at, end, layout, regions)
                if span is not None:
                    hits.append(Hit(span[0], span[1], "phone"))
                at = find(layout, end if span is not None else at + 1)


def _phone_span(
    text: str, start: int, end: int, layout: bytes, regions: tuple[str, ...]
) -> tuple[int, int] | None:
    """The number's span (with a NANP "1-" and an extension) when the layout stands
    alone and its digits are a valid number of one of ``regions``."""
    if layout in _TRUNK_LAYOUTS and text[start] != "0":
        return None
    number_start = start
    start = _with_country_one(text, start, layout)
    if not _alone_before(text, start) or _continues(text, end):
        return None
    number_end = end
    extension = _EXTENSION.match(text, end)
    if extension is not None:
        end = extension.end()
    elif text[end : end + 1] in _WORD:
        return None
    if not regions or (
        extension is not None and regions is _NANP and _nanp_shape(text, number_end)
    ):
        return start, end
    return (start, end) if _valid(text[number_start:end], regions) else None


def _nanp_shape(text: str, number_end: int) -> bool:
    """Area code and exchange from 2-9 (NANP's plan), for a number with an extension:
    "555-597-5351 x868" is a phone even in an area code not yet assigned."""
    digits = text[number_end - 12 : number_end]
    return digits[0] in "23456789" and digits[4] in "23456789"


def _with_country_one(text: str, start: int, layout: bytes) -> int:
    """A dashed NANP number may open with its country code: "1-447-359-3824",
    "+1-447-359-3824", "001-447-359-3824" (dialled from abroad)."""
    if layout not in (b"000-000-0000", b"000.000.0000"):
        return start
    sep = text[start - 1 : start]
    for prefix in ("+1", "001", "1"):
        opened = start - 1 - len(prefix)
        joined = sep == "-" or (sep == "." and prefix == "+1")  # "1.201.555.0123": a version
        if (
            joined
            and opened >= 0
            and text.startswith(prefix, opened)
            and (not opened or not (text[opened - 1] in _WORD or text[opened - 1] in _JOINING))
        ):
            return opened
    return start


def _alone_before(text: str, start: int) -> bool:
    if not start:
        return True
    before = text[start - 1]
    if before in _WORD or before in _JOINING:
        return False
    # "7 612 34 56 78": one more group of a longer spaced number.
    return not (before == " " and start >= 2 and text[start - 2].isdigit())


def _continues(text: str, end: int) -> bool:
    """Whether another group of digits follows ("612 34 56 78 90", "447-359-3824-1")."""
    after = text[end : end + 1]
    if not after:
        return False
    if after.isdigit():
        return True
    return after in _SEPARATORS + "/" and text[end + 1 : end + 2].isdigit()


def _valid(candidate: str, regions: tuple[str, ...]) -> bool:
    number_part = _EXTENSION.sub("", candidate)
    for region in regions:
        try:
            number = phonenumbers.parse(number_part, region)
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(number):
            return True
    return False
