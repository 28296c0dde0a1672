"""Phone numbers: every Brazilian layout in phonenumbers' metadata, and +<country> numbers.

Brazilian numbers are written many ways: "+55 11 91234-5678", "(11) 3456-7890",
"(011) 91234-5678" and "0 15 11 91234-5678" (trunk prefix 0, then a carrier code),
"551134567890" (messaging APIs), "0800 123 4567", "4004-1234". A candidate is reduced
to its national significant number and checked against phonenumbers' own patterns
(validators.br_phone_valid). Bare digit runs are only taken in layouts that ids and
timestamps do not share; the short 8-digit numbers (4004-1234) need "+55" or a phone
context (a phone-named field, "tel:", "ligue para").
"""

from __future__ import annotations

import re

from ext_proc_server.sanitize import validators as v

_B = "0-9A-Za-z_"
# Carrier selection codes (after the trunk 0), as phonenumbers' national_prefix_for_parsing.
_CARRIER = r"(?:1[245]|2[1-35]|31|4[13]|[56]5|99)"
_CARRIERS = frozenset(
    ["12", "14", "15", "21", "23", "24", "25", "31", "41", "43", "55", "65", "99"]
)
_SEP = r"[ .-]?"
_PREFIX = rf"(?:\+55{_SEP}|55{_SEP}|0{_SEP}(?:{_CARRIER}{_SEP})?)?"
_DDD = rf"(?:\(0?(?:{_CARRIER}{_SEP})?[1-9][0-9]\)|[1-9][0-9])"
_SUBSCRIBER = rf"(?:9{_SEP}[0-9]{{4}}|[2-57][0-9]{{3}}){_SEP}[0-9]{{4}}"
_NON_GEOGRAPHIC = rf"(?:\+55{_SEP}|0)?[3589]00{_SEP}[0-9]{{2,3}}{_SEP}[0-9]{{4}}"
_SHARED_COST = rf"\+55{_SEP}(?:4[0-9]{{3}}|300[0-9]){_SEP}[0-9]{{4}}"
PHONE_BR = re.compile(
    rf"(?<![{_B}+])(?:{_PREFIX}{_DDD}{_SEP}{_SUBSCRIBER}|{_NON_GEOGRAPHIC}|{_SHARED_COST})"
    rf"(?![{_B}])"
)
PHONE_INTL = re.compile(
    rf"(?<![{_B}+])\+[1-9][0-9]{{0,3}}[ .-]?(?:\([0-9]{{1,4}}\)[ .-]?)?[0-9][0-9 .-]{{5,16}}[0-9]"
    rf"(?![{_B}])"
)
_NON_GEOGRAPHIC_STARTS = ("800", "300", "500", "900")


def national_number(digits: str) -> str:
    """The national significant number of a Brazilian candidate's digits: without +55,
    without the trunk 0 and a carrier code."""
    if digits.startswith("0"):
        rest = digits[1:]
        if rest.startswith(_NON_GEOGRAPHIC_STARTS):
            return rest
        if len(rest) in (12, 13) and rest[:2] in _CARRIERS:
            return rest[2:]
        return rest
    if len(digits) in (12, 13) and digits.startswith("55"):
        return digits[2:]
    if len(digits) == 10 and digits.startswith("55") and digits[2] in "34":
        return digits[2:]  # +55 4004 1234
    return digits


def _bare_layout(digits: str) -> bool:
    """Bare runs that are phones far more often than ids or timestamps."""
    size, first = len(digits), digits[0]
    if first == "0":
        rest = digits[1:]
        if rest.startswith(_NON_GEOGRAPHIC_STARTS):
            return size in (10, 11)
        return size in (11, 12, 13, 14)
    if size == 11:
        return digits[2] == "9"  # DDD + 9 + 8 digits (10-digit runs are epoch seconds)
    if size == 13:
        return digits.startswith("55") and digits[4] == "9"
    return size == 12 and digits.startswith("55")


def br_phone_candidate(candidate: str) -> bool:
    """A PHONE_BR match (or a bare digit run) that is a valid Brazilian number."""
    digits = v.only_digits(candidate)
    if not digits.isdigit() or len(digits) < 8:
        return False
    if len(digits) == len(candidate) and not _bare_layout(digits):
        return False
    international = candidate.lstrip().startswith("+")
    national = digits[2:] if international else national_number(digits)
    if len(national) == 8 and not international:
        return False  # 4004-1234 alone: too like a range or a code
    return v.br_phone_valid(national)


def bare_phone(digits: str) -> bool:
    """A bare digit run (no separators) in a layout phones use, and valid."""
    return _bare_layout(digits) and v.br_phone_valid(national_number(digits))


def plausible_run_start(size: int, first: str) -> bool:
    """Whether a bare run of ``size`` digits starting with ``first`` may be a phone."""
    if first == "0":
        return 10 <= size <= 14
    return size in (11, 12, 13) and (size == 11 or first == "5")


def could_be_phone(value: str) -> bool:
    """A phone-named field's value: 8 to 15 digits written as a phone is."""
    written = value.strip()
    if _PHONE_CHARS.fullmatch(written) is None:
        extended = _EXTENDED_PHONE.fullmatch(written)
        if extended is None:
            return False
        written = extended.group(1)
    # Only ASCII digits are left once its separators go (C calls, no per-character step).
    return 8 <= len(written.translate(_SEPARATORS_DROPPED)) <= 15


_PHONE_CHARS = re.compile(r"\+?[0-9 ().-]{8,24}")
# The number, then an extension ("ramal 2", "ext. 12", "x12") or a list's ";" or ",".
_EXTENDED_PHONE = re.compile(
    r"(\+?[0-9 ().-]{8,24})(?: *(?:ramal|ext|extens[aã]o|r|x)\.? *[0-9]{1,6})?[;,]?",
    re.IGNORECASE,
)
_SEPARATORS_DROPPED = str.maketrans("", "", "+ ().-")


def intl_phone(candidate: str) -> bool:
    return not candidate.startswith("+55") and v.phone_valid(candidate, region=None)
