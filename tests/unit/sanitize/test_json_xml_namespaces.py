"""XML inside a JSON string (an API's NF-e in an ``xml`` field, SOAP in JSON) keeps its
namespaces, structural attributes and names, as an XML body does; its text and
ordinary attributes still lose their values."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.sanitize_helpers import make_cpf, request_exchange, sanitizer

_SANITIZER = sanitizer()
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NFE = "http://www.portalfiscal.inf.br/nfe"


def _sanitized(doc: object, *, path: str = "/") -> object:
    body = doc if isinstance(doc, str) else json.dumps(doc)
    exchange = request_exchange(body=body, content_type="application/json", path=path)
    return json.loads(_SANITIZER.sanitize(exchange).request.body.decode())


def _tags(root: ET.Element) -> list[str]:
    return [element.tag for element in root.iter()]


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
    assert _tags(ET.fromstring(fresh.encode())) == _tags(ET.fromstring(xml.encode()))
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
    assert _tags(ET.fromstring(fresh)) == _tags(ET.fromstring(xml))


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

_LOCAL = st.sampled_from(["cadastro", "pedido", "item", "registro", "dados", "envio", "Lote"])
_PREFIX = st.sampled_from(["p", "ns1", "cad", "tns", "v2"])
_USER = st.sampled_from(["joao.silva", "ana.costa", "maria_souza", "rafael88", "lucia.prado"])
_HOST = st.sampled_from(["loja.com.br", "example.com", "gov.br", "empresa.pt", "correo.es"])
_PLANT = st.one_of(
    st.builds("{}@{}".format, _USER, _HOST),
    st.from_regex(r"[1-9][0-9]{10}", fullmatch=True),
    st.from_regex(r"[0-9]{9}", fullmatch=True).map(make_cpf),
    st.uuids().map(str),
)
_URI = st.one_of(
    st.builds("https://{}/{}/v1".format, _HOST, _PLANT),
    st.builds("urn:{}:{}".format, _LOCAL, _PLANT),
)
_SECRET = st.builds("{}@clientes-{}".format, _USER, _HOST)  # at a domain no namespace uses


@st.composite
def _documents(draw: st.DrawFn) -> tuple[str, list[str]]:
    q = draw(st.sampled_from(['"', "'"]))
    prefixes = draw(st.lists(_PREFIX, min_size=1, max_size=3, unique=True))
    declarations = " ".join(f"xmlns:{p}={q}{draw(_URI)}{q}" for p in prefixes)
    default = draw(_URI)
    schema = f"{default} https://schemas.example.com/{draw(_PLANT)}/s.xsd"
    secrets, children = [], []
    for _ in range(draw(st.integers(1, 4))):
        prefix = draw(st.sampled_from([*prefixes, ""]))
        tag = f"{prefix}:{draw(_LOCAL)}" if prefix else draw(_LOCAL)
        text, attribute = draw(_SECRET), draw(_SECRET)
        secrets += [text, attribute]
        children.append(f"<{tag} ref={q}{attribute}{q}>Contato: {text}</{tag}>")
    root = draw(_LOCAL)
    body = (
        f"<{root} xmlns={q}{default}{q} {declarations} xmlns:xsi={q}{XSI}{q} "
        f"xsi:schemaLocation={q}{schema}{q}>{''.join(children)}</{root}>"
    )
    return body, secrets


@settings(max_examples=60, deadline=None)
@given(_documents(), st.sampled_from(["xml", "xmlRetorno", "payload", "documento"]))
def test_generated_documents_in_json_keep_their_names_and_lose_their_values(
    document: tuple[str, list[str]], key: str
) -> None:
    body, secrets = document
    assert not any(is_token(secret) for secret in secrets)
    out = _sanitized({"id": 7, key: body, "ok": True})
    fresh = out[key]  # type: ignore[index]
    before, after = ET.fromstring(body), ET.fromstring(fresh)
    assert _tags(after) == _tags(before)  # every namespace URI and local name
    schema = f"{{{XSI}}}schemaLocation"
    assert after.get(schema) == before.get(schema)
    for element in after.iter():
        for value in (element.text or "", element.get("ref") or ""):
            assert not any(secret in value for secret in secrets)
