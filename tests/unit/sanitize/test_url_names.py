"""A person's name written into a URL with no field name to tell it: a path segment
(/clientes/joao-da-silva) or a search value (?q=Maria%20Souza) went out as it came.

Held both ways: names in every writing are replaced, and route slugs, real API
paths (botocore's request URIs and enum values, 29k distinct strings) and slugs of
Faker's non-person providers are kept.
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from pathlib import Path
from urllib.parse import quote, unquote_plus

import botocore
import pytest
from faker import Faker

from ext_proc_server.core.exchange import Exchange, HttpRequest
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-url-names")


def _request(path: str, query: tuple[tuple[str, str], ...] = ()) -> HttpRequest:
    exchange = Exchange(id="t", request=HttpRequest(method="GET", path=path, query=query))
    return SANITIZER.sanitize(exchange).request


@pytest.mark.parametrize(
    ("path", "expected"),
    [("/clientes/joao-da-silva", "/clientes/SANITIZED_NAME"),
     ("/users/maria.souza/orders", "/users/SANITIZED_NAME/orders"),
     ("/pacientes/jos%C3%A9-pereira/exames", "/pacientes/SANITIZED_NAME/exames"),
     ("/perfil/Ana_Paula_Costa", "/perfil/SANITIZED_NAME"),
     ("/authors/john-smith/posts/12", "/authors/SANITIZED_NAME/posts/12")],
)  # fmt: skip
def test_a_name_in_a_path_segment_is_replaced(path: str, expected: str) -> None:
    assert _request(path).path == expected


@pytest.mark.parametrize(
    ("name", "value"),
    [("q", "Maria%20Souza"), ("nome", "Jos%C3%A9+Pereira"), ("search", "ana+paula+costa"),
     ("busca", "joao-da-silva"), ("term", "Pedro Henrique Alves")],
)  # fmt: skip
def test_a_name_in_a_query_value_is_replaced(name: str, value: str) -> None:
    assert _request("/busca", ((name, value), ("page", "2"))).query == (
        (name, "SANITIZED_NAME"),
        ("page", "2"),
    )


def test_pseudonyms_keep_the_writing() -> None:
    request = HttpRequest(
        method="GET", path="/users/maria.souza/orders", query=(("q", "ana+paula+costa"),)
    )
    out = PSEUDONYMS.sanitize(Exchange(id="t", request=request)).request
    segment = out.path.split("/")[2]
    assert re.fullmatch(r"[a-z]+\.[a-z]+", segment) and segment != "maria.souza"
    assert re.fullmatch(r"[a-z]+\+[a-z]+\+[a-z]+", out.query[0][1])
    assert "paula" not in out.query[0][1] and "costa" not in out.query[0][1]


# Real-looking routes (GitHub, Stripe, Mercado Pago, ViaCEP, Brasil API, Google Maps
# shapes), typed from their public documentation's layouts.
ROUTES = [
    "/api/v1/order-items", "/products/red-shoes", "/health/live", "/health/ready",
    "/repos/octocat/hello-world/pulls/1347", "/repos/octocat/hello-world/git/ref/heads/main",
    "/orgs/github/actions/runners/registration-token", "/user/ssh_signing_keys",
    "/v1/payment_intents/pi_3MtwBwLkdIwHu7ix28a3tqPa/confirm", "/v1/billing_portal/sessions",
    "/v1/checkout/sessions", "/v1/setup-intents", "/v1/customers/search",
    "/v1/payments/search", "/merchant_orders/search", "/preapproval_plan",
    "/ws/01001000/json", "/api/cep/v2/89010025", "/api/banks/v1", "/api/feriados/v1/2024",
    "/maps/api/geocode/json", "/maps/api/place/nearbysearch/json", "/grace-period",
    "/max-age", "/dark-mode", "/rose-gold", "/summer-sale", "/mark-as-read",
    "/black-friday", "/well-known/openid-configuration", "/.well-known/jwks.json",
    "/static/css/main.8f3c2a1b.css", "/assets/logo-dark.svg", "/sitemap-index.xml",
    "/docs/getting-started", "/blog/release-notes", "/produtos/tenis-de-corrida",
    "/categorias/moda-feminina", "/cidades/sao-paulo", "/estados/rio-grande-do-sul",
]  # fmt: skip


@pytest.mark.parametrize("path", ROUTES)
def test_routes_are_kept(path: str) -> None:
    assert _request(path, (("sort", "created-at"), ("color", "rose-gold"))) == HttpRequest(
        method="GET", path=path, query=(("sort", "created-at"), ("color", "rose-gold"))
    )


def _read_as_name(value: str) -> bool:
    """Whether a value is replaced as a name, as a path segment or as a query value."""
    segment = quote(value, safe="-._~!$&'()*+,;=:@")
    request = _request(f"/r/{segment}", (("q", quote(value, safe="-._~")),))
    return request.path != f"/r/{segment}" or request.query[0][1] != quote(value, safe="-._~")


def _botocore_strings() -> set[str]:
    """Every literal path segment, query word and enum value of botocore's service
    models: the request URIs of some 400 real HTTP APIs."""
    found: set[str] = set()
    for model in Path(botocore.__file__).parent.glob("data/*/*/service-2.json*"):
        opener = gzip.open if model.suffix == ".gz" else open
        with opener(model, "rt", encoding="utf-8") as handle:
            service = json.load(handle)
        for operation in service.get("operations", {}).values():
            path, _, query = operation.get("http", {}).get("requestUri", "").partition("?")
            found.update(s for s in path.split("/") if s and "{" not in s)
            found.update(w for pair in query.split("&") for w in pair.split("=") if w)
        for shape in service.get("shapes", {}).values():
            found.update(shape.get("enum") or ())
    return found


def test_no_real_api_path_word_reads_as_a_name() -> None:
    words = _botocore_strings()
    assert len(words) > 20_000
    assert sorted(w for w in words if _read_as_name(w)) == []


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


@pytest.mark.parametrize("locale", ["pt_BR", "en_US"])
def test_slugs_of_other_providers_are_not_names(locale: str) -> None:
    fake = Faker(locale)
    fake.seed_instance(7)
    providers = (fake.color_name, fake.job, fake.catch_phrase, fake.bs, fake.slug,
                 lambda: " ".join(fake.words(2)), lambda: fake.sentence(nb_words=3))  # fmt: skip
    slugs = {_slug(provider()) for provider in providers for _ in range(2000)}
    assert sorted(s for s in slugs if _read_as_name(s)) == []


def _writings(first: str, last: str, particle: str) -> list[str]:
    full = " ".join(w for w in (first, particle, last) if w)
    return [
        _slug(full), f"{_slug(first)}.{_slug(last)}", full, full.lower(), full.upper(),
        full.replace(" ", "+"), full.replace(" ", "_"), full.replace(" ", "-"),
    ]  # fmt: skip


@pytest.mark.parametrize("locale", ["pt_BR", "en_US"])
def test_generated_names_in_every_writing_are_names(locale: str) -> None:
    fake = Faker(locale)
    fake.seed_instance(11)
    missed = []
    for i in range(500):
        first, last = fake.first_name(), fake.last_name()
        particle = ("", "da", "dos", "de")[i % 4] if locale == "pt_BR" else ""
        for writing in _writings(first, last, particle):
            path = f"/pessoas/{quote(writing, safe='+')}/pedidos"  # spaces as %20
            if _request(path).path != "/pessoas/SANITIZED_NAME/pedidos":
                missed.append(writing)
    assert missed == []


def test_a_name_in_the_query_of_a_url_inside_text_is_replaced() -> None:
    """A Referer or Location header, an HTML link, a JSON "next" URL: their queries are
    read as the request's own query is."""
    exchange = request_exchange(
        headers=(("referer", "https://loja.example.com/busca?q=maria+souza&page=2"),
                 ("location", "/clientes?termo=Jos%C3%A9%20Pereira&sort=asc")),
        body='<a href="/busca?s=ana-paula-costa&cor=rose-gold">x</a>'
        '<a href="/produtos?cat=red-shoes&ordem=grace-period">y</a>',
        content_type="text/html",
        response_body='{"next": "/api/busca?nome_busca=Pedro+Henrique+Alves&page=3"}',
    )  # fmt: skip
    out = SANITIZER.sanitize(exchange)
    headers = dict(out.request.headers)
    assert headers["referer"] == "https://loja.example.com/busca?q=SANITIZED_NAME&page=2"
    assert headers["location"] == "/clientes?termo=SANITIZED_NAME&sort=asc"
    assert out.request.body.decode() == (
        '<a href="/busca?s=SANITIZED_NAME&cor=rose-gold">x</a>'
        '<a href="/produtos?cat=red-shoes&ordem=grace-period">y</a>'
    )
    assert json.loads(out.response.body) == {"next": "/api/busca?nome_busca=SANITIZED_NAME&page=3"}


