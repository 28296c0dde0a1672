"""Sensitive data where its place, not its name, tells: HL7 FHIR in XML (values in
``value`` attributes) and a person's record held by ``pacienteInfo`` and the like."""

from __future__ import annotations

import json

import pytest

from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer
from tests.unit.sanitize.sensitive_corpus import CORPUS_MORE, Payload

TOKEN = "SANITIZED_SENSITIVE"
_TOKENS = sanitizer()
_PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k" * 32)


def _sanitized(body: str, content_type: str, *, pseudonyms: bool = False) -> str:
    exchange = request_exchange(body=body, content_type=content_type)
    return (_PSEUDONYMS if pseudonyms else _TOKENS).sanitize(exchange).request.body.decode()


@pytest.mark.parametrize("pseudonyms", [False, True], ids=["tokens", "pseudonyms"])
@pytest.mark.parametrize("payload", CORPUS_MORE, ids=[p.name for p in CORPUS_MORE])
def test_published_shapes_lose_their_sensitive_values(payload: Payload, pseudonyms: bool) -> None:
    out = _sanitized(payload.body, payload.content_type, pseudonyms=pseudonyms)
    assert [v for v in payload.sensitive if v in out] == []
    assert [v for v in payload.kept if v not in out] == []
    if payload.sensitive and payload.content_type != "application/json":
        assert TOKEN in out


def test_fhir_xml_values_become_the_token_and_the_markup_stays() -> None:
    xml = (
        '<Observation xmlns="http://hl7.org/fhir"><status value="final"/>'
        '<subject><reference value="Patient/123"/></subject>'
        '<valueString value="O+"/><valueBoolean value="true"/></Observation>'
    )
    assert _sanitized(xml, "application/fhir+xml") == xml.replace('"O+"', f'"{TOKEN}"')


def test_fhir_xml_narrative_with_markup_loses_every_run_of_text() -> None:
    xml = (
        '<Condition xmlns="http://hl7.org/fhir"><text><status value="generated"/>'
        '<div xmlns="http://www.w3.org/1999/xhtml"><p><b>Diagnóstico</b>: Esquizofrenia '
        "paranoide</p><table><tr><td>Início</td><td>2019</td></tr></table></div></text>"
        '<subject><reference value="Patient/9"/></subject></Condition>'
    )
    out = _sanitized(xml, "application/fhir+xml")
    assert "Esquizofrenia" not in out and "Início" not in out
    assert out.count("<p>") == 1 and out.count("<td>") == 2  # the markup is kept
    assert '<status value="generated"/>' in out


def test_xml_without_the_fhir_namespace_keeps_value_attributes() -> None:
    # An HTML form's own value is read by its control's name, not by its element's.
    html = '<form><input name="q" value="HIV disease"/><code value="B20"/></form>'
    assert _sanitized(html, "text/html") == html


@pytest.mark.parametrize(
    "holder", ["pacienteInfo", "patientInfo", "patient_data", "beneficiarioInfo", "dadosPaciente"]
)
def test_a_record_held_by_a_persons_info_key_is_a_persons(holder: str) -> None:
    body = json.dumps({holder: {"raca": "parda", "cid": "F32.1", "gestante": "sim"}})
    assert json.loads(_sanitized(body, "application/json")) == {
        holder: {"raca": TOKEN, "cid": TOKEN, "gestante": TOKEN}
    }


@pytest.mark.parametrize("holder", ["productInfo", "planoInfo", "cid10Info", "racaInfo"])
def test_a_record_held_by_no_persons_key_keeps_ambiguous_names(holder: str) -> None:
    # A CID-10 table's entry, a dog's breed: no person's record.
    body = json.dumps({holder: {"cid": "F32.1", "raca": "Labrador"}})
    assert _sanitized(body, "application/json") == body
