"""A CSV file uploaded in a multipart form, or a table sent as text/plain, was read
as free text: its name and birth-date columns went out (only what the shape
detectors find was replaced). Such a table is read by its header row, as a text/csv
body is."""

from __future__ import annotations

import csv
import io

import pytest

from tests.unit.sanitize.sanitize_helpers import fmt_cpf, make_cpf, request_exchange, sanitizer

SANITIZER = sanitizer()
CPF = make_cpf("529982247")
ROWS = [("Maria Souza", "14/03/1985", "Rua das Flores, 123"),
        ("Joao Pereira", "1990-02-01", "Av. Brasil 1500")]  # fmt: skip
PLANTED = [v for row in ROWS for v in row] + [fmt_cpf(CPF)]


def _table(delimiter: str, newline: str = "\n") -> str:
    """As spreadsheet exports write it (csv: a cell holding the delimiter is quoted)."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator=newline)
    writer.writerow(["Nome", "CPF", "Data Nascimento", "Endereço", "Plano"])
    writer.writerows([name, fmt_cpf(CPF), born, street, "Ouro"] for name, born, street in ROWS)
    return out.getvalue()


def _multipart(part_head: str, content: str) -> str:
    return (
        '--b0undary\r\nContent-Disposition: form-data; name="origem"\r\n\r\nimportacao\r\n'
        f"--b0undary\r\n{part_head}\r\n\r\n{content}\r\n--b0undary--\r\n"
    )


@pytest.mark.parametrize(
    "part_head",
    ['Content-Disposition: form-data; name="arquivo"; filename="clientes.csv"\r\n'
     "Content-Type: text/csv",
     'Content-Disposition: form-data; name="arquivo"; filename="CLIENTES.CSV"\r\n'
     "Content-Type: application/octet-stream",
     'Content-Disposition: form-data; name="arquivo"; filename="export.tsv"'],
)  # fmt: skip
@pytest.mark.parametrize("delimiter", [",", ";", "\t"])
def test_a_csv_file_part_is_read_by_its_header(part_head: str, delimiter: str) -> None:
    body = _multipart(part_head, _table(delimiter, "\r\n"))
    exchange = request_exchange(body=body, content_type="multipart/form-data; boundary=b0undary")
    out = SANITIZER.sanitize(exchange).request.body.decode()
    assert [v for v in PLANTED if v in out] == []
    assert "importacao" in out and "Ouro" in out and 'filename="' in out


@pytest.mark.parametrize("content_type", ["text/plain", "text/csv"])
@pytest.mark.parametrize("delimiter", [",", ";", "\t", "|"])
def test_a_plain_text_table_is_read_by_its_header(delimiter: str, content_type: str) -> None:
    """Its other columns stay: an address found in free text no longer runs on into
    the next cell ("Av. Brasil 1500,Ouro": "Ouro" read as its city)."""
    body = _table(delimiter)
    out = SANITIZER.sanitize(request_exchange(body=body, content_type=content_type)).request
    text = out.body.decode()
    assert [v for v in PLANTED if v in text] == []
    assert text.splitlines()[0] == body.splitlines()[0] and text.count("Ouro") == 2


@pytest.mark.parametrize(
    "body",
    ["Olá Maria, tudo bem? Seu pedido, o 12345, saiu hoje.\nAbraços, equipe\n",
     "sku,qty,price\nSKU-1,2,10.50\nSKU-2,1,99.90\n",
     "nome,versao\nmockado,1.2.3\nenvoy,1.40.0\n",
     "Nome: Plano Ouro; Valor: 10\nsem tabela aqui\n"],
)  # fmt: skip
def test_plain_text_that_holds_no_personal_column_stays(body: str) -> None:
    out = SANITIZER.sanitize(request_exchange(body=body, content_type="text/plain")).request
    assert out.body.decode() == body
