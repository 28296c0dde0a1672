"""A boolean under a sensitive name, and diagnoses in a person's JSON free text."""

from __future__ import annotations

import json

import pytest

from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

TOKEN = "SANITIZED_SENSITIVE"
_TOKENS = sanitizer()


def _sanitized(doc: object) -> object:
    exchange = request_exchange(body=json.dumps(doc), content_type="application/json")
    return json.loads(_TOKENS.sanitize(exchange).request.body.decode())


@pytest.mark.parametrize(
    ("key", "value"),
    [("hiv", True), ("possuiDeficiencia", True), ("fumante", False), ("gestante", True),
     ("isPregnant", True)],
)  # fmt: skip
def test_a_boolean_under_a_sensitive_name_becomes_the_quoted_token(key: str, value: bool) -> None:
    out = _sanitized({"cpf": "11144477735", key: value, "ativo": True})
    assert out == {"cpf": "SANITIZED_DOCUMENT", key: TOKEN, "ativo": True}


def test_booleans_under_other_names_and_fhir_value_boolean_stay() -> None:
    doc = {"resourceType": "Observation", "subject": {"reference": "Patient/1"},
           "valueBoolean": True, "status": "final"}  # fmt: skip
    assert _sanitized(doc) == doc
    assert _sanitized({"produto": "Dipirona", "generico": True}) == {
        "produto": "Dipirona", "generico": True
    }  # fmt: skip


def test_a_persons_json_free_text_loses_its_cued_diagnoses() -> None:
    out = _sanitized(
        {"cpf": "11144477735", "observacoes": "Paciente com CID F32.1, em tratamento",
         "notes": "diagnosis: major depressive disorder. Follow up in 2 weeks"}
    )  # fmt: skip
    assert out["observacoes"] == f"Paciente com CID {TOKEN}, em tratamento"
    assert out["notes"] == f"diagnosis: {TOKEN}. Follow up in 2 weeks"


def test_a_cid10_table_keeps_its_codes() -> None:
    doc = [{"codigo": "F32.1", "descricao": "CID F32.1: episódio depressivo moderado"}]
    assert _sanitized(doc) == doc


def test_graphql_variables_of_a_persons_mutation_lose_their_cued_diagnoses() -> None:
    query = (
        "mutation CriarPaciente($nome: String!, $obs: String) "
        "{ criarPaciente(nome: $nome, obs: $obs) { id } }"
    )
    out = _sanitized(
        {"query": query, "variables": {"obs": "Paciente com CID F32.1", "nome": "Maria Souza"}}
    )
    assert out == {
        "query": query,
        "variables": {"obs": f"Paciente com CID {TOKEN}", "nome": "SANITIZED_NAME"},
    }
    nested = {"query": "mutation($p: PatientInput!) { updatePatient(input: $p) { id } }",
              "variables": {"p": {"notes": "diagnosis: asthma. Call back", "tags": ["a"]}}}  # fmt: skip
    assert _sanitized(nested)["variables"]["p"]["notes"] == f"diagnosis: {TOKEN}. Call back"
    # No key of a person's in the body: the query's field tells whose notes they are.
    bare = {"query": "mutation($id: ID!, $n: String) { updatePatientNotes(id: $id, notes: $n) }",
            "variables": {"id": "8812", "notes": "Paciente com CID F32.1"}}  # fmt: skip
    assert _sanitized(bare)["variables"]["notes"] == f"Paciente com CID {TOKEN}"


def test_graphql_variables_of_other_records_keep_their_codes() -> None:
    doc = {"query": "mutation($obs: String) { criarProduto(obs: $obs) { id } }",
           "variables": {"obs": "Embalagem CID F32.1 (lote)", "nome": "Dipirona 500mg"}}  # fmt: skip
    assert _sanitized(doc)["variables"]["obs"] == "Embalagem CID F32.1 (lote)"
    without_query = {"variables": {"obs": "Paciente com CID F32.1"}}
    assert _sanitized(without_query) == without_query
