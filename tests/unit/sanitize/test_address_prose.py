"""Streets in prose that went out whole: a Brazilian street with no number after a word
saying one lives there or before its bairro ("mora na Rua das Acácias, bairro Centro"),
and a United States street whose name has several words before a common suffix ("77
North Main Street", "12 Martin Luther King Blvd"). Streets from Faker's pt_BR and en_US providers (fixed seeds);
product names holding a street's word stay.
"""

from __future__ import annotations

import pytest
from faker import Faker
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.sanitize_helpers import sanitized_plain_text, sanitizer

SANITIZER = sanitizer()


def _text(body: str) -> str:
    return sanitized_plain_text(SANITIZER, body)


def _streets(seed: int, count: int = 20) -> list[tuple[str, str]]:
    fake = Faker("pt_BR")
    fake.seed_instance(seed)
    return [(fake.street_name(), fake.bairro()) for _ in range(count)]


_RESIDENT_NOTES = ("mora na {s}", "Cliente reside na {s}.", "Paciente residente na {s}, sem "
                   "acompanhante", "Moro na {s} desde 2019")  # fmt: skip


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("note", _RESIDENT_NOTES)
def test_a_street_with_no_number_after_where_one_lives_is_replaced(seed: int, note: str) -> None:
    for street, _ in _streets(seed):
        out = _text(note.format(s=street))
        assert street not in out and "SANITIZED_ADDRESS" in out, out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_a_street_with_no_number_before_its_bairro_is_replaced_with_it(seed: int) -> None:
    for street, bairro in _streets(seed):
        out = _text(f"Entrega: {street}, bairro {bairro}. Ligar antes.")
        assert street not in out and bairro not in out, out


@pytest.mark.parametrize(
    ("text", "left"),
    [("mora na Rua das Acácias, bairro Centro", "mora na SANITIZED_ADDRESS"),
     ("Cliente reside na Avenida Paulista.", "Cliente reside na SANITIZED_ADDRESS."),
     ("Rua das Flores - Bairro Jardim América, ok", "SANITIZED_ADDRESS, ok"),
     ("Moro na Travessa do Ouvidor, perto do metrô", "Moro na SANITIZED_ADDRESS, perto do metrô")],
)  # fmt: skip
def test_the_tasks_examples_are_replaced(text: str, left: str) -> None:
    assert _text(text) == left


@pytest.mark.parametrize(
    "street",
    ["12 Martin Luther King Blvd", "5 Old Mill Road", "77 North Main Street",
     "1600 Pennsylvania Avenue", "40 N Main St", "8 West Lake Shore Drive",
     "221 Baker Street"],
)  # fmt: skip
def test_a_us_street_whose_name_has_several_words_is_replaced(street: str) -> None:
    assert _text(f"Lives at {street}, call first.") == "Lives at SANITIZED_ADDRESS, call first."


def test_faker_us_streets_with_two_word_names_are_replaced() -> None:
    fake = Faker("en_US")
    fake.seed_instance(9)
    for _ in range(40):
        street = f"{fake.building_number()} {fake.first_name()} {fake.last_name()} "
        street += fake.random_element(("Street", "Avenue", "Road", "Drive", "Lane", "Blvd", "St"))
        assert street not in _text(f"Ship to {street} today"), street


@pytest.mark.parametrize(
    "text",
    ["Camiseta Rua Augusta tamanho M", "Quadro Avenida Paulista", "Compre o livro Rua das Ilusões",
     "4 Seasons Hotel Park", "The 5 Guys Burger Place", "Top 10 New York Street Foods",
     "2 Old Spice Body Wash", "Temos 3 Red Bull Energy Drink", "mora em Campinas",
     "lives in São Paulo", "12 items shipped to North Main Street", "Route 66 Diner",
     "A Rua Augusta é famosa", "Avenida Paulista fechada para carros no domingo"],
)  # fmt: skip
def test_product_names_and_places_with_street_words_stay(text: str) -> None:
    assert _text(text) == text


_WORD = st.sampled_from(
    ["Acácias", "Flores", "Paulista", "Ipiranga", "Mendes", "Cavalcante", "Moreira", "Luz",
     "Oliveira", "Rosa", "Novaes", "Azevedo", "Brasil", "Andradas", "Palmeiras"]
)  # fmt: skip
_TYPE = st.sampled_from(["Rua", "Avenida", "Travessa", "Alameda", "Praça", "Estrada", "Vila"])
_PARTICLE = st.sampled_from(["", "das ", "dos ", "da ", "de "])


@settings(max_examples=200, deadline=None)
@given(_TYPE, _PARTICLE, st.lists(_WORD, min_size=1, max_size=3), _WORD)
def test_any_numberless_street_where_one_lives_is_replaced(
    kind: str, particle: str, words: list[str], bairro: str
) -> None:
    street = f"{kind} {particle}{' '.join(words)}"
    assume(not is_token(street))
    out = _text(f"Paciente mora na {street}, bairro {bairro}. Retorno em 30 dias.")
    assert street not in out and out.startswith("Paciente mora na SANITIZED_ADDRESS")
