"""A clinical record's complaint under a neutral nested key: e-SUS-like exports and
hospital systems keep the attendance's identifiers flat and its content in an object
(``{"prontuario": …, "dados": {"queixa": …}}``, ``{"cnes": …, "registro": {"anamnese":
{"queixaPrincipal": …}}}``). The record's clinical mark carries to the objects it holds
(clinical_records.clinical_record), as a patient's or a resource's mode does
(sensitive_names), and the complaint goes whole; before, every one planted below went
out. A consumer complaint nested the same way, beside no clinical mark, stays."""

from __future__ import annotations

import pytest
from faker import Faker
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.clinical_records import clinical_record
from ext_proc_server.sanitize.field_names import key_words
from tests.unit.sanitize.clinical_complaints import complaint_text
from tests.unit.sanitize.people import seeded_faker
from tests.unit.sanitize.sanitize_helpers import sanitized_json, sanitizer

TOKEN = "SANITIZED_SENSITIVE"
SANITIZER = sanitizer()

# Clinical marks as e-SUS APS, RNDS and hospital systems name them.
_MARKS = ("prontuario", "numeroProntuario", "cnes", "cnsProfissional", "crm", "triagem")
# Neutral names an export holds its content under.
_HOLDERS = ("dados", "registro", "conteudo", "detalhes", "data", "info", "payload")
_COMPLAINTS = ("queixa", "queixaPrincipal", "sintomas", "complaint")


def _sanitized(body: object) -> object:
    return sanitized_json(SANITIZER, body)


def _nested(fake: Faker, mark: str, holder: str, complaint: str, depth: int) -> dict:
    inner: dict[str, object] = {complaint: complaint_text(fake), "observacao": "retorno em 7 dias"}
    for _ in range(depth - 1):
        inner = {"anamnese": inner}
    return {mark: str(fake.random_number(8)), "data": fake.date(), holder: inner}


def _complaint_at(out: object, holder: str, complaint: str) -> object:
    inner = out[holder]  # type: ignore[index]
    while "anamnese" in inner:
        inner = inner["anamnese"]
    return inner[complaint]


@pytest.mark.parametrize("mark", _MARKS)
def test_a_complaint_under_a_neutral_key_goes(mark: str) -> None:
    fake = seeded_faker(601)
    left = []
    for holder in _HOLDERS:
        if holder == "data":
            continue  # the record's own date
        for complaint in _COMPLAINTS:
            for depth in (1, 2):
                body = _nested(fake, mark, holder, complaint, depth)
                if _complaint_at(_sanitized(body), holder, complaint) != TOKEN:
                    left.append((holder, complaint, depth))
    assert left == []


def test_a_consumer_complaint_under_a_neutral_key_stays() -> None:
    fake = seeded_faker(602)
    for holder in _HOLDERS:
        body = {"protocolo": str(fake.random_number(12)), "dataAtendimento": fake.date(),
                holder: {"queixa": "Geladeira entregue com defeito", "status": "ABERTA",
                         "company": {"name": fake.company()}}}  # fmt: skip
        assert _sanitized(body) == body


@pytest.mark.parametrize(
    "body",
    [{"cid10": "F32.1", "descricao": "CID F32.1: episódio moderado",
      "detalhes": {"queixa": "queixa típica: tristeza"}},
     {"capitulo": "V", "codigos": {"cid10": {"codigo": "F32", "descricao": "CID F32: episódio"}}}],
)  # fmt: skip
def test_a_cid10_catalogues_row_stays(body: dict[str, object]) -> None:
    """A CID-10 code alone marks a catalogue's row as often as a patient's record."""
    assert _sanitized(body) == body


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(["id", "status", "pedido", "protocolo", "canal", "cidade",
                                 "dataAtendimento", "titulo", "empresa", "valor"]),
                max_size=5, unique=True))  # fmt: skip
@example(["cidade", "dataAtendimento"])
def test_no_clinical_mark_makes_no_record_clinical(keys: list[str]) -> None:
    marks = {"".join(key_words(k)) for k in keys}
    assert not clinical_record((), keys, marks)


@pytest.mark.parametrize("mark", _MARKS)
def test_a_clinical_mark_makes_a_record_clinical(mark: str) -> None:
    members = [mark, "dados"] if mark != "triagem" else ["dados"]
    holder = ("triagem",) if mark == "triagem" else ()
    assert clinical_record(holder, members, {"".join(key_words(m)) for m in members})
