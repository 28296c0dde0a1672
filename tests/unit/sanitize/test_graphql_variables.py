"""A GraphQL request's variables are read by the arguments they fill, whatever the
client named them: ``criarPaciente(obs: $o)`` with ``{"o": "..."}`` is read as
``{"obs": "..."}`` is (graphql_bindings). The corpus's shapes are public APIs' (see
graphql_variable_corpus); product and order variables stay."""

from __future__ import annotations

import json

import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize import fields
from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.graphql_variable_corpus import (
    PERSONAL_SHAPES,
    PRODUCT_SHAPES,
    STYLES,
    request,
    twins,
)
from tests.unit.sanitize.people import leaked, seeded_faker
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

_SANITIZER = sanitizer()
_LOCALES = ("pt_BR", "en_US")
_SEEDS = range(3)


def _sanitized(body: str, content_type: str = "application/json") -> str:
    exchange = request_exchange(body=body, content_type=content_type)
    return _SANITIZER.sanitize(exchange).request.body.decode()


def _values(body: str) -> list[object]:
    """A request's variables' values, in order, whatever their names."""
    return list(json.loads(_sanitized(body))["variables"].values())


def _twins(whole_input: bool) -> list[object]:
    return [
        pytest.param(shape, locale, seed, id=f"{shape.name}-{locale}-{seed}")
        for shape in PERSONAL_SHAPES
        if shape.whole_input == whole_input
        for locale in _LOCALES
        for seed in _SEEDS
    ]


def _read_alike(shape: object, locale: str, seed: int, *, batched: bool = False) -> None:
    """Each style of the shape's request leaves its variables as the like-named one
    does (some of its planted values gone), alone or in a batch of two."""
    like, *others = twins(shape, locale, seed)  # type: ignore[arg-type]
    expected = _values(like.body)
    assert leaked(json.dumps(expected, ensure_ascii=False), list(like.planted)) != list(
        like.planted
    )
    for other in others:
        if batched:
            batch = json.loads(_sanitized(f"[{other.body}, {other.body}]"))
            assert [list(one["variables"].values()) for one in batch] == [expected] * 2
        else:
            assert _values(other.body) == expected, other.style


@pytest.mark.parametrize(("shape", "locale", "seed"), _twins(whole_input=False))
def test_variables_named_unlike_their_arguments_are_read_as_named_like(
    shape: object, locale: str, seed: int
) -> None:
    _read_alike(shape, locale, seed)


@pytest.mark.parametrize(("shape", "locale", "seed"), _twins(whole_input=False))
def test_a_batch_of_requests_reads_each_ones_variables(
    shape: object, locale: str, seed: int
) -> None:
    _read_alike(shape, locale, seed, batched=True)


@pytest.mark.parametrize(("shape", "locale", "seed"), _twins(whole_input=True))
def test_a_variable_holding_an_input_object_is_read_by_its_keys(
    shape: object, locale: str, seed: int
) -> None:
    _read_alike(shape, locale, seed)


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("shape", PRODUCT_SHAPES, ids=lambda shape: shape.name)
@pytest.mark.parametrize("locale", _LOCALES)
def test_product_and_order_variables_stay(shape: object, style: str, locale: str) -> None:
    for seed in _SEEDS:
        fake = Faker(locale)
        fake.seed_instance(seed)
        built = request(shape, fake, style)  # type: ignore[arg-type]
        assert json.loads(_sanitized(built.body)) == json.loads(built.body)


def test_operation_name_picks_the_operation_whose_arguments_are_read() -> None:
    query = (
        "mutation Lote($x: String) { registrarLote(codigo: $x) { id } } "
        "mutation Paciente($x: String) { criarPaciente(nome: $x) { id } }"
    )
    name = seeded_faker(105).name()
    doc = {"query": query, "operationName": "Paciente", "variables": {"x": name}}
    assert name not in _sanitized(json.dumps(doc, ensure_ascii=False))


def test_a_persisted_query_without_its_document_is_read_without_one() -> None:
    name = seeded_faker(105).name()
    doc = {
        "operationName": "CriarPaciente",
        "variables": {"o": "Paciente com CID F32.1", "n": name},
        "extensions": {"persistedQuery": {"version": 1, "sha256Hash": "ab" * 32}},
    }
    out = json.loads(_sanitized(json.dumps(doc, ensure_ascii=False)))
    alone = json.loads(_sanitized(json.dumps({"variables": doc["variables"]}, ensure_ascii=False)))
    assert out == dict(doc, variables=alone["variables"])  # no document: nothing to bind


@pytest.mark.parametrize("shape", PERSONAL_SHAPES, ids=lambda shape: shape.name)
def test_the_query_of_a_json_request_reads_as_an_application_graphql_body(shape: object) -> None:
    *_, unlike = twins(shape, "pt_BR", 0)  # type: ignore[arg-type]
    query = json.loads(unlike.body)["query"]
    assert json.loads(_sanitized(unlike.body))["query"] == _sanitized(query, "application/graphql")


# GraphQL names that name nothing themselves (else the name is read, as it is named).
_NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True).filter(
    lambda name: not is_token(name) and fields.builtin_verdict(fields.ROOT, name) is None
)


@settings(max_examples=40, deadline=None)
@given(names=st.lists(_NAMES, min_size=3, max_size=3, unique=True), seed=st.integers(0, 999))
def test_any_variable_names_read_as_the_arguments_they_fill(names: list[str], seed: int) -> None:
    fake = Faker("pt_BR")
    fake.seed_instance(seed)
    note = f"Paciente com CID {fake.bothify('?##.#', letters='ABCDEFGHIJ')}"
    values = [fake.name(), note, fake.msisdn()]
    arguments = ["nome", "observacoes", "telefone"]
    header = ", ".join(f"${name}: String" for name in names)
    calls = ", ".join(f"{a}: ${n}" for a, n in zip(arguments, names, strict=True))
    query = f"mutation Ficha({header}) {{ criarPaciente({calls}) {{ id }} }}"
    doc = {"query": query, "variables": dict(zip(names, values, strict=True))}
    named = dict(doc, variables=dict(zip(arguments, values, strict=True)))
    assert _values(json.dumps(doc)) == _values(json.dumps(named))
    assert leaked(json.dumps(_values(json.dumps(doc))), values) == []
