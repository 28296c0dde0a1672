"""XML inside a JSON string (an API's NF-e in an ``xml`` field, SOAP in JSON) keeps its
namespaces, structural attributes and names, as an XML body does; its text and
ordinary attributes still lose their values."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.sanitize.namespaced_documents import (
    assert_names_kept_values_gone,
    element_tags,
    namespaced_documents,
)
from tests.unit.sanitize.sanitize_helpers import make_cpf, request_exchange, sanitizer

_SANITIZER = sanitizer()
NFE = "http://www.portalfiscal.inf.br/nfe"


def _sanitized(doc: object, *, path: str = "/") -> object:
    body = doc if isinstance(doc, str) else json.dumps(doc)
    exchange = request_exchange(body=body, content_type="application/json", path=path)
    return json.loads(_SANITIZER.sanitize(exchange).request.body.decode())


def _nfe_proc(dest: str) -> str:
    """SEFAZ's authorised NF-e (nfeProc), as an issuing API returns it in a JSON field."""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><nfeProc xmlns="{NFE}" versao="4.00">'
        f'<NFe xmlns="{NFE}"><infNFe Id="NFe35240112345678000195550010000012341000012345" '
        'versao="4.00"><emit><CNPJ>12345678000195</CNPJ><xNome>Loja Exemplo LTDA</xNome>'
        f'</emit><dest>{dest}</dest></infNFe></NFe><protNFe versao="4.00"><infProt>'
        "<tpAmb>2</tpAmb><chNFe>35240112345678000195550010000012341000012345</chNFe>"
        "<cStat>100</cStat><xMotivo>Autorizado o uso da NF-e</xMotivo></infProt></protNFe>"
        "</nfeProc>"
    )


def test_an_nfe_in_an_issuing_apis_xml_field_keeps_its_namespace() -> None:
    cpf = make_cpf("529982247")
    xml = _nfe_proc(f"<CPF>{cpf}</CPF><email>carla.mendes@example.com</email>")
    doc = {"cnpj_emitente": "12345678000195", "ref": "pedido-1234", "status": "autorizado",
           "chave_nfe": "NFe35240112345678000195550010000012341000012345", "xml": xml}  # fmt: skip
    out = _sanitized(doc)
    fresh = out["xml"]  # type: ignore[index]
    assert fresh.count(f'xmlns="{NFE}"') == 2
    assert cpf not in fresh and "carla.mendes@example.com" not in fresh
    assert element_tags(ET.fromstring(fresh.encode())) == element_tags(ET.fromstring(xml.encode()))
    assert out["status"] == "autorizado"  # type: ignore[index]


@pytest.mark.parametrize("quote", ['"', "'"])  # escaped in JSON, or not
def test_soap_in_json_keeps_a_namespace_holding_an_email_or_digits(quote: str) -> None:
    q = quote
    xml = (
        f"<soap:Envelope xmlns:soap={q}http://schemas.xmlsoap.org/soap/envelope/{q} "
        f"xmlns:c={q}https://api.loja.com.br/joao.silva@loja.com.br/v1{q} "
        f"xmlns:t={q}urn:cadastro:11987654321{q}><soap:Body><c:cliente "
        f"c:contato={q}ana.costa@clientes.com.br{q}><t:fone>11 98765-4321</t:fone>"
        "<c:email>rafael88@clientes.com.br</c:email></c:cliente></soap:Body></soap:Envelope>"
    )
    out = _sanitized({"cpf": make_cpf("111444777"), "soap": xml})
    fresh = out["soap"]  # type: ignore[index]
    assert f"xmlns:c={q}https://api.loja.com.br/joao.silva@loja.com.br/v1{q}" in fresh
    assert f"xmlns:t={q}urn:cadastro:11987654321{q}" in fresh
    for value in ("ana.costa@clientes.com.br", "98765-4321", "rafael88@clientes.com.br"):
        assert value not in fresh
    assert element_tags(ET.fromstring(fresh)) == element_tags(ET.fromstring(xml))


def test_a_slug_name_in_an_embedded_namespace_stays_and_markup_text_still_goes() -> None:
    xml = (
        '<c:cadastro xmlns:c="https://clientes.example.com/maria-souza/v1">'
        "<c:obs>Falar com maria-souza@example.com</c:obs></c:cadastro>"
    )
    out = _sanitized({"xml": xml, "html": "<b>maria-souza@example.com</b>"},
                     path="/clientes/maria-souza")  # fmt: skip
    assert out["xml"].startswith(
        '<c:cadastro xmlns:c="https://clientes.example.com/maria-souza/v1">'
    )  # type: ignore[index]
    assert "maria-souza@example.com" not in out["xml"]  # type: ignore[index]
    assert out["html"] == "<b>SANITIZED_EMAIL</b>"  # type: ignore[index]


@pytest.mark.parametrize(
    "text",
    ["<{}>", "Contato comercial <{}>", "<p>Contato: <{}></p>", "<p>Escreva para {}</p>",
     '<p xmlns="urn:loja:v1">Contato <{0}> e </{0}></p>', "<a href='mailto:{}'>fale</a>"],
)  # fmt: skip
def test_an_address_in_angle_brackets_or_markup_text_is_still_replaced(text: str) -> None:
    out = _sanitized({"obs": text.format("joão.prado@exemplo.com.br"), "email": "x@y.com"})
    assert out["obs"] == text.format("SANITIZED_EMAIL")  # type: ignore[index]


# -- property: generated documents embedded in JSON --------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    namespaced_documents(quotes=('"', "'")),
    st.sampled_from(["xml", "xmlRetorno", "payload", "documento"]),
)
def test_generated_documents_in_json_keep_their_names_and_lose_their_values(
    document: tuple[str, list[str]], key: str
) -> None:
    body, secrets = document
    out = _sanitized({"id": 7, key: body, "ok": True})
    assert_names_kept_values_gone(body, out[key], secrets)  # type: ignore[index]
