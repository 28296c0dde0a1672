"""Names that went out, and names read where there were none:

- a title and a known surname alone in a ``name`` field that could be a product's
  (``{"name": "Padre Rossi"}``), though prose read it;
- a title and a surname nobody lists in a slug right after a segment naming people
  (``/clientes/cabo-giacomelli``), and a title and a known surname in any slug;
- a known first name and two surnames of Faker's es_ES, it_IT or pt_BR lists that are
  also Portuguese words (``Narcisa Verdugo Campoy``, ``Manola Folch-Vargas``);
- kept: a brand holding "Seu" (``Cachaça Seu Elias Ouro``), saints named with their
  title (``Frei Galvão``: a miss of a saint's name is harmless, and a customer named so
  is none of them; ``Irmã Dulce Pontes`` is still read), streets named without their
  prefix (``na Padre Anchieta``), towns, works and brands after a title.

Cases come from Faker's pt_BR, es_ES, it_IT and fr_FR names and prefixes and IBGE's
municipalities (the geocoder's), swept whole where cheap."""

from __future__ import annotations

import json
import random

import pytest
from faker.providers.person.es_ES import Provider as SpanishPerson
from faker.providers.person.fr_FR import Provider as FrenchPerson
from faker.providers.person.it_IT import Provider as ItalianPerson
from faker.providers.person.pt_BR import Provider as Person
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.free_text_names import find_names, titled_surnames_only
from ext_proc_server.sanitize.municipalities import brazilian_places
from ext_proc_server.sanitize.named_places import is_known_place, places_in
from ext_proc_server.sanitize.place_words import NOT_PERSON, PLACE_OPENERS, SURNAME_TITLES, TITLES
from ext_proc_server.sanitize.surnames import FOREIGN_SURNAME_WORDS, WORD_SURNAMES
from ext_proc_server.sanitize.wordlists import fold, word_lists
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitized_path, sanitizer

TOKENS = sanitizer()
LISTS = word_lists()
# Titles as written before a surname alone: Faker pt_BR's prefixes and Brazil's clergy,
# forces and courts.
TITLES_WRITTEN = (
    *Person.prefixes_male, *Person.prefixes_female, "Padre", "Frei", "Pastor", "Pastora",
    "Prof.", "Profa.", "Sargento", "Tenente", "Capitão", "Delegado", "Delegada", "Juiz",
    "Desembargadora", "Vereador", "Doutor", "Irmã",
)  # fmt: skip
_WORDS = {fold(w) for w in WORD_SURNAMES} | FOREIGN_SURNAME_WORDS | NOT_PERSON | PLACE_OPENERS
# Faker's Italian, Spanish and Brazilian surnames that are no word nor first name.
SURNAMES = sorted(
    n
    for n in {*ItalianPerson.last_names, *SpanishPerson.last_names, *Person.last_names}
    if n.isalpha()
    and len(n) > 2
    and fold(n) in LISTS.prose_last_folded
    and fold(n) not in _WORDS
    and fold(n) not in LISTS.prose_first_folded | LISTS.first_or_last_folded
    and fold(n) not in LISTS.place_last_folded
)
PLACES = sorted(set(brazilian_places()))
TITLED_PLACES = [p for p in PLACES if fold(p.split()[0]).rstrip(".") in TITLES]


def _field(key: str, value: str) -> str:
    exchange = request_exchange(body=json.dumps({key: value}, ensure_ascii=False))
    return json.loads(TOKENS.sanitize(exchange).request.body)[key]


def _path(path: str) -> str:
    return sanitized_path(TOKENS, path)


def _slug(text: str) -> str:
    return "-".join(fold(text).replace("'", " ").split())


# -- a title and a known surname in a name field ----------------------------------


def test_a_title_and_known_surnames_in_a_name_field_are_a_person() -> None:
    pairs = random.Random(5).sample(
        [(t, s) for t in TITLES_WRITTEN for s in SURNAMES if fold(t).rstrip(".") in SURNAME_TITLES],
        400,
    )
    kept = [f"{t} {s}" for t, s in pairs if _field("name", f"{t} {s}") != "SANITIZED_NAME"]
    assert kept == []
    assert _field("name", "PADRE ROSSI") == "SANITIZED_NAME"
    assert _field("name", "Delegado Queiroz Bianchi") == "SANITIZED_NAME"


