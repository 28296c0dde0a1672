"""Birth dates as each locale writes them, for the date pseudonyms' tests and counts.

Faker's birth dates (seeded, within ``date_of_birth``'s range from a fixed day) written in CLDR's long and medium date formats with
CLDR's month names for pt_BR, pt_PT, es_ES, es_MX, es_AR, es_PE, en_US and en_GB (Peru
writes "setiembre" and "set.", Spain and Argentina "sept.", the United Kingdom "Sept"),
after that language's birth cue in free text and under a birth field in JSON.

    PYTHONPATH=<tree> python -m tests.unit.sanitize.date_locale_corpus

prints, per locale, how many dates leak (the original still in the output) and how many
pseudonyms read wrong (no real date, or a month named in another language).
"""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from datetime import date
from typing import NamedTuple

from faker import Faker

from ext_proc_server.sanitize import Sanitizer
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer
from tests.unit.sanitize.test_pseudonym_shapes import MONTHS

_WIDE = {
    "pt": MONTHS["pt"],
    "es": MONTHS["es"],
    "es_PE": (*MONTHS["es"][:8], "setiembre", *MONTHS["es"][9:]),  # Peru's September
    "en": MONTHS["en"],
}
_ABBREVIATED = {
    "pt": ("jan.", "fev.", "mar.", "abr.", "mai.", "jun.", "jul.", "ago.", "set.", "out.",
           "nov.", "dez."),
    "es": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov",
           "dic"),
    "es_MX": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov",
              "dic"),
    "es_PE": ("ene.", "feb.", "mar.", "abr.", "may.", "jun.", "jul.", "ago.", "set.", "oct.",
              "nov.", "dic."),
    "en_US": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
              "Dec"),
    "en_GB": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sept", "Oct", "Nov",
              "Dec"),
}  # fmt: skip


class Locale(NamedTuple):
    language: str
    wide: str
    abbreviated: str
    # CLDR's long and medium date patterns, as str.format templates.
    formats: tuple[str, ...]


_DE = "{d} de {m} de {y}"
LOCALES = {
    "pt_BR": Locale("pt", "pt", "pt", (_DE, "{d} de {a} de {y}")),
    "pt_PT": Locale("pt", "pt", "pt", (_DE, "{dd}/{mm}/{y}")),
    "es_ES": Locale("es", "es", "es", (_DE, "{d} {a} {y}")),
    "es_MX": Locale("es", "es", "es_MX", (_DE, "{d} {a} {y}")),
    "es_AR": Locale("es", "es", "es", (_DE, "{d} {a} {y}")),
    "es_PE": Locale("es", "es_PE", "es_PE", (_DE, "{d} {a} {y}")),
    "en_US": Locale("en", "en", "en_US", ("{m} {d}, {y}", "{a} {d}, {y}")),
    "en_GB": Locale("en", "en", "en_GB", ("{d} {m} {y}", "{d} {a} {y}")),
}
CUES = {
    "pt": ("Data de nascimento: {}", "Paciente nascida em {}, retorno em 30 dias"),
    "es": ("Fecha de nacimiento: {}", "La paciente nacida el {}, vuelve en 30 días"),
    "en": ("Date of birth: {}", "Patient born on {}, follow-up in 30 days"),
}
FIRST_BIRTH = date(1911, 12, 1)
LAST_BIRTH = date(2026, 11, 30)
FIELDS = {"pt": "dataNascimento", "es": "fechaNacimiento", "en": "birthDate"}


def month_reads(name: str, language: str) -> int | None:
    """The month ``name`` reads as in ``language`` by any of its locales' CLDR names
    (with or without the dot and accents), or None."""
    bare = _plain(name.rstrip("."))
    for names in (*_WIDE.items(), *_ABBREVIATED.items()):
        if names[0].split("_")[0] != language:
            continue
        for month, spelling in enumerate(names[1], 1):
            if _plain(spelling.rstrip(".")) == bare:
                return month
    return None


def _plain(text: str) -> str:
    return text.lower().replace("ç", "c")


def written(born: date, locale: str, layout: str) -> str:
    names = LOCALES[locale]
    return layout.format(
        d=born.day,
        dd=f"{born.day:02d}",
        mm=f"{born.month:02d}",
        m=_WIDE[names.wide][born.month - 1],
        a=_ABBREVIATED[names.abbreviated][born.month - 1],
        y=born.year,
    )


def read_back(text: str, language: str) -> date | None:
    """The date a pseudonym in any of the corpus's layouts reads as in ``language``."""
    numeric = re.fullmatch(r"(\d{2})/(\d{2})/(\d{4})", text)
    if numeric:
        parts: tuple[int | None, ...] = (int(numeric[3]), int(numeric[2]), int(numeric[1]))
    elif m := re.fullmatch(r"(\d{1,2})(?: de | )([^\W\d]+\.?)(?: de | )(\d{4})", text):
        parts = (int(m[3]), month_reads(m[2], language), int(m[1]))
    elif m := re.fullmatch(r"([^\W\d]+\.?) (\d{1,2}), (\d{4})", text):
        parts = (int(m[3]), month_reads(m[1], language), int(m[2]))
    else:
        return None
    year, month, day = parts
    try:
        return date(year, month, day) if month and year and day else None
    except ValueError:
        return None


class Case(NamedTuple):
    locale: str
    value: str
    where: str  # "text" or "field"
    body: dict[str, str]


def cases(per_locale: int = 40) -> list[Case]:
    out = []
    for locale, names in LOCALES.items():
        Faker.seed(sum(map(ord, locale)))
        faker = Faker()
        for i in range(per_locale):
            # date_of_birth's range (0 to 115 years), from a fixed day: the same corpus
            # whatever day it is built.
            born = faker.date_between_dates(FIRST_BIRTH, LAST_BIRTH)
            layout = names.formats[i % len(names.formats)]
            value = written(born, locale, layout)
            cue = CUES[names.language][i % 2]
            out.append(Case(locale, value, "text", {"observacao": cue.format(value)}))
            out.append(Case(locale, value, "field", {FIELDS[names.language]: value}))
    return out


def sanitized(pseudonyms: Sanitizer, body: dict[str, str]) -> dict[str, str]:
    exchange = request_exchange(body=json.dumps(body, ensure_ascii=False))
    return json.loads(pseudonyms.sanitize(exchange).request.body)


def outcome(pseudonyms: Sanitizer, case: Case) -> str:
    """ "leak" (the original date still there), "wrong" (its pseudonym no real date in
    the locale's language, or the same date) or "ok"."""
    out = sanitized(pseudonyms, case.body)
    text = next(iter(out.values()))
    if case.value in text:
        return "leak"
    language = LOCALES[case.locale].language
    fake = text
    if case.where == "text":
        template = next(c for c in CUES[language] if c.format(case.value) in case.body.values())
        head, tail = template.split("{}")
        fake = text.removeprefix(head).removesuffix(tail)
    original = read_back(case.value, language)
    faked = read_back(fake, language)
    return "ok" if faked is not None and faked != original else "wrong"


def counts(per_locale: int = 40) -> dict[str, Counter[str]]:
    pseudonyms = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-locales")
    by_locale: dict[str, Counter[str]] = {}
    for case in cases(per_locale):
        by_locale.setdefault(case.locale, Counter())[outcome(pseudonyms, case)] += 1
    return by_locale


if __name__ == "__main__":
    result = counts()
    total: Counter[str] = Counter()
    for locale, counted in result.items():
        total += counted
        print(locale, dict(counted))
    print("total", dict(total), "of", sum(total.values()))
    sys.exit(0)
