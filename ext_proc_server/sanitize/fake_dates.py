"""Birth-date pseudonyms: another real date, in the layout and language it came in.

"14 de marzo de 1985" becomes "2 de febrero de 1986", "Mar 14, 1985" "Apr 27, 1984",
"19850314" "19840427": a date 30 to 400 days away, keyed on the original, kept in the
past and within a person's lifetime, so a mock's answer still reads as a birth date.
"""

from __future__ import annotations

import datetime
import re
import unicodedata

from ext_proc_server.sanitize.fakes import Pick, fake_in_layout
from ext_proc_server.sanitize.wordlists import fold

# Full names and abbreviations per language, as personal_text's date finder reads them.
_MONTH_NAMES = {
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
_MONTH_ABBREVIATIONS = {
    "pt": ("jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov", "dez"),
    "es": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov", "dic"),
    "en": ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
}
# An abbreviation several languages share ("mar", "jun", "ago"): "de" around it is
# Portuguese or Spanish writing, anything else English first.
_WITH_DE = ("pt", "es", "en")
_WITHOUT_DE = ("en", "es", "pt")

_ISO = re.compile(r"(\d{4})([-/.]?)(\d{2})\2(\d{2})(.*)", re.S)
_NUMERIC = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(.*)", re.S)
_ORDINAL = r"(?:º|°)?"
_NAME = r"[^\W\d_]+\.?"
# "14 de março de 1985", "Mar. 14, 1985", "14 March 1985", "14 mar., 1985".
_WRITTEN = (
    re.compile(rf"(?P<d>\d{{1,2}})(?P<o>{_ORDINAL})(?P<a>\s+de\s+)(?P<m>{_NAME})"
               rf"(?P<b>\s+de\s+)(?P<y>\d{{4}})", re.I),
    re.compile(rf"(?P<m>{_NAME})(?P<a>\s+)(?P<d>\d{{1,2}})(?P<o>)(?P<b>,?\s+)(?P<y>\d{{4}})"),
    re.compile(rf"(?P<d>\d{{1,2}})(?P<o>)(?P<a>\s+)(?P<m>{_NAME})(?P<b>,?\s+)(?P<y>\d{{4}})"),
)  # fmt: skip

_MIN_SHIFT_DAYS = 30
_MAX_SHIFT_DAYS = 400
_OLDEST_AGE_YEARS = 120
_DAYS_PER_YEAR = 365.25
# A date that is none (31/02): a keyed one within these ages instead.
_INVENTED_AGES_YEARS = (18, 90)


def _today() -> datetime.date:
    return datetime.datetime.now(datetime.UTC).date()


def _plausible(date: datetime.date, today: datetime.date) -> bool:
    return date <= today and today.year - date.year <= _OLDEST_AGE_YEARS


def _shifted(pick: Pick, date: datetime.date) -> datetime.date:
    """30 to 400 days away, either way; the other way when that leaves a person's
    lifetime (a baby's date pushed into the future)."""
    span = _MAX_SHIFT_DAYS - _MIN_SHIFT_DAYS + 1
    days = _MIN_SHIFT_DAYS + pick("birth_date", date.isoformat(), 2 * span)
    if days >= _MIN_SHIFT_DAYS + span:
        days = -(days - span)
    today = _today()
    for candidate_days in (days, -days):
        try:
            candidate = date + datetime.timedelta(days=candidate_days)
        except OverflowError:
            continue
        if _plausible(candidate, today) or not _plausible(date, today):
            return candidate
    return date - datetime.timedelta(days=abs(days))


def _invented(pick: Pick, value: str) -> datetime.date:
    """A keyed date in an adult's lifetime, for a value that is no real date."""
    youngest, oldest = _INVENTED_AGES_YEARS
    low = int(youngest * _DAYS_PER_YEAR)
    days = low + pick("birth_date:invented", value, int(oldest * _DAYS_PER_YEAR) - low)
    return _today() - datetime.timedelta(days=days)


def _date(year: int, month: int, day: int) -> datetime.date | None:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


def _month_of(name: str, languages: tuple[str, ...]) -> tuple[str, bool, int] | None:
    """(language, abbreviated, month number) of a month's name, or None."""
    folded = fold(name.rstrip("."))
    for language in languages:
        for abbreviated, names in (
            (False, _MONTH_NAMES[language]),
            (True, _MONTH_ABBREVIATIONS[language]),
        ):
            for number, spelling in enumerate(names, 1):
                if fold(spelling) == folded:
                    return language, abbreviated, number
    return None


def _month_name(original: str, language: str, abbreviated: bool, months: tuple[int, int]) -> str:
    """The fake month's name (``months``: the original's and the fake's numbers) in the
    original's language, form, casing and dot; without accents when the original's
    name has them and was written without ("marco" for "março")."""
    names = (_MONTH_ABBREVIATIONS if abbreviated else _MONTH_NAMES)[language]
    name = names[months[1] - 1]
    bare = original.rstrip(".")
    if bare.isascii() and not names[months[0] - 1].isascii():
        decomposed = unicodedata.normalize("NFKD", name)
        name = "".join(c for c in decomposed if not unicodedata.combining(c))
    if bare.isupper() and len(bare) > 1:
        name = name.upper()
    elif bare[:1].isupper():
        name = name.capitalize()
    return name + original[len(bare) :]


def _numeric_date(pick: Pick, value: str, m: re.Match[str]) -> str:
    """dd/mm/yyyy, dd-mm-yy, or mm/dd/yyyy when only that reads as a date (03/25/1985);
    03/04/1985 reads day first."""
    first, sep, second, year_text, rest = m[1], m[2], m[3], m[4], m[5]
    two_digit = len(year_text) == 2
    year = int(year_text)
    if two_digit:
        year += 2000 if year <= _today().year % 100 else 1900
    day_first = _date(year, int(second), int(first))
    month_first = None if day_first else _date(year, int(first), int(second))
    date = day_first or month_first
    fake = _invented(pick, value) if date is None else _shifted(pick, date)
    year_out = f"{fake.year % 100:02d}" if two_digit else f"{fake.year:04d}"
    day_width, month_width = (len(first), len(second)) if month_first is None else (
        len(second), len(first))  # fmt: skip
    day = f"{fake.day:0{day_width}d}"
    month = f"{fake.month:0{month_width}d}"
    parts = (day, month) if month_first is None else (month, day)
    return f"{parts[0]}{sep}{parts[1]}{sep}{year_out}{rest}"


def _written_date(pick: Pick, value: str, m: re.Match[str], with_de: bool) -> str | None:
    found = _month_of(m["m"], _WITH_DE if with_de else _WITHOUT_DE)
    if found is None:
        return None
    language, abbreviated, month = found
    date = _date(int(m["y"]), month, int(m["d"]))
    fake = _shifted(pick, date) if date else _invented(pick, value)
    day = f"{fake.day:0{len(m['d'])}d}" if m["d"].startswith("0") else str(fake.day)
    name = _month_name(m["m"], language, abbreviated, (month, fake.month))
    # "1º de março": Portuguese writes the first day as an ordinal, no other.
    ordinal = m["o"] if fake.day == 1 else ""
    parts = {"d": day, "o": ordinal, "a": m["a"], "m": name, "b": m["b"], "y": str(fake.year)}
    order = "doamby" if m.start("d") < m.start("m") else "madoby"
    return "".join(parts[key] for key in order)


def fake_date(pick: Pick, value: str) -> str:
    """Another real date in the same layout (ISO, yyyymmdd, dd/mm/yyyy, mm/dd/yyyy,
    "14 de março de 1985", "March 14, 1985"); anything else gets new digits in place."""
    text = value.strip()
    m = _ISO.fullmatch(text)
    if m and (date := _date(int(m[1]), int(m[3]), int(m[4]))):
        fake = _shifted(pick, date)
        sep = m[2]
        written = f"{fake.year:04d}{sep}{fake.month:02d}{sep}{fake.day:02d}{m[5]}"
        return value.replace(text, written, 1)
    if (m := _NUMERIC.fullmatch(text)) and (written := _numeric_date(pick, text, m)):
        return value.replace(text, written, 1)
    for index, pattern in enumerate(_WRITTEN):
        m = pattern.fullmatch(text)
        if m and (written := _written_date(pick, text, m, with_de=index == 0)):
            return value.replace(text, written, 1)
    if m := _ISO.fullmatch(text):  # eight digits or yyyy-mm-dd that are no date
        fake = _invented(pick, text)
        sep = m[2]
        written = f"{fake.year:04d}{sep}{fake.month:02d}{sep}{fake.day:02d}{m[5]}"
        return value.replace(text, written, 1)
    return fake_in_layout(pick, "birth_date", value)
