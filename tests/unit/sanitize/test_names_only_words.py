"""People's names whose every word is also a common word or a place's, as Spain and
Portugal write them (``Nieves Redondo Verdugo``, ``Belén Iván Río``, ``Duarte
Fonseca-Marques``), and en_US names with an honorific and a suffix (``Mr. Seth Yoder
Jr.``): they went out of an ambiguous ``nome``/``name`` field, a form and a note. Towns
(IBGE's and ViaCEP's records), products and phrases made of the same words stay."""

from __future__ import annotations

import json
import urllib.parse

import pytest
from faker import Faker
from faker.providers.person.es_ES import Provider as SpanishPerson
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.municipalities import brazilian_places
from ext_proc_server.sanitize.named_places import is_known_place
from ext_proc_server.sanitize.place_words import TITLES
from ext_proc_server.sanitize.run import is_token
from ext_proc_server.sanitize.surnames import FOREIGN_FIRST_NAME_WORDS, FOREIGN_SURNAME_WORDS
from ext_proc_server.sanitize.wordlists import fold, word_lists
from tests.unit.sanitize.name_prose import TOKENS, order_note, words_kept
from tests.unit.sanitize.sanitize_helpers import request_exchange

NAME = "SANITIZED_NAME"
_SUFFIX_WORDS = {"Jr.", "Sr.", "II", "III", "IV", "MD", "PhD", "DDS", "DVM"}


def _field(value: str, key: str = "nome", **record: object) -> str:
    body = json.dumps({"id": 7, **record, key: value}, ensure_ascii=False)
    return json.loads(TOKENS.sanitize(request_exchange(body=body)).request.body)[key]


def _form(value: str) -> str:
    body = urllib.parse.urlencode({"nome": value, "qtd": "2"})
    exchange = request_exchange(body=body, content_type="application/x-www-form-urlencoded")
    out = TOKENS.sanitize(exchange).request.body.decode()
    return urllib.parse.parse_qs(out)["nome"][0]


def _person_words(name: str) -> str:
    """``name`` without en_US's honorific and suffixes, which may stay."""
    words = name.split()
    if words[0].rstrip(".") in {"Mr", "Mrs", "Ms", "Miss", "Dr"}:
        words = words[1:]
    return " ".join(w for w in words if w not in _SUFFIX_WORDS)


@pytest.mark.parametrize(
    "name",
    [
        "Nieves Redondo Verdugo",  # a first name and surnames all words
        "Belén Iván Río",  # "Río": Spain's surname, Portugal's "Rio" a place
        "Cruz del Gual",
        "Edu Carro Casado",
        "Ale Vila Fiol",
        "Duarte Fonseca-Marques",  # Portugal's first name, a joined surname
        "Duarte Matias",
        "Mr. Seth Yoder Jr.",  # en_US's honorific and suffix around a name
        "Mrs. Gina Erickson MD",
        "Miss Angela Swanson DVM",
    ],
)
def test_a_name_of_name_words_only_goes_from_a_name_field_and_a_form(name: str) -> None:
    assert _field(name) == NAME
    assert _field(name, "name") == NAME
    assert _form(name) == NAME


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Entregar para Gilberto Vila Enríquez, apto 12", f"Entregar para {NAME}, apto 12"),
        ("Entregar para María Jesús Real Piña, apto 12", f"Entregar para {NAME}, apto 12"),
        ("Bernarda Río Borrás ligou às 10h", f"{NAME} ligou às 10h"),
        ("Entregar para Ana Belén Barranco", f"Entregar para {NAME}"),
        ("Retirado por Pilar Lourenço", f"Retirado por {NAME}"),
        ("Visita de Nieves Redondo Verdugo amanhã", f"Visita de {NAME} amanhã"),
    ],
)
def test_a_name_of_name_words_only_goes_from_a_note(text: str, expected: str) -> None:
    assert order_note(text) == expected


def _faker_names(locale: str) -> list[str]:
    """340 of the locale's full names (``name()``), four seeds."""
    out = []
    for seed in range(4):
        fake = Faker(locale)
        fake.seed_instance(seed)
        out.extend(fake.name() for _ in range(85))
    return out


def test_faker_full_names_in_a_name_field() -> None:
    """Measured on these draws (names with a word left under ``nome``, before → after):
    es_ES 8 → 1 of 340, pt_PT 1 → 0, en_US 3 → 0, pt_BR 0 → 0. What is left: a first
    name and a surname alone, both words (``África Angulo``: ``Rosa Real`` is a
    product's as often)."""
    left = {
        locale: [n for n in _faker_names(locale) if words_kept(_person_words(n), _field(n))]
        for locale in ("es_ES", "pt_PT", "en_US", "pt_BR")
    }
    assert {locale: len(names) for locale, names in left.items()} == {
        "es_ES": 1,
        "pt_PT": 0,
        "en_US": 0,
        "pt_BR": 0,
    }, left


