"""A title before a name in a search or a slug (``?q=Sargento João Torres``,
``/clientes/padre-marcelo-rossi``), and a title before a known surname alone in prose
(``Padre Rossi``, ``o delegado Queiroz``): both went out. Cases come from Faker's pt_BR
first and last names and prefixes (``Dr.``, ``Sra.``), its it_IT and es_ES surnames and
the titles in common Brazilian use; held both ways: places, streets, institutions and
products holding a title stay."""

from __future__ import annotations

import json
from urllib.parse import quote, quote_plus, unquote, unquote_plus

import pytest
from faker.providers.person.es_ES import Provider as SpanishPerson
from faker.providers.person.it_IT import Provider as ItalianPerson
from faker.providers.person.pt_BR import Provider as Person
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ext_proc_server.core.exchange import Exchange, HttpRequest
from ext_proc_server.sanitize.named_places import is_known_place, names_a_place
from ext_proc_server.sanitize.place_words import NOT_PERSON, SURNAME_TITLES
from ext_proc_server.sanitize.surnames import WORD_SURNAMES
from ext_proc_server.sanitize.wordlists import fold, word_lists
from tests.unit.sanitize.sanitize_helpers import (
    request_exchange,
    sanitized_note,
    sanitized_path,
    sanitizer,
)

TOKENS = sanitizer()
# Titles as written, Faker pt_BR's prefixes among them.
TITLES = (
    *Person.prefixes_male, *Person.prefixes_female, "Padre", "Frei", "Irmã", "Pastor",
    "Pastora", "Prof.", "Profa.", "Sargento", "Tenente", "Capitão", "Delegado", "Delegada",
    "Desembargadora", "Ministro", "Deputada", "Vereador", "Juiz", "Promotora", "Doutor",
)  # fmt: skip
_TITLE_WORDS = {fold(t).rstrip(".") for t in TITLES}
FIRST_NAMES = sorted(
    n
    for n in set(Person.first_names)
    if " " not in n and fold(n) in word_lists().first_folded and fold(n) not in _TITLE_WORDS
)
FOREIGN = sorted(
    n
    for n in {*ItalianPerson.last_names, *SpanishPerson.last_names}
    if " " not in n and n.isalpha()
)
# Faker pt_BR's last names a title alone makes a person's: no first name, no word.
_WORDS = {fold(w) for w in WORD_SURNAMES} | set(NOT_PERSON)
SURNAMES = sorted(
    n
    for n in set(Person.last_names)
    if n.isalpha() and fold(n) not in word_lists().first_folded and fold(n) not in _WORDS
)


def _query(name: str, value: str) -> str:
    exchange = Exchange(
        id="t", request=HttpRequest(method="GET", path="/busca", query=((name, value),))
    )
    return unquote_plus(TOKENS.sanitize(exchange).request.query[0][1])


def _path(path: str) -> str:
    return unquote(sanitized_path(TOKENS, path))


def _note(text: str, key: str = "observacao") -> str:
    return sanitized_note(TOKENS, text, key)


def _slug(text: str) -> str:
    return "-".join(fold(w).rstrip(".") for w in text.split())


@pytest.mark.parametrize(
    ("sent", "kept"),
    [(("q", quote("Sargento João Torres")), "Sargento SANITIZED_NAME"),
     (("busca", "Padre+Marcelo+Rossi"), "Padre SANITIZED_NAME"),
     (("q", quote_plus("Pastora Ana Bianchi")), "Pastora SANITIZED_NAME"),
     (("q", "delegada-fernanda-queiroz"), "delegada-SANITIZED_NAME"),
     (("q", quote("Seu Jorge Chaves")), "Seu SANITIZED_NAME")],
)  # fmt: skip
def test_a_titled_name_in_a_search_goes_and_its_title_stays(
    sent: tuple[str, str], kept: str
) -> None:
    assert _query(*sent) == kept


