"""GraphQL requests whose ``variables`` are not an object beside their ``query``: over
GET (the GraphQL-over-HTTP spec's ``?query=…&operationName=…&variables=…``, as Apollo
and Relay clients send queries), as a form body, or as a JSON string
(``"variables": "{\\"o\\": …}"``). Their variables are read by the arguments they
fill, as a JSON body's are (graphql_requests); products' and orders' stay, and a GET's
``variables`` stays a percent-encoded JSON document its stub still matches.

The requests are graphql_variable_corpus's public API shapes, and queries that filter
by a person as published APIs do: HL7 FHIR's GraphQL ``PatientList(name:, birthdate:)``,
Hasura's ``where: {email: {_eq: $e}}``, Prisma's ``{contains: $n}`` and Brazilian
clinical and customer searches (a CPF without punctuation, a cued ICD-10 code)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import NamedTuple
from urllib.parse import parse_qsl, quote, unquote_plus, urlencode

import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse, query_pairs
from ext_proc_server.mapping import NoiseNormalizer, request_pattern
from ext_proc_server.sanitize import fields
from ext_proc_server.sanitize.graphql_bindings import bindings
from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.graphql_variable_corpus import (
    PERSONAL_SHAPES,
    PRODUCT_SHAPES,
    STYLES,
    Request,
    request,
    twins,
)
from tests.unit.sanitize.people import leaked, seeded_faker
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

_SANITIZER = sanitizer()
_LOCALES = ("pt_BR", "en_US")
_SEEDS = range(3)
_FORM = "application/x-www-form-urlencoded"
# JavaScript's encodeURIComponent (Apollo's and Relay's GET links), and a form's
# urlencode ("+" for a space, as Python's requests and curl --data-urlencode write).
_URI_COMPONENT_SAFE = "-_.!~*'()"


class _Filter(NamedTuple):
    """A shape graphql_variable_corpus.request builds (its fields, by name)."""

    name: str
    operation: str
    variables: Callable[[Faker], tuple[dict[str, object], tuple[str, ...]]]
    operation_name: str | None = None
    whole_input: bool = False


def _icd10(fake: Faker) -> str:
    return fake.bothify("?##.#", letters="ABCDEFGHIJKLMNOPQRSTZ")


def _birth(fake: Faker) -> str:
    return fake.date_of_birth(minimum_age=18).isoformat()


def _fhir_patients(fake: Faker) -> tuple[dict[str, object], tuple[str, ...]]:
    name, birth = fake.name(), _birth(fake)
    return {"name": name, "birthdate": birth}, (name, birth)


def _by_email(fake: Faker) -> tuple[dict[str, object], tuple[str, ...]]:
    email = fake.email()
    return {"email": email}, (email,)


def _by_email_and_cpf(fake: Faker) -> tuple[dict[str, object], tuple[str, ...]]:
    email, cpf = fake.email(), re.sub(r"\D", "", seeded_faker(81).cpf())
    return {"email": email, "cpf": cpf}, (email, cpf)


def _by_name(fake: Faker) -> tuple[dict[str, object], tuple[str, ...]]:
    name = fake.name()
    return {"nome": name}, (name,)


def _by_cpf(fake: Faker) -> tuple[dict[str, object], tuple[str, ...]]:
    fake_br = Faker("pt_BR")
    fake_br.seed_instance(fake.random_int())
    cpf = re.sub(r"\D", "", fake_br.cpf())
    return {"cpf": cpf, "dataNascimento": (birth := _birth(fake))}, (cpf, birth)


def _visits(fake: Faker) -> tuple[dict[str, object], tuple[str, ...]]:
    name, code = fake.name(), _icd10(fake)
    note = f"Paciente com suspeita de CID {code}"
    return {"paciente": name, "observacao": note}, (name, code)


FILTER_SHAPES = (
    _Filter("customers(email:)", "query Clientes({header}) { customers(email: $email) "
            "{ edges { node { id } } } }", _by_email),
    _Filter("FHIR PatientList", "query Pacientes({header}) { PatientList(name: $name, "
            "birthdate: $birthdate) { id name { given family } } }", _fhir_patients),
    _Filter("Hasura where _eq", "query Busca({header}) { users(where: {email: {_eq: $email}, "
            "cpf: {_eq: $cpf}}) { id } }", _by_email_and_cpf),
    _Filter("Prisma contains", "query Busca({header}) { pacientes(where: {nome: "
            "{contains: $nome}}) { id } }", _by_name),
    _Filter("cliente(cpf:)", "query Cliente({header}) { cliente(cpf: $cpf, "
            "dataNascimento: $dataNascimento) { id } }", _by_cpf),
    _Filter("atendimentos", "query Atendimentos({header}) { pacientes(nome: $paciente) "
            "{ atendimentos(observacao: $observacao) { id data } } }", _visits),
)  # fmt: skip
SHAPES = (*PERSONAL_SHAPES, *FILTER_SHAPES)


def get_query(built: Request, *, plus: bool = False) -> str:
    """The request's GET query string (the GraphQL-over-HTTP spec's parameters)."""
    return "&".join("=".join(pair) for pair in get_pairs(built, plus=plus))


def get_pairs(built: Request, *, plus: bool = False) -> tuple[tuple[str, str], ...]:
    """The request's GET query parameters, each encoded."""
    document = json.loads(built.body)
    fields_sent = [("query", document["query"])]
    if "operationName" in document:
        fields_sent.append(("operationName", document["operationName"]))
    fields_sent.append(("variables", json.dumps(document["variables"], ensure_ascii=False)))
    if plus:
        return tuple(tuple(p.split("=", 1)) for p in urlencode(fields_sent).split("&"))  # type: ignore[misc]
    return tuple((name, quote(value, safe=_URI_COMPONENT_SAFE)) for name, value in fields_sent)


