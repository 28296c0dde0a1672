"""CSV and TSV bodies with a header row: a column's values are read as fields its header
names. A bare phone number, a name or a birth date in a ``nome,cpf,telefone`` export
used to pass: the body was free text, where nothing names them.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k" * 32)

# header -> (planted value, its token)
PERSONAL = {
    "nome": ("João Pereira", "SANITIZED_NAME"),
    "telefone": ("912345678", "SANITIZED_PHONE"),
    "celular": ("11912345678", "SANITIZED_PHONE"),
    "data_nascimento": ("14/03/1985", "SANITIZED_DATE"),
    "logradouro": ("Boa Vista", "SANITIZED_ADDRESS"),  # no "Rua": text reads "Rua x, 12"
    "nome_mae": ("Maria Souza Lima", "SANITIZED_NAME"),
}
INERT = {"id": "1042", "produto": "Camiseta Polo", "preco": "10,50", "criado_em": "14/03/2024"}
DELIMITED_TYPES = ["text/csv", "text/csv; charset=utf-8", "text/tab-separated-values"]


def _out(body: str, content_type: str, s: object = SANITIZER) -> str:
    out = s.sanitize(request_exchange(body=body, content_type=content_type))  # type: ignore[attr-defined]
    return out.request.body.decode()


def _cell(value: str, delimiter: str, quoted: bool) -> str:
    return f'"{value}"' if quoted or delimiter in value else value


COLUMNS = st.lists(
    st.sampled_from([*PERSONAL, *INERT]), min_size=1, max_size=5, unique=True
).filter(lambda names: any(n in PERSONAL for n in names))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    COLUMNS,
    st.integers(min_value=1, max_value=4),
    st.sampled_from([",", ";", "\t", "|"]),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
    st.sampled_from(DELIMITED_TYPES),
)
def test_every_named_column_is_replaced_and_nothing_else(
    names: list[str], rows: int, delimiter: str, newline: str, quoted: bool, content_type: str
) -> None:
    def row(values: dict[str, str]) -> str:
        return delimiter.join(_cell(values[n], delimiter, quoted) for n in names)

    planted = {n: PERSONAL[n][0] for n in names if n in PERSONAL} | INERT
    replaced = {n: PERSONAL[n][1] for n in names if n in PERSONAL} | INERT
    header = delimiter.join(names)
    body = newline.join([header, *[row(planted)] * rows]) + newline
    assert _out(body, content_type) == newline.join([header, *[row(replaced)] * rows]) + newline


def test_pseudonyms_leave_no_planted_value() -> None:
    body = "nome,telefone,cpf\n" + "\n".join(
        f"{name},{phone},x"
        for name, phone in [("João Pereira", "912345678"), ("Ana Lima", "11987654321")]
    )
    out = _out(body, "text/csv", PSEUDONYMS)
    assert out.startswith("nome,telefone,cpf\n")
    for value in ("João", "Pereira", "Ana Lima", "912345678", "987654321"):
        assert value not in out


@pytest.mark.parametrize(
    "body",
    [
        "id,produto,preco\n1,Camiseta Polo,10.50\n",
        # A company's name and address are kept (its own columns say it is a company).
        "cnpj,razao_social,nome,logradouro\nx,Loja Azul Ltda,Loja Azul,Av. Paulista\n",
        "no header row: just one line",
        "nome;telefone",  # a header without rows
    ],
)
def test_what_names_nothing_personal_is_kept(body: str) -> None:
    assert _out(body, "text/csv") == body


def test_quoted_cells_with_delimiters_line_breaks_and_quotes() -> None:
    # "cpf" makes the rows a person's: "nome" is a name whatever it reads like.
    body = 'nome,cpf,obs,telefone\r\n"Pereira, João",,"a ""b""\r\nc",912345678\r\n'
    expected = 'nome,cpf,obs,telefone\r\n"SANITIZED_NAME",,"a ""b""\r\nc",SANITIZED_PHONE\r\n'
    assert _out(body, "text/csv") == expected
