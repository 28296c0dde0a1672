"""Diagnoses in a person's free text beyond JSON and XML: form bodies and GraphQL
arguments (diagnosis_text, form_text, graphql); a complaint (``queixa``) counts as
health data only in a patient's record (sensitive_names)."""

from __future__ import annotations

import json
from urllib.parse import parse_qsl, quote_plus, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.diagnosis_text import encoded_diagnoses
from ext_proc_server.sanitize.fields import ROOT, object_place
from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

TOKEN = "SANITIZED_SENSITIVE"
_TOKENS = sanitizer()
FORM = "application/x-www-form-urlencoded"


def _sanitized(body: str, content_type: str) -> str:
    exchange = request_exchange(body=body, content_type=content_type)
    return _TOKENS.sanitize(exchange).request.body.decode()


# -- form bodies ------------------------------------------------------------------

_FORMS = [
    # A clinic's web form: a patient's record, its notes name a code.
    ("nome=Maria+Souza&cpf=52998224725&observacoes=Paciente+com+CID+F32.1",
     "observacoes=Paciente+com+CID+" + TOKEN),
    # Percent-encoded accents and separators, the clause after "diagnóstico:".
    ("cpf=52998224725&obs=Relata+dor.+Diagn%C3%B3stico%3A+diabetes+tipo+2%3B+segue+dieta",
     "obs=Relata+dor.+Diagn%C3%B3stico%3A+" + TOKEN + "%3B+segue+dieta"),
    # A list of codes, written with spaces left as they are.
    ("nome=Jo%C3%A3o+Pereira&cpf=52998224725&observacao=CID-10: F32.1 e F41.1 desde 2020",
     f"observacao=CID-10: {TOKEN} e {TOKEN} desde 2020"),
    # A patient's nested record (Rails, PHP): its path names the person.
    ("paciente[nome]=Ana+Lima&paciente[observacoes]=ICD-10+E11.9+confirmed",
     "paciente[observacoes]=ICD-10+" + TOKEN + "+confirmed"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "expected"), _FORMS)
def test_a_persons_form_loses_the_diagnosis_only(body: str, expected: str) -> None:
    assert expected in _sanitized(body, FORM)


@pytest.mark.parametrize(
    "body",
    [
        # No person: a product's form, a CID-10 lookup table's entry.
        "produto=Caneta&observacoes=Lote+CID+F32.1",
        "codigo=F32.1&descricao=CID+F32.1%3A+epis%C3%B3dio+depressivo+moderado",
        # A person's record, but no cue: a room, a product code.
        "nome=Maria+Souza&cpf=52998224725&observacoes=Sala+F32%2C+bloco+B",
    ],
)
def test_a_form_without_a_persons_cued_diagnosis_keeps_it(body: str) -> None:
    out = _sanitized(body, FORM)
    kept = dict(parse_qsl(body))
    assert {k: v for k, v in parse_qsl(out) if k not in ("nome", "cpf")} == {
        k: v for k, v in kept.items() if k not in ("nome", "cpf")
    }


_WORDS = st.text(st.sampled_from("abcdefghij XYZáçõ0123456789,:"), max_size=20).filter(
    lambda s: not is_token(s)
)


@settings(max_examples=200, deadline=None)
@given(before=_WORDS, after=_WORDS, letter=st.sampled_from("ABFIMZ"), digits=st.integers(0, 99))
def test_an_encoded_cued_code_is_found_where_it_stands(
    before: str, after: str, letter: str, digits: int
) -> None:
    code = f"{letter}{digits:02d}.1"
    raw = quote_plus(f"{before} CID {code} {after}")
    place = object_place(ROOT, "", frozenset({"cpf", "obs"}))
    spans = [raw[h.start : h.end] for h in encoded_diagnoses(place, raw)]
    assert code in spans
    # Each span is whole encoded text: it decodes on its own (no cut escape).
    assert all("%" not in span or span.count("%") * 3 <= len(span) for span in spans)


_NOTES = st.text(st.sampled_from("abcdefghij áçõ,"), max_size=20).filter(lambda s: not is_token(s))