def get_exchange(pairs: tuple[tuple[str, str], ...]) -> Exchange:
    return Exchange(
        id="t",
        request=HttpRequest(
            method="GET",
            path="/graphql",
            query=pairs,
            authority="api.example.com",
            headers=(("accept", "application/graphql-response+json"),),
            body=b"",
        ),
        response=HttpResponse(
            status=200, headers=(("content-type", "application/json"),), body=b'{"data": {}}'
        ),
    )


def string_body(built: Request) -> str:
    """The request with its variables sent as a JSON string."""
    document = json.loads(built.body)
    document["variables"] = json.dumps(document["variables"], ensure_ascii=False)
    return json.dumps(document, ensure_ascii=False)


def form_body(built: Request) -> str:
    return get_query(built, plus=True)


def sent_variables(built: Request, transport: str) -> str:
    """The request's variables as ``transport`` leaves them sanitized (JSON text)."""
    if transport == "get":  # as captured: the values decoded (exchange.query_pairs)
        out = _SANITIZER.sanitize(get_exchange(query_pairs(get_query(built))))
        return dict(out.request.query)["variables"]
    if transport == "get%":  # a value still percent-encoded (a URL encoded twice)
        out = _SANITIZER.sanitize(get_exchange(get_pairs(built)))
        return unquote_plus(dict(out.request.query)["variables"])
    if transport == "string":
        body = _SANITIZER.sanitize(request_exchange(body=string_body(built))).request.body
        return json.loads(body)["variables"]
    body = _SANITIZER.sanitize(request_exchange(body=form_body(built), content_type=_FORM))
    return dict(parse_qsl(body.request.body.decode()))["variables"]


def json_variables(built: Request) -> str:
    """The request's variables as a JSON body leaves them (its ``variables`` object)."""
    body = _SANITIZER.sanitize(request_exchange(body=built.body)).request.body
    return json.dumps(json.loads(body)["variables"], ensure_ascii=False)


_TRANSPORTS = ("get", "get%", "string", "form")


def _cases() -> list[object]:
    return [
        pytest.param(shape, locale, seed, id=f"{shape.name}-{locale}-{seed}")
        for shape in SHAPES
        for locale in _LOCALES
        for seed in _SEEDS
    ]


@pytest.mark.parametrize("transport", _TRANSPORTS)
@pytest.mark.parametrize(("shape", "locale", "seed"), _cases())
def test_variables_sent_apart_from_a_json_object_are_read_by_their_arguments(
    shape: object, locale: str, seed: int, transport: str
) -> None:
    """Each style leaves the variables as the like-named request sent as a JSON body
    does, with some planted value gone."""
    like, *others = twins(shape, locale, seed)  # type: ignore[arg-type]
    expected = json.loads(json_variables(like))
    assert leaked(json.dumps(expected, ensure_ascii=False), list(like.planted)) != list(
        like.planted
    )
    for other in others:
        values = list(json.loads(sent_variables(other, transport)).values())
        assert values == list(expected.values()), other.style


@pytest.mark.parametrize("transport", _TRANSPORTS)
@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("shape", PRODUCT_SHAPES, ids=lambda shape: shape.name)
def test_product_and_order_variables_stay(shape: object, style: str, transport: str) -> None:
    for locale in _LOCALES:
        for seed in _SEEDS:
            fake = Faker(locale)
            fake.seed_instance(seed)
            built = request(shape, fake, style)  # type: ignore[arg-type]
            sent = json.loads(built.body)["variables"]
            assert json.loads(sent_variables(built, transport)) == sent


@pytest.mark.parametrize("plus", [False, True], ids=["encodeURIComponent", "urlencode"])
@pytest.mark.parametrize("shape", FILTER_SHAPES, ids=lambda shape: shape.name)
def test_a_sanitized_get_still_matches_its_stub(shape: object, plus: bool) -> None:
    """The ``variables`` parameter stays a percent-encoded JSON document, and the stub
    made of the sanitized exchange matches the sanitized request."""
    *_, unlike = twins(shape, "pt_BR", 0)  # type: ignore[arg-type]
    out = _SANITIZER.sanitize(get_exchange(query_pairs(get_query(unlike, plus=plus))))
    sent = dict(out.request.query)
    variables = json.loads(sent["variables"])
    assert leaked(json.dumps(variables, ensure_ascii=False), list(unlike.planted)) == []
    normalized = NoiseNormalizer(CollectorConfig()).normalize_request(out)
    matchers = request_pattern(normalized)[0]["queryParameters"]
    assert "request.query.variables" in out.redactions
    for name, value in sent.items():
        assert _matches(matchers[name], value), name
    assert matchers["query"] == {"hasExactly": [{"equalTo": sent["query"]}]}


