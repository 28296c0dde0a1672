"""Numeric classes found by shape and validated: cards, CPF, CNPJ, phones.

Maximal runs of digits and separators are found at C speed (translate, find) and most
(ids, timestamps) are ruled out by length and first digit before any regex runs.
"""

from __future__ import annotations

import re

from ext_proc_server.sanitize import id_shapes, phones
from ext_proc_server.sanitize import validators as v
from ext_proc_server.sanitize.hits import Hit

_B = "0-9A-Za-z_"  # word characters, ASCII only
# Any run of at least 11 digits/separators: every numeric class needs one (shorter
# phones, 0800123456 and 4004-1234, are found by context: phones.py).
_NUM_RUN = re.compile(r"[0-9][0-9 .()/-]{9,}[0-9]")
# CPF and CNPJ may be joined to a word by "_" ("rg_529.982.247-25"), as bare ones are
# (_underscored_document).
_D = "0-9A-Za-z"
_CPF = re.compile(
    rf"(?<![{_D}.])[0-9]{{3}}(?P<cpf_dot>\.?)[0-9]{{3}}(?P=cpf_dot)[0-9]{{3}}-?[0-9]{{2}}"
    rf"(?![{_D}]|\.[0-9])"
)
_CNPJ = re.compile(
    rf"(?<![{_D}.])[0-9]{{2}}(?P<cnpj_dot>\.?)[0-9]{{3}}(?P=cnpj_dot)[0-9]{{3}}/?[0-9]{{4}}-?[0-9]{{2}}"
    rf"(?![{_D}]|\.[0-9])"
)
_ALNUM_TABLE = bytes.maketrans(
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_",
    b"A" * 36 + b"a" * 27,
)
_ALNUM_SHAPES = (b"A" * 14, b"AA.AAA.AAA/AAAA-AA", b"AAAAAAAA/AAAA-AA")
_ALNUM_BEFORE = frozenset(b"Aa.-")
_ALNUM_AFTER = frozenset(b"Aa")
_CARD_BARE = re.compile(rf"(?<![{_B}.])[0-9]{{12,19}}(?![{_B}]|\.[0-9])")
_CARD_GROUPED = re.compile(
    rf"(?<![{_B}.-])[0-9]{{4,6}}(?P<sep>[ -])[0-9]{{2,6}}(?:(?P=sep)[0-9]{{2,6}}){{1,3}}"
    rf"(?![{_B}-]|\.[0-9])"
)
# All window shapes in one pass, in priority order; each still needs its validator.
_WINDOW = re.compile(
    "|".join(
        f"(?P<{name}>{pattern.pattern})"
        for name, pattern in (
            ("cnpj", _CNPJ),
            ("cpf", _CPF),
            ("card", _CARD_BARE),
            ("grouped", _CARD_GROUPED),
            ("phone", phones.PHONE_BR),
        )
    )
)


# What the detectors' one RE2 pass over a text's lowered bytes ("?" for non-ASCII, same
# offsets) looks for on behalf of this module: a text with no match of one finds nothing
# in the search it gates, so that search (a translated copy and scans) is skipped.
# _NUM_RUN as bytes: digits and separators read the same lowered.
RUN_PROBE = _NUM_RUN.pattern.encode()
INTERNATIONAL_PROBE = rb"\+[1-9]"


def find_numbers(
    text: str, raw: bytes, hits: list[Hit], *, runs: bool = True, international: bool = True
) -> None:
    """``runs``/``international``: False when the probes above say there is no digit
    run (RUN_PROBE) or no "+" and a digit (INTERNATIONAL_PROBE) in the text."""
    first = len(hits)
    if runs:
        _number_runs(text, raw, hits)
    if international and "+" in text:
        _short_international(text, hits)
    if len(hits) > first:
        id_shapes.drop_inside_ids(text, hits, first)


