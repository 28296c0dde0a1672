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
from hypothesis import strategies as st

from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.sanitize_helpers import make_cpf, request_exchange, sanitizer

_SANITIZER = sanitizer()
XSI = "http://www.w3.org/2001/XMLSchema-instance"


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
    assert _tags(ET.fromstring(out)) == _tags(ET.fromstring(body))


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

_LOCAL = st.sampled_from(["cadastro", "pedido", "item", "registro", "dados", "envio", "Lote"])
_PREFIX = st.sampled_from(["p", "ns1", "cad", "tns", "v2"])
_USER = st.sampled_from(["joao.silva", "ana.costa", "maria_souza", "rafael88", "lucia.prado"])
_HOST = st.sampled_from(["loja.com.br", "example.com", "gov.br", "empresa.pt", "correo.es"])
_EMAIL = st.builds("{}@{}".format, _USER, _HOST)
_DIGITS = st.from_regex(r"[1-9][0-9]{10}", fullmatch=True)
_CPF = st.from_regex(r"[0-9]{9}", fullmatch=True).map(make_cpf)
_UUID = st.uuids().map(str)
_SLUG = st.sampled_from(["maria-souza", "joao-pereira", "ana-lima", "carlos-oliveira"])
_PLANT = st.one_of(_EMAIL, _DIGITS, _CPF, _UUID, _SLUG)
_URI = st.one_of(
    st.builds("https://{}/{}/v1".format, _HOST, _PLANT),
    st.builds("urn:{}:{}".format, _LOCAL, _PLANT),
)
# Secrets in text and ordinary attributes: e-mails at a domain no namespace uses.
_SECRET = st.builds("{}@clientes-{}".format, _USER, _HOST)


@st.composite
def _documents(draw: st.DrawFn) -> tuple[str, list[str], str]:
    prefixes = draw(st.lists(_PREFIX, min_size=1, max_size=3, unique=True))
    uris = {prefix: draw(_URI) for prefix in prefixes}
    default = draw(_URI)
    schema = f"{default} https://schemas.example.com/{draw(_PLANT)}/s.xsd"
    secrets = []
    children = []
    for _ in range(draw(st.integers(1, 4))):
        prefix = draw(st.sampled_from([*prefixes, ""]))
        name = draw(_LOCAL)
        tag = f"{prefix}:{name}" if prefix else name
        text, attribute = draw(_SECRET), draw(_SECRET)
        secrets += [text, attribute]
        children.append(f'<{tag} ref="{attribute}">Contato: {text}</{tag}>')
    declarations = " ".join(f'xmlns:{p}="{uri}"' for p, uri in uris.items())
    root = draw(_LOCAL)
    body = (
        f'<{root} xmlns="{default}" {declarations} xmlns:xsi="{XSI}" '
        f'xsi:schemaLocation="{schema}">{"".join(children)}</{root}>'
    )
    slug = draw(_SLUG)
    return body, secrets, f"/clientes/{slug}"


def _tags(root: ET.Element) -> list[str]:
    return [element.tag for element in root.iter()]


@settings(max_examples=60, deadline=None)
@given(_documents())
def test_generated_documents_keep_their_names_and_lose_their_values(
    document: tuple[str, list[str], str],
) -> None:
    body, secrets, path = document
    assert not any(is_token(secret) for secret in secrets)
    out = _sanitized(body, path=path)
    before, after = ET.fromstring(body), ET.fromstring(out)
    assert _tags(after) == _tags(before)  # every namespace URI and local name
    schema = f"{{{XSI}}}schemaLocation"
    assert after.get(schema) == before.get(schema)
    for element in after.iter():
        for value in (element.text or "", element.get("ref") or ""):
            assert not any(secret in value for secret in secrets)
