"""A month's name two languages share ("mar", "may", "abr", "ago", "jun") gets a
pseudonym whose month reads in the original's language whichever it was: "nacida el
12 mar 1985" once became "12 apr 1984", an English month in Spanish text.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.pseudonym import Replacer
from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.date_locale_corpus import month_reads
from tests.unit.sanitize.sanitize_helpers import sanitized_note, sanitizer

REPLACER = Replacer(key=b"k" * 32)
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-languages")
LANGUAGES = ("pt", "es", "en")
# CLDR's names that more than one of the three languages writes (with Peru's "set").
SHARED = {
    "mar": ("pt", "es", "en"),
    "jun": ("pt", "es", "en"),
    "jul": ("pt", "es", "en"),
    "nov": ("pt", "es", "en"),
    "abr": ("pt", "es"),
    "ago": ("pt", "es"),
    "set": ("pt", "es"),
    "may": ("es", "en"),
    "sep": ("es", "en"),
    "sept": ("es", "en"),
    "feb": ("es", "en"),
    "oct": ("es", "en"),
    "jan": ("pt", "en"),
    "abril": ("pt", "es"),
    "agosto": ("pt", "es"),
}
MONTH_OF = {name: month_reads(name, languages[0]) for name, languages in SHARED.items()}
# The layouts around a name, and the languages that write each: "de" is no English, a
# month before the day no Portuguese or Spanish.
LAYOUTS = {
    "{d} de {m} de {y}": ("pt", "es"),
    "{d} de {m}. de {y}": ("pt", "es"),
    "{d} {m} {y}": LANGUAGES,
    "{d} {m}. {y}": LANGUAGES,
    "{m} {d}, {y}": ("en",),
}
_WRITTEN = re.compile(
    r"(?P<d>\d{1,2})(?: de | )(?P<m>[^\W\d]+)\.?(?: de | )(?P<y>\d{4})"
    r"|(?P<m2>[^\W\d]+)\.? (?P<d2>\d{1,2}), (?P<y2>\d{4})"
)


def read(text: str, language: str) -> date | None:
    m = _WRITTEN.fullmatch(text)
    if m is None:
        return None
    name, day, year = (m["m"], m["d"], m["y"]) if m["m"] else (m["m2"], m["d2"], m["y2"])
    month = month_reads(name, language)
    try:
        return date(int(year), month, int(day)) if month else None
    except ValueError:
        return None


def _languages(name: str, layout: str) -> tuple[str, ...]:
    return tuple(language for language in SHARED[name] if language in LAYOUTS[layout])


WRITINGS = sorted(
    (name, layout) for name in SHARED for layout in LAYOUTS if _languages(name, layout)
)


@settings(max_examples=400, deadline=None)
@given(
    born=st.dates(min_value=date(1911, 1, 1), max_value=date(2025, 12, 31)),
    writing=st.sampled_from(WRITINGS),
)
def test_a_shared_months_pseudonym_reads_in_each_language_the_original_may_be(
    born: date, writing: tuple[str, str]
) -> None:
    name, layout = writing
    born = born.replace(day=min(born.day, 28), month=MONTH_OF[name])
    value = layout.format(d=born.day, m=name, y=born.year)
    fake = REPLACER("birth_date", value)
    assert not is_token(fake)
    for language in _languages(name, layout):
        faked = read(fake, language)
        assert faked is not None, (value, fake, language)
        assert 30 <= abs((faked - born).days) <= 400, (value, fake)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("La paciente nacida el {} vuelve el lunes", "es"),
        ("Fecha de nacimiento: {}", "es"),
        ("Patient born on {}, follow-up in 30 days", "en"),
        ("Date of birth: {}", "en"),
        ("Data de nascimento: {}", "pt"),
    ],
)
@pytest.mark.parametrize("name", ["mar", "Mar", "may", "jun", "jul", "nov", "sep", "Sept"])
def test_a_shared_month_in_text_stays_in_the_texts_language(
    text: str, language: str, name: str
) -> None:
    if month_reads(name, language) is None:  # "may" and "sep" are no Portuguese month
        name = "mar"
    wrong = []
    for year in range(1950, 2010, 3):
        value = f"12 {name} {year}"
        out = sanitized_note(PSEUDONYMS, text.format(value))
        head, tail = text.split("{}")
        fake = out.removeprefix(head).removesuffix(tail)
        faked = read(fake, language)
        if value in out or faked is None or faked == date(year, MONTH_OF[name.lower()], 12):
            wrong.append((value, out))
    assert wrong == []


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Paciente nascida em 12 de {} de {}, retorno em 30 dias", "pt"),
        ("La paciente nacida el 12 de {} de {}, vuelve el lunes", "es"),
    ],
)
@pytest.mark.parametrize("name", ["abr.", "ago.", "abril", "agosto", "mar.", "jun"])
def test_a_month_portuguese_and_spanish_share_stays_in_the_texts_language(
    text: str, language: str, name: str
) -> None:
    wrong = []
    for year in range(1950, 2010, 3):
        value = text.format(name, year)
        out = sanitized_note(PSEUDONYMS, value)
        m = re.search(r"12 de \S+ de \d{4}|\d{1,2} de \S+ de \d{4}", out)
        faked = read(m[0].replace(". de", " de"), language) if m else None
        if faked is None or (out == value):
            wrong.append((value, out))
    assert wrong == []


def test_a_single_languages_month_keeps_every_month_open() -> None:
    """A name only one language writes ("dic", "dez", "March") leaves the fake's month
    free: twelve months come out of a year of dates."""
    start = date(1980, 1, 1)
    for template in ("{d} de diciembre de {y}", "{d} de dezembro de {y}", "December {d}, {y}"):
        months = set()
        for days in range(0, 366 * 3, 5):
            born = start + timedelta(days=days)
            fake = REPLACER("birth_date", template.format(d=born.day, y=born.year))
            months.add(re.sub(r"[\d,]| de ", "", fake).strip())
        assert len(months) == 12, (template, sorted(months))