def test_no_municipality_opening_with_a_title_reads_as_title_and_surnames() -> None:
    """Every town opening with a title ("Padre Bernardo", "Governador Valadares"): the
    rule reads none of them as a title and surnames."""
    assert len(TITLED_PLACES) > 100
    assert [p for p in TITLED_PLACES if titled_surnames_only(p.split())] == []


@pytest.mark.parametrize(
    "value",
    ["Pastor Alemão", "Padre Prado", "General Motors", "Mestre Cuca", "Cabo Frio",
     "Doutor Estranho", "Frei Galvão", "Padre Anchieta"],
)  # fmt: skip
def test_words_brands_towns_and_saints_after_a_title_stay_in_a_name_field(value: str) -> None:
    assert _field("name", value) == value


# -- slugs: a title and surnames ----------------------------------------------------

_PEOPLE_TITLES = ("padre", "sargento", "delegado", "pastor", "cabo", "dom", "frei", "irma")
# Surnames no list here holds: Faker's French ones ("Giacomelli" is no Italian one).
UNKNOWN = sorted(
    n
    for n in FrenchPerson.last_names
    if n.isalpha()
    and len(n) > 2
    and fold(n) not in LISTS.prose_last_folded | LISTS.prose_first_folded | LISTS.last_words_folded
    and fold(n) not in _WORDS
    and fold(n) not in TITLES
)


def test_a_title_and_any_surname_after_a_people_segment_is_replaced_title_kept() -> None:
    """The title stays; "irma" without its tilde is a first name, replaced with the rest
    ("irmã" keeps it)."""
    assert len(UNKNOWN) > 50
    leaked = []
    for title in (*_PEOPLE_TITLES, "irm%C3%A3"):
        for surname in [*UNKNOWN[:60], "Giacomelli"]:
            slug = f"{title}-{_slug(surname)}"
            out = _path(f"/clientes/{slug}")
            kept = "" if title == "irma" else f"{title}-"
            if out != f"/clientes/{kept}SANITIZED_NAME":
                leaked.append(slug)
    assert leaked == []


def test_a_title_and_a_known_surname_in_any_slug_is_replaced() -> None:
    leaked = [
        s
        for s in random.Random(9).sample(SURNAMES, 200)
        if "SANITIZED_NAME" not in _path(f"/p/sargento-{_slug(s)}")
    ]
    assert leaked == []


def test_towns_opening_with_a_title_stay_in_every_slug() -> None:
    """Every town opening with a title, as a slug under a segment naming people and
    under another ("Dom" also a first name the census counts opens a first name's
    slug, "dom-aquino", as it did before: left out)."""
    towns = [p for p in TITLED_PLACES if fold(p.split()[0]) not in LISTS.prose_first_folded]
    assert len(towns) > 100
    changed = [
        p
        for p in towns
        for base in ("/clientes/", "/produtos/")
        if _path(base + _slug(p)) != base + _slug(p)
    ]
    assert changed == []


@pytest.mark.parametrize(
    "path",
    ["/clientes/cabo-frio", "/clientes/dom-pedrito", "/clientes/dom-casmurro",
     "/livros/dom-casmurro", "/clientes/general-motors", "/clientes/mestre-cuca",
     "/produtos/cabo-usb", "/produtos/cabo-branco", "/produtos/cabo-de-rede",
     "/clientes/cabo-santo-agostinho", "/lojas/dom-giacomelli"],
)  # fmt: skip
def test_places_works_brands_and_products_after_a_title_stay(path: str) -> None:
    assert _path(path) == path


# -- two Faker surnames that are also words, after a known first name ---------------

_FIRST = sorted(
    n for n in {*SpanishPerson.first_names, *ItalianPerson.first_names}
    if " " not in n and fold(n) in LISTS.prose_first_folded
)  # fmt: skip
_SPANISH_SURNAMES = sorted(
    n
    for n in SpanishPerson.last_names
    if n.replace("-", "").isalpha() and not set(map(fold, n.split("-"))) & NOT_PERSON
)


