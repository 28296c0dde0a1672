"""Names that went out of a note, and firms that were read as people:

- an Italian or Spanish surname that is a word, alone after a first name that is none
  (``Bruno Durante``, ``Graziella Vento``, ``Antonino Volta``);
- surnames and first names joined by a hyphen (``Rita Coelho-Barros``, ``Mia-Patrícia
  Correia``), Portugal's first names (``Nuno``, ``Constança``, ``Martim``), first names
  of three letters (``Noa``, ``Che``) and first names that are surnames too
  (``Rosario Sanguineti``);
- a title, a surname and a first name (``Irmã Giménez Carlos``: ``Carlos`` went out);
  ``irma`` without its tilde in a slug is a first name, as in prose;
- kept: a name a firm's legal suffix follows (``Santos Farias - ME``, ``Pastor Andrade
  S/A``), Faker's towns made of a first name and a suffix (``Jesus Alegre``).

Corpora from Faker's es_ES, it_IT, pt_PT and pt_BR providers, seeded."""

from __future__ import annotations

import pytest
from faker import Faker
from faker.providers.address.pt_BR import Provider as Address
from faker.providers.person.es_ES import Provider as SpanishPerson
from faker.providers.person.it_IT import Provider as ItalianPerson
from faker.providers.person.pt_BR import Provider as Person
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.free_text_names import find_names
from ext_proc_server.sanitize.named_places import is_known_place
from ext_proc_server.sanitize.place_words import NOT_PERSON, PLACE_OPENERS, TITLES
from ext_proc_server.sanitize.run import is_token
from ext_proc_server.sanitize.surnames import FOREIGN_FIRST_NAME_WORDS, FOREIGN_SURNAME_WORDS
from ext_proc_server.sanitize.wordlists import fold, word_lists
from tests.unit.sanitize.people import leaked
from tests.unit.sanitize.sanitize_helpers import (
    sanitized_note,
    sanitized_path,
    sanitizer,
)

TOKENS = sanitizer()
LISTS = word_lists()


def _note(text: str, key: str = "observacao") -> str:
    return sanitized_note(TOKENS, text, key)


def _path(path: str) -> str:
    return sanitized_path(TOKENS, path)


def _planted(name: str) -> list[str]:
    """A drawn name's words, less titles (``Dott.``, ``Sr.``) and particles."""
    return [w for w in name.split() if "." not in w and not w.islower() and fold(w) != "don"]


@pytest.mark.parametrize(
    "name",
    [
        # a surname that is a word, alone after a first name
        "Bruno Durante", "Graziella Vento", "Antonino Volta", "Alondra Mesa",
        "Camilo Burgos", "Maura Conte",
        # surnames joined, first names joined
        "Rita Coelho-Barros", "Amparo Vera-Garmendia", "Cesar Criado-Serra",
        "Mia-Patrícia Correia", "Lorena-Joana Gomes",
        # Portugal's first names
        "Nuno Marques", "Constança Santos", "Martim Machado", "Caetana Pereira-Gonçalves",
        # three letters, and first names that are surnames too
        "Noa Sousa", "Ema Pinheiro", "Che Castejón Amorós", "Rosario Sanguineti",
        "Reyes Acosta", "Noa de Rodrigues",
    ],
)  # fmt: skip
def test_a_name_that_went_out_of_a_note_goes(name: str) -> None:
    out = _note(f"Entregar para {name} depois das 18h")
    assert leaked(out, _planted(name)) == [], out
    assert out.startswith("Entregar para ") and out.endswith(" depois das 18h")


@pytest.mark.parametrize("text", ["Irmã Giménez Carlos", "Padre Giménez Carlos"])
def test_a_title_a_surname_and_a_first_name_go_and_the_title_stays(text: str) -> None:
    title = text.split()[0]
    assert _note(f"Falar com a {text} amanhã") == f"Falar com a {title} SANITIZED_NAME amanhã"


def test_irma_without_its_tilde_in_a_slug_is_a_first_name() -> None:
    assert _path("/clientes/irma-agatha-aguado") == "/clientes/SANITIZED_NAME"
    assert _path("/clientes/irma-gimenez-carlos") == "/clientes/SANITIZED_NAME"
    # With the tilde it is the title, and it stays.
    assert _path("/clientes/irm%C3%A3-agatha-aguado") == "/clientes/irm%C3%A3-SANITIZED_NAME"


@pytest.mark.parametrize(
    "text",
    [
        "Pedido da Santos Farias - ME enviado", "Pedido da Pastor Andrade S/A enviado",
        "Boleto da Ana Costa S.A. vencido", "Comprado na loja da Rosa Borges S/A ontem",
        "Fornecedor Sol Dalmau Quiroga S.L.L. avisou", "Fatura Vicente Reis Lda. paga",
        "Entrega em Jesus Alegre amanhã", "Mesa Alegre Real para Vento Norte",
        "Comprar Bruno Durante Ligou", "Castelnuovo Di San Pio Delle Camere",
    ],
)  # fmt: skip
def test_firms_towns_and_words_stay(text: str) -> None:
    assert find_names(text) == []
    assert _note(text) == text


