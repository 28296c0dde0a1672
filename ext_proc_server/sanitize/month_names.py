"""Month names as Portuguese, Spanish and English write them, read and written.

Each language's own names first (what a pseudonym is written with), then the other
spellings its countries use (CLDR's locale data): Spain's "sept", Peru's and Uruguay's
"setiembre" and "set", the United Kingdom's "Sept". A name several languages share
("mar", "may", "abril") is read in each of them.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

from ext_proc_server.sanitize.wordlists import fold

LANGUAGES = ("pt", "es", "en")
FULL = {
    "pt": (
        "janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto",
        "setembro", "outubro", "novembro", "dezembro",
    ),
    "es": (
        "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
        "septiembre", "octubre", "noviembre", "diciembre",
    ),
    "en": (
        "january", "february", "march", "april", "may", "june", "july", "august",
        "september", "october", "november", "december",
    ),
}  # fmt: skip
ABBREVIATED = {
    "pt": ("jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez"),
    "es": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"),
    "en": ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
}
# (language, abbreviated) -> {month: other spellings read as that month}.
_VARIANTS = {
    ("es", False): {9: ("setiembre",)},
    ("es", True): {9: ("sept", "set")},
    ("en", True): {9: ("sept",)},
}


class Reading(NamedTuple):
    language: str
    abbreviated: bool
    month: int
    # The language's own spelling of the month, in that form ("março" for "marco").
    spelling: str


def _spellings(language: str, abbreviated: bool, month: int) -> tuple[str, ...]:
    """Every spelling of one month in one language and form, its own name first."""
    own = (ABBREVIATED if abbreviated else FULL)[language][month - 1]
    return (own, *_VARIANTS.get((language, abbreviated), {}).get(month, ()))


def _table() -> dict[str, list[Reading]]:
    readings: dict[str, list[Reading]] = {}
    for language in LANGUAGES:
        for abbreviated in (False, True):
            for month in range(1, 13):
                spellings = _spellings(language, abbreviated, month)
                for spelling in spellings:
                    reading = Reading(language, abbreviated, month, spellings[0])
                    readings.setdefault(fold(spelling), []).append(reading)
    return readings


_READINGS = _table()
# For a date finder's regex: every spelling, accented and not, longest first (so "sept"
# is tried before "sep").
PATTERN = "|".join(
    sorted(
        {s for f, found in _READINGS.items() for s in (f, *(r.spelling for r in found))},
        key=lambda s: (-len(s), s),
    )
)


def readings(name: str) -> list[Reading]:
    """What a month's name ("Mar.", "setiembre", "marco") reads as, per language and
    form, full names first; [] for no month's name."""
    found = _READINGS.get(fold(name.rstrip(".")), [])
    return sorted(found, key=lambda r: r.abbreviated)


def reads_as(spelling: str, language: str, month: int) -> bool:
    return any(r.language == language and r.month == month for r in readings(spelling))


@functools.lru_cache(maxsize=256)
def shared_spelling(languages: tuple[str, ...], forms: tuple[bool, ...], month: int) -> str | None:
    """One spelling of ``month`` that each of ``languages`` reads as that month ("jun"
    for Portuguese, Spanish and English; "set" for Portuguese and Spanish), in one of
    ``forms`` (abbreviated or not: both for a name that is either, "may"); None when
    they write it apart ("dez", "dic", "dec")."""
    for abbreviated in forms:
        for language in languages:
            for spelling in _spellings(language, abbreviated, month):
                if all(reads_as(spelling, other, month) for other in languages):
                    return spelling
    return None
