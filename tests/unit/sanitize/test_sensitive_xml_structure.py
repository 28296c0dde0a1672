"""XML keeps its structure when its values are replaced (xml_structure): namespace
declarations, XML Schema's instance attributes and xml:lang are no data, wherever they
sit, so a mock never answers a document its client's parser reads wrong."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

_PLAIN = sanitizer()
_RULED = sanitizer(sanitize_fields={"ficha.*": "name", "prontuario*": "sensitive"})
XSI = "http://www.w3.org/2001/XMLSchema-instance"
XML_NS = "http://www.w3.org/XML/1998/namespace"


def _sanitized(body: str, tokens=_PLAIN) -> str:
    exchange = request_exchange(body=body, content_type="application/xml")
    return tokens.sanitize(exchange).request.body.decode()


_CASES = [
    # A sensitive element's own namespace and schema type (the shape of the report).
    (
        '<paciente xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><cpf>52998224725</cpf>'
        '<alergias xmlns="urn:clinica:v1" xsi:type="Lista" xml:lang="pt-BR" origem="relato">'
        "<item>penicilina</item></alergias></paciente>",
        '<alergias xmlns="urn:clinica:v1" xsi:type="Lista" xml:lang="pt-BR" '
        'origem="SANITIZED_SENSITIVE"><item>SANITIZED_SENSITIVE</item></alergias>',
    ),
    # xsi:nil on an empty sensitive element, xml:lang on a person's name.
    (
        '<p:paciente xmlns:p="urn:clinica:v1" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="urn:clinica:v1 clinica.xsd"><p:cpf>52998224725</p:cpf>'
        '<p:nome xml:lang="pt">Maria Souza</p:nome><p:alergias xsi:nil="true"/></p:paciente>',
        '<p:nome xml:lang="pt">SANITIZED_NAME</p:nome><p:alergias xsi:nil="true"/>',
    ),
    # WSDL: an attribute whose value is a declared namespace is a namespace.
    (
        '<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" xmlns:tns="urn:clinica:v1" '
        'targetNamespace="urn:clinica:v1"><paciente><cpf>52998224725</cpf>'
        '<alergias tns:ref="urn:clinica:v1" code="J45">asma</alergias></paciente></definitions>',
        '<alergias tns:ref="urn:clinica:v1" code="SANITIZED_SENSITIVE">SANITIZED_SENSITIVE</alergias>',
    ),
    # A SOAP envelope's attributes on a sensitive element of its body.
    (
        '<soap:Envelope xmlns:soap="http://schemas.xmlsoap.org/soap/envelope/" '
        'soap:encodingStyle="http://www.w3.org/2001/12/soap-encoding"><soap:Body>'
        '<paciente xmlns="urn:hosp"><nome>Maria Souza</nome><cpf>52998224725</cpf>'
        '<alergias soap:mustUnderstand="1">dipirona</alergias></paciente></soap:Body></soap:Envelope>',
        '<alergias soap:mustUnderstand="1">SANITIZED_SENSITIVE</alergias>',
    ),
    # An xsi prefix bound to another name is still XML Schema's.
    (
        '<ficha xmlns:i="http://www.w3.org/2001/XMLSchema-instance"><cpf>52998224725</cpf>'
        '<diagnostico i:type="Texto" i:nil="false">F32.1</diagnostico></ficha>',
        '<diagnostico i:type="Texto" i:nil="false">SANITIZED_SENSITIVE</diagnostico>',
    ),
]


@pytest.mark.parametrize(("body", "expected"), _CASES)
def test_structural_attributes_of_replaced_elements_are_kept(body: str, expected: str) -> None:
    out = _sanitized(body)
    assert expected in out
    ET.fromstring(out)


def test_a_users_rule_naming_an_element_keeps_its_namespaces() -> None:
    body = (
        '<ficha xmlns="urn:clinica:v2" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="urn:clinica:v2 ficha.xsd" apelido="Mari"><apelido>Mari</apelido></ficha>'
    )
    assert _sanitized(body, _RULED) == (
        '<ficha xmlns="urn:clinica:v2" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="urn:clinica:v2 ficha.xsd" apelido="SANITIZED_NAME">'
        "<apelido>SANITIZED_NAME</apelido></ficha>"
    )
    held = '<lista><prontuarioNumero xmlns="urn:h" xml:lang="pt" origem="SUS">123</prontuarioNumero></lista>'
    assert _sanitized(held, _RULED) == (
        '<lista><prontuarioNumero xmlns="urn:h" xml:lang="pt" origem="SANITIZED_SENSITIVE">'
        "SANITIZED_SENSITIVE</prontuarioNumero></lista>"
    )


# -- property: generated documents --------------------------------------------------

_NAMESPACES = st.sampled_from(
    ["urn:clinica:v1", "http://www.portalfiscal.inf.br/nfe", "http://hl7.org/fhir",
     "https://api.clinica.com.br/schemas/paciente/v2", "urn:oasis:names:tc:SAML:2.0:assertion",
     "http://schemas.xmlsoap.org/soap/envelope/", "urn:esocial:evtAdmissao:v_S_01_02_00"]
)  # fmt: skip
_PREFIXES = st.sampled_from(["", "p", "ns1", "cli", "s"])
_XSI_PREFIXES = st.sampled_from(["xsi", "i", "xs"])
_SECRET = (
    st.text(st.sampled_from("abcdefghijklmnopqrstuvwxyz "), min_size=4, max_size=12)
    .map(lambda s: "Segredo " + s.strip())
    .filter(lambda s: not is_token(s))
)
# Names that hold data, each with a value of its kind: sensitive ones (any text), a
# person's (a name, a phone, an address), and free text naming a diagnosis.
_SENSITIVE = ["alergias", "diagnostico", "deficiencia", "tipoSanguineo", "religiao", "racaCor"]
_PERSONAL = {
    "nome": st.sampled_from(["Maria Souza", "João Pereira", "Ana Lima Costa"]),
    "telefone": st.sampled_from(["11912345678", "(21) 98765-4321"]),
    "endereco": st.sampled_from(["Rua das Flores, 123", "Avenida Paulista, 1000"]),
    "observacao": st.sampled_from(["Paciente com CID F32.1, retorno", "CID-10: E11.9"]),
}
_HELD = st.sampled_from([*_SENSITIVE, *_PERSONAL])
_GONE = {"Paciente com CID F32.1, retorno": "F32.1", "CID-10: E11.9": "E11.9"}
_LANGS = st.sampled_from(["pt-BR", "en", "es-ES", "pt-PT"])


@st.composite
def _documents(draw: st.DrawFn) -> tuple[str, list[str]]:
    planted: list[str] = []
    uri = draw(_NAMESPACES)
    prefix = draw(_PREFIXES)
    xsi = draw(_XSI_PREFIXES)
    tag = (prefix + ":") if prefix else ""
    declare = f'xmlns{":" + prefix if prefix else ""}="{uri}"'
    children = []
    for held in draw(st.lists(_HELD, min_size=1, max_size=5)):
        attributes = []
        if draw(st.booleans()):  # a namespace of its own
            inner = draw(_NAMESPACES)
            attributes.append(f'xmlns{":" + prefix if prefix else ""}="{inner}"')
        if draw(st.booleans()):
            attributes.append(
                f'{xsi}:type="{draw(st.sampled_from(["Lista", "Texto", "tns:Codigo"]))}"'
            )
        if draw(st.booleans()):
            attributes.append(f'xml:lang="{draw(_LANGS)}"')
        if draw(st.booleans()):
            attributes.append(f'xml:space="{draw(st.sampled_from(["preserve", "default"]))}"')
        if draw(st.booleans()):
            attributes.append(f'ref="{uri}"')  # a value naming a declared namespace
        sensitive = held in _SENSITIVE
        if sensitive and draw(st.booleans()):
            attributes.append(f'detalhe="{draw(_SECRET)}"')  # data of a sensitive element
        if draw(st.booleans()):
            children.append(f'<{tag}{held} {" ".join(attributes)} {xsi}:nil="true"/>')
        else:
            value = draw(_SECRET if sensitive else _PERSONAL[held])
            planted.append(_GONE.get(value, value))
            children.append(f"<{tag}{held} {' '.join(attributes)}>{value}</{tag}{held}>")
    record = draw(st.sampled_from(["paciente", "cliente", "pessoa", "beneficiario"]))
    location = f'{xsi}:schemaLocation="{uri} {record}.xsd"' if draw(st.booleans()) else ""
    return (
        f'<{tag}{record} {declare} xmlns:{xsi}="{XSI}" {location}>'
        f"<{tag}cpf>52998224725</{tag}cpf>{''.join(children)}</{tag}{record}>",
        planted,
    )


def _structure(document: str) -> list[tuple[str, dict[str, str]]]:
    """Each element's expanded name and its structural attributes, in document order."""
    kept = []
    for element in ET.fromstring(document).iter():
        attributes = {
            k: v for k, v in element.attrib.items() if k.startswith((f"{{{XSI}}}", f"{{{XML_NS}}}"))
        }
        attributes.update({k: v for k, v in element.attrib.items() if k == "ref"})
        kept.append((element.tag, attributes))
    return kept


@settings(max_examples=150, deadline=None)
@given(document=_documents())
def test_sanitized_xml_parses_and_keeps_its_structure(document: tuple[str, list[str]]) -> None:
    body, planted = document
    out = _sanitized(body)
    assert _structure(out) == _structure(body)
    # The values themselves are still replaced.
    assert [value for value in ["52998224725", "Segredo", *planted] if value in out] == []