def _number_runs(text: str, raw: bytes, hits: list[Hit]) -> None:
    size = len(text)
    # Maximal runs of digits and separators long enough to hold a _NUM_RUN match,
    # found with bytes.find in a class-mapped copy instead of trying the regex at
    # every digit. Most are ids and epoch timestamps, dropped before any regex.
    mapped = raw.translate(_RUN_TABLE)
    find = mapped.find
    region_start = find(_RUN_MIN)
    while region_start >= 0:
        region_end = find(b"x", region_start)
        if region_end < 0:
            region_end = size
        next_start = find(_RUN_MIN, region_end)
        region = text[region_start:region_end]
        if not region.isdigit():
            region = region.strip(_RUN_SEPARATORS)
        if (
            region.isdigit()
            and text[region_start - 1 : region_start] != "+"  # +447400123456 is no id
            and ((len(region), region[0]) in _IMPLAUSIBLE_BARE or not _bare_plausible(region))
        ):
            region_start = next_start
            continue
        for run in _NUM_RUN.finditer(text, region_start, region_end):
            start, end = run.start(), run.end()
            value = run.group()
            if value.isdigit() and not (start and text[start - 1] == "+"):
                # Most runs are bare numbers (ids, timestamps): decide without regexes.
                if (start and text[start - 1] in _BARE_BEFORE) or (
                    end < size
                    and (
                        text[end] in _WORD_CHARS
                        or (
                            text.startswith(".", end) and end + 1 < size and text[end + 1].isdigit()
                        )
                    )
                ):
                    cls = _underscored_document(text, start, end)
                    if cls is not None:
                        hits.append(Hit(start, end, cls))
                    continue
                cls = _bare_number_class(value)
                if cls is not None:
                    hits.append(Hit(start, end, cls))
                continue
            if start and text[start - 1] in "+(":
                start -= 1
            _numbers_in_window(text, start, min(size, end + 2), hits)
        region_start = next_start


def _short_international(text: str, hits: list[Hit]) -> None:
    """Numbers shorter than any run found above: +55 and an 8- or 9-digit number
    (4004, 0800), and another country's number of 7 to 10 digits (+3212345678)."""
    at = text.find("+")
    while at >= 0:
        if text.startswith("+55", at):
            m = phones.PHONE_BR.match(text, at)
            found = (
                m is not None
                and len(v.only_digits(m.group())) <= 11
                and phones.br_phone_candidate(m.group())
            )
        else:
            m = phones.PHONE_INTL.match(text, at)
            found = m is not None and phones.intl_phone(m.group())
        if found and m is not None and not any(h.start <= at < h.end for h in hits):
            hits.append(Hit(m.start(), m.end(), "phone"))
        at = text.find("+", at + 1)


def find_alnum_cnpjs(text: str, raw: bytes, hits: list[Hit]) -> None:
    """Alphanumeric CNPJs (12ABC34501DE35), found as literals in a class-mapped copy:
    every [0-9A-Z] becomes "A", so the shapes are plain substring searches."""
    mapped = raw.translate(_ALNUM_TABLE)  # 1:1 with text
    size = len(mapped)
    # The separated shapes all contain "/": skip their searches when there is none.
    shapes = _ALNUM_SHAPES if "/" in text else _ALNUM_SHAPES[:1]
    for shape in shapes:
        i = mapped.find(shape)
        while i >= 0:
            end = i + len(shape)
            if (i and mapped[i - 1] in _ALNUM_BEFORE) or (
                end < size and mapped[end] in _ALNUM_AFTER
            ):
                i = mapped.find(shape, i + 1)
                continue
            value = text[i:end]
            compact = value.replace(".", "").replace("/", "").replace("-", "")
            # Numeric CNPJs are found with the other digit runs.
            if not compact.isdigit() and compact[-2:].isdigit() and v.cnpj_valid(compact):
                hits.append(Hit(i, end, "cnpj"))
            i = mapped.find(shape, end)


# -- context ---------------------------------------------------------------------


_WORD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_BARE_BEFORE = _WORD_CHARS | {"."}


_RUN_SEPARATORS = " .()/-"
# Characters _NUM_RUN spans become "0", everything else "x": runs are then found with
# bytes.find instead of trying the regex at every digit.
_RUN_TABLE = bytes(0x30 if chr(b) in "0123456789" + _RUN_SEPARATORS else 0x78 for b in range(256))
_RUN_MIN = b"0" * 11  # _NUM_RUN's shortest match
# (length, first digit) of bare runs no class can take, whatever follows: epoch
# milliseconds (13 digits from "1"), snowflake ids (18-19 from "1")...
_IMPLAUSIBLE_BARE = frozenset(
    [(12, c) for c in "1234789"]
    + [(13, c) for c in "1236789"]
    + [(15, c) for c in "0456789"]
    + [(size, c) for size in range(16, 20) for c in "01789"]
)