@pytest.mark.parametrize(
    ("path", "kept"),
    [("/clientes/padre-marcelo-rossi", "/clientes/padre-SANITIZED_NAME"),
     ("/autores/dra-ana-serra", "/autores/dra-SANITIZED_NAME"),
     ("/autores/dra.ana.serra/livros", "/autores/dra.SANITIZED_NAME/livros"),
     ("/perfil/sargento-joao-torres", "/perfil/sargento-SANITIZED_NAME"),
     # places, products and words: a title before no name, or before a place
     ("/cidades/presidente-prudente", "/cidades/presidente-prudente"),
     ("/cidades/tenente-portela-rs", "/cidades/tenente-portela-rs"),
     ("/produtos/cabo-usb-tipo-c", "/produtos/cabo-usb-tipo-c"),
     ("/historia/dom-pedro-ii", "/historia/dom-pedro-ii"),
     ("/escolas/padre-anchieta", "/escolas/padre-anchieta"),
     ("/ajuda/seu-pedido-chegou", "/ajuda/seu-pedido-chegou"),
     ("/cidades/coronel-jose-dias", "/cidades/coronel-jose-dias")],
)  # fmt: skip
def test_a_titled_name_in_a_slug_goes_and_places_stay(path: str, kept: str) -> None:
    assert _path(path) == kept


@settings(max_examples=150, deadline=None)
@given(
    title=st.sampled_from(TITLES),
    first=st.sampled_from(FIRST_NAMES),
    last=st.sampled_from(FOREIGN),
)
# A surname spelled as the title before it: the title stays, the surname goes.
@example(title="Pastor", first="Beatriz", last="Pastor")
def test_a_titled_faker_name_goes_in_searches_and_slugs(title: str, first: str, last: str) -> None:
    """A title, a Faker pt_BR first name and any Faker it_IT or es_ES surname, listed
    or not: before, every one a word of which no list held went out."""
    words = [fold(w).rstrip(".") for w in (title, first, last)]
    if names_a_place(words) or is_known_place(f"{first} {last}"):
        return  # "Dom Pedro", "Presidente Bernardes": a municipality is kept whole
    personal = {fold(first), fold(last)}
    full = f"{title} {first} {last}"
    for out in (_query("q", quote(full)), _path(f"/clientes/{_slug(full)}")):
        assert not personal & _words_after_the_title(out, title), (full, out)


def _words_after_the_title(out: str, title: str) -> set[str]:
    """The words of ``out`` but a leading title, which stays as written (in a slug it
    is joined to the path before it, so it is no word of its own)."""
    words = fold(out).replace("-", " ").split()
    return set(words[1:] if words[:1] == [fold(title)] else words)


@pytest.mark.parametrize(
    ("text", "kept"),
    [("Falar com Padre Rossi amanhã", "Falar com Padre SANITIZED_NAME amanhã"),
     ("Sargento Torres ligou às 10h", "Sargento SANITIZED_NAME ligou às 10h"),
     ("Delegado Queiroz pediu cópia", "Delegado SANITIZED_NAME pediu cópia"),
     ("o delegado Queiroz pediu cópia", "o delegado SANITIZED_NAME pediu cópia"),
     ("ENTREGAR AO PADRE ROSSI", "ENTREGAR AO PADRE SANITIZED_NAME"),
     ("Sargento Torres da Silva ligou", "Sargento SANITIZED_NAME ligou"),
     ("Desembargadora Bezerra despachou", "Desembargadora SANITIZED_NAME despachou"),
     # streets, institutions, places, products, and words after a title stay
     ("Hospital Padre Bento", "Hospital Padre Bento"),
     ("Escola Professor Souza, sala 3", "Escola Professor Souza, sala 3"),
     ("Colégio Padre Rossi", "Colégio Padre Rossi"),
     ("Frete para Cabo Frio", "Frete para Cabo Frio"),
     ("Igreja de Dom Bosco", "Igreja de Dom Bosco"),
     ("Tenente Portela (RS)", "Tenente Portela (RS)"),
     ("Governador Valadares, MG", "Governador Valadares, MG"),
     ("Presidente Vargas esquina", "Presidente Vargas esquina"),
     ("Marechal Deodoro da Fonseca", "Marechal Deodoro da Fonseca"),
     ("Conde Drácula e Pastor Alemão", "Conde Drácula e Pastor Alemão"),
     ("seu Souza chegou", "seu Souza chegou"),
     ("Padre Prado, retiro", "Padre Prado, retiro")],
)  # fmt: skip
def test_a_known_surname_alone_after_a_title_goes(text: str, kept: str) -> None:
    assert _note(text) == kept
    assert _note(text, "descricao") == kept


