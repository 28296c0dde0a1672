"""Birth-date pseudonyms: another real date, in the layout and language it came in.

"14 de marzo de 1985" becomes "2 de febrero de 1986", "Mar 14, 1985" "Apr 27, 1984",
"19850314" "19840427": a date 30 to 400 days away, keyed on the original, kept in the
past and within a person's lifetime, so a mock's answer still reads as a birth date. A
month's name several languages share ("12 mar 1985") gets one they share too, so the
fake reads in the original's language whichever it was. No clock is read.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from typing import NamedTuple

from ext_proc_server.sanitize import month_names
from ext_proc_server.sanitize.fakes import Pick, fake_in_layout

# Where a name several languages share ("mar", "abril") may stand: "de" around it is
# Portuguese or Spanish writing, a month before the day English.
_WITH_DE = ("pt", "es")
_MONTH_FIRST = ("en",)
_ANY = ("en", "es", "pt")

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
# A day already past when this was written: a pseudonym lands no later than it, or than
# the original when that is later, so a fake birth date is never in the future. No clock
# is read: a pseudonym is the value's and the key's alone, the same tomorrow as today
# (a date near today once moved with the day, and the stub, its dedup and mocks with it).
_RECENT = datetime.date(2026, 1, 1)
_OLDEST = datetime.date(_RECENT.year - _OLDEST_AGE_YEARS, 1, 1)


def _plausible(candidate: datetime.date, original: datetime.date) -> bool:
    return _OLDEST <= candidate <= max(original, _RECENT)


def _shifted(
    pick: Pick, date: datetime.date, months: frozenset[int] | None = None
) -> datetime.date:
    """30 to 400 days away, either way; the other way when that leaves a person's
    lifetime (a baby's date pushed past the original and _RECENT); in one of ``months``
    when given (whose names read in the original's language)."""
    span = _MAX_SHIFT_DAYS - _MIN_SHIFT_DAYS + 1
    days = _MIN_SHIFT_DAYS + pick("birth_date", date.isoformat(), 2 * span)
    if days >= _MIN_SHIFT_DAYS + span:
        days = -(days - span)
    shifted = None
    for candidate_days in (days, -days):
        try:
            candidate = date + datetime.timedelta(days=candidate_days)
        except OverflowError:
            continue
        if _plausible(candidate, date) or not _plausible(date, date):
            shifted = candidate
            break
    if shifted is None:
        shifted = date - datetime.timedelta(days=abs(days))
    if months is None or shifted.month in months:
        return shifted
    return _shifted_into(pick, date, months) or shifted


def _shifted_into(pick: Pick, date: datetime.date, months: frozenset[int]) -> datetime.date | None:
    """A keyed one of the dates 30 to 400 days away, in a person's lifetime, in
    ``months``."""
    options = []
    for days in range(-_MAX_SHIFT_DAYS, _MAX_SHIFT_DAYS + 1):
        if abs(days) < _MIN_SHIFT_DAYS:
            continue
        try:
            candidate = date + datetime.timedelta(days=days)
        except OverflowError:
            continue
        if candidate.month in months and (
            _plausible(candidate, date) or not _plausible(date, date)
        ):
            options.append(candidate)
    if not options:
        return None
    return options[pick("birth_date:month", date.isoformat(), len(options))]


def _invented(pick: Pick, value: str, months: frozenset[int] | None = None) -> datetime.date:
    """A keyed date in an adult's lifetime, for a value that is no real date; in one of
    ``months`` when given (an earlier month's day, at most the 28th, when it falls in
    another)."""
    youngest, oldest = _INVENTED_AGES_YEARS
    low = int(youngest * _DAYS_PER_YEAR)
    days = low + pick("birth_date:invented", value, int(oldest * _DAYS_PER_YEAR) - low)
    invented = _RECENT - datetime.timedelta(days=days)
    if months is None or invented.month in months:
        return invented
    for back in range(1, 12):
        month_index = invented.year * 12 + invented.month - 1 - back
        if month_index % 12 + 1 in months:
            return datetime.date(month_index // 12, month_index % 12 + 1, min(invented.day, 28))
    return invented


def _date(year: int, month: int, day: int) -> datetime.date | None:
    try:
        return datetime.date(year, month, day)
    except ValueError:
        return None


class _MonthName(NamedTuple):
    """How a date's month is written: the name as it came, the month, and the
    languages (and forms: "may" is a full name and an abbreviation) it reads in."""

    original: str
    month: int
    languages: tuple[str, ...]
    forms: tuple[bool, ...]
    accented: bool

    def months(self) -> frozenset[int] | None:
        """The months a pseudonym may fall in: those one spelling writes in each of the
        name's languages ("mar", "jun", "jul", "nov" for "12 mar 1985", Spanish or
        English), so the fake reads in the original's language whichever it was; None
        for a name of one language."""
        if len(self.languages) == 1:
            return None
        return frozenset(
            month
            for month in range(1, 13)
            if month_names.shared_spelling(self.languages, self.forms, month)
        )

    def written(self, month: int) -> str:
        """``month``'s name in the original's languages, form, casing and dot; without
        accents when the original's name has them and was written without ("marco")."""
        bare = self.original.rstrip(".")
        if month == self.month:
            return self.original
        name = month_names.shared_spelling(self.languages, self.forms, month) or ""
        if bare.isascii() and self.accented:
            decomposed = unicodedata.normalize("NFKD", name)
            name = "".join(c for c in decomposed if not unicodedata.combining(c))
        if bare.isupper() and len(bare) > 1:
            name = name.upper()
        elif bare[:1].isupper():
            name = name.capitalize()
        return name + self.original[len(bare) :]


def _month_name(name: str, layout: tuple[str, ...]) -> _MonthName | None:
    """The month a name reads as, in the languages its layout allows (no "de" in
    English, no month before the day in Portuguese or Spanish) when it reads in any."""
    found = month_names.readings(name)
    if not found:
        return None
    read = {r.language for r in found}
    languages = tuple(language for language in layout if language in read)
    if not languages:
        languages = tuple(language for language in _ANY if language in read)
    first = next(r for r in found if r.language in languages)
    kept = [r for r in found if r.language in languages and r.month == first.month]
    return _MonthName(
        original=name,
        month=first.month,
        languages=tuple(dict.fromkeys(r.language for r in kept)),
        forms=tuple(dict.fromkeys(r.abbreviated for r in kept)),
        accented=not first.spelling.isascii(),
    )


def _numeric_date(pick: Pick, value: str, m: re.Match[str]) -> str:
    """dd/mm/yyyy, dd-mm-yy, or mm/dd/yyyy when only that reads as a date (03/25/1985);
    03/04/1985 reads day first."""
    first, sep, second, year_text, rest = m[1], m[2], m[3], m[4], m[5]
    two_digit = len(year_text) == 2
    year = int(year_text)
    if two_digit:
        year += 2000 if year <= _RECENT.year % 100 else 1900
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


def _written_date(pick: Pick, value: str, m: re.Match[str], layout: tuple[str, ...]) -> str | None:
    month_name = _month_name(m["m"], layout)
    if month_name is None:
        return None
    months = month_name.months()
    date = _date(int(m["y"]), month_name.month, int(m["d"]))
    fake = _shifted(pick, date, months) if date else _invented(pick, value, months)
    day = f"{fake.day:0{len(m['d'])}d}" if m["d"].startswith("0") else str(fake.day)
    # "1º de março": Portuguese writes the first day as an ordinal, no other.
    ordinal = m["o"] if fake.day == 1 else ""
    parts = {
        "d": day, "o": ordinal, "a": m["a"], "m": month_name.written(fake.month), "b": m["b"],
        "y": str(fake.year),
    }  # fmt: skip
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
    for pattern, layout in zip(_WRITTEN, (_WITH_DE, _MONTH_FIRST, _ANY), strict=True):
        m = pattern.fullmatch(text)
        if m and (written := _written_date(pick, text, m, layout)):
            return value.replace(text, written, 1)
    if m := _ISO.fullmatch(text):  # eight digits or yyyy-mm-dd that are no date
        fake = _invented(pick, text)
        sep = m[2]
        written = f"{fake.year:04d}{sep}{fake.month:02d}{sep}{fake.day:02d}{m[5]}"
        return value.replace(text, written, 1)
    return fake_in_layout(pick, "birth_date", value)