def test_faker_people_in_a_note() -> None:
    """Measured on these draws (names with a word left in the note, before → after):
    es_ES ``name()`` 23 → 9 → 8 → 7 → 1 of 400 (the third: ``Maura Iris Rios Vila``;
    the last: names only, ``Gilberto Vila Enríquez``, ``Abril Lago Pascual``), it_IT
    first and last name 14 → 3 → 0 of 300, pt_PT ``name()`` 56 → 4 → 1 of 300 (the
    second arrow: surnames that are first names, ``Flavia Diego``; the last: ``Duarte
    Cardoso``, ``Iara-Camila Sá``). What is left: a first name and a surname both
    words (``Violeta de Plana``), places (``Luís Domingues``)."""
    left = {}
    for locale, count, draw in (
        ("es_ES", 400, lambda f: f.name()),
        ("it_IT", 300, lambda f: f"{f.first_name()} {f.last_name()}"),
        ("pt_PT", 300, lambda f: f.name()),
    ):
        fake = Faker(locale)
        fake.seed_instance(7)
        names = [draw(fake) for _ in range(count)]
        left[locale] = [
            n for n in names if leaked(_note(f"Entregar para {n} depois das 18h"), _planted(n))
        ]
    assert {locale: len(names) for locale, names in left.items()} == {
        "es_ES": 1,
        "it_IT": 0,
        "pt_PT": 1,
    }, left


def test_faker_companies_in_a_note_stay() -> None:
    """Faker's companies are named after people with a firm's suffix (``Santos Farias -
    ME``, ``Adán Santamaria Barrios S.A.``, ``Martins Carvalho Lda.``): before, 31 of
    the 2,000 pt_BR ones and 130 of the es_ES ones in a note read as a person's."""
    read = []
    for locale in ("pt_BR", "es_ES", "it_IT", "pt_PT"):
        fake = Faker(locale)
        fake.seed_instance(11)
        for _ in range(500):
            company = fake.company()
            if find_names(f"Pedido da {company} enviado"):
                read.append(company)
    assert read == []


_PLAIN_FIRST = sorted(
    n
    for n in {*Person.first_names, *ItalianPerson.first_names, *SpanishPerson.first_names}
    if n.isalpha()
    and len(n) > 3
    and fold(n) in LISTS.prose_first_folded
    and fold(n) not in FOREIGN_FIRST_NAME_WORDS | LISTS.first_or_last_folded
    and fold(n) not in NOT_PERSON | PLACE_OPENERS | TITLES
)
_WORD_SURNAMES = sorted(
    n
    for n in {*ItalianPerson.last_names, *SpanishPerson.last_names}
    if n.isalpha()
    and fold(n) in FOREIGN_SURNAME_WORDS
    and fold(n) not in NOT_PERSON | PLACE_OPENERS | TITLES | LISTS.prose_first_folded
    # Faker's towns are a first name and a suffix ("Jesus Alegre", "Vitória do Campo").
    and fold(n) not in {fold(w) for suffix in Address.city_suffixes for w in suffix.split()}
)
_SUFFIXES = ("- ME", "- EI", "S/A", "S.A.", "Ltda", "EIRELI", "S.L.", "Lda.")


def test_the_draws_hold_enough() -> None:
    assert len(_PLAIN_FIRST) > 500 and len(_WORD_SURNAMES) > 100
    assert {"Durante", "Vento", "Volta", "Mesa"} <= set(_WORD_SURNAMES)


@settings(max_examples=300, deadline=None)
@given(
    first=st.sampled_from(_PLAIN_FIRST),
    last=st.sampled_from(_WORD_SURNAMES),
    before=st.sampled_from(("Entregar para", "cliente", "falar com a", "ligar para")),
    after=st.text(alphabet="abcdefghij 0123456789,.", max_size=12).filter(
        lambda t: not is_token(t)
    ),
)
def test_a_first_name_and_a_word_surname_go_and_with_a_firm_suffix_stay(
    first: str, last: str, before: str, after: str
) -> None:
    assume(not is_known_place(f"{first} {last}"))  # "Antonio Prado": a town (RS)
    tail = f" {after.strip(' .,')}" if after.strip(" .,") else ""
    text = f"{before} {first} {last}{tail}"
    assert leaked(_note(text), [first, last]) == []
    for suffix in _SUFFIXES:
        firm = f"{before} {first} {last} {suffix}{tail}"
        assert find_names(firm) == [], firm
