"""A person where the request line and headers hide one: a value percent-encoded twice
(a query's, a ``redirect_uri``'s own query), a proxy's user header holding a display
name (oauth2-proxy, Apache, Azure App Service), base64 of ``name=value`` text in a
header or a query; and name/value pairs whose name says what the value is. Each went
out as it came before.

Property tests over Faker pt_BR people, in both modes: no planted value comes back, in
any encoding; what names nobody comes back byte for byte.
"""

from __future__ import annotations

import base64
import json
from urllib.parse import quote, unquote, unquote_plus

import pytest
from faker import Faker

from ext_proc_server.core.exchange import get_header
from tests.unit.sanitize.personal_formats import Person, leaked, person, twice
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k" * 32)
PEOPLE = 30
# Proxies' headers for the signed-in user (oauth2-proxy, Apache/nginx, Azure App
# Service, Kong).
USER_HEADERS = ("x-remote-user", "remote-user", "x-forwarded-user", "x-user",
                "x-forwarded-preferred-username", "x-ms-client-principal-name",
                "x-consumer-username", "x-auth-request-user",
                "x-auth-request-preferred-username", "x-user-name")  # fmt: skip


def _people(seed: int) -> list[Person]:
    fake = Faker("pt_BR")
    fake.seed_instance(seed)
    return [person(fake) for _ in range(PEOPLE)]


def _encodings(value: str) -> list[str]:
    return [value, quote(value, safe=""), quote(value), twice(value)]


@pytest.mark.parametrize("sanitizer_", [SANITIZER, PSEUDONYMS], ids=["tokens", "pseudonyms"])
def test_user_headers_lose_display_names(sanitizer_) -> None:
    for p in _people(311):
        headers = tuple((name, p.name) for name in USER_HEADERS)
        out = sanitizer_.sanitize(request_exchange(headers=headers)).request
        for name in USER_HEADERS:
            assert leaked(get_header(out.headers, name) or "", [p.name]) == [], name


def test_user_headers_keep_logins() -> None:
    """A login is no person's name: it stays (an e-mail is replaced as any is)."""
    headers = (("x-remote-user", "msouza"), ("remote-user", "svc-relatorios"),
               ("x-forwarded-user", "cliente_4815"), ("x-forwarded-email", "ana@example.com"))  # fmt: skip
    out = SANITIZER.sanitize(request_exchange(headers=headers)).request
    assert get_header(out.headers, "x-remote-user") == "msouza"
    assert get_header(out.headers, "remote-user") == "svc-relatorios"
    assert get_header(out.headers, "x-forwarded-user") == "cliente_4815"
    assert get_header(out.headers, "x-forwarded-email") == "SANITIZED_EMAIL"


@pytest.mark.parametrize("sanitizer_", [SANITIZER, PSEUDONYMS], ids=["tokens", "pseudonyms"])
def test_query_values_encoded_twice(sanitizer_) -> None:
    for p in _people(312):
        searched = f"{p.first} {p.last}"
        back = f"https://loja.example/cb?nome={quote(p.name)}&pedido=4815"
        query = (("nome", twice(p.name)), ("q", twice(searched)), ("email", twice(p.email)),
                 ("redirect_uri", quote(back, safe="")), ("return_to", twice(back)))  # fmt: skip
        out = sanitizer_.sanitize(request_exchange(query=query)).request.query
        text = "&".join(f"{n}={v}" for n, v in out)
        planted = [*_encodings(p.name), *_encodings(searched), *_encodings(p.email)]
        assert leaked(text, planted) == [], text
        values = dict(out)
        # Still encoded to the depth it came in: decoded twice, a name, no escape left.
        for name in ("nome", "q"):
            inner = unquote_plus(unquote_plus(values[name]))
            assert "%" not in inner and (sanitizer_ is PSEUDONYMS or inner == "SANITIZED_NAME")
        assert unquote(values["redirect_uri"]).endswith("&pedido=4815")
        assert unquote(unquote(values["return_to"])).startswith("https://loja.example/cb?nome=")


def test_values_encoded_twice_naming_nobody_stay_byte_for_byte() -> None:
    back = quote("https://loja.example/cb?pedido=4815&cupom=10%25 off", safe="")
    query = (("desconto", "100%2520off"), ("return_to", back),
             ("redirect_uri", "https://loja.example/cb%3Fpedido%3D4815%2526cor%3DAzul%2520Marinho"))  # fmt: skip
    out = SANITIZER.sanitize(request_exchange(query=query)).request
    assert out.query == query
    form = "&".join(f"{n}={v}" for n, v in query)
    out = SANITIZER.sanitize(
        request_exchange(body=form, content_type="application/x-www-form-urlencoded")
    ).request
    assert out.body == form.encode()


def _b64(text: str, *, url: bool) -> str:
    if url:
        return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
    return base64.b64encode(text.encode()).decode()


@pytest.mark.parametrize("url", [False, True], ids=["base64", "base64url"])
def test_base64_of_pairs_in_headers_and_queries(url: bool) -> None:
    for p in _people(313):
        pairs = f"nome={p.name}&cpf={p.cpf}&pedido=4815"
        token = _b64(pairs, url=url)
        exchange = request_exchange(headers=(("x-user-context", token),), query=(("ctx", token),))
        out = SANITIZER.sanitize(exchange).request
        for fresh in (get_header(out.headers, "x-user-context"), dict(out.query)["ctx"]):
            decoded = base64.urlsafe_b64decode(fresh + "=" * (-len(fresh) % 4)).decode()
            assert decoded == "nome=SANITIZED_NAME&cpf=SANITIZED_DOCUMENT&pedido=4815"


def _walked(document: object) -> object:
    out = SANITIZER.sanitize(request_exchange(body=json.dumps(document, ensure_ascii=False)))
    return json.loads(out.request.body)


def test_pairs_read_by_their_names() -> None:
    for p in _people(314):
        document = {"campos": [{"name": "nome", "value": p.name},
                               {"nome": "Pagador", "valor": p.name},
                               {"key": "celular", "value": p.phone},
                               {"field": "data_nascimento", "value": p.birth}]}  # fmt: skip
        assert [item.get("value", item.get("valor")) for item in _walked(document)["campos"]] == [
            "SANITIZED_NAME", "SANITIZED_NAME", "SANITIZED_PHONE", "SANITIZED_DATE"]  # fmt: skip


def test_pairs_naming_nobody_stay() -> None:
    """A pair's name that is no person's field keeps its value; a typed entry whose type
    only maybe names a name (a product's attribute) keeps its value as before."""
    document = {"atributos": [{"name": "cor", "value": "Azul Marinho"},
                              {"key": "produto", "value": "Maria Mole"},
                              {"nome": "Pedido", "valor": "4815"},
                              {"name": "nome", "value": "sku-4815"},
                              {"tipo": "nome", "valor": "Camiseta Polo"}]}  # fmt: skip
    assert _walked(document) == document
