"""Common Brazilian surnames no Faker list has (Bezerra, Medeiros, Queiroz...) after a
first name went out in prose, NF-e's infCpl, forms, queries and paths; and in an
ambiguous ``name`` field a known last name alone made a hotel a person
(``{"name": "Hotel Torres"}`` was replaced). Held both ways: the people go in every
shape, the places, businesses, products and words stay."""

from __future__ import annotations

import json
from urllib.parse import quote, quote_plus

import pytest
from faker.providers.person.en_US import Provider as EnglishPerson
from faker.providers.person.pt_BR import Provider as Person
from faker.providers.person.pt_PT import Provider as PortuguesePerson
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.exchange import Exchange, HttpRequest
from ext_proc_server.sanitize.named_places import is_known_place
from ext_proc_server.sanitize.place_words import NOT_PERSON, PLACE_OPENERS
from ext_proc_server.sanitize.surnames import (
    BRAZILIAN_SURNAMES,
    FOREIGN_SURNAME_WORDS,
    PLACE_SURNAMES,
    WORD_SURNAMES,
    foreign_surnames,
)
from ext_proc_server.sanitize.wordlists import fold, word_lists
from tests.unit.sanitize import census_corpus
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

TOKENS = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-surnames")
# Census first names that open a name on their own (not "Rosa", not "Santa").
FIRST_NAMES = [
    n for n in census_corpus.top_first_names(300) if fold(n) in word_lists().first_folded
]
# What opens a place's, an institution's or a business's name.
OPENERS = (
    "Hotel", "Pousada", "Restaurante", "Farmácia", "Padaria", "Edifício", "Ed.",
    "Condomínio", "Rua", "Avenida", "Av.", "Praça", "Colégio", "Escola", "Loja", "Mercado",
    "Auto Posto", "Drogaria", "Clínica", "Hospital", "Instituto", "Fazenda", "Supermercado",
)  # fmt: skip
SURNAMES = ("Torres", "Silva", "Souza", "Pereira", "Bezerra", "Medeiros", "Soares")


def _json(document: object, sanitize=TOKENS) -> dict:
    body = json.dumps(document, ensure_ascii=False)
    return json.loads(sanitize.sanitize(request_exchange(body=body)).request.body)


def _path(path: str, query: tuple[tuple[str, str], ...] = ()) -> HttpRequest:
    exchange = Exchange(id="t", request=HttpRequest(method="GET", path=path, query=query))
    return TOKENS.sanitize(exchange).request


def _replaced_in_every_shape(full: str) -> list[str]:
    """The shapes in which ``full`` went out."""
    left = []
    note = _json({"pedido": 1, "observacao": f"Entregar para {full}, apto 12"})
    if note["observacao"] != "Entregar para SANITIZED_NAME, apto 12":
        left.append("note")
    nfe = f"<NFe><infCpl>ENTREGAR PARA {full.upper()}, APTO 12</infCpl></NFe>"
    out = TOKENS.sanitize(request_exchange(body=nfe, content_type="application/xml"))
    if out.request.body != b"<NFe><infCpl>ENTREGAR PARA SANITIZED_NAME, APTO 12</infCpl></NFe>":
        left.append("infCpl")
    form = f"pedido=1&obs={quote_plus(f'ligar para {full} amanha')}"
    out = TOKENS.sanitize(
        request_exchange(body=form, content_type="application/x-www-form-urlencoded")
    )
    if out.request.body != b"pedido=1&obs=ligar+para+SANITIZED_NAME+amanha":
        left.append("form")
    if _path("/busca", (("q", quote(full)),)).query != (("q", "SANITIZED_NAME"),):
        left.append("query")
    slug = "-".join(fold(w) for w in full.split())
    if _path(f"/clientes/{slug}/pedidos").path != "/clientes/SANITIZED_NAME/pedidos":
        left.append("path")
    return left


