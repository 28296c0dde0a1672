"""Base64 in headers, query parameters and form fields: text (not only JSON) read
decoded and written back as it came, so it still decodes. A gateway's ``X-User``
holding a person in XML or a CSV line, an OAuth ``state`` of text, SAML's
``SAMLRequest`` deflated in a redirect and ``SAMLResponse`` posted in a form; and
query and form values percent-encoded in latin-1. Each went out as it came before.

Property tests over Faker pt_BR people: no planted value comes back, as written or in
the token's decoding; each token still decodes, to a document of the same shape.
"""

from __future__ import annotations

import base64
import dataclasses
import re
import xml.etree.ElementTree as ET
import zlib
from urllib.parse import quote, quote_plus, unquote

import pytest
from faker import Faker

from ext_proc_server.core.exchange import get_header
from tests.unit.sanitize.personal_formats import Person, leaked, person, saml_assertion
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k" * 32)
PEOPLE = 30
SAML = {"saml": "urn:oasis:names:tc:SAML:2.0:assertion"}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _b64url(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def _unb64(token: str) -> str:
    token = unquote(token)
    alphabet = base64.urlsafe_b64decode if "-" in token or "_" in token else base64.b64decode
    return alphabet(token + "=" * (-len(token) % 4)).decode()


def _people(seed: int) -> list[Person]:
    fake = Faker("pt_BR")
    fake.seed_instance(seed)
    return [person(fake) for _ in range(PEOPLE)]


def _xml(p: Person) -> str:
    return (f"<cliente><nome>{p.name}</nome><cpf>{p.cpf}</cpf><email>{p.email}</email>"
            f"<celular>{p.phone}</celular><plano>Ouro</plano></cliente>")  # fmt: skip


def _csv(p: Person) -> str:
    return f"nome,cpf,email,data_nascimento\n{p.name},{p.cpf},{p.email},{p.birth}\n"


def _text(p: Person) -> str:
    return f"Cliente {p.name}, CPF {p.cpf}, e-mail {p.email}, tel: {p.phone}"


HEADERS = {
    "xml": (lambda p: _b64(_xml(p)), lambda p: [p.name, p.cpf, p.email, p.phone]),
    "csv": (lambda p: _b64url(_csv(p)), lambda p: [p.name, p.cpf, p.email, p.birth]),
    "text": (lambda p: _b64(_text(p)), lambda p: [p.name, p.cpf, p.email, p.phone]),
}


@pytest.mark.parametrize("shape", sorted(HEADERS))
@pytest.mark.parametrize("mode", ["tokens", "pseudonyms"])
def test_custom_header_holding_base64_text(shape: str, mode: str) -> None:
    encode, planted_of = HEADERS[shape]
    sanitizer_ = SANITIZER if mode == "tokens" else PSEUDONYMS
    for p in _people(sum(map(ord, shape))):
        token = encode(p)
        out = sanitizer_.sanitize(request_exchange(headers=(("x-user-context", token),)))
        fresh = get_header(out.request.headers, "x-user-context")
        assert fresh != token
        planted = [v for v in planted_of(p) if mode == "tokens" or not v.isalpha()]
        assert leaked(_unb64(fresh), planted) == [], _unb64(fresh)
        assert "request.header.x-user-context" in out.redactions
    token = HEADERS["xml"][0](_people(1)[0])
    text = _unb64(
        get_header(
            SANITIZER.sanitize(
                request_exchange(headers=(("x-user-context", token),))
            ).request.headers,
            "x-user-context",
        )
    )
    assert text == ("<cliente><nome>SANITIZED_NAME</nome><cpf>SANITIZED_DOCUMENT</cpf><email>"
                    "SANITIZED_EMAIL</email><celular>SANITIZED_PHONE</celular><plano>Ouro</plano>"
                    "</cliente>")  # fmt: skip


def test_oauth_state_of_text_in_a_query() -> None:
    for p in _people(71):
        state = _b64url(f"return_to=/conta/pedidos;cpf={p.cpf};email={p.email}")
        out = SANITIZER.sanitize(request_exchange(query=(("state", state), ("code", "4/P7q7W91a"))))
        fresh = dict(out.request.query)["state"]
        assert "=" not in fresh and "+" not in fresh and "/" not in fresh  # still base64url
        assert (
            _unb64(fresh) == "return_to=/conta/pedidos;cpf=SANITIZED_DOCUMENT;email=SANITIZED_EMAIL"
        )
        assert dict(out.request.query)["code"] == "4/P7q7W91a"


def _deflated(text: str) -> bytes:
    packer = zlib.compressobj(wbits=-15)
    return packer.compress(text.encode()) + packer.flush()


def test_saml_request_deflated_in_a_redirect() -> None:
    """SAML's HTTP-Redirect binding: deflated, then base64, then percent-encoded."""
    for p in _people(72):
        token = quote(base64.b64encode(_deflated(saml_assertion(p))).decode(), safe="")
        query = (("SAMLRequest", token), ("RelayState", "pedidos"), ("SigAlg", "rsa-sha256"))
        out = SANITIZER.sanitize(request_exchange(query=query))
        fresh = dict(out.request.query)["SAMLRequest"]
        xml = zlib.decompress(base64.b64decode(unquote(fresh), validate=True), -15).decode()
        assert leaked(xml, [p.name, p.first, p.last, p.cpf, p.email, p.phone, p.birth]) == []
        root = ET.fromstring(xml)
        assert root.find(".//saml:NameID", SAML).text == "SANITIZED_EMAIL"
        assert dict(out.request.query)["RelayState"] == "pedidos"


def test_deflated_is_read_only_under_samls_names() -> None:
    token = quote(base64.b64encode(_deflated("cpf 529.982.247-25")).decode(), safe="")
    out = SANITIZER.sanitize(request_exchange(query=(("blob", token),)))
    assert out.request.query == (("blob", token),)


@pytest.mark.parametrize("where", ["query", "form"])
def test_values_percent_encoded_in_latin1(where: str) -> None:
    """A page in ISO-8859-1 writes "ç" as "%E7": read as UTF-8 the value held U+FFFD,
    read no more as a name, and went out."""
    for p in _people(73):
        name = p.name + " Conceição"
        raw = quote_plus(name, encoding="latin-1")
        if where == "query":
            out = SANITIZER.sanitize(request_exchange(query=(("nome", raw), ("pagina", "2"))))
            assert out.request.query == (("nome", "SANITIZED_NAME"), ("pagina", "2"))
        else:
            body = f"nome={raw}&pagina=2"
            out = SANITIZER.sanitize(
                request_exchange(body=body, content_type="application/x-www-form-urlencoded")
            )
            assert out.request.body == b"nome=SANITIZED_NAME&pagina=2"


def test_tokens_that_are_not_text_are_kept() -> None:
    """A hash, a key, a signature: not text, so kept byte for byte, as are ids."""
    digest = base64.b64encode(bytes(range(7, 39))).decode()
    values = [digest, base64.urlsafe_b64encode(bytes(range(100, 148))).decode().rstrip("="),
              "3f2a9c1e7b5d4a6f8e0c2b4d6f8a0c2e", "createdAtDescending"]  # fmt: skip
    headers = tuple((f"x-v{i}", v) for i, v in enumerate(values))
    query = tuple((f"v{i}", quote(v, safe="")) for i, v in enumerate(values))
    out = SANITIZER.sanitize(request_exchange(headers=headers, query=query))
    assert out.request.headers[1:] == headers
    assert out.request.query == query


def test_digest_challenge_with_an_email_realm_stays_a_challenge() -> None:
    """A realm is the server's constant, but one written as an e-mail is an e-mail: it
    is replaced inside its quotes, and every other parameter is kept, so a client
    still reads the challenge (RFC 7616)."""
    challenge = ('Digest realm="suporte.loja@gmail.com", qop="auth, auth-int", '
                 'algorithm=SHA-256, nonce="7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v", '
                 'opaque="FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS"')  # fmt: skip
    for sanitizer_ in (SANITIZER, PSEUDONYMS):
        exchange = request_exchange()
        response = dataclasses.replace(
            exchange.response, status=401, headers=(("www-authenticate", challenge),)
        )
        out = sanitizer_.sanitize(dataclasses.replace(exchange, response=response))
        fresh = get_header(out.response.headers, "www-authenticate")
        params = dict(re.findall(r'(\w+)=(?:"([^"]*)"|[^,\s]+)', fresh))
        assert fresh.startswith('Digest realm="') and "gmail" not in fresh
        assert list(params) == ["realm", "qop", "algorithm", "nonce", "opaque"]
        assert params["qop"] == "auth, auth-int"
        assert fresh.split('realm="', 1)[1].split('"', 1)[1] == challenge.split(
            'realm="suporte.loja@gmail.com"', 1)[1]  # fmt: skip


def test_client_certificate_of_a_person_in_xfcc() -> None:
    """Envoy's X-Forwarded-Client-Cert for an ICP-Brasil e-CPF: the subject's name and
    CPF are replaced, and the certificate that holds them; a service's stays."""
    cert = (
        "-----BEGIN%20CERTIFICATE-----%0AMIIDajCCAlKgAwIBAgIUb3Jk%0A-----END%20CERTIFICATE-----%0A"
    )
    by = "By=spiffe://cluster.local/ns/loja/sa/pedidos;Hash=468ed33be74eee6556d90c0149c1309e"
    for p in _people(74):
        cpf = re.sub(r"\D", "", p.cpf)
        subject = f'Subject="CN={p.name.upper()}:{cpf},OU=Pessoa Fisica A3,O=ICP-Brasil,C=BR"'
        value = f'{by};Cert="{cert}";{subject};URI=spiffe://cluster.local/ns/loja/sa/web'
        out = SANITIZER.sanitize(request_exchange(headers=(("x-forwarded-client-cert", value),)))
        fresh = get_header(out.request.headers, "x-forwarded-client-cert")
        assert fresh == (
            f'{by};Cert="SANITIZED_HEADER";Subject="CN=SANITIZED_NAME:SANITIZED_DOCUMENT,'
            'OU=Pessoa Fisica A3,O=ICP-Brasil,C=BR";URI=spiffe://cluster.local/ns/loja/sa/web'
        )
    service = f'{by};Cert="{cert}";Subject="CN=pedidos-api,O=Loja";URI=spiffe://cluster.local/x'
    out = SANITIZER.sanitize(request_exchange(headers=(("x-forwarded-client-cert", service),)))
    assert get_header(out.request.headers, "x-forwarded-client-cert") == service