@settings(max_examples=100, deadline=None)
@given(note=_NOTES, letter=st.sampled_from("BEFJ"), digits=st.integers(10, 99))
def test_a_sanitized_form_keeps_the_rest_of_its_text(note: str, letter: str, digits: int) -> None:
    fields = {
        "nome": "Maria Souza",
        "cpf": "52998224725",
        "observacoes": f"{note} CID {letter}{digits}.9",
    }
    out = dict(parse_qsl(_sanitized(urlencode(fields), FORM), keep_blank_values=True))
    assert out == {
        "nome": "SANITIZED_NAME",
        "cpf": "SANITIZED_DOCUMENT",
        "observacoes": f"{note} CID {TOKEN}",
    }


# -- GraphQL ----------------------------------------------------------------------


def test_a_graphql_argument_of_a_persons_record_loses_the_diagnosis_only() -> None:
    query = (
        'mutation { criarPaciente(nome: "Maria Souza", cpf: "52998224725", '
        'observacoes: "Paciente com CID F32.1, retorno em 30 dias") { id } }'
    )
    out = _sanitized(query, "application/graphql")
    assert f'observacoes: "Paciente com CID {TOKEN}, retorno em 30 dias"' in out


def test_a_graphql_field_naming_a_patient_makes_its_arguments_a_persons() -> None:
    query = 'mutation { updatePatient(id: 7, notes: "diagnosis: major depressive disorder. Follow up") { id } }'
    out = _sanitized(query, "application/graphql")
    assert f'notes: "diagnosis: {TOKEN}. Follow up"' in out


@pytest.mark.parametrize(
    "query",
    [
        'mutation { atualizarProduto(sku: "X1", descricao: "Kit CID F32.1 promo") { id } }',
        'query { cid10(codigo: "F32.1", descricao: "CID F32.1: episódio moderado") { nome } }',
        'mutation { criarPaciente(nome: "Maria Souza", observacoes: "Sala F32, bloco B") { id } }',
    ],
)
def test_a_graphql_argument_without_a_persons_cued_diagnosis_keeps_it(query: str) -> None:
    out = _sanitized(query, "application/graphql")
    assert "F32" in out
    assert TOKEN not in out


# -- queixa ----------------------------------------------------------------------


def test_a_patients_complaint_is_health_data() -> None:
    # A clinic's triage (Manchester protocol) record: the complaint is a symptom.
    triage = {
        "atendimento": {"id": 9812, "classificacaoRisco": "amarelo",
                        "paciente": {"nome": "Maria Souza", "cpf": "52998224725",
                                     "queixa": "dor torácica há 2 dias",
                                     "triagem": {"queixa": "febre", "pressaoArterial": "12/8"}}},
    }  # fmt: skip
    out = json.loads(_sanitized(json.dumps(triage), "application/json"))
    patient = out["atendimento"]["paciente"]
    assert patient["queixa"] == TOKEN
    assert patient["triagem"] == {"queixa": TOKEN, "pressaoArterial": "12/8"}
    assert out["atendimento"]["classificacaoRisco"] == "amarelo"
    xml = "<paciente><nome>Maria Souza</nome><queixa>dor lombar</queixa></paciente>"
    assert f"<queixa>{TOKEN}</queixa>" in _sanitized(xml, "application/xml")
    form = "paciente[nome]=Maria+Souza&paciente[queixa]=dor+lombar"
    assert f"paciente[queixa]={TOKEN}" in _sanitized(form, FORM)
    english = {"patient": {"name": "Mary Smith", "complaint": "chest pain"}}
    assert json.loads(_sanitized(json.dumps(english), "application/json"))["patient"] == {
        "name": "SANITIZED_NAME", "complaint": TOKEN
    }  # fmt: skip


def test_a_customers_complaint_is_kept() -> None:
    # A consumer complaint site's record: the complaint is about a product.
    complaint = {
        "reclamacao": {"id": 1, "titulo": "Produto quebrado", "queixa": "produto entregue quebrado",
                       "consumidor": {"nome": "Maria Souza", "cpf": "52998224725",
                                      "queixa": "entrega atrasada"},
                       "empresa": {"nome": "Loja X", "queixa": "sem resposta"}},
    }  # fmt: skip
    out = json.loads(_sanitized(json.dumps(complaint), "application/json"))["reclamacao"]
    assert out["queixa"] == "produto entregue quebrado"
    assert out["consumidor"]["queixa"] == "entrega atrasada"
    assert out["empresa"]["queixa"] == "sem resposta"
    form = "nome=Maria+Souza&cpf=52998224725&queixa=entrega+atrasada"
    assert "queixa=entrega+atrasada" in _sanitized(form, FORM)