@pytest.mark.parametrize(
    "full",
    ["Francisca Bezerra", "Raimundo Medeiros", "Antônia Queiroz", "Sebastião Guimarães",
     "José Xavier", "Maria Aparecida Bastos", "Luiz Aguiar", "Ana Paula Holanda",
     "Carlos Brandão", "Fernanda Menezes"],
)  # fmt: skip
def test_a_common_surname_no_faker_list_has_ends_a_name_in_every_shape(full: str) -> None:
    assert _replaced_in_every_shape(full) == []


@settings(max_examples=150, deadline=None)
@given(first=st.sampled_from(FIRST_NAMES), last=st.sampled_from(BRAZILIAN_SURNAMES))
def test_every_listed_surname_after_a_census_first_name_is_a_name(first: str, last: str) -> None:
    full = f"{first} {last}"
    if is_known_place(full):  # "Afonso Bezerra" is a town: kept whole, as below
        return
    assert _replaced_in_every_shape(full) == []


def test_after_a_first_name_that_also_writes_a_last_name_in_a_name_field() -> None:
    """In an ambiguous ``name`` field a known first name decides ("Francisca Bezerra"),
    and "Rosa" (of "da Rosa") does before a listed surname."""
    for value in ("Francisca Bezerra", "Rosa Bastos", "Nelson Medeiros", "Aparecida Queiroz"):
        assert _json({"id": 1, "name": value}) == {"id": 1, "name": "SANITIZED_NAME"}, value


def test_a_pseudonym_replaces_the_whole_name_with_faker_words() -> None:
    out = _json({"observacao": "Francisca Bezerra ligou"}, PSEUDONYMS)["observacao"]
    fake = out.removesuffix(" ligou")
    assert "Bezerra" not in out and "Francisca" not in out
    assert fold(fake.split()[-1]) in {fold(n) for n in Person.last_names for n in n.split()}


@pytest.mark.parametrize(
    "text",
    ["Vendemos bezerra nelore de 8 meses",  # a calf: lower case
     "Bezerra Nelore à venda, 12 arrobas",  # capitalised, no first name before it
     "Cliente de Afonso Bezerra pediu troca",  # a municipality named as a person
     "Entrega pela Via Dutra até Presidente Dutra",
     "Voo para Toledo e Holanda confirmado",
     "Hotel Medeiros confirmou a reserva"],
)  # fmt: skip
def test_a_listed_surname_alone_or_in_a_place_stays_in_prose(text: str) -> None:
    assert _json({"observacao": text}) == {"observacao": text}


@pytest.mark.parametrize(
    "value", ["Couro de Bezerra", "Bezerra Nelore", "Lins Sobral", "Toledo Holanda"]
)
def test_a_listed_surname_alone_does_not_decide_a_name_field(value: str) -> None:
    assert _json({"id": 1, "name": value}) == {"id": 1, "name": value}
    assert _path("/produtos/" + value.lower().replace(" ", "-")).path.count("SANITIZED") == 0


def test_the_list_adds_only_what_faker_lacks_and_no_place_word() -> None:
    faker_last = {fold(w) for n in (*Person.last_names, *PortuguesePerson.last_names)
                  for w in n.split()}  # fmt: skip
    folded = [fold(s) for s in BRAZILIAN_SURNAMES]
    assert len(set(folded)) == len(folded) == len(BRAZILIAN_SURNAMES)
    assert not set(folded) & faker_last
    assert not set(folded) & (NOT_PERSON | PLACE_OPENERS)
    lists = word_lists()
    assert set(folded) <= lists.prose_last_folded & lists.last_words_folded
    # Never drawn as pseudonyms, nor alone deciding an ambiguous name field.
    assert not set(folded) & lists.last_folded
    assert not set(folded) & {fold(n) for n in lists.last}


@pytest.mark.parametrize("opener", OPENERS)
def test_a_place_or_business_word_before_a_surname_is_no_person(opener: str) -> None:
    for last in SURNAMES:
        value = f"{opener} {last}"
        assert _json({"id": 1, "name": value}) == {"id": 1, "name": value}
        assert _json({"id": 1, "name": f"{opener} Maria {last}"})["name"] != "SANITIZED_NAME"
        query = _path("/hoteis", (("name", value),)).query
        assert query == (("name", value),), query