_WORD_SURNAMES = sorted(
    n for n in SpanishPerson.last_names if n.isalpha() and fold(n) in FOREIGN_SURNAME_WORDS
)
_PLAIN_FIRST = sorted(
    n
    for n in SpanishPerson.first_names
    if n.isalpha()
    and fold(n) in word_lists().prose_first_folded
    and fold(n) not in FOREIGN_FIRST_NAME_WORDS
)


def test_the_draws_hold_enough() -> None:
    assert len(_WORD_SURNAMES) > 50 and len(_PLAIN_FIRST) > 300


@settings(max_examples=200, deadline=None)
@given(
    first=st.sampled_from(_PLAIN_FIRST),
    surnames=st.lists(st.sampled_from(_WORD_SURNAMES), min_size=2, max_size=2),
)
def test_a_first_name_and_two_word_surnames_go(first: str, surnames: list[str]) -> None:
    name = " ".join([first, *surnames])
    assume(not is_known_place(name) and not is_token(name))
    assert _field(name) == NAME, name
    assert words_kept(name, order_note(f"Entregar para {name} amanhã")) == [], name


def _towns_of_name_words() -> list[str]:
    """Brazil's municipalities whose every word is a Faker first or last name, but no
    known Brazilian or English first name (nor a census one that writes a surname too)
    opens them nor last name ends them (``Campo Alegre``, ``Campo Redondo``): those
    read as a person's whatever the record (``Paulo Lopes``)."""
    lists = word_lists()
    import importlib

    names: set[str] = set()
    for locale in ("es_ES", "pt_PT", "pt_BR", "it_IT", "en_US"):
        person = importlib.import_module(f"faker.providers.person.{locale}").Provider
        for name in (*person.first_names, *person.last_names):
            names.update(fold(w) for w in name.split())
    particles = {"da", "de", "do", "das", "dos", "del"}
    return sorted(
        place
        for place in brazilian_places()
        if len(place.split()) > 1
        and all(fold(w) in names or fold(w) in particles for w in place.split())
        and fold(place.split()[0]) not in lists.first_folded | lists.first_or_last_folded | TITLES
        and fold(place.split()[-1]) not in lists.last_folded
    )


def test_towns_named_in_name_words_stay_in_ibge_and_viacep_records() -> None:
    towns = _towns_of_name_words()
    assert len(towns) > 20 and {"Campo Alegre", "Campo Redondo"} <= set(towns)
    micro = {"id": 31030, "nome": "Ouro Preto"}
    changed = [t for t in towns if _field(t, microrregiao=micro) != t]
    changed += [t for t in towns if _field(t, "localidade", cep="35420-000", uf="MG") != t]
    assert changed == []


@pytest.mark.parametrize("town", ["Mariana", "Cristina", "Monte Alegre", "Campo Redondo"])
def test_a_town_named_as_a_person_stays_in_its_record(town: str) -> None:
    """IBGE's ``{"id": 3129707, "nome": "Mariana"}``; ViaCEP's ``localidade``."""
    assert _field(town, microrregiao={"id": 31030, "nome": "Ouro Preto"}) == town
    assert _field(town, "localidade", cep="35420-000", uf="MG") == town


@pytest.mark.parametrize(
    "value",
    [
        "Mesa Redonda",
        "Rosa Real",
        "Paz Real",
        "Luz Solar",
        "Cruz Vermelha",
        "Casas Bahia",
        "Paz e Amor",
        "Estrella Galicia",
        "Nossa Senhora Aparecida",
        "Rua Nieves Redondo",
        "Campo Alegre",
        "Santa Cruz",
    ],
)
def test_products_phrases_and_places_of_name_words_stay(value: str) -> None:
    assert _field(value) == value
    assert order_note(f"Promoção {value} na loja") == f"Promoção {value} na loja"


@pytest.mark.parametrize(
    "text",
    [
        "Promoção Paz e Amor em toda a loja",
        "Entrega em Jesus Alegre amanhã",
        "Show no Royal Albert Hall em maio",
        "Passeio na Rua de Nieves Redondo Verdugo",
        "Entrega em Luis Eduardo Magalhães amanhã",
    ],
)
def test_notes_of_name_words_that_name_no_one_stay(text: str) -> None:
    assert order_note(text) == text
