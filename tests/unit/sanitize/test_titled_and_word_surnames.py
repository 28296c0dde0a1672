"""Names that went out though they are people's: a title before a first name and a
surname in no list (``Padre Marcelo Rossi``), a surname that is also a place's word
(``Maria Serra``), one that is also an ordinary word (``José Chaves Prado``, ``Carlos
Lobo``), and Brazil's Italian and Spanish surnames (``Giovanni Bianchi``). Cases come
from Faker's pt_BR first names, its it_IT and es_ES last names and the titles in common
Brazilian use; held both ways: prose, places, streets and products holding those words
stay."""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from urllib.parse import quote, quote_plus, unquote_plus

import pytest
from faker.providers.person.es_ES import Provider as SpanishPerson
from faker.providers.person.it_IT import Provider as ItalianPerson
from faker.providers.person.pt_BR import Provider as Person
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.exchange import Exchange, HttpRequest
from ext_proc_server.sanitize.municipalities import brazilian_places
from ext_proc_server.sanitize.named_places import is_known_place
from ext_proc_server.sanitize.place_words import NOT_PERSON
from ext_proc_server.sanitize.wordlists import fold, word_lists
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

TOKENS = sanitizer()
# Every shape a name travels in; a title before it stays where it stands.
SHAPES = ("nome", "name", "observacao", "descricao", "infCpl", "form", "query", "path")
# A slug is in lower case: after a title that is also a word there ("dom-", "seu-",
# "cabo-") the name needs both ends known (url_names).
TEXT_SHAPES = SHAPES[:7]
TITLES = (
    "Padre", "Frei", "Irmã", "Irmão", "Dom", "Dona", "Seu", "Pastor", "Pastora", "Dr.",
    "Dra.", "Prof.", "Profa.", "Sr.", "Sra.", "Sargento", "Cabo", "Tenente", "Delegado",
    "Delegada", "Desembargador", "Desembargadora", "Ministro", "Ministra", "Deputado",
    "Deputada", "Vereador", "Vereadora",
)  # fmt: skip
_TITLE_WORDS = {fold(t).rstrip(".") for t in TITLES}
FIRST_NAMES = sorted(  # Faker's pt_BR list holds "Dom"
    n
    for n in set(Person.first_names)
    if " " not in n and fold(n) in word_lists().first_folded and fold(n) not in _TITLE_WORDS
)
# Titles the cue rule reads (personal_text): any capitalised words after them are a name.
_CUES = ("Dona", "Dr.", "Dra.", "Sr.", "Sra.")
FOREIGN = sorted(
    {n for n in (*ItalianPerson.last_names, *SpanishPerson.last_names) if " " not in n}
)
WORD_SURNAMES = (
    "Chaves", "Prado", "Lobo", "Cordeiro", "Bispo", "Raposo", "Fontes", "Pontes",
    "Bandeira", "Arruda", "Salgado", "Pessoa", "Castelo", "Teles", "Paixão", "Falcão",
)  # fmt: skip
PLACE_SURNAMES = ("Serra", "Vale", "Porto", "Ponte", "Duque", "Conde")


def _json(document: object) -> dict:
    body = json.dumps(document, ensure_ascii=False)
    return json.loads(TOKENS.sanitize(request_exchange(body=body)).request.body)


def _request(path: str, query: tuple[tuple[str, str], ...] = ()) -> HttpRequest:
    exchange = Exchange(id="t", request=HttpRequest(method="GET", path=path, query=query))
    return TOKENS.sanitize(exchange).request


def _outputs(full: str) -> dict[str, str]:
    """``full`` sanitized in every shape, each as it reads decoded."""
    nfe = f"<NFe><infCpl>ENTREGAR PARA {full.upper()}, APTO 12</infCpl></NFe>"
    form = f"pedido=1&obs={quote_plus(f'ligar para {full} amanha')}"
    slug = "-".join(fold(w).rstrip(".") for w in full.split())
    return {
        "nome": _json({"cliente": {"nome": full}})["cliente"]["nome"],
        "name": _json({"id": 1, "name": full})["name"],
        "observacao": _json({"observacao": f"Entregar para {full}, apto 12"})["observacao"],
        "descricao": _json({"descricao": f"Visita de {full} na segunda"})["descricao"],
        "infCpl": TOKENS.sanitize(
            request_exchange(body=nfe, content_type="application/xml")
        ).request.body.decode(),
        "form": unquote_plus(
            TOKENS.sanitize(
                request_exchange(body=form, content_type="application/x-www-form-urlencoded")
            ).request.body.decode()
        ),
        "query": _request("/busca", (("q", quote(full)),)).query[0][1],
        "path": _request(f"/clientes/{slug}/pedidos").path,
    }


