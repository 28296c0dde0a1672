"""A namespace is a name, never data: no shape found inside a namespace declaration,
XML Schema's instance attributes or an element's or attribute's name is replaced
(xml_structure.outside_structure), in an XML body as sent and in base64 XML; the
values in text and in ordinary attributes still are."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET

import pytest
from hypothesis import given, settings

from tests.unit.sanitize.namespaced_documents import (
    SLUGS,
    assert_names_kept_values_gone,
    element_tags,
    namespaced_documents,
)
from tests.unit.sanitize.sanitize_helpers import make_cpf, request_exchange, sanitizer

_SANITIZER = sanitizer()


def _sanitized(body: str, *, path: str = "/", content_type: str = "application/xml") -> str:
    exchange = request_exchange(body=body, content_type=content_type, path=path)
    return _SANITIZER.sanitize(exchange).request.body.decode()


# (body, request path, what must stay, what must go)
_CASES = [
    # An e-mail in a prefix's namespace, a phone-like run in the default one.
    (
        '<p:cliente xmlns:p="https://api.loja.com.br/joao.silva@loja.com.br/v1" '
        'xmlns="https://schemas.loja.com.br/11987654321/ns"><p:contato>Ligar para '
        "11 98765-4321</p:contato></p:cliente>",
        "/",
        [
            'xmlns:p="https://api.loja.com.br/joao.silva@loja.com.br/v1"',
            'xmlns="https://schemas.loja.com.br/11987654321/ns"',
        ],
        ["98765-4321"],
    ),
    # xsi:schemaLocation pairs a namespace with a schema's URL holding an e-mail.
    (
        '<nfe:envio xmlns:nfe="urn:sefaz:nfe" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:schemaLocation="urn:sefaz:nfe https://dev.sefaz.gov.br/ana.costa@sefaz.gov.br/nfe.xsd">'
        "<nfe:obs>Responsavel: ana.costa@empresa.com.br</nfe:obs></nfe:envio>",
        "/",
        [
            'xsi:schemaLocation="urn:sefaz:nfe https://dev.sefaz.gov.br/ana.costa@sefaz.gov.br/nfe.xsd"'
        ],
        ["ana.costa@empresa.com.br"],
    ),
    # A name the exchange shows as a URL slug, inside the namespace's URL.
    (
        '<c:cadastro xmlns:c="https://clientes.example.com/maria-souza/v1">'
        "<c:nome>Maria Souza</c:nome></c:cadastro>",
        "/clientes/maria-souza",
        [
            'xmlns:c="https://clientes.example.com/maria-souza/v1"',
            "<c:nome>SANITIZED_NAME</c:nome>",
        ],
        ["Maria Souza"],
    ),
    # A CPF's digits and a UUID in a URN; xsi:noNamespaceSchemaLocation with an e-mail.
    (
        f'<registro xmlns="urn:cadastro:{make_cpf("529982247")}:123e4567-e89b-12d3-a456-426614174000" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
        'xsi:noNamespaceSchemaLocation="https://x.example.com/rafael@x.example.com/r.xsd">'
        f"<doc>{make_cpf('111444777')}</doc></registro>",
        "/",
        [
            f'xmlns="urn:cadastro:{make_cpf("529982247")}:123e4567-e89b-12d3-a456-426614174000"',
            'xsi:noNamespaceSchemaLocation="https://x.example.com/rafael@x.example.com/r.xsd"',
        ],
        [make_cpf("111444777")],
    ),
    # WSDL's targetNamespace (a declared namespace's value) holding an e-mail.
    (
        '<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" '
        'xmlns:tns="urn:svc:suporte@empresa.com.br" targetNamespace="urn:svc:suporte@empresa.com.br">'
        '<documentation contato="joana.reis@empresa.com.br">x</documentation></definitions>',
        "/",
        [
            'targetNamespace="urn:svc:suporte@empresa.com.br"',
            'xmlns:tns="urn:svc:suporte@empresa.com.br"',
        ],
        ["joana.reis@empresa.com.br"],
    ),
]


@pytest.mark.parametrize(("body", "path", "kept", "gone"), _CASES)
def test_namespaces_keep_what_looks_like_data(
    body: str, path: str, kept: list[str], gone: list[str]
) -> None:
    out = _sanitized(body, path=path)
    for part in kept:
        assert part in out
    for value in gone:
        assert value not in out
    assert element_tags(ET.fromstring(out)) == element_tags(ET.fromstring(body))


def test_an_element_prefix_that_is_a_slug_name_is_kept() -> None:
    body = (
        '<souza:ficha xmlns:souza="urn:souza:v1"><souza:obs>Falar com Maria Souza</souza:obs>'
        "</souza:ficha>"
    )
    out = _sanitized(body, path="/clientes/maria-souza")
    assert out.startswith('<souza:ficha xmlns:souza="urn:souza:v1"><souza:obs>')
    assert out.endswith("</souza:obs></souza:ficha>")


def test_base64_xml_in_json_keeps_its_namespaces() -> None:
    xml = (
        '<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" '
        'xmlns:idp="https://idp.example.com/admin@idp.example.com/ns">'
        "<saml:Subject><saml:NameID>carla.mendes@example.com</saml:NameID></saml:Subject>"
        "</saml:Assertion>\n"  # 220 bytes: padded, as base64 of text is read
    )
    body = json.dumps({"SAMLResponse": base64.b64encode(xml.encode()).decode()})
    out = json.loads(_sanitized(body, content_type="application/json"))
    decoded = base64.b64decode(out["SAMLResponse"]).decode()
    assert 'xmlns:idp="https://idp.example.com/admin@idp.example.com/ns"' in decoded
    assert "carla.mendes@example.com" not in decoded


# -- property: generated documents ----------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(namespaced_documents(), SLUGS)
def test_generated_documents_keep_their_names_and_lose_their_values(
    document: tuple[str, list[str]], slug: str
) -> None:
    body, secrets = document
    out = _sanitized(body, path=f"/clientes/{slug}")
    assert_names_kept_values_gone(body, out, secrets)
