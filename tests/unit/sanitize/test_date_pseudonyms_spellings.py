"""Every locale's month names are months: "Sept 5, 1990" (the United Kingdom's, and
Spain's "sept"), Peru's and Uruguay's "setiembre" and "set.", Portuguese "set." once
went out as they came. Counted over CLDR's date formats for pt_BR, pt_PT, es_ES, es_MX,
es_AR, es_PE, en_US and en_GB (date_locale_corpus): before, 11 of 640 dates leaked and 64
pseudonyms read as no date of the text's language.
"""

from __future__ import annotations

import pytest

from tests.unit.sanitize.date_locale_corpus import (
    LOCALES,
    cases,
    outcome,
    read_back,
    sanitized,
)
from tests.unit.sanitize.sanitize_helpers import sanitizer

PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-spellings")
TOKENS = sanitizer()


@pytest.mark.parametrize("locale", sorted(LOCALES))
def test_every_locales_birth_dates_are_replaced_and_read_in_its_language(locale: str) -> None:
    outcomes = [(c.value, c.where, outcome(PSEUDONYMS, c)) for c in cases(60) if c.locale == locale]
    assert [o for o in outcomes if o[2] != "ok"] == []


@pytest.mark.parametrize(
    ("text", "value", "language"),
    [
        ("Date of birth: {}", "Sept 5, 1990", "en"),
        ("Patient born on {}.", "Sept. 5, 1990", "en"),
        ("DOB: {}", "5 Sept 1990", "en"),
        ("Fecha de nacimiento: {}", "5 de setiembre de 1990", "es"),
        ("La paciente nacida el {}, vuelve el lunes", "5 set. 1990", "es"),
        ("Fecha de nacimiento: {}", "5 sept 1990", "es"),
        ("Data de nascimento: {}", "5 de set. de 1990", "pt"),
        ("nascido em {}", "5 set 1990", "pt"),
    ],
)
def test_septembers_other_spellings_are_months(text: str, value: str, language: str) -> None:
    for replacer in (PSEUDONYMS, TOKENS):
        out = sanitized(replacer, {"observacao": text.format(value)})["observacao"]
        assert value not in out, out
    head, tail = text.split("{}")
    out = sanitized(PSEUDONYMS, {"observacao": text.format(value)})["observacao"]
    fake = out.removeprefix(head).removesuffix(tail).replace("Sept.", "Sept")
    assert read_back(fake.replace(". ", " ").replace(" de ", " "), language) is not None, out


@pytest.mark.parametrize(
    ("field", "value", "language"),
    [
        ("birthDate", "Sept 5, 1990", "en"),
        ("fechaNacimiento", "5 de setiembre de 1990", "es"),
        ("fechaNacimiento", "5 set. 1990", "es"),
        ("dataNascimento", "5 de set. de 1990", "pt"),
    ],
)
def test_a_birth_field_holding_another_spelling_gets_a_date_of_its_language(
    field: str, value: str, language: str
) -> None:
    fake = sanitized(PSEUDONYMS, {field: value})[field]
    faked = read_back(fake.replace(". ", " ").replace(" de ", " "), language)
    assert faked is not None and faked != read_back(value.replace(". ", " "), language), fake


# Dates that are no birth dates (no birth cue) stay, in any spelling.
MUST_STAY = [
    "Invoice date: Sept 5, 2025",
    "Due Sept 5, 2025",
    "Vencimiento: 5 de setiembre de 2025",
    "Vencimento: 5 set. 2025",
    "Creado el 5 sept 2025",
    "Pedido de 12 mar 2024 entregue",
    "Campo Grande, 15 de março",
    "Mar del Plata 1985",
    "Sept Grammes, 12 rue de la Paix",
]


@pytest.mark.parametrize("text", MUST_STAY)
def test_a_date_without_a_birth_cue_stays(text: str) -> None:
    for replacer in (PSEUDONYMS, TOKENS):
        assert sanitized(replacer, {"observacao": text}) == {"observacao": text}


def test_the_corpus_holds_every_locales_own_september() -> None:
    words = {word for c in cases(200) for word in c.value.replace(",", "").split()}
    assert {"setiembre", "set.", "sept", "Sept", "Sep", "setembro", "septiembre"} <= words
