"""A complaint in a clinical record written flat, with no patient's key
(clinical_records): an attendance's or a triage's, as e-SUS APS's individual
attendance form (``numeroProntuario``, ``cnsProfissional``, ``cnes``, ``cid10``,
``dataAtendimento``) and a hospital's triage ({"triagem": {"queixaPrincipal": …,
"sinaisVitais": …}}) are exported, and RNDS's clinical attendance record
(``atendimento``, the doctor's ``crm``). There its ``queixa``, ``queixaPrincipal`` or
``sintomas`` is the patient's symptom (LGPD Art. 11) and goes whole; before, every one
of the complaints planted below went out. A consumer complaint site's ``queixa``
(Reclame Aqui's, consumidor.gov.br's) and a customer service's stay.

Dates, codes and people from Faker's pt_BR providers."""

from __future__ import annotations

import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.clinical_records import COMPLAINTS, is_clinical
from ext_proc_server.sanitize.field_names import key_words
from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.clinical_complaints import SYMPTOMS, complaint_text
from tests.unit.sanitize.people import seeded_faker
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitized_json, sanitizer

TOKEN = "SANITIZED_SENSITIVE"
SANITIZER = sanitizer()


def _sanitized(body: object) -> object:
    return sanitized_json(SANITIZER, body)


def _esus(fake: Faker) -> dict[str, object]:
    """e-SUS APS's individual attendance, flat."""
    return {"numeroProntuario": str(fake.random_number(8)), "cnes": str(fake.random_number(7)),
            "cnsProfissional": str(fake.random_number(15)), "cbo": "225142",
            "dataAtendimento": fake.date(), "turno": "M", "queixa": complaint_text(fake),
            "cid10": fake.random_element(("R51", "J11", "M54.5", "R10.4"))}  # fmt: skip


def _triage(fake: Faker) -> dict[str, object]:
    """A hospital's triage (Manchester's risk classification)."""
    return {"triagem": {"classificacaoRisco": "AMARELO", "queixaPrincipal": complaint_text(fake),
            "sintomas": fake.random_element(SYMPTOMS),
            "sinaisVitais": {"pressaoArterial": "120x80", "temperatura": 37.8}}}  # fmt: skip


def _attendance(fake: Faker) -> dict[str, object]:
    """A clinical attendance: the doctor's CRM and the complaint, no patient's key."""
    return {"atendimento": {"id": fake.random_int(1, 99999), "dataAtendimento": fake.date(),
            "crm": f"{fake.random_number(6)}-SP", "queixa": complaint_text(fake),
            "sintomas": fake.random_element(SYMPTOMS)}}  # fmt: skip


def _attendances(fake: Faker) -> dict[str, object]:
    """A list of attendances, each with its symptoms."""
    return {"atendimentos": [{"dataAtendimento": fake.date(), "queixaPrincipal": complaint_text(fake),
            "sintomas": fake.random_element(SYMPTOMS)} for _ in range(2)]}  # fmt: skip


def _complaints_left(body: object, out: object) -> list[str]:
    if isinstance(body, dict):
        assert isinstance(out, dict)
        return [
            v for key, value in body.items()
            for v in (
                [value] if "".join(key_words(key)) in COMPLAINTS and not is_token(out[key])
                else _complaints_left(value, out[key])
            )
            if isinstance(v, str)
        ]  # fmt: skip
    if isinstance(body, list):
        return [v for b, o in zip(body, out, strict=True) for v in _complaints_left(b, o)]  # type: ignore[arg-type]
    return []


@pytest.mark.parametrize("shape", [_esus, _triage, _attendance, _attendances])
def test_a_clinical_records_complaint_goes(shape: object) -> None:
    fake = seeded_faker(501)
    left = []
    for _ in range(15):
        body = shape(fake)  # type: ignore[operator]
        left += _complaints_left(body, _sanitized(body))
    assert left == []


def test_a_cued_diagnosis_in_a_clinical_records_notes_goes() -> None:
    body = {"numeroProntuario": "12345678", "queixa": "tosse seca há 5 dias",
            "observacao": "Paciente com CID J11.1, retorno em 7 dias"}  # fmt: skip
    out = _sanitized(body)
    assert out["queixa"] == TOKEN
    assert out["observacao"] == f"Paciente com CID {TOKEN}, retorno em 7 dias"


@pytest.mark.parametrize(
    ("body", "content_type"),
    [("<atendimento><crm>123456</crm><dataAtendimento>2024-05-02</dataAtendimento>"
      "<queixa>tosse seca há 5 dias</queixa></atendimento>", "application/xml"),
     ("numeroProntuario=12345678&cnes=2077485&queixa=tosse+seca+h%C3%A1+5+dias",
      "application/x-www-form-urlencoded")],
)  # fmt: skip
def test_a_clinical_records_complaint_goes_in_xml_and_forms(body: str, content_type: str) -> None:
    exchange = request_exchange(body=body, content_type=content_type)
    out = SANITIZER.sanitize(exchange).request.body.decode()  # type: ignore[union-attr]
    assert "tosse" not in out and TOKEN in out


def _consumer_complaints(fake: Faker) -> list[dict[str, object]]:
    """A consumer complaint site's complaint, and a customer service's call."""
    product = fake.random_element(("Geladeira Frost Free", "Smartphone 128GB", "Sofá retrátil"))
    return [
        {"id": fake.uuid4(), "title": f"{product} entregue com defeito",
         "queixa": f"Comprei {product} e veio quebrado", "status": "NOT_ANSWERED",
         "company": {"name": fake.company()}, "created": fake.iso8601()},
        {"protocolo": str(fake.random_number(12)), "dataAtendimento": fake.date(),
         "canalAtendimento": "chat", "queixa": f"{product} não liga",
         "complaint": "late delivery"},
    ]  # fmt: skip


def test_a_consumer_complaint_stays() -> None:
    fake = seeded_faker(502)
    for _ in range(10):
        for body in _consumer_complaints(fake):
            assert _sanitized(body) == body


_OTHER_KEYS = st.sampled_from(
    ["id", "status", "produto", "pedido", "protocolo", "canal", "dataAtendimento",
     "protocoloAtendimento", "title", "empresa", "nota", "valor"]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(_OTHER_KEYS, max_size=6, unique=True))
def test_an_attendance_alone_makes_no_customer_complaint_a_symptom(keys: list[str]) -> None:
    """Only a clinical mark (or a name no shop uses) makes a complaint a symptom: an
    attendance's date or protocol is a customer service's too."""
    assert not is_clinical(
        (), [*keys, "queixa"], {"".join(key_words(k)) for k in [*keys, "queixa"]}
    )


@pytest.mark.parametrize(
    ("holder", "members", "clinical"),
    [((), ["numeroProntuario", "queixa"], True),
     ((), ["crmMedico", "complaint"], True),
     (("triagem",), ["queixa"], True),
     ((), ["dataAtendimento", "sintomas"], True),  # a name no shop uses
     ((), ["dataAtendimento", "queixa"], False),  # a customer service's too
     (("atendimento",), ["queixa", "status"], False),
     ((), ["cidade", "queixa"], False),  # "cidade" is no "cid"
     ((), ["prontuario", "observacao"], False)],  # no complaint
)  # fmt: skip
def test_is_clinical(holder: tuple[str, ...], members: list[str], clinical: bool) -> None:
    marks = {"".join(key_words(m)) for m in members}
    assert is_clinical(holder, members, marks) is clinical