def _bare_plausible(digits: str) -> bool:
    """Whether _bare_number_class could return a class for a bare run (length, prefix)."""
    size = len(digits)
    if size in (11, 14):
        return True
    first = digits[0]
    if phones.plausible_run_start(size, first):
        return True
    if size == 12:
        return first in "56"  # Maestro (v.card_valid)
    if size == 13:
        return first == "4"
    if size == 15:
        return first in "13" or digits.startswith("2131")
    return 16 <= size <= 19 and first in "23456"


def _underscored_document(text: str, start: int, end: int) -> str | None:
    """ "cpf" or "cnpj" for one joined to a word by "_" ("extrato_52998224725.pdf",
    "cpf_52998224725"): an underscore joins words in names, not digits of an id."""
    before = text[start - 1] if start else ""
    after = text[end] if end < len(text) else ""
    if before != "_" and after != "_":
        return None
    if (before not in ("", "_") and before in _BARE_BEFORE) or (
        after not in ("", "_", ".") and after in _WORD_CHARS
    ):
        return None
    if after == "." and text[end + 1 : end + 2].isdigit():
        return None
    cls = _bare_number_class(text[start:end])
    return cls if cls in ("cpf", "cnpj") else None


def _bare_number_class(digits: str) -> str | None:
    """The class of a bare digit run, with the same rules as the window regexes."""
    size = len(digits)
    if size == 11 and v.cpf_valid(digits):
        return "cpf"
    if size == 14 and v.cnpj_valid(digits):
        return "cnpj"
    if 12 <= size <= 19 and v.card_valid(digits):
        return "card"
    return "phone" if phones.bare_phone(digits) else None


def _numbers_in_window(text: str, start: int, stop: int, hits: list[Hit]) -> None:
    for m in _WINDOW.finditer(text, start, stop):
        kind = m.lastgroup
        value = m.group()
        if kind == "cnpj":
            ok = v.cnpj_valid(v.only_digits(value))
        elif kind == "cpf":
            ok = v.cpf_valid(v.only_digits(value))
        elif kind == "card":
            ok = v.card_valid(value)
        elif kind == "grouped":
            ok = _grouped_card(m.start(), value, m.group("sep"), hits)
            kind = None
        else:
            ok = phones.br_phone_candidate(value)
        if not ok:
            # The first shape was a decoy: try every shape on its own, one by one
            # (a grouped card already found invalid is not tried again).
            decoy = (m.start(), value) if m.lastgroup == "grouped" else None
            _numbers_each_pattern(text, start, stop, hits, grouped_decoy=decoy)
            break
        if kind is not None:
            hits.append(Hit(m.start(), m.end(), kind))
    # Another country's number may read as a decoy first (+12015550123 as a CPF).
    if text[start] == "+":
        for m in phones.PHONE_INTL.finditer(text, start, stop):
            if phones.intl_phone(m.group()):
                hits.append(Hit(m.start(), m.end(), "phone"))


def _numbers_each_pattern(
    text: str, start: int, stop: int, hits: list[Hit], *, grouped_decoy: tuple[int, str] | None
) -> None:
    for m in _CNPJ.finditer(text, start, stop):
        if v.cnpj_valid(v.only_digits(m.group())):
            hits.append(Hit(m.start(), m.end(), "cnpj"))
    for m in _CPF.finditer(text, start, stop):
        if v.cpf_valid(v.only_digits(m.group())):
            hits.append(Hit(m.start(), m.end(), "cpf"))
    for m in _CARD_BARE.finditer(text, start, stop):
        if v.card_valid(m.group()):
            hits.append(Hit(m.start(), m.end(), "card"))
    for m in _CARD_GROUPED.finditer(text, start, stop):
        if (m.start(), m.group()) != grouped_decoy:
            _grouped_card(m.start(), m.group(), m.group("sep"), hits)
    for m in phones.PHONE_BR.finditer(text, start, stop):
        if phones.br_phone_candidate(m.group()):
            hits.append(Hit(m.start(), m.end(), "phone"))


def _grouped_card(start: int, value: str, sep: str, hits: list[Hit]) -> bool:
    """Try every contiguous run of groups: a date or id may sit next to the card."""
    groups = value.split(sep)
    offsets = []
    pos = start
    for group in groups:
        offsets.append(pos)
        pos += len(group) + 1
    for length in range(len(groups), 2, -1):
        for first in range(len(groups) - length + 1):
            digits = "".join(groups[first : first + length])
            if v.card_valid(digits):
                last = first + length - 1
                hits.append(Hit(offsets[first], offsets[last] + len(groups[last]), "card"))
                return True
    return False
