"""Pseudonyms that read right: a birth date becomes another real date a person could
have been born on, in its layout and language ("14 de marzo de 1985" once became "46 de
marzo de 3633"); "S/N" stays; Spanish street types and the United States' suffixes stay
with their layout ("Calle Mayor, 12" -> "Calle Y, 57"); a postal code keeps its
country's layout.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.pseudonym import Replacer
from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.sanitize_helpers import sanitized_note, sanitizer

REPLACER = Replacer(key=b"k" * 32)
OTHER_KEY = Replacer(key=b"o" * 32)
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-shapes")
TODAY = datetime.now(UTC).date()
OLDEST_AGE_YEARS = 120

MONTHS = {
    "pt": ("janeiro", "fevereiro", "março", "abril", "maio", "junho", "julho", "agosto",
           "setembro", "outubro", "novembro", "dezembro"),
    "es": ("enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"),
    "en": ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"),
    "pt_abbr": ("jan", "fev", "mar", "abr", "mai", "jun", "jul", "ago", "set", "out", "nov",
                "dez"),
    "es_abbr": ("ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sep", "oct", "nov",
                "dic"),
    "en_abbr": ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov",
                "Dec"),
}  # fmt: skip
# A name two languages or forms share ("abril", "feb", "May") reads in either: the
# pseudonym may be written in the other one.
ABBREVIATIONS = ("pt_abbr", "es_abbr", "en_abbr")
SHARED = {"pt": ("es",), "es": ("pt",), "en": ("en_abbr",)} | {
    names: (*ABBREVIATIONS, "en") for names in ABBREVIATIONS
}

# layout -> (writer, reader): the reader returns the date a text holds in that layout.
NUMERIC = {
    "iso": "%Y-%m-%d",
    "yyyymmdd": "%Y%m%d",
    "dd/mm/yyyy": "%d/%m/%Y",
    "dd-mm-yyyy": "%d-%m-%Y",
    "dd.mm.yyyy": "%d.%m.%Y",
}
WRITTEN = {
    "de": ("{d} de {m} de {y}", r"(\d{1,2}) de (\w+) de (\d{4})"),
    "de_dot": ("{d} de {m}. de {y}", r"(\d{1,2}) de (\w+)\. de (\d{4})"),
    "month_first": ("{m} {d}, {y}", r"(\w+) (\d{1,2}), (\d{4})"),
    "day_first": ("{d} {m} {y}", r"(\d{1,2}) (\w+) (\d{4})"),
}


def written(born: date, layout: str, names: str) -> str:
    pattern = WRITTEN[layout][0]
    return pattern.format(d=born.day, m=MONTHS[names][born.month - 1], y=born.year)


def read_written(text: str, layout: str, names: str) -> date | None:
    m = re.fullmatch(WRITTEN[layout][1], text)
    if m is None:
        return None
    parts = dict(zip(("d", "m", "y"), m.groups(), strict=True))
    if layout == "month_first":
        parts = {"m": m[1], "d": m[2], "y": m[3]}
    for candidates in (names, *SHARED.get(names, ())):
        spellings = [n.lower() for n in MONTHS[candidates]]
        if parts["m"].lower() in spellings:
            try:
                return date(
                    int(parts["y"]), spellings.index(parts["m"].lower()) + 1, int(parts["d"])
                )
            except ValueError:
                return None
    return None


def read_numeric(text: str, layout: str) -> date | None:
    try:
        return datetime.strptime(text, NUMERIC[layout]).date()
    except ValueError:
        return None


def plausible(born: date | None) -> bool:
    return born is not None and born <= TODAY and TODAY.year - born.year <= OLDEST_AGE_YEARS


births = st.dates(min_value=TODAY - timedelta(days=115 * 365), max_value=TODAY)


# "de" around a month is Portuguese or Spanish writing; the others any language's.
WRITINGS = sorted(
    [("de", names) for names in ("pt", "es", "pt_abbr", "es_abbr")]
    + [("de_dot", names) for names in ("pt_abbr", "es_abbr")]
    + [(layout, names) for layout in ("month_first", "day_first") for names in MONTHS]
)


@settings(max_examples=300, deadline=None)
@given(born=births, writing=st.sampled_from(WRITINGS))
def test_a_written_birth_date_becomes_another_real_one_in_its_language(
    born: date, writing: tuple[str, str]
) -> None:
    layout, names = writing
    value = written(born, layout, names)
    fake = REPLACER("birth_date", value)
    assert not is_token(fake)
    assert plausible(read_written(fake, layout, names)), (value, fake)
    assert fake != value
    assert REPLACER("birth_date", value) == fake


@settings(max_examples=300, deadline=None)
@given(born=births, layout=st.sampled_from(sorted(NUMERIC)))
def test_a_numeric_birth_date_becomes_another_real_one_in_its_layout(
    born: date, layout: str
) -> None:
    value = born.strftime(NUMERIC[layout])
    fake = REPLACER("birth_date", value)
    assert not is_token(fake)
    assert plausible(read_numeric(fake, layout)), (value, fake)
    assert fake != value


@pytest.mark.parametrize("seed", range(40))
def test_fakers_birth_dates_read_as_birth_dates_in_every_layout(seed: int) -> None:
    Faker.seed(seed)
    born = Faker().date_of_birth()
    for layout in NUMERIC:
        fake = REPLACER("birth_date", born.strftime(NUMERIC[layout]))
        assert plausible(read_numeric(fake, layout)), (layout, fake)
    for layout in ("de", "day_first"):
        for names in ("pt", "es"):
            fake = REPLACER("birth_date", written(born, layout, names))
            assert plausible(read_written(fake, layout, names)), (layout, names, fake)
    for names in ("en", "en_abbr"):
        fake = REPLACER("birth_date", written(born, "month_first", names))
        assert plausible(read_written(fake, "month_first", names)), (names, fake)


@pytest.mark.parametrize(
    ("value", "shape"),
    [
        ("14 de marzo de 1985", r"\d{1,2} de (enero|febrero|marzo|abril|mayo|junio|julio|agosto"
         r"|septiembre|octubre|noviembre|diciembre) de 19\d\d"),
        ("14 de março de 1985", r"\d{1,2} de [a-zç]+ de 19\d\d"),
        ("14 DE MARZO DE 1985", r"\d{1,2} DE [A-Z]+ DE 19\d\d"),
        ("14 de marco de 1985", r"\d{1,2} de [a-z]+ de 19\d\d"),
        ("1º de março de 1985", r"(1º|[2-9]|[123]\d) de [a-zç]+ de 19\d\d"),
        ("March 14, 1985", r"[A-Z][a-z]+ \d{1,2}, 19\d\d"),
        ("03/25/1985", r"(0\d|1[0-2])/\d\d/19\d\d"),
    ],
)  # fmt: skip
def test_a_birth_date_keeps_its_language_casing_and_layout(value: str, shape: str) -> None:
    assert re.fullmatch(shape, REPLACER("birth_date", value))


def test_a_month_day_date_stays_month_day() -> None:
    fake = REPLACER("birth_date", "03/25/1985")
    assert datetime.strptime(fake, "%m/%d/%Y").date() != date(1985, 3, 25)


def test_a_birth_date_in_prose_becomes_a_spanish_date() -> None:
    out = sanitized_note(PSEUDONYMS, "nacida el 14 de marzo de 1985, cliente")
    m = re.search(r"(\d{1,2}) de (\w+) de (\d{4})", out)
    assert m is not None and "14 de marzo de 1985" not in out
    assert plausible(read_written(m[0], "de", "es")), out


def test_another_key_another_date() -> None:
    values = ("14 de marzo de 1985", "1985-03-14", "March 14, 1985", "14/03/1985")
    assert all(REPLACER("birth_date", v) != OTHER_KEY("birth_date", v) for v in values)


@pytest.mark.parametrize(
    ("value", "kept"),
    [
        ("Praça de Vaz, S/N", ", S/N"),
        ("Rua das Flores, s/nº", ", s/nº"),
        ("Calle Mayor S/N, Madrid", " S/N, "),
    ],
)
def test_no_number_stays(value: str, kept: str) -> None:
    assert kept in REPLACER("address", value)


@pytest.mark.parametrize(
    ("value", "shape", "gone"),
    [
        ("Calle Mayor, 12", r"Calle [A-Z]\w+, \d\d", "Mayor"),
        ("Plaza de Teodora Porta 19", r"Plaza de [A-Z]\w+ [A-Z]\w+ \d\d", "Teodora"),
        ("Paseo del Prado 8", r"Paseo del [A-Z]\w+ \d", "Prado"),
        ("Calle de la Luna 5, 28001 Madrid", r"Calle de la [A-Z]\w+ \d, \d{5} [A-Z]\w+", "Luna"),
        ("Glorieta Pilar Ruiz, 7", r"Glorieta [A-Z]\w+ [A-Z]\w+, \d", "Pilar"),
        ("141 Hodges Mountains", r"\d{3} [A-Z]\w+ Mountains", "Hodges"),
        ("12 Oak St. Apt. 4", r"\d\d [A-Z]\w+ St\. Apt\. \d", "Oak"),
        ("350 Fifth Ave Apt. 4", r"\d{3} [A-Z]\w+ Ave Apt\. \d", "Fifth"),
        ("1600 Amphitheatre Parkway", r"\d{4} [A-Z]\w+ Parkway", "Amphitheatre"),
    ],
)
def test_street_types_and_suffixes_stay(value: str, shape: str, gone: str) -> None:
    fake = REPLACER("address", value)
    assert re.fullmatch(shape, fake), fake
    assert gone not in fake
    assert REPLACER("address", value) == fake
    assert OTHER_KEY("address", value) != fake


def test_a_street_word_that_is_a_suffix_is_still_replaced() -> None:
    fake = REPLACER("address", "12 Green St")
    assert re.fullmatch(r"\d\d [A-Z]\w+ St", fake) and "Green" not in fake


@pytest.mark.parametrize(
    ("value", "shape"),
    [
        ("1234-567", r"[1-9]\d{3}-\d{3}"),  # Portugal
        ("28001", r"(0[1-9]|[1-4]\d|5[0-2])\d{3}"),  # Spain (or the United States)
        ("08001", r"(0[1-9]|[1-4]\d|5[0-2])\d{3}"),
        ("87630", r"[1-9]\d{4}"),  # the United States
        ("87630-1234", r"[1-9]\d{4}-\d{4}"),
        ("01310-100", r"\d{5}-\d{3}"),  # Brazil
        ("01.310-100", r"\d{2}\.\d{3}-\d{3}"),
    ],
)
def test_a_postal_code_keeps_its_countrys_layout(value: str, shape: str) -> None:
    fake = REPLACER("cep", value)
    assert re.fullmatch(shape, fake) and fake != value
    assert REPLACER("cep", value) == fake
    assert OTHER_KEY("cep", value) != fake


@pytest.mark.parametrize(
    ("address", "code"),
    [
        ("Rua das Flores, 123, 1234-567 Lisboa", "1234-567"),
        ("Calle Mayor 5, 28001 Madrid", "28001"),
        ("Av. Paulista 1000, 01310-100", "01310-100"),
        ("123 Main Street, Springfield, IL 62704-1234", "62704-1234"),
    ],
)
def test_a_postal_code_in_an_address_is_its_field_pseudonym(address: str, code: str) -> None:
    assert REPLACER("cep", code) in REPLACER("address", address)