def _leaked(
    full: str, personal: str, shapes: tuple[str, ...] = SHAPES, kept: str = ""
) -> list[str]:
    """The shapes in which a word of ``personal`` (the name without its title) is left.
    Each word of ``kept`` (the title) may stay once: ``Donà`` folds to the title ``Dona``."""
    words = {fold(w) for w in personal.split()}
    kept_words = Counter(fold(w) for w in kept.split())
    left = []
    for shape, out in _outputs(full).items():
        found = Counter(re.findall(r"[a-z]+", fold(unquote_plus(out)))) - kept_words
        if shape in shapes and words & set(found):
            left.append(shape)
    return left


@pytest.mark.parametrize(
    ("full", "personal", "shapes"),
    [("Padre Marcelo Rossi", "Marcelo Rossi", SHAPES),
     ("Pastora Ana Rossi", "Ana Rossi", SHAPES),
     ("Seu Jorge Chaves", "Jorge Chaves", SHAPES),
     ("Ministro Carlos Prado", "Carlos Prado", SHAPES),
     ("Irmã Dulce Pontes", "Dulce Pontes", SHAPES),
     ("Maria Serra", "Maria Serra", SHAPES),
     ("Ana Vale", "Ana Vale", SHAPES),
     ("Maria Serra da Silva", "Maria Serra Silva", SHAPES),
     ("Pedro Fontes", "Pedro Fontes", SHAPES),
     ("José Chaves Prado", "José Chaves Prado", SHAPES),
     ("Carlos Lobo", "Carlos Lobo", SHAPES),
     ("Luiz Raposo", "Luiz Raposo", SHAPES),
     ("Pedro Bispo", "Pedro Bispo", SHAPES),
     ("Marcelo Rossi", "Marcelo Rossi", SHAPES),
     ("Giovanni Bianchi", "Giovanni Bianchi", SHAPES),
     ("Marco Esposito", "Marco Esposito", SHAPES),
     ("Fernanda Quintana", "Fernanda Quintana", SHAPES),
     # surnames that are a firm's, a road's or a council's word elsewhere
     ("Maria Câmara", "Maria Câmara", SHAPES),
     ("Ana Sá", "Ana Sá", SHAPES),
     ("Maria de Sá", "Maria Sá", SHAPES),
     ("João Sá Ferreira", "João Sá Ferreira", SHAPES),
     ("Lucía Estrada", "Lucía Estrada", SHAPES)],
)  # fmt: skip
def test_a_name_that_went_out_is_replaced_in_every_shape(
    full: str, personal: str, shapes: tuple[str, ...]
) -> None:
    assert _leaked(full, personal, shapes) == []


def test_a_place_surname_before_another_name_and_pseudonyms() -> None:
    note = _json({"observacao": "Ligar para Maria Serra e José Chaves Prado"})["observacao"]
    assert note == "Ligar para SANITIZED_NAME"
    pseudonyms = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-titled")
    body = json.dumps({"observacao": "Padre Marcelo Rossi visitou Maria Serra"})
    out = json.loads(pseudonyms.sanitize(request_exchange(body=body)).request.body)
    words = set(out["observacao"].split())
    assert out["observacao"].startswith("Padre ") and "visitou" in words
    assert not words & {"Marcelo", "Rossi", "Maria", "Serra"}, out


def test_the_title_stays_and_the_name_after_it_goes() -> None:
    note = _json({"observacao": "Padre Marcelo Rossi celebra a missa"})["observacao"]
    assert note == "Padre SANITIZED_NAME celebra a missa"
    note = _json({"observacao": "falar com o padre Marcelo Rossi amanhã"})["observacao"]
    assert note == "falar com o padre SANITIZED_NAME amanhã"
    assert _json({"id": 1, "name": "Padre Marcelo Rossi"}) == {"id": 1, "name": "SANITIZED_NAME"}


@settings(max_examples=120, deadline=None)
@given(
    first=st.sampled_from(FIRST_NAMES),
    last=st.sampled_from(FOREIGN),
    title=st.sampled_from(TITLES),
)
def test_a_titled_name_from_faker_goes_in_prose_and_fields(
    first: str, last: str, title: str
) -> None:
    """A title, a Faker pt_BR first name and any Faker it_IT or es_ES surname, listed or
    not (``Padre Marcelo Rossi``, ``Sargento Ana Vento``): the title says a person."""
    full = f"{title} {first} {last}"
    if is_known_place(f"{title} {first}") or is_known_place(f"{first} {last}"):
        return  # "Dom Pedro", "Presidente Bernardes": a municipality is kept whole
    if fold(last) in NOT_PERSON:
        return  # "Padre Agatha Estrada": a road's word keeps the run, as before
    assert _leaked(full, f"{first} {last}", TEXT_SHAPES, kept=title) == []


@settings(max_examples=120, deadline=None)
@given(
    first=st.sampled_from(FIRST_NAMES),
    last=st.sampled_from((*WORD_SURNAMES, *PLACE_SURNAMES)),
)
def test_a_surname_that_is_a_word_or_a_place_goes_after_a_first_name(first: str, last: str) -> None:
    full = f"{first} {last}"
    if is_known_place(full):  # "Santa Vale"? "João Pessoa": places stay whole
        return
    assert _leaked(full, full) == []