@pytest.mark.parametrize("locale", ["pt_BR", "en_US"])
def test_long_names_are_names(locale: str) -> None:
    """Names of six to ten words (two given names, particles, three surnames: as
    Brazilian registries write them) went out whole: only five words were read."""
    fake = Faker(locale)
    fake.seed_instance(23)
    surnames = [w for w in (fake.last_name() for _ in range(400)) if " " not in w]
    missed = []
    for i in range(200):
        given = [fake.first_name().split()[0], fake.first_name().split()[0]]
        family = surnames[i % 97 : i % 97 + 3 + i % 3]  # three to five surnames
        full = " ".join([*given, family[0], "dos", *family[1:]])  # six to eight words
        for writing in (_slug(full), full.replace(" ", "+"), full):
            encoded = quote(writing, safe="+")
            request = _request(f"/pessoas/{encoded}", (("q", encoded),))
            if request.path != "/pessoas/SANITIZED_NAME" or request.query[0][1] != "SANITIZED_NAME":
                missed.append(writing)
    assert missed == []


def test_pseudonyms_in_a_query_are_encoded_as_the_value_was() -> None:
    """A named query value replaced by a pseudonym went out decoded: a space, a comma or
    a "ç" raw in the URL (``?nome=Lorenzo Pastor``), which no client sends and WireMock's
    URL matchers never see."""
    query = (("nome", "Jo%C3%A3o%20Concei%C3%A7%C3%A3o"), ("endereco", "Rua+das+Flores%2C+123"),
             ("nascimento", "14/03/1985"), ("q", "Maria%20Aparecida%20Souza"), ("page", "2"))  # fmt: skip
    request = HttpRequest(method="GET", path="/clientes", query=query)
    out = PSEUDONYMS.sanitize(Exchange(id="t", request=request)).request.query
    for (name, raw), (_, fresh) in zip(query[:4], out[:4], strict=True):
        assert fresh != raw
        assert re.fullmatch(r"[A-Za-z0-9_.~%+/-]+", fresh), (name, fresh)
        assert "%20" in fresh if "%20" in raw else " " not in unquote_plus(fresh) or "+" in fresh
        decoded = unquote_plus(fresh)
        assert decoded == decoded.strip() and "Maria" not in decoded and "Jo" not in decoded[:2]
    assert out[2][1].count("/") == 2  # a date keeps its unescaped slashes
    assert out[4] == ("page", "2")
