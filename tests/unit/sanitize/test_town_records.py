"""Towns named as people are (``Paulo Lopes``, ``Pedro Gomes``, ``Luis Eduardo
Magalhães``) in their own records, as IBGE's localidades API and ViaCEP/BrasilAPI
write them: the name is the town's and stays (a mock answered another town). The same
names as a person's, beside a CPF or under a customer, still go."""

from __future__ import annotations

import pytest

from ext_proc_server.sanitize.municipalities import brazilian_places
from ext_proc_server.sanitize.place_words import TITLES
from ext_proc_server.sanitize.wordlists import fold
from tests.unit.sanitize.name_prose import TOKENS
from tests.unit.sanitize.sanitize_helpers import sanitized_json
from tests.unit.sanitize.town_shapes import PERSON_SHAPES, value_at

_UF = {"id": 42, "sigla": "SC", "nome": "Santa Catarina",
       "regiao": {"id": 4, "sigla": "S", "nome": "Sul"}}  # fmt: skip


def _ibge_municipio(town: str) -> dict[str, object]:
    """GET /api/v1/localidades/municipios/{id}."""
    return {
        "id": 4212106,
        "nome": town,
        "microrregiao": {"id": 42016, "nome": "Tabuleiro",
                         "mesorregiao": {"id": 4205, "nome": "Grande Florianópolis", "UF": _UF}},
        "regiao-imediata": {"id": 420001, "nome": "Florianópolis",
                            "regiao-intermediaria": {"id": 4201, "nome": "Florianópolis",
                                                     "UF": _UF}},
    }  # fmt: skip


# Each shape, with where the town's name stands in it.
_SHAPES = {
    "ibge municipio": (_ibge_municipio, ("nome",)),
    "ibge list": (lambda town: [_ibge_municipio(town)], (0, "nome")),
    # GET /api/v1/localidades/distritos: a district holds its municipality
    "ibge distrito": (
        lambda town: {"id": 421210605, "nome": "Sede", "municipio": _ibge_municipio(town)},
        ("municipio", "nome"),
    ),
    "ibge municipio, ids only": (
        lambda town: {"id": 421210605, "municipio": {"id": 4212106, "nome": town}},
        ("municipio", "nome"),
    ),
    "viacep": (
        lambda town: {
            "cep": "88490-000",
            "logradouro": "",
            "complemento": "",
            "bairro": "",
            "localidade": town,
            "uf": "SC",
            "ibge": "4212106",
            "gia": "",
            "ddd": "48",
            "siafi": "8241",
        },
        ("localidade",),
    ),
    "brasilapi cep v2": (
        lambda town: {
            "cep": "88490000",
            "state": "SC",
            "city": town,
            "neighborhood": None,
            "street": None,
            "service": "viacep",
        },
        ("city",),
    ),
}


def _sanitized(doc: object) -> object:
    return sanitized_json(TOKENS, doc)


def _towns() -> list[str]:
    """Every place of the geocoder's list of two words or more, but a title and a first
    name alone ("Dona Emma"): those are held by test_titled_towns.py."""
    return sorted(town for town in brazilian_places() if " " in town and not _titled(town))


def _titled(town: str) -> bool:
    """A title and one capitalised word ("Dona Emma", "Dona Francisca SC 301")."""
    words = [w for w in town.split() if w.istitle()]
    return len(words) == 2 and fold(words[0]) in TITLES


@pytest.mark.parametrize("shape", sorted(_SHAPES))
def test_every_town_stays_in_its_own_record(shape: str) -> None:
    """Measured on 2,355 names of two words or more: each IBGE shape replaced 385 before
    (``Paulo Lopes``, ``Pedro Gomes``, ``Abel Figueiredo``), none after; ViaCEP's and
    BrasilAPI's none before or after."""
    build, path = _SHAPES[shape]
    towns = _towns()
    assert len(towns) > 2000 and {"Paulo Lopes", "Pedro Gomes"} <= set(towns)
    changed = [t for t in towns if value_at(_sanitized(build(t)), path) != t]
    assert changed == []


_PERSONS = {
    **PERSON_SHAPES,
    "a customer and their town": (
        lambda name: {"cliente": {"nome": name, "municipio": {"id": 4212106, "nome": "Tijucas"}}},
        ("cliente", "nome"),
    ),
}  # fmt: skip


@pytest.mark.parametrize("shape", sorted(_PERSONS))
def test_the_same_names_as_a_persons_still_go(shape: str) -> None:
    build, path = _PERSONS[shape]
    names = [t for t in _towns() if value_at(_sanitized(_ibge_municipio(t)), ("nome",)) == t]
    names = [t for t in names if t in {"Paulo Lopes", "Pedro Gomes"} or t < "C"]
    kept = [n for n in names if value_at(_sanitized(build(n)), path) == n]
    assert len(names) > 50 and kept == []


def test_a_persons_town_of_birth_is_no_town_record() -> None:
    """A ``municipioNascimento`` names no town's record: the person's own name goes."""
    doc = {"nome": "Paulo Lopes", "municipioNascimento": {"nome": "Tijucas"}, "cpf": "x"}
    assert _sanitized(doc)["nome"] != "Paulo Lopes"  # type: ignore[index]
