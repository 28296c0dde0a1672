"""Addresses and birth dates no one on the project wrote (Faker's pt_BR, pt_PT, es_ES and
en_US providers, address_corpus) went out in prose: a birth date written yyyymmdd after
its cue ("DN: 19850314", 3,600 of 3,600) or after a Spanish one ("fecha de nacimiento",
"nacida el"), a CEP after its name ("CEP 01310-100", 360 of 360), every United States
street ("141 Hodges Mountains", 630 of 630), most of Spain's ("Callejón Desiderio
Valbuena 77", 532 of 630) and Portugal's "Praça de Vaz, S/N"; Google's sublocality (the
bairro) stayed in every geocoding answer. The corpus counts what still goes out, class by
class, each under a ceiling measured and listed below.
"""

from __future__ import annotations

import json
from datetime import date

import pytest
from faker.providers.address.en_US import Provider as UnitedStates
from faker.providers.address.es_ES import Provider as Spain
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.address_corpus import leaks
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitized_plain_text, sanitizer

SANITIZER = sanitizer()


def _text(body: str) -> str:
    return sanitized_plain_text(SANITIZER, body)


# What still goes out of the corpus (3 seeds, 8 values per seed and locale), by class,
# each ceiling the count measured, so a regression shows (a class not listed: 0):
# - A house number in a form whose only other field is a name: nothing says the form is
#   a person's address (fields.py, forms.py).
# A pt_BR street with no number after "Endereço:" or "entregar em" ("Pátio Lorenzo
# Camargo") went out until 2026-12-07 (2): delivery_cues.
CEILINGS = {
    "form building_number beside a name": 96,
}


def test_the_faker_corpus_leaks_no_more_than_its_ceilings() -> None:
    found, placed, examples = leaks(SANITIZER, count=8)
    assert sum(placed.values()) > 18000
    over = {cls: (found[cls], examples[cls]) for cls in found if found[cls] > CEILINGS.get(cls, 0)}
    assert over == {}


@pytest.mark.parametrize(
    "note",
    ["DN: 19850314", "nascido em 19850314", "Date of birth: 19850314", "DOB 19850314",
     "fecha de nacimiento: 14/03/1985", "nacida el 14/03/1985", "Nació el 14 de marzo de 1985",
     "data nasc: 1985-03-14"],
)  # fmt: skip
def test_a_birth_date_after_its_cue_is_replaced(note: str) -> None:
    assert "1985" not in _text(f"Paciente: ver ficha. {note}. Retorno em 30 dias.")


@pytest.mark.parametrize(
    "text",
    ["Pedido 20240314 enviado", "lote 19850314 conferido", "DN 20241399", "DN 1985031415",
     "nascimento do projeto: versão 2", "nació en Sevilla"],
)  # fmt: skip
def test_eight_digits_without_a_cue_or_no_date_stay(text: str) -> None:
    assert _text(text) == text


@pytest.mark.parametrize(
    ("text", "left"),
    [("Entregar no CEP 01310-100 até sexta", "Entregar no CEP SANITIZED_CEP até sexta"),
     ("cep: 01310100", "cep: SANITIZED_CEP"),
     ("CEP. 18208-123 -", "CEP. SANITIZED_CEP -"),
     ("Cep: 29.160-541| Bairro", "Cep: SANITIZED_CEP| Bairro"),
     ("código postal 1250-096 Lisboa", "código postal SANITIZED_CEP Lisboa"),
     ("ZIP 94105-1234, USA", "ZIP SANITIZED_CEP, USA")],
)  # fmt: skip
def test_a_postal_code_after_its_name_is_replaced(text: str, left: str) -> None:
    assert _text(text) == left


@pytest.mark.parametrize(
    "text",
    ["cep_origem=01310100", "CEP inválido", "zip 1.2.3", "arquivo.zip 2024"],
)
def test_what_only_names_a_postal_code_stays(text: str) -> None:
    assert _text(text) == text


