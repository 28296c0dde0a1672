"""Names whose first name is also a word, and readings of names where there were none:

- a first name of Faker's it_IT or es_ES lists that is also a word (``Benigno``,
  ``Rosario``, ``Esperanza``, ``Rolando``) before a surname no word spells, or before two
  of Faker's surnames, in prose (``Entregar para Benigno Casals Godoy``): the surnames
  went out;
- kept: those words before ordinary words, towns, companies and products; an acronym
  after "cabo" in a slug after a segment naming people (``/clientes/cabo-usb``); a town
  named as a person is, whole, beside a card number (``Antônio Carlos``).

Cases from Faker's es_ES, it_IT and pt_BR people, companies and words, and IBGE's
municipalities (the geocoder's)."""

from __future__ import annotations

import pytest
from faker import Faker
from faker.providers.person.es_ES import Provider as SpanishPerson
from faker.providers.person.it_IT import Provider as ItalianPerson
from faker.providers.person.pt_BR import Provider as Person
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.card_holders import holder_hits
from ext_proc_server.sanitize.free_text_names import find_names
from ext_proc_server.sanitize.hits import Hit
from ext_proc_server.sanitize.municipalities import brazilian_places
from ext_proc_server.sanitize.place_words import NOT_PERSON, PLACE_OPENERS, TITLES
from ext_proc_server.sanitize.surnames import FOREIGN_SURNAME_WORDS, WORD_SURNAMES
from ext_proc_server.sanitize.wordlists import fold, word_lists
from tests.unit.sanitize.people import leaked
from tests.unit.sanitize.sanitize_helpers import (
    sanitized_note,
    sanitized_path,
    sanitizer,
)

TOKENS = sanitizer()
LISTS = word_lists()
_NOT_NAMES = NOT_PERSON | PLACE_OPENERS | TITLES
# Faker's Italian and Spanish first names that the name lists leave out as words (not
# words of a last name: "Cruz", "Cirino").
WORD_FIRST_NAMES = sorted(
    n
    for n in {*SpanishPerson.first_names, *ItalianPerson.first_names}
    if n.isalpha()
    and len(n) > 3
    and fold(n) not in LISTS.prose_first_folded | LISTS.last_words_folded | _NOT_NAMES
)
_WORDS = {fold(w) for w in WORD_SURNAMES} | FOREIGN_SURNAME_WORDS | _NOT_NAMES
# Their surnames that no word, first name or place's word spells.
PLAIN_SURNAMES = sorted(
    n
    for n in {*SpanishPerson.last_names, *ItalianPerson.last_names}
    if n.isalpha()
    and fold(n) in LISTS.prose_last_folded
    and fold(n) not in _WORDS | LISTS.prose_first_folded | LISTS.place_last_folded
    and fold(n) not in {fold(f) for f in WORD_FIRST_NAMES}
)


def _note(text: str, key: str = "observacao") -> str:
    return sanitized_note(TOKENS, text, key)


def _path(path: str) -> str:
    return sanitized_path(TOKENS, path)


def test_the_lists_hold_such_names() -> None:
    assert {"Benigno", "Rolando", "Esperanza", "Florentino"} <= set(WORD_FIRST_NAMES)
    assert len(PLAIN_SURNAMES) > 500


@settings(max_examples=300, deadline=None)
@given(
    first=st.sampled_from(WORD_FIRST_NAMES),
    last=st.sampled_from(PLAIN_SURNAMES),
    key=st.sampled_from(("observacao", "notes", "infCpl", "mensagem")),
)
def test_a_word_first_name_and_a_plain_surname_in_prose_are_a_name(
    first: str, last: str, key: str
) -> None:
    out = _note(f"Entregar para {first} {last} depois das 18h", key)
    assert leaked(out, [last]) == []


@settings(max_examples=200, deadline=None)
@given(
    first=st.sampled_from(WORD_FIRST_NAMES),
    middle=st.sampled_from(WORD_FIRST_NAMES),
    surnames=st.lists(st.sampled_from(PLAIN_SURNAMES), min_size=2, max_size=2),
)
def test_word_first_names_before_two_surnames_are_a_name_whole(
    first: str, middle: str, surnames: list[str]
) -> None:
    """ "Edelmiro Régulo Escolano Hervás": every word goes, the first names too."""
    name = f"{first} {middle} {' '.join(surnames)}"
    out = _note(f"Cliente {name} ligou pedindo segunda via")
    assert leaked(out, [first, middle, *surnames]) == []


