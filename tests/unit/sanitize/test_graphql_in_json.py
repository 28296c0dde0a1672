"""A GraphQL document sent in a JSON request's ``query`` string is read as one sent as
``application/graphql`` is: its arguments by their names, and a person's free text for
the diagnoses it names (a record is a person's when its arguments or the field called
say so)."""

from __future__ import annotations

import json

import pytest

from tests.unit.sanitize.sanitize_helpers import make_cpf, request_exchange, sanitizer

_SANITIZER = sanitizer()


def _sent_in_json(query: str, **extra: object) -> str:
    body = json.dumps({"query": query, **extra}, ensure_ascii=False)
    exchange = request_exchange(body=body, content_type="application/json")
    return json.loads(_SANITIZER.sanitize(exchange).request.body)["query"]


def _sent_as_graphql(query: str) -> str:
    exchange = request_exchange(body=query, content_type="application/graphql")
    return _SANITIZER.sanitize(exchange).request.body.decode()


_QUERIES = [
    # The brief's shape: a name beside a note naming an ICD-10 code.
    (
        'mutation { criarPaciente(nome: "Maria Souza", obs: "Paciente com CID F32.1") { id } }',
        ["Maria Souza", "F32.1"],
        ["criarPaciente(", "obs: "],
    ),
    # An input object, a CPF beside the name; the diagnosis written out.
    (
        'mutation CriarFicha($id: ID!) { registrarAtendimento(input: {nome: "João Pereira", '
        f'cpf: "{make_cpf("529982247")}", observacao: "Diagnóstico: diabetes tipo 2; '
        'segue dieta"}) { protocolo } }',
        ["João Pereira", make_cpf("529982247"), "diabetes tipo 2"],
        ["registrarAtendimento(", "segue dieta", "protocolo"],
    ),
    # An English schema (FHIR-like): the field called names a patient.
    (
        'mutation { updatePatient(id: "p-19", name: "Ana Lima", notes: "Diagnosed with '
        'HIV in 2019, CID B20") { id } }',
        ["Ana Lima", "B20"],
        ['updatePatient(id: "p-19"'],
    ),
]


@pytest.mark.parametrize(("query", "gone", "kept"), _QUERIES)
def test_a_query_in_json_reads_its_diagnoses(query: str, gone: list[str], kept: list[str]) -> None:
    out = _sent_in_json(query, variables={}, operationName=None)
    for value in gone:
        assert value not in out
    for part in kept:
        assert part in out


@pytest.mark.parametrize(("query", "gone", "kept"), _QUERIES)
def test_a_query_in_json_reads_as_an_application_graphql_body(
    query: str, gone: list[str], kept: list[str]
) -> None:
    assert _sent_in_json(query) == _sent_as_graphql(query)


def test_a_company_record_keeps_its_notes() -> None:
    query = (
        'mutation { criarFornecedor(razaoSocial: "Clinica Boa Saude Ltda", '
        'obs: "Atende CID F32.1 e F41") { id } }'
    )
    out = _sent_in_json(query)
    assert "CID F32.1 e F41" in out


def test_an_error_message_quoting_variables_is_still_read_by_its_keys() -> None:
    message = 'Variable "$input" got invalid value { nome: "Maria Souza", cpf: "x" }'
    body = json.dumps({"errors": [{"message": message}]})
    exchange = request_exchange(body=body, content_type="application/json")
    out = json.loads(_SANITIZER.sanitize(exchange).request.body)["errors"][0]["message"]
    assert "Maria Souza" not in out
    assert out.startswith('Variable "$input" got invalid value { nome: "')
