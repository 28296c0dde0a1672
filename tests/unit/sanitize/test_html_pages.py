"""HTML pages name their values by labels, not by element names: a description list
(<dt>Nome</dt><dd>...</dd>), a table's header row or a row's <th>, and JSON documents
in script elements (Next.js's __NEXT_DATA__, JSON-LD). Only what the shape detectors
find was replaced there: names and birth dates went out."""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-html")
PLANTED = ["Maria Souza", "14/03/1985", "Joao Pereira", "01/02/1990", "Rua das Flores, 123"]


def _page(body: str) -> str:
    return f'<!doctype html><html><head><meta charset="utf-8"></head><body>{body}</body></html>'


PAGES = [
    "<dl><dt>Nome</dt><dd>Maria Souza</dd><dt>Data de nascimento:</dt><dd>14/03/1985</dd>"
    "<dt>Plano</dt><dd>Ouro</dd></dl>",
    "<table><thead><tr><th>Nome</th><th>Nascimento</th><th>Plano</th></tr></thead><tbody>"
    "<tr><td>Maria Souza</td><td>14/03/1985</td><td>Ouro</td></tr>"
    "<tr><td>Joao Pereira</td><td>01/02/1990</td><td>Ouro</td></tr></tbody></table>",
    "<table><tr><th>Nome completo</th><td>Maria Souza</td></tr>"
    "<tr><th>Endereço</th><td>Rua das Flores, 123</td></tr><tr><th>Plano</th><td>Ouro</td></tr>"
    "</table>",
    '<script id="__NEXT_DATA__" type="application/json">'
    + json.dumps(
        {
            "props": {
                "pageProps": {
                    "cliente": {"nome": "Maria Souza", "dataNascimento": "14/03/1985"},
                    "plano": "Ouro",
                }
            },
            "page": "/conta",
        }
    )
    + "</script>",
    '<script type="application/ld+json">{"@context": "https://schema.org", "@type": "Person",'
    ' "name": "Joao Pereira", "birthDate": "01/02/1990", "memberOf": "Ouro"}</script>',
]


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.data: list[str] = []

    def handle_data(self, data: str) -> None:
        self.data.append(data)


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("sanitizer_", [SANITIZER, PSEUDONYMS], ids=["tokens", "pseudonyms"])
def test_labelled_values_are_replaced(page: str, sanitizer_) -> None:
    body = _page(page)
    out = sanitizer_.sanitize(request_exchange(body=body, content_type="text/html")).request
    text = out.body.decode()
    assert [v for v in PLANTED if v in text] == []
    assert "Ouro" in text
    reader = _Cells()
    reader.feed(text)  # still markup the parser reads
    if "<script" in page:
        document = json.loads(reader.data[0])
        assert json.dumps(document).count("Ouro") == 1


@pytest.mark.parametrize(
    "page",
    ["<dl><dt>Produto</dt><dd>Maria Mole</dd><dt>Cidade</dt><dd>Recife</dd></dl>",
     "<table><tr><th>SKU</th><th>Nome</th><th>Preço</th></tr>"
     "<tr><td>SKU-1</td><td>Camiseta Azul</td><td>10,50</td></tr></table>",
     # a row of three: "Nome" names no cell ("Maria Mole" is a sweet; a person's name
     # there goes as prose's does)
     "<table><tr><td>Nome</td><td>Maria Mole</td><td>Ouro</td></tr></table>",
     '<script type="text/javascript">var nome = "x";</script><p>sem dados</p>',
     '<script type="application/json">{"plano": "Ouro", "versao": "1.2.3"}</script>'],
)  # fmt: skip
def test_what_no_label_names_stays(page: str) -> None:
    body = _page(page)
    out = SANITIZER.sanitize(request_exchange(body=body, content_type="text/html")).request
    assert out.body.decode() == body