@pytest.mark.parametrize(
    "street",
    ["141 Hodges Mountains", "353 Kathleen Highway Apt. 681", "12 Oak St.", "350 Fifth Ave",
     "Callejón Desiderio Valbuena 77", "Ronda Lucila Andres 837 Puerta 3",
     "Plaza de Teodora Porta 19", "C. de Nieves Verdú 12", "C. Piedad Nevado 84 Apt. 69",
     "Calle Mayor 5", "Urbanización Amado Egea 32", "Praça de Vaz, S/N", "Rua Ema, s/nº"],
)  # fmt: skip
def test_other_countries_streets_in_prose_are_replaced(street: str) -> None:
    assert _text(f"Cliente mora na {street}, ligar antes.") == (
        "Cliente mora na SANITIZED_ADDRESS, ligar antes."
    )


def test_a_us_address_with_its_city_and_zip_is_replaced_whole() -> None:
    out = _text("Ship to 70669 Heather Grove, New Sierra, MH 42107 today")
    assert out == "Ship to SANITIZED_ADDRESS today"


@pytest.mark.parametrize(
    "text",
    ["la entrada cuesta 15 euros", "Acceso Total 24 horas", "Ronda 2 de 5", "v1.2 Main St", "Plaza Mayor", "3 Park", "item 4 de 12", "Camino Real, 3 de março",
     "#12 Main Street Fix"],
)  # fmt: skip
def test_prose_with_those_words_stays(text: str) -> None:
    assert _text(text) == text


# Faker's own lists: a prefix or suffix Faker adds is held too.
@pytest.mark.parametrize("prefix", sorted(set(Spain.street_prefixes)))
def test_every_faker_spanish_street_prefix_is_read(prefix: str) -> None:
    assert _text(f"Vive en {prefix} Lucila Andres 837.") == "Vive en SANITIZED_ADDRESS."


@pytest.mark.parametrize("suffix", sorted(set(UnitedStates.street_suffixes)))
def test_every_faker_us_street_suffix_is_read(suffix: str) -> None:
    assert _text(f"Lives at 141 Hodges {suffix}, ok.") == "Lives at SANITIZED_ADDRESS, ok."


_NAME = st.sampled_from(["Hodges", "Kathleen", "Oak", "Maple", "Washington", "Heather"])


@settings(max_examples=200, deadline=None)
@given(
    born=st.dates(min_value=date(1900, 1, 1), max_value=date(2026, 12, 1)),
    cue=st.sampled_from(["DN", "nascido em", "born on", "DOB:", "data de nascimento"]),
)
def test_any_birth_date_written_yyyymmdd_after_a_cue_is_replaced(born: date, cue: str) -> None:
    written = born.strftime("%Y%m%d")
    out = _text(f"{cue} {written}")
    assert written not in out and is_token(out.split()[-1])


@settings(max_examples=200, deadline=None)
@given(
    number=st.integers(min_value=1, max_value=99999),
    name=_NAME,
    suffix=st.sampled_from(sorted(set(UnitedStates.street_suffixes))),
)
def test_any_us_street_is_replaced(number: int, name: str, suffix: str) -> None:
    street = f"{number} {name} {suffix}"
    assert _text(f"Lives at {street}.") == "Lives at SANITIZED_ADDRESS."


@pytest.mark.parametrize(
    ("key", "value"),
    [("fechaNacimiento", "14/03/1985"), ("fecha_de_nacimiento", "1985-03-14"),
     ("district", "Vila Mariana"), ("distrito", "Arroios")],
)  # fmt: skip
def test_a_spanish_birth_date_and_a_persons_district_are_replaced(key: str, value: str) -> None:
    body = json.dumps({"cpf": "111.444.777-35", "nombre": "Lucía Gómez", key: value})
    out = SANITIZER.sanitize(request_exchange(body=body)).request.body.decode()
    assert value not in out


def test_a_renaissance_and_a_companys_district_stay() -> None:
    body = json.dumps({"cnpj": "11.222.333/0001-81", "district": "Centro", "renacimiento": "1"})
    out = SANITIZER.sanitize(request_exchange(body=body)).request.body.decode()
    kept = json.loads(out)
    assert (kept["district"], kept["renacimiento"]) == ("Centro", "1")
