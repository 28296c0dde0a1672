"""A name in a URL that ends in a first name went out whole, where prose read it: a
surname then a first name (``/clientes/joao-martins-henrique``, Portugal's order), or a
last first name that is also a surname (``maria-julia-marcos``, ``telmo-vera``), in a
path segment and in a search query. Products, streets and towns stay."""

from __future__ import annotations

import pytest

from ext_proc_server.core.exchange import Exchange, HttpRequest
from tests.unit.sanitize.sanitize_helpers import sanitizer

TOKENS = sanitizer()


def _request(path: str, query: tuple[tuple[str, str], ...] = ()) -> HttpRequest:
    exchange = Exchange(id="t", request=HttpRequest(method="GET", path=path, query=query))
    return TOKENS.sanitize(exchange).request


@pytest.mark.parametrize(
    "slug",
    ["joao-martins-henrique", "maria-julia-marcos", "telmo-vera", "lucila-andres",
     "malena-amelia-alonso", "ana-paula-vicente"],
)  # fmt: skip
def test_a_slug_ending_in_a_first_name_goes(slug: str) -> None:
    assert _request(f"/clientes/{slug}/pedidos").path == "/clientes/SANITIZED_NAME/pedidos"


@pytest.mark.parametrize(
    "value", ["Jo%C3%A3o+Martins+Henrique", "Maria+J%C3%BAlia+Marcos", "Telmo+Vera"]
)
def test_a_search_ending_in_a_first_name_goes(value: str) -> None:
    assert _request("/busca", (("q", value),)).query == (("q", "SANITIZED_NAME"),)


@pytest.mark.parametrize(
    "path",
    ["/produtos/vestido-rosa-claro", "/musica/graca-divina", "/ruas/rua-maria-julia-marcos",
     "/cidades/sao-joao-del-rei", "/bairros/vila-maria-julia", "/clientes/maria-luiza"],
)  # fmt: skip
def test_products_streets_towns_and_first_names_alone_stay(path: str) -> None:
    assert _request(path).path == path
