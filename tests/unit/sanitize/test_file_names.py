"""A name in a file's name (``Content-Disposition``, a multipart part's ``filename``) and
in a URL's fragment of parameters (``#nome=…``) went out: no field names either. Both
are read now; file names and fragments naming nobody stay byte for byte."""

from __future__ import annotations

import pytest

from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-file-names")


def _header(name: str, value: str, sanitize=SANITIZER) -> str:
    out = sanitize.sanitize(request_exchange(headers=((name, value),)))
    return dict(out.request.headers)[name]


@pytest.mark.parametrize(
    ("value", "expected"),
    [('attachment; filename="extrato-maria-aparecida-souza.pdf"',
      'attachment; filename="extrato-SANITIZED_NAME.pdf"'),
     ("attachment; filename=Contrato_Joao_Pereira_2026.pdf",
      "attachment; filename=Contrato_SANITIZED_NAME_2026.pdf"),
     ("attachment; filename*=UTF-8''Boleto%20Jos%C3%A9%20da%20Silva.pdf",
      "attachment; filename*=UTF-8''Boleto%20SANITIZED_NAME.pdf")],
)  # fmt: skip
def test_content_disposition(value: str, expected: str) -> None:
    assert _header("Content-Disposition", value) == expected


def test_a_pseudonym_keeps_the_file_name_a_file_name() -> None:
    out = _header("Content-Disposition", 'attachment; filename="cv-maria-souza.pdf"', PSEUDONYMS)
    assert out.startswith('attachment; filename="cv-') and out.endswith('.pdf"')
    file_name = out.partition("filename=")[2]
    assert "maria" not in file_name and "souza" not in file_name and " " not in file_name


def test_a_multipart_part_file_name() -> None:
    body = (
        '--b\r\nContent-Disposition: form-data; name="arquivo"; filename="curriculo-ana-paula-costa.txt"'
        "\r\nContent-Type: text/plain\r\n\r\nexperiencia\r\n--b--\r\n"
    )
    out = SANITIZER.sanitize(
        request_exchange(body=body, content_type="multipart/form-data; boundary=b")
    )
    assert out.request.body.decode() == body.replace("ana-paula-costa", "SANITIZED_NAME")
    for kept in (
        'inline; filename="relatorio-vendas-2026.pdf"',
        'attachment; filename="red-shoes.png"',
    ):
        assert _header("Content-Disposition", kept) == kept


def test_fragments_of_parameters() -> None:
    assert _header("Referer", "https://loja.example/conta#nome=Maria%20Souza&aba=pedidos") == (
        "https://loja.example/conta#nome=SANITIZED_NAME&aba=pedidos"
    )
    assert (
        _header("Location", "/cb#state=xyz&q=ana+paula+costa") == "/cb#state=xyz&q=SANITIZED_NAME"
    )
    assert _header("Location", "/docs#section-2") == "/docs#section-2"


def test_names_in_the_paths_of_urls_in_headers_and_access_logs() -> None:
    """A ``Location``, ``Referer`` or ``Link`` pointing at a person's page, and an access
    log's request line: the request's own path was read, these were not."""
    assert _header("Location", "/clientes/maria-souza") == "/clientes/SANITIZED_NAME"
    assert _header("Referer", "https://loja.example/clientes/joao-da-silva/editar?aba=2") == (
        "https://loja.example/clientes/SANITIZED_NAME/editar?aba=2"
    )
    assert _header("Link", '</clientes/ana-paula-costa/pedidos?page=2>; rel="next"') == (
        '</clientes/SANITIZED_NAME/pedidos?page=2>; rel="next"'
    )
    assert _header("Content-Location", "/produtos/red-shoes") == "/produtos/red-shoes"
    log = (
        '127.0.0.1 - - [06/Dec/2026:05:00:00 +0000] "GET /clientes/maria-aparecida-souza/pedidos'
        ' HTTP/1.1" 200 12 "https://loja.example/order-items" "curl/8.5"\n'
    )
    out = SANITIZER.sanitize(request_exchange(body=log, content_type="text/plain"))
    assert out.request.body.decode() == log.replace("maria-aparecida-souza", "SANITIZED_NAME")