def _matches(matcher: dict[str, object], value: str) -> bool:
    """WireMock's reading of a query matcher, for one sent value."""
    if "hasExactly" in matcher:
        (only,) = matcher["hasExactly"]  # type: ignore[misc]
        return _matches(only, value)
    if "equalTo" in matcher:
        return matcher["equalTo"] == value
    if "matches" in matcher:
        return re.fullmatch(str(matcher["matches"]), value, re.DOTALL) is not None
    if "or" in matcher:
        return any(_matches(one, value) for one in matcher["or"])  # type: ignore[attr-defined]
    return "absent" not in matcher and pytest.fail(f"an unknown matcher: {matcher}")


def test_a_filters_comparison_is_read_by_the_field_it_compares() -> None:
    """Hasura's ``{email: {_eq: $e}}`` and Prisma's ``{nome: {contains: $n}}`` bind
    the variable to ``email`` and ``nome``, in a JSON body too."""
    name = seeded_faker(263).name()
    query = (
        "query Busca($a: String, $b: String) { pacientes(where: {_or: [{nome: "
        "{_ilike: $a}}, {responsavel: {contains: $b}}]}) { id } }"
    )
    body = json.dumps({"query": query, "variables": {"a": name, "b": name}}, ensure_ascii=False)
    out = _SANITIZER.sanitize(request_exchange(body=body)).request.body.decode()
    assert leaked(out, [name]) == []


def test_a_get_without_a_document_is_read_as_before() -> None:
    """A persisted query's hash instead of ``query``: nothing binds the variables."""
    variables = json.dumps({"o": "CID F32.1", "codigo": "AB-1234"})
    alone = (("variables", variables),)
    persisted = (
        ("operationName", "CriarPaciente"),
        *alone,
        ("extensions", '{"persistedQuery":{"version":1,"sha256Hash":"' + "ab" * 32 + '"}}'),
    )
    out = dict(_SANITIZER.sanitize(get_exchange(persisted)).request.query)
    assert (
        out["variables"]
        == dict(_SANITIZER.sanitize(get_exchange(alone)).request.query)["variables"]
    )


# GraphQL names that name nothing themselves (else the name is read, as it is named).
_NAMES = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,10}", fullmatch=True).filter(
    lambda name: not is_token(name) and fields.builtin_verdict(fields.ROOT, name) is None
)


@settings(max_examples=30, deadline=None)
@given(
    names=st.lists(_NAMES, min_size=3, max_size=3, unique=True),
    seed=st.integers(0, 999),
    transport=st.sampled_from(_TRANSPORTS),
)
def test_any_variable_names_sent_apart_read_as_the_arguments_they_fill(
    names: list[str], seed: int, transport: str
) -> None:
    fake = Faker("pt_BR")
    fake.seed_instance(seed)
    values = [fake.name(), f"Paciente com CID {_icd10(fake)}", _birth(fake)]
    arguments = ["nome", "observacoes", "dataNascimento"]
    header = ", ".join(f"${name}: String" for name in names)
    calls = ", ".join(f"{a}: ${n}" for a, n in zip(arguments, names, strict=True))
    query = f"query Ficha({header}) {{ pacientes({calls}) {{ id }} }}"
    document = {"query": query, "variables": dict(zip(names, values, strict=True))}
    built = Request("hypothesis", "unlike", json.dumps(document, ensure_ascii=False), ())
    assert leaked(sent_variables(built, transport), values) == []


@pytest.mark.parametrize("shape", PRODUCT_SHAPES, ids=lambda shape: shape.name)
def test_variables_with_nothing_to_replace_are_sent_byte_for_byte(shape: object) -> None:
    """A GET's parameters and a JSON string's escapes (``\\u00e3``, spacing) as sent."""
    fake = Faker("pt_BR")
    fake.seed_instance(1)
    built = request(shape, fake, "unlike")  # type: ignore[arg-type]
    pairs = query_pairs(get_query(built))
    assert _SANITIZER.sanitize(get_exchange(pairs)).request.query == pairs
    document = json.loads(built.body)
    document["variables"] = json.dumps(document["variables"], indent=1) + " "
    body = json.dumps(document)
    assert _SANITIZER.sanitize(request_exchange(body=body)).request.body.decode() == body


def test_comparisons_bind_their_variables_to_the_fields_they_compare() -> None:
    query = (
        "query Q($e: String, $c: [String], $n: String, $p: String, $t: String) { pessoas("
        "where: {email: {_eq: $e}, cpf: {_in: $c}}, filter: {nome: {equalTo: $n}, "
        "telefone: {startsWith: $p}}, titulo: $t) { id } }"
    )
    assert {name: found[0].argument for name, found in bindings(query).items()} == {
        "e": "email",
        "c": "cpf",
        "n": "nome",
        "p": "telefone",
        "t": "titulo",
    }
