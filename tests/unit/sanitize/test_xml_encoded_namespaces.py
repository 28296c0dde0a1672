"""An e-mail percent- or character-reference-encoded in a namespace URI or a schema
location (``xmlns:x="https://x.example/maria%40mail.com/v1"``, ``maria&#64;mail.com``)
is structure, as the plain one is (xml_structure.scrub_keeping_structure): the document
still parses into the same namespaces. The same encoded e-mail in text or an ordinary
attribute is replaced. In an XML body, in a JSON string and in base64 XML."""

from __future__ import annotations

import base64
import json
import xml.etree.ElementTree as ET

import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.namespaced_documents import XSI, element_tags
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

_SANITIZER = sanitizer()
# "@" as a URL escapes it (RFC 3986) and as XML's character references write it.
ENCODINGS = {"percent": "%40", "decimal": "&#64;", "hex": "&#x40;"}
LOCALES = ["pt_BR", "pt_PT", "es_ES", "en_US"]


def emails(locale: str, seed: int, count: int) -> list[str]:
    fake = Faker(locale)
    fake.seed_instance(seed)
    return [fake.email() for _ in range(count)]


def encoded(email: str, encoding: str) -> str:
    return email.replace("@", ENCODINGS[encoding])


def document(namespace_email: str, schema_email: str, secrets: list[str], encoding: str) -> str:
    """A namespaced document whose namespace and schema location hold encoded e-mails,
    and whose text and ``contato`` attribute hold the encoded ``secrets``."""
    ns, schema = encoded(namespace_email, encoding), encoded(schema_email, encoding)
    text, attribute = (encoded(secret, encoding) for secret in secrets)
    return (
        f'<c:cadastro xmlns:c="https://api.loja.example/{ns}/v1" xmlns:xsi="{XSI}" '
        f'xsi:schemaLocation="https://api.loja.example/{ns}/v1 https://x.example/{schema}/c.xsd">'
        f'<c:obs contato="{attribute}">Responder para {text}</c:obs></c:cadastro>'
    )


def sanitized(body: str, content_type: str = "application/xml") -> str:
    exchange = request_exchange(body=body, content_type=content_type)
    return _SANITIZER.sanitize(exchange).request.body.decode()


def assert_structure_kept_values_gone(body: str, out: str, secrets: list[str]) -> None:
    before, after = ET.fromstring(body), ET.fromstring(out)  # still parses
    assert element_tags(after) == element_tags(before)  # in the same namespaces
    location = f"{{{XSI}}}schemaLocation"
    assert after.get(location) == before.get(location)
    for element in after.iter():
        for value in (element.text or "", element.get("contato") or ""):
            assert not any(secret in value for secret in secrets), value


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
@pytest.mark.parametrize("locale", LOCALES)
def test_encoded_emails_in_namespaces_stay_and_in_values_go(locale: str, encoding: str) -> None:
    for seed in range(3):
        namespace_email, schema_email, *secrets = emails(locale, seed, 4)
        body = document(namespace_email, schema_email, secrets, encoding)
        assert_structure_kept_values_gone(body, sanitized(body), secrets)


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_in_a_json_string_and_in_base64_xml_too(encoding: str) -> None:
    namespace_email, schema_email, *secrets = emails("pt_BR", 11, 4)
    body = document(namespace_email, schema_email, secrets, encoding)
    out = json.loads(sanitized(json.dumps({"xml": body}), "application/json"))["xml"]
    assert_structure_kept_values_gone(body, out, secrets)
    # Base64 whose "=" padding shows (bytes not a multiple of 3) is read as base64 text.
    padded = body + " " * ((1 - len(body.encode())) % 3)
    wrapped = json.dumps({"SAMLResponse": base64.b64encode(padded.encode()).decode()})
    out = json.loads(sanitized(wrapped, "application/json"))["SAMLResponse"]
    assert_structure_kept_values_gone(body, base64.b64decode(out).decode(), secrets)


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
def test_encoded_emails_in_text_and_ordinary_attributes_go(encoding: str) -> None:
    """Must hold on either side of the change: outside structure, every encoding goes."""
    secrets = emails("es_ES", 5, 3)
    text, attribute, child = (encoded(secret, encoding) for secret in secrets)
    body = f'<cadastro contato="{attribute}"><obs>Responder para {text}</obs><email>{child}</email></cadastro>'
    out = sanitized(body)
    assert [value for value in (text, attribute, child) if value in out] == []
    assert element_tags(ET.fromstring(out)) == ["cadastro", "obs", "email"]


def test_an_encoded_email_in_a_declared_namespaces_other_attribute_stays() -> None:
    """WSDL's targetNamespace repeats a declared namespace: structure, encoded or not."""
    body = (
        '<definitions xmlns="http://schemas.xmlsoap.org/wsdl/" '
        'xmlns:tns="urn:svc:suporte%40empresa.com.br" targetNamespace="urn:svc:suporte%40empresa.com.br">'
        '<documentation contato="joana.reis%40empresa.com.br">x</documentation></definitions>'
    )
    out = sanitized(body)
    assert 'targetNamespace="urn:svc:suporte%40empresa.com.br"' in out
    assert "joana.reis%40empresa.com.br" not in out


_LOCAL = st.from_regex(r"[a-z][a-z0-9._]{2,12}[a-z0-9]", fullmatch=True)
_EMAIL = st.builds("{}@{}.example".format, _LOCAL, st.sampled_from(["loja", "mail", "correo"]))


@settings(max_examples=40, deadline=None)
@given(st.lists(_EMAIL, min_size=4, max_size=4), st.sampled_from(sorted(ENCODINGS)))
def test_generated_encoded_namespaces(addresses: list[str], encoding: str) -> None:
    namespace_email, schema_email, *secrets = addresses
    assert not any(is_token(address) for address in addresses)
    body = document(namespace_email, schema_email, secrets, encoding)
    assert_structure_kept_values_gone(body, sanitized(body), secrets)


@pytest.mark.parametrize("key", ["body", "message", "HtmlBody", "descricao"])
@pytest.mark.parametrize("encoding", [None, *sorted(ENCODINGS)])
def test_markup_under_a_free_text_key_keeps_its_namespaces(key: str, encoding: str | None) -> None:
    """A key naming free text reads the string's names first; XML there keeps its
    structure too (json_markup.scrub_found), plain or encoded."""
    fake = Faker("pt_BR")
    fake.seed_instance(21)
    for _ in range(3):
        name = f"{fake.first_name()} {fake.last_name()}"
        namespace_email, schema_email, *secrets = (fake.email() for _ in range(4))
        body = document(namespace_email, schema_email, secrets, encoding or "percent")
        if encoding is None:
            body = body.replace("%40", "@")
        body = body.replace("Responder para", f"Falar com {name} ou responder para")
        out = json.loads(sanitized(json.dumps({key: body}), "application/json"))[key]
        secrets = [secret if encoding is None else encoded(secret, encoding) for secret in secrets]
        assert_structure_kept_values_gone(body, out, secrets)
        assert name not in out