@settings(max_examples=300, deadline=None)
@example(first="Irma", surnames=["Giménez", "Carlos"])  # the title is "Irmã"
@example(first="Irma", surnames=["Lago", "Ramos"])
@example(first="Godofredo", surnames=["Viana", "Gaya"])  # a town, then a surname
@example(first="Gioele", surnames=["Cruz", "Machado"])  # a first name, then a town
@example(first="Vidal", surnames=["Ramos", "Céspedes"])
@given(
    first=st.sampled_from(_FIRST),
    surnames=st.lists(st.sampled_from(_SPANISH_SURNAMES), min_size=2, max_size=2),
)
def test_a_first_name_and_two_faker_surnames_in_prose_are_a_name(
    first: str, surnames: list[str]
) -> None:
    name = f"{first} {' '.join(surnames)}"
    # A run that is towns end to end ("Vera Cruz Machado": Vera Cruz and Cruz Machado)
    # is read as places: no word of it is a person's alone.
    folded = name.split()
    covered = {i for a, b in places_in([fold(w) for w in folded]) for i in range(a, b)}
    assume(len(covered) < len(folded))
    out = _field("observacao", f"Falar com {name} amanhã")
    assert not any(w in out.split() for w in surnames if len(w) > 3 and w not in first)


@pytest.mark.parametrize("name", ["Irma Giménez Carlos", "Irma Lago Ramos", "IRMA PARDO GONZALO"])
def test_irma_without_its_tilde_is_a_first_name_not_the_title(name: str) -> None:
    # "Irmã" is the title; "Irma", written so, opens the name and goes with it.
    out = _field("observacao", f"Falar com {name} amanhã")
    assert [w for w in name.split() if w in out] == []


def test_words_that_are_surnames_need_a_first_name_before_them() -> None:
    # Without a first name they are words; one alone after a first name ends a name
    # only as the run's last word ("Ana Mesa chegou"; "Ana Mesa Posta" is no one).
    assert find_names("Mesa Alegre Real para Vento Norte") == []
    for word in sorted(FOREIGN_SURNAME_WORDS):
        text = f"Comprar {word.capitalize()} Posta chegou"
        assert find_names(text) == [], text
        text = f"Ana {word.capitalize()} Posta chegou"
        if fold(word) not in LISTS.last_words_folded:
            assert find_names(text) == [], text


def test_no_municipality_in_prose_reads_as_a_name() -> None:
    assert [p for p in PLACES if find_names(f"Entrega em {p} amanhã")] == []


# -- what stays, and why ----------------------------------------------------------------


def test_a_brand_holding_seu_stays_and_a_name_after_it_is_still_read() -> None:
    """ "Cachaça Seu Elias Ouro": "Seu" second in a run after a common word is a brand's
    word, so a known last name must follow to read a person ("Cachaça Seu Elias
    Pereira" is read); in a title-case sentence ("Ligar Para Seu Elias Ouro") and alone
    ("Seu Elias Ouro") the title still says a person."""
    firsts = sorted(
        n for n in set(Person.first_names_male) if " " not in n and fold(n) not in TITLES
    )
    kept = [f for f in firsts if find_names(f"Cachaça Seu {f} Ouro")]
    assert kept == []
    last = random.Random(1).sample([n for n in Person.last_names if " " not in n], 40)
    pairs = [(f, s) for f, s in zip(firsts, last, strict=False) if not is_known_place(f"{f} {s}")]
    assert [p for p in pairs if not find_names(f"Cachaça Seu {p[0]} {p[1]}")] == []
    for text in ("Ligar Para Seu Elias Ouro", "Seu Elias Ouro", "falar com Seu Elias Ouro"):
        assert find_names(text), text


@pytest.mark.parametrize(
    "text",
    ["devoto de Frei Galvão", "o frei Galvão", "mora na Padre Anchieta, 120",
     "igreja de São Francisco", "novena do Padre Cícero", "Doces Dom Bosco"],
)  # fmt: skip
def test_saints_and_streets_named_without_their_prefix_stay_in_prose(text: str) -> None:
    assert find_names(text) == []


def test_a_longer_name_holding_a_saints_is_still_read() -> None:
    assert [("Irmã Dulce Pontes")[a:b] for a, b in find_names("Irmã Dulce Pontes")] == [
        "Dulce Pontes"
    ]