def test_faker_italian_and_spanish_surnames_after_a_first_name_go_in_prose() -> None:
    """Measured: 300 Faker pt_BR first names, each with a Faker it_IT or es_ES surname,
    in a note: what stays is only a surname that is a Portuguese word (``Amor``,
    ``Mesa``, ``Vento``) or a first name (``Bruno``); before, almost all went out."""
    draw = random.Random(2024)
    left = []
    for _ in range(300):
        first, last = draw.choice(FIRST_NAMES), draw.choice(FOREIGN)
        note = _json({"observacao": f"Ligar para {first} {last} hoje"})["observacao"]
        if note != "Ligar para SANITIZED_NAME hoje" and not is_known_place(f"{first} {last}"):
            left.append(last)
    assert len(left) <= 25, left  # measured: 23 of 300
    lists = word_lists()
    assert all(fold(last) not in lists.prose_last_folded for last in left), left


# Prose, places, streets and products holding a title, a word surname or a place
# surname: none is a person's, and a mock that matched on them must still match.
DECOYS = (
    "Perdi as chaves do carro no prado", "Rua das Chaves, sem número",
    "Chaves Gold para portas", "Cordeiro assado com batatas", "Lobo Mau e Chapeuzinho",
    "Frete para Serra da Mantiqueira", "Passeio no Vale do Anhangabaú",
    "Excursão para Porto Seguro e Vale Verde", "Ponte Rio-Niterói fechada",
    "Duque de Caxias: entrega em 3 dias", "O Conde de Monte Cristo, edição de bolso",
    "Seu Pedido foi enviado", "seu pedido Maria Helena", "Cabo USB Tipo C 2 metros",
    "Cabo Frio e Arraial do Cabo", "Presidente Prudente, SP", "Padre Bernardo (GO)",
    "Coronel Fabriciano, MG", "Tenente Portela (RS)", "Castelo Branco e Bandeira do Brasil",
    "Pessoa Física ou Pessoa Jurídica", "Monte Carlo Hotel", "Bravo! Pedido entregue",
    "Vale Tudo Ltda", "Hospital Padre Bento", "Escola Estadual Padre Anchieta",
    "Maria Mole sabor coco", "Serra Gaúcha vinhos", "Porto Alegre e Vale dos Sinos",
    "Caixa Alegre Amor", "Mesa Redonda Real", "Frade Capuchinho", "Fontes de energia",
    "Prado verde", "Pontes e viadutos", "Papa Francisco visita o Brasil",
    "Santa Maria da Serra", "Praça Duque de Caxias", "Ladeira Porto Geral",
    "Bandeira Branca", "Conde Drácula", "Major Gercino", "Presidente Dutra",
    "Dom Casmurro, de Machado de Assis", "Pastor Alemão filhote", "Irmão Sol Irmã Lua",
    "Igreja de Dom Bosco", "Av. Dom Pedro Serra",
    "Presidente da Câmara Municipal", "Câmara dos Deputados aprova", "Gerdau SA comunicou",
    "Fornecedor Souza Cruz SA", "Banco Bradesco SA", "Universidade Estácio de Sá",
    "Pegar a Estrada do Coco", "Estrada Velha de Itu", "Frete para Padre Dias d'Ávila",
    "Prof. Aparecida D'Oeste", "o padre Dias d\u2019Ávila", "Irmã Ponte 2 de Julho",
)  # fmt: skip


@pytest.mark.parametrize("text", DECOYS)
def test_prose_places_and_products_stay(text: str) -> None:
    for key in ("observacao", "descricao"):
        assert _json({key: text}) == {key: text}


@settings(max_examples=150, deadline=None)
@given(
    title=st.sampled_from([t for t in TITLES if t not in _CUES]),
    place=st.sampled_from(
        sorted(p for p in brazilian_places() if " " in p and "Dona" not in p.split())
    ),
)
def test_a_title_before_a_municipality_keeps_it(title: str, place: str) -> None:
    """``Padre João Pessoa``, ``Frei Vitória da Conquista``: a known place after a title
    stays whole, as before (after ``Dona`` or ``Sr.`` the cue rule reads any name)."""
    text = f"Frete para {title} {place} confirmado"
    assert _json({"observacao": text}) == {"observacao": text}


@pytest.mark.parametrize(
    "value", ["Chaves Gold", "Prado Verde", "Lobo Mau", "Serra Gaúcha", "Vale Tudo", "Porto Seguro"]
)
def test_a_word_surname_alone_decides_no_name_field(value: str) -> None:
    assert _json({"id": 1, "name": value}) == {"id": 1, "name": value}
    path = _request("/produtos/" + fold(value).replace(" ", "-")).path
    assert "SANITIZED" not in path