def test_faker_spanish_and_italian_people_in_a_note() -> None:
    """Faker's es_ES names with two surnames and it_IT names, as drawn: the leaks left
    are names whose every surname is a word (``Bruno Durante``) or whose first name is
    of three letters (``Che``, ``Luz``), never one of this rule's."""
    rule_leaks = []
    for locale, count in (("es_ES", 400), ("it_IT", 300)):
        fake = Faker(locale)
        fake.seed_instance(7)
        for _ in range(count):
            first, surnames = fake.first_name(), [fake.last_name(), fake.last_name()]
            surnames = surnames if locale == "es_ES" else surnames[:1]
            out = _note(f"Entregar para {first} {' '.join(surnames)} depois das 18h")
            plain = [s for s in surnames if s in PLAIN_SURNAMES]
            if first in WORD_FIRST_NAMES and plain and leaked(out, plain):
                rule_leaks.append(out)
    assert rule_leaks == []


def test_word_first_names_before_ordinary_words_towns_and_firms_stay() -> None:
    """A word first name before a word, a town's word or a company's suffix; Faker's
    companies whose first surname is an Italian or Spanish first name ("Cirino Camargo
    S.A."); Faker's products; IBGE's towns: none reads as a person's."""
    br = Faker("pt_BR")
    br.seed_instance(11)
    firsts = {*SpanishPerson.first_names, *ItalianPerson.first_names}
    # Not those the name lists hold as first names ("Santos Farias - ME" reads as one).
    known = LISTS.prose_first_folded | LISTS.first_or_last_folded | TITLES
    surnames_first = sorted(n for n in Person.last_names if n in firsts and fold(n) not in known)
    assert "Cirino" in surnames_first
    texts = [f"{first} {br.word().capitalize()}" for first in WORD_FIRST_NAMES]
    texts += [f"{first} {place}" for first in WORD_FIRST_NAMES for place in ("Rio", "Norte")]
    texts += [f"{first} {br.company_suffix()}" for first in WORD_FIRST_NAMES]
    texts += [
        f"{surname} {br.last_name()} {br.company_suffix()}"
        for surname in surnames_first
        for _ in range(50)
    ]
    texts += [f"{br.word().capitalize()} {br.color_name()}" for _ in range(300)]
    texts += sorted(set(brazilian_places()))
    read = [t for t in texts if find_names(f"Pedido de {t} entregue")]
    assert read == []


@pytest.mark.parametrize(
    "path", ["/clientes/cabo-usb", "/clientes/cabo-rca",
             "/clientes/cabo-vga", "/usuarios/dom-usb", "/clientes/cabo-p2"],
)  # fmt: skip
def test_an_acronym_after_cabo_or_dom_in_a_people_slug_stays(path: str) -> None:
    assert _path(path) == path


@pytest.mark.parametrize(
    "path", ["/clientes/cabo-giacomelli", "/clientes/dom-zaccaria", "/clientes/cabo-lima"]
)
def test_a_surname_after_cabo_or_dom_in_a_people_slug_still_goes(path: str) -> None:
    assert "SANITIZED_NAME" in _path(path)


CARD = "4111 1111 1111 1111"


def _beside_card(line: str) -> list[Hit]:
    text = f"{line}\n{CARD} 04/31"
    return holder_hits(text, [Hit(len(line) + 1, len(line) + 1 + len(CARD), "card")])


def _towns_named_as_people() -> list[str]:
    opening = LISTS.prose_first_folded | LISTS.first_or_last_folded | TITLES
    return sorted(p for p in set(brazilian_places()) if fold(p.split()[0]) in opening)


def test_a_town_named_as_a_person_beside_a_card_number_stays() -> None:
    towns = _towns_named_as_people()
    assert len(towns) > 300  # "Antônio Carlos", "Almirante Tamandaré", "João Pessoa"
    assert [t for t in towns if _beside_card(t)] == []


def test_a_holder_whose_name_holds_a_towns_is_still_read() -> None:
    br = Faker("pt_BR")
    br.seed_instance(5)
    towns = [
        t
        for t in _towns_named_as_people()
        if len(t.split()) == 2 and not {fold(w) for w in t.split()} & (NOT_PERSON | PLACE_OPENERS)
    ][:200]
    assert len(towns) > 100
    surnames = [n for n in Person.last_names if fold(n) not in LISTS.place_last_folded]
    holders = [f"{town} {br.random_element(surnames)}" for town in towns]
    assert [h for h in holders if not _beside_card(h)] == []