def test_a_place_name_in_xml_and_a_form_stays_and_a_person_beside_it_goes() -> None:
    xml = "<reserva><name>Pousada Bezerra</name><cliente><nome>Maria Torres</nome></cliente></reserva>"
    out = TOKENS.sanitize(request_exchange(body=xml, content_type="application/xml"))
    assert out.request.body.decode() == (
        "<reserva><name>Pousada Bezerra</name>"
        "<cliente><nome>SANITIZED_NAME</nome></cliente></reserva>"
    )
    form = "name=Hotel+Torres&hospede=1"
    out = TOKENS.sanitize(
        request_exchange(body=form, content_type="application/x-www-form-urlencoded")
    )
    assert out.request.body.decode() == form


@pytest.mark.parametrize(
    "value",
    ["Maria Torres", "Coronel Torres", "Dom Pedro Torres", "Padre Marcelo Souza",
     "Natal Souza", "Ed Torres", "R. Torres", "Senador Carlos Silva", "Hotelina Torres"],
)  # fmt: skip
def test_a_person_in_a_name_field_is_still_replaced(value: str) -> None:
    """Titles name people, "Natal" and "Ed" are first names, "R." an initial; "Hotelina"
    is no hotel."""
    assert _json({"id": 1, "name": value}) == {"id": 1, "name": "SANITIZED_NAME"}


@settings(max_examples=200, deadline=None)
@given(opener=st.sampled_from(OPENERS), last=st.sampled_from(sorted(set(Person.last_names))))
def test_any_opener_before_any_known_last_name_stays(opener: str, last: str) -> None:
    value = f"{opener} {last}"
    assert _json({"id": 1, "name": value}) == {"id": 1, "name": value}


@settings(max_examples=200, deadline=None)
@given(first=st.sampled_from(FIRST_NAMES), last=st.sampled_from(sorted(set(Person.last_names))))
def test_any_first_name_before_any_known_last_name_goes(first: str, last: str) -> None:
    assert _json({"id": 1, "name": f"{first} {last}"}) == {"id": 1, "name": "SANITIZED_NAME"}


def test_word_place_and_foreign_surnames_end_names_only_in_prose_and_urls() -> None:
    """Surnames that are words (``Chaves``), places' words (``Serra``) or Italian and
    Spanish (``Rossi``) never decide an ambiguous ``name`` field alone nor are drawn as
    pseudonyms; no foreign one is a Portuguese word the dictionary holds or a place word."""
    lists = word_lists()
    words = {fold(s) for s in WORD_SURNAMES}
    places = {fold(s) for s in PLACE_SURNAMES}
    assert places <= NOT_PERSON and not words & NOT_PERSON
    assert places == lists.place_last_folded
    # The words and places above are listed by hand ("Chaves", "Prado" are Spain's too),
    # and Faker's Portuguese and English lists hold some ("Estrada", "Câmara").
    portuguese = {fold(n) for n in (*Person.last_names, *PortuguesePerson.last_names)}
    foreign = {fold(s) for s in foreign_surnames()} & lists.prose_last_folded
    foreign -= words | places | portuguese | lists.last_folded
    assert {"rossi", "bianchi", "esposito", "zapata", "iglesias"} <= foreign
    assert not foreign & (FOREIGN_SURNAME_WORDS | NOT_PERSON | PLACE_OPENERS)
    # "Porto", "Câmara" and "Sá" are Faker's own pt_BR surnames, "Estrada" its en_US one.
    faker_own = {fold(n) for n in (*Person.last_names, *EnglishPerson.last_names)}
    for added in (words, places, foreign):
        assert added <= lists.prose_last_folded & lists.last_words_folded
        assert not (added - faker_own) & (lists.last_folded | {fold(n) for n in lists.last})