@settings(max_examples=150, deadline=None)
@given(
    title=st.sampled_from([t for t in TITLES if fold(t).rstrip(".") in SURNAME_TITLES]),
    last=st.sampled_from(SURNAMES),
    lower=st.booleans(),
)
def test_a_faker_surname_after_a_title_goes(title: str, last: str, lower: bool) -> None:
    """Every Faker pt_BR last name that is no first name and no word, after a title,
    capitalised or in lower case after an article: the surname goes, the title stays."""
    if names_a_place([fold(title).rstrip("."), fold(last)]):
        return  # "Tenente Portela": a municipality
    title = title.lower() if lower and not title.endswith(".") else title
    out = _note(f"Ligar para o {title} {last} amanhã")
    assert out == f"Ligar para o {title} SANITIZED_NAME amanhã", out


# Faker it_IT and es_ES first names in no other list: prose and URLs only.
_LISTS = word_lists()
FOREIGN_FIRST = sorted(
    n
    for n in {*ItalianPerson.first_names, *SpanishPerson.first_names}
    if " " not in n and fold(n) in _LISTS.prose_first_folded - _LISTS.first_folded
)
PT_LAST = sorted(n for n in set(Person.last_names) if n.isalpha())


@pytest.mark.parametrize(
    ("text", "kept"),
    [("Ligar para Giuseppe Rossi hoje", "Ligar para SANITIZED_NAME hoje"),
     ("Giacomo Bianchi retirou o pedido", "SANITIZED_NAME retirou o pedido"),
     ("Visita de Almudena Souza", "Visita de SANITIZED_NAME"),
     # brands named after people, and words among Faker's first names
     ("Sapatos Salvatore Ferragamo 38", "Sapatos Salvatore Ferragamo 38"),
     ("Camisa Massimo Dutti azul", "Camisa Massimo Dutti azul"),
     ("Corona Extra e Estrella Galicia", "Corona Extra e Estrella Galicia"),
     ("Reserva em Santiago de Compostela", "Reserva em Santiago de Compostela")],
)  # fmt: skip
def test_an_italian_or_spanish_first_name_opens_a_name_in_prose(text: str, kept: str) -> None:
    assert _note(text) == kept


def test_an_italian_first_name_decides_no_name_field_alone() -> None:
    """Only where a person's name is read from its words: an ambiguous ``name`` field
    still needs a first name of the other lists (``Salvatore Ferragamo`` is a brand)."""
    for value in ("Salvatore Ferragamo", "Giacomo Conti"):
        body = json.dumps({"id": 1, "name": value})
        out = json.loads(TOKENS.sanitize(request_exchange(body=body)).request.body)
        assert out == {"id": 1, "name": value}
    assert _query("q", quote("Giuseppe Rossi")) == "SANITIZED_NAME"
    assert _path("/clientes/giuseppe-rossi/pedidos") == "/clientes/SANITIZED_NAME/pedidos"


@settings(max_examples=150, deadline=None)
@given(first=st.sampled_from(FOREIGN_FIRST), last=st.sampled_from((*PT_LAST, *FOREIGN)))
def test_a_faker_italian_or_spanish_first_name_goes_with_its_surname(first: str, last: str) -> None:
    """A Faker it_IT or es_ES first name no other list holds, then a Faker pt_BR, it_IT
    or es_ES surname that the lists know: in a note, a search and a slug it goes."""
    if fold(last) not in _LISTS.last_words_folded or is_known_place(f"{first} {last}"):
        return  # a surname that is a word ("Amor", "Mesa") ends no name
    full = f"{first} {last}"
    personal = {fold(first), fold(last)}
    for out in (
        _note(f"Ligar para {full} hoje"),
        _query("q", quote(full)),
        _path(f"/c/{_slug(full)}"),
    ):
        assert not personal & set(fold(out).replace("-", " ").split()), (full, out)
