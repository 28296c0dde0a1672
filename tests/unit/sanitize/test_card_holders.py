"""The cardholder's name on its own line beside a card number (Faker's
``credit_card_full``: "Maestro\\nMateus Azevedo\\n6759 ... 04/31\\nCVV: 123"): the number
was replaced and the name went out, in any field that is not prose. Cases come from
Faker's pt_BR, en_US, es_ES and it_IT cards and names and IBGE's municipalities (the
geocoder's); held both ways: card schemes, banks and places beside a number stay."""

from __future__ import annotations

import json

import pytest
from faker import Faker
from faker.providers.person.es_ES import Provider as SpanishPerson
from faker.providers.person.pt_BR import Provider as Person
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.card_holders import holder_hits
from ext_proc_server.sanitize.hits import Hit
from ext_proc_server.sanitize.municipalities import brazilian_places
from ext_proc_server.sanitize.named_places import is_known_place
from ext_proc_server.sanitize.place_words import TITLES
from ext_proc_server.sanitize.surnames import FOREIGN_FIRST_NAME_WORDS
from ext_proc_server.sanitize.wordlists import fold, word_lists
from tests.unit.sanitize.sanitize_helpers import make_card, request_exchange, sanitizer

TOKENS = sanitizer()
LOCALES = ("pt_BR", "en_US", "es_ES", "it_IT")
CARD = "4111 1111 1111 1111"


def _field(key: str, value: str) -> str:
    exchange = request_exchange(body=json.dumps({key: value}, ensure_ascii=False))
    return json.loads(TOKENS.sanitize(exchange).request.body)[key]


def _text(value: str) -> str:
    exchange = request_exchange(body=value, content_type="text/plain")
    return TOKENS.sanitize(exchange).request.body.decode()


def _blocks(locale: str, count: int) -> list[str]:
    faker = Faker(locale)
    faker.seed_instance(2026)
    return [faker.credit_card_full() for _ in range(count)]


@pytest.mark.parametrize("locale", LOCALES)
def test_a_card_blocks_holder_is_replaced_with_its_number(locale: str) -> None:
    leaked, replaced = [], 0
    for block in _blocks(locale, 120):
        holder = block.split("\n")[1]
        for out in (_field("payment", block), _field("card", block), _text(block)):
            if "SANITIZED_CARD" not in out:
                continue  # a number no check tells a card's (a 12-digit Maestro)
            replaced += 1
            if holder in out:
                leaked.append(block)
    assert replaced > 300  # the numbers are cards' by their check digit
    assert leaked == []


@pytest.mark.parametrize("locale", LOCALES)
def test_an_embossed_card_holder_after_the_number_is_replaced(locale: str) -> None:
    faker = Faker(locale)
    faker.seed_instance(7)
    leaked = []
    for _ in range(100):
        holder = f"{faker.first_name()} {faker.last_name()}"
        for written in (holder, holder.upper()):
            block = f"{make_card('4', 16)}\n{written}\nVALID THRU 04/31"
            if written in _field("payment", block):
                leaked.append(written)
    assert leaked == []


def _beside_card(line: str) -> list[Hit]:
    text = f"{line}\n{CARD} 04/31"
    return holder_hits(text, [Hit(len(line) + 1, len(line) + 1 + len(CARD), "card")])


def test_card_schemes_and_banks_beside_a_number_stay() -> None:
    faker = Faker(LOCALES)
    faker.seed_instance(0)
    schemes = {faker[locale].credit_card_provider() for locale in LOCALES for _ in range(200)}
    banks = ("Banco do Brasil", "Nubank Ultravioleta", "Itaú Personnalité", "Caixa Econômica")
    assert len(schemes) > 5
    assert [line for line in (*schemes, *banks) if _beside_card(line)] == []


def test_municipalities_not_named_as_people_beside_a_number_stay() -> None:
    """A town opening with no first name nor title ("Porto Alegre", "Abre Campo") is
    no holder; nor is one named after a person, whole ("Antônio Carlos", "Almirante
    Tamandaré": test_word_first_names)."""
    lists = word_lists()
    first = lists.prose_first_folded | lists.first_or_last_folded | FOREIGN_FIRST_NAME_WORDS
    opening = first | TITLES
    towns = [p for p in set(brazilian_places()) if fold(p.split()[0]) not in opening]
    assert len(towns) > 3000
    assert sorted(t for t in towns if _beside_card(t)) == []


def test_only_the_lines_beside_the_number_are_read() -> None:
    faker = Faker("pt_BR")
    faker.seed_instance(3)
    for _ in range(50):
        far, near = faker.name(), f"{faker.first_name()} {faker.last_name()}"
        text = f"{far}\nPedido 123\n{near}\n{CARD} 04/31"
        spans = [text[h.start : h.end] for h in holder_hits(text, [_card_hit(text)])]
        assert spans == [near]


def _card_hit(text: str) -> Hit:
    at = text.index(CARD)
    return Hit(at, at + len(CARD), "card")


@settings(max_examples=200, deadline=None)
@example(first="Maria Helena", last="Serra", before="", after="")  # a town, then a surname
@example(first="Maria Helena", last="Vila", before="", after="")
@given(
    first=st.sampled_from(sorted(Person.first_names)),
    last=st.sampled_from(sorted(SpanishPerson.last_names)),
    before=st.sampled_from(("", "Cartão:\n", "VISA 16 digit\n")),
    after=st.sampled_from(("", "\nCVV: 123", "\r\n")),
)
def test_a_holder_line_beside_a_card_never_goes_out(
    first: str, last: str, before: str, after: str
) -> None:
    holder = f"{first} {last}"
    # A holder named as a town or a brand is, whole ("Antônio Carlos", "Dom Pedro",
    # "Carolina Herrera"), is kept: test_word_first_names.
    assume(not is_known_place(holder))
    block = f"{before}{holder}\n{make_card('5', 16)} 11/29{after}"
    assert holder not in _field("pagamento", block)
