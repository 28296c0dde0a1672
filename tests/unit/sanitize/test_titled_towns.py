"""Municipalities named as a title and a first name ("Dona Emma", "Dona Inês", "Dona
Francisca") in their own records, as IBGE's localidades API, ViaCEP and BrasilAPI write
them, and as an address's ``cidade``: the name is the town's and stays whole. The same
words in a person's record or in prose about a person ("a Dona Inês ligou") still go.

The towns are every municipality of phonenumbers' geocoder that opens with a title and
holds one other capitalised word (the IBGE shapes are test_town_records')."""

from __future__ import annotations

import pytest

from ext_proc_server.sanitize.municipalities import brazilian_places
from ext_proc_server.sanitize.place_words import TITLES
from ext_proc_server.sanitize.wordlists import fold
from tests.unit.sanitize.name_prose import TOKENS
from tests.unit.sanitize.sanitize_helpers import (
    sanitized_json,
    sanitized_note,
)
from tests.unit.sanitize.town_shapes import PERSON_SHAPES, value_at

_UF = {"id": 42, "sigla": "SC", "nome": "Santa Catarina"}


def _titled_towns() -> list[str]:
    """A title and one capitalised word ("Dona Emma", "Dona Francisca SC 301")."""
    towns = []
    for town in brazilian_places():
        words = [w for w in town.split() if w.istitle()]
        if len(words) == 2 and fold(words[0]) in TITLES:
            towns.append(town)
    return sorted(towns)


def _honorific_towns() -> list[str]:
    """The titled towns whose title is said before a woman's first name ("Dona")."""
    return [t for t in _titled_towns() if fold(t.split()[0]) == "dona"]


# Each shape (GET /api/v1/localidades/municipios/{id}, a district's, ViaCEP's
# /ws/{cep}/json/, BrasilAPI's /api/cep/v2/{cep}, an order's address), with the path of
# the town's name.
_SHAPES = {
    "ibge municipio": (
        lambda town: {"id": 4205001, "nome": town,
                      "microrregiao": {"id": 42003, "nome": "Rio do Sul",
                                       "mesorregiao": {"id": 4204, "nome": "Vale do Itajaí",
                                                       "UF": _UF}}},
        ("nome",),
    ),
    "ibge distrito": (
        lambda town: {"id": 420500105, "nome": "Sede",
                      "municipio": {"id": 4205001, "nome": town}},
        ("municipio", "nome"),
    ),
    "viacep": (
        lambda town: {"cep": "89155-000", "logradouro": "", "complemento": "", "bairro": "",
                      "localidade": town, "uf": "SC", "ibge": "4205001", "gia": "",
                      "ddd": "47", "siafi": "8105"},
        ("localidade",),
    ),
    "brasilapi cep v2": (
        lambda town: {"cep": "89155000", "state": "SC", "city": town, "neighborhood": None,
                      "street": None, "service": "viacep"},
        ("city",),
    ),
    "an order's address": (
        lambda town: {"pedido": 7, "endereco": {"cidade": town, "uf": "SC"}},
        ("endereco", "cidade"),
    ),
}  # fmt: skip


@pytest.mark.parametrize("shape", sorted(_SHAPES))
def test_a_titled_town_stays_whole_in_its_own_record(shape: str) -> None:
    """Measured on the geocoder's 103 titled towns: each shape replaced the six "Dona"
    towns' second word before ("Dona SANITIZED_NAME"), none after."""
    build, path = _SHAPES[shape]
    towns = _titled_towns()
    assert len(towns) > 50 and len(_honorific_towns()) >= 5
    changed = [t for t in towns if value_at(sanitized_json(TOKENS, build(t)), path) != t]
    assert changed == []


_PERSONS = PERSON_SHAPES


@pytest.mark.parametrize("shape", sorted(_PERSONS))
def test_the_same_words_as_a_persons_record_still_go(shape: str) -> None:
    build, path = _PERSONS[shape]
    kept = [n for n in _honorific_towns() if value_at(sanitized_json(TOKENS, build(n)), path) == n]
    assert kept == []


@pytest.mark.parametrize(
    "note", ["a {} ligou ontem", "Falar com a {} amanhã.", "Entregar para {}, casa 2"]
)
def test_the_same_words_in_prose_about_a_person_still_go(note: str) -> None:
    kept = []
    for town in _honorific_towns():
        name = town.split()[1]
        if name in sanitized_note(TOKENS, note.format(town)):
            kept.append(town)
    assert kept == []
