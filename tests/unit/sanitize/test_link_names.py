"""A name slug in a URL inside a body: a HAL link's ``href``, a JSON ``url``, an HTML
``<a href>``. Headers and access logs read them already; in a body the path went out
(``/clientes/maria-aparecida-souza``). Each is replaced as the request's own path
segment is, and a pseudonym is the same one the request's path gets."""

from __future__ import annotations

import json

from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-link-names")
SLUG = "maria-aparecida-souza"


def _json_response(document: dict, sanitize=SANITIZER, path: str = "/") -> tuple[str, dict]:
    exchange = request_exchange(path=path, response_body=json.dumps(document))
    out = sanitize.sanitize(exchange)
    return out.request.path, json.loads(out.response.body)


def test_hal_links_and_url_strings_lose_the_name() -> None:
    document = {
        "_links": {"self": {"href": f"https://api.loja.com.br/clientes/{SLUG}"},
                   "pedidos": {"href": f"/clientes/{SLUG}/pedidos?page=2"}},
        "url": f"https://api.loja.com.br/clientes/{SLUG}",
        "mensagem": f"Veja /clientes/{SLUG} para detalhes",
    }  # fmt: skip
    _, body = _json_response(document)
    assert body == {
        "_links": {"self": {"href": "https://api.loja.com.br/clientes/SANITIZED_NAME"},
                   "pedidos": {"href": "/clientes/SANITIZED_NAME/pedidos?page=2"}},
        "url": "https://api.loja.com.br/clientes/SANITIZED_NAME",
        "mensagem": "Veja /clientes/SANITIZED_NAME para detalhes",
    }  # fmt: skip


def test_escaped_slashes_and_route_slugs() -> None:
    text = json.dumps({"url": f"https://api.loja.com.br/clientes/{SLUG}"}).replace("/", "\\/")
    out = SANITIZER.sanitize(request_exchange(response_body=text)).response.body.decode()
    assert json.loads(out) == {"url": "https://api.loja.com.br/clientes/SANITIZED_NAME"}
    routes = {  # route and product slugs are no names
        "_links": {"next": {"href": "/v1/order-items/red-shoes?page=2"}},
        "docs": "https://docs.example.com/grace-period/max-age",
    }
    assert _json_response(routes)[1] == routes


def test_pseudonym_matches_the_request_path() -> None:
    document = {"_links": {"self": {"href": f"/clientes/{SLUG}"}}}
    path, body = _json_response(document, PSEUDONYMS, path=f"/clientes/{SLUG}")
    fake = path.rsplit("/", 1)[1]
    assert fake != SLUG and fake.count("-") == 2
    assert body == {"_links": {"self": {"href": f"/clientes/{fake}"}}}


def test_html_href() -> None:
    page = f'<p><a href="/clientes/{SLUG}">ver</a> <a href="/ajuda/red-shoes">ajuda</a></p>'
    exchange = request_exchange(content_type="text/html", response_body=page)
    assert SANITIZER.sanitize(exchange).response.body.decode() == (
        '<p><a href="/clientes/SANITIZED_NAME">ver</a> <a href="/ajuda/red-shoes">ajuda</a></p>'
    )
