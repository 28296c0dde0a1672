"""Diagnoses a cue announces in a person's free text (diagnosis_text): an ICD-10 code
after CID/ICD, the clause after "diagnóstico:"; a code-shaped word alone is kept."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.diagnosis_text import find_diagnoses
from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

TOKEN = "SANITIZED_SENSITIVE"
_TOKENS = sanitizer()


def _sanitized(body: str, content_type: str) -> str:
    exchange = request_exchange(body=body, content_type=content_type)
    return _TOKENS.sanitize(exchange).request.body.decode()


_CUED = [
    ("Paciente com CID F32.1, em acompanhamento", ["F32.1"]),
    ("CID-10: F32.1 e F41.1 desde 2020", ["F32.1", "F41.1"]),
    ("ICD-10 E11.9 confirmed at intake", ["E11.9"]),
    ("cid10 M54.5 (lombalgia)", ["M54.5"]),
    ("Relata dor. Diagnóstico: diabetes tipo 2; segue dieta", ["diabetes tipo 2"]),
    ("diagnosis: major depressive disorder. Follow up in 2 weeks", ["major depressive disorder"]),
    ("Diagnóstico principal: Transtorno depressivo recorrente (F33.2).", ["Transtorno depressivo recorrente (F33.2)"]),
    ("Hipótese diagnóstica: pneumonia\nRetorno em 7 dias", ["pneumonia"]),
]  # fmt: skip


@pytest.mark.parametrize(("text", "found"), _CUED)
def test_a_cued_diagnosis_is_found(text: str, found: list[str]) -> None:
    assert [text[a:b] for a, b in find_diagnoses(text)] == found


@pytest.mark.parametrize(
    "text",
    ["Sala F32, bloco B", "Código B20 sem indicação", "Cid Moreira ligou às 10h",
     "CID a definir", "diagnóstico pendente", "pedido E11.9 enviado"],
)  # fmt: skip
def test_a_code_without_its_cue_is_kept(text: str) -> None:
    assert find_diagnoses(text) == []


def test_a_clinical_history_in_a_persons_record_is_replaced_whole() -> None:
    body = json.dumps(
        {"cpf": "11144477735", "anamnese": "Hipertensa há 10 anos", "queixaPrincipal": "dor",
         "queixa": "produto entregue quebrado"}
    )  # fmt: skip
    assert json.loads(_sanitized(body, "application/json")) == {
        "cpf": "SANITIZED_DOCUMENT", "anamnese": TOKEN, "queixaPrincipal": TOKEN,
        "queixa": "produto entregue quebrado",  # a customer's complaint, too
    }  # fmt: skip


def test_a_persons_free_text_in_xml_loses_the_diagnosis_only() -> None:
    xml = (
        "<paciente><cpf>52998224725</cpf><observacao>Paciente com CID F32.1, retorno "
        "em 30 dias</observacao></paciente>"
    )
    out = _sanitized(xml, "application/xml")
    assert f"<observacao>Paciente com CID {TOKEN}, retorno em 30 dias</observacao>" in out


def test_free_text_in_no_persons_record_keeps_its_codes() -> None:
    # A CID-10 lookup table's entry: public codes with no person.
    xml = "<cid10><item><codigo>F32.1</codigo><observacao>CID F32.1: episódio moderado</observacao></item></cid10>"
    assert _sanitized(xml, "application/xml") == xml


_WORDS = st.text(st.sampled_from("abcdefghij XYZ0123456789.,;:"), max_size=30).filter(
    lambda s: not is_token(s)
)


@settings(max_examples=200, deadline=None)
@given(before=_WORDS, after=_WORDS, letter=st.sampled_from("ABFIMZ"), digits=st.integers(0, 99))
def test_a_cued_code_is_found_whatever_surrounds_it(
    before: str, after: str, letter: str, digits: int
) -> None:
    code = f"{letter}{digits:02d}.1"
    text = f"{before} CID {code} {after}"
    found = find_diagnoses(text)
    assert code in [text[a:b] for a, b in found]
    # Every span found lies after the cue: never in the words before it.
    assert all(a > len(before) for a, _ in found)
