"""A two-column table of <td> cells, the first naming the second, is how receipts,
account pages and transactional e-mails lay out a person's data
(<tr><td>CPF:</td><td>...</td></tr>, often with the label in <b> or <strong>, inline
styles and &nbsp;). Only <dt>/<dd> and <th> labels were read: a name or a birth date
in such a table went out as it came.
"""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-label-tables")
_FAKE = Faker("pt_BR")
_FAKE.seed_instance(20261205)


def _page(rows: str) -> str:
    return (
        '<!doctype html><html><head><meta charset="utf-8"></head><body>'
        f'<table width="100%" cellpadding="4">{rows}</table></body></html>'
    )


def _row(label: str, value: str) -> str:
    return (
        f'<tr><td style="color:#666;width:40%">{label}</td><td style="color:#111">{value}</td></tr>'
    )


def _html(body: str, sanitizer_=SANITIZER) -> str:
    exchange = request_exchange(body=body, content_type="text/html; charset=utf-8")
    return sanitizer_.sanitize(exchange).request.body.decode()


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.data: list[str] = []

    def handle_data(self, data: str) -> None:
        self.data.append(data)


def _cells(page: str) -> list[str]:
    reader = _Text()
    reader.feed(page)
    return reader.data


# (label as pages write it, a value of the field it names): what only its label tells.
def _person() -> list[tuple[str, str]]:
    return [
        ("Nome", _FAKE.name()),
        ("<b>Nome completo:</b>", _FAKE.name()),
        ("Data de nascimento:", _FAKE.date_of_birth().strftime("%d/%m/%Y")),
        ("<strong>Nascimento</strong>", _FAKE.date_of_birth().strftime("%d/%m/%Y")),
        ("Nome da mãe", _FAKE.name_female()),
        ("Endereço:", _FAKE.street_name()),
        ("Bairro", _FAKE.bairro()),
        ("RG&nbsp;", _FAKE.rg()),
    ]


KEPT_ROWS = [("Plano", "Ouro"), ("Produto", "Maria Mole"), ("Cidade", "Recife"), ("UF", "PE")]


@pytest.mark.parametrize("sanitizer_", [SANITIZER, PSEUDONYMS], ids=["tokens", "pseudonyms"])
def test_values_named_by_the_first_cell_are_replaced(sanitizer_) -> None:
    person = _person()
    page = _page("".join(_row(label, value) for label, value in [*person, *KEPT_ROWS]))
    out = _html(page, sanitizer_)
    assert [value for _, value in person if value in out] == []
    cells = _cells(out)
    assert all(value in cells for _, value in KEPT_ROWS)
    assert len(cells) == len(_cells(page))  # still markup, cell for cell


def test_a_header_row_names_no_row_of_labels() -> None:
    # A "Campo | Valor" header over label rows: each row's own label counts.
    page = _page(
        "<tr><th>Campo</th><th>Valor</th></tr>"
        + _row("Nome", "Maria Souza")
        + _row("Plano", "Ouro")
    )
    assert "Maria Souza" not in _html(page) and "Ouro" in _html(page)


def test_a_header_with_markup_keeps_its_column() -> None:
    # A header cell holding a link was not counted, so the next header took its column.
    page = _page(
        '<tr><th><a href="?o=nome">Nome</a></th><th>Nascimento</th><th>Plano</th></tr>'
        "<tr><td>Plano Ouro</td><td>14/03/1985</td><td>Ouro</td></tr>"
    )
    out = _html(page)
    assert "14/03/1985" not in out and "Ouro</td>" in out


@pytest.mark.parametrize(
    "rows",
    [_row("Camiseta Azul", "R$ 59,90") + _row("Frete", "R$ 10,00"),
     # A header written in <td> cells, then records: no first cell is a label.
     # (a person's name in a cell goes as prose's does: "Maria Mole" is a sweet)
     _row("Nome", "Cidade") + _row("Maria Mole", "Recife"),
     _row("Produto", "Maria Mole") + _row("Marca", "Nestlé"),
     "<tr><td>Nome</td><td>Maria Mole</td><td>Ouro</td></tr>"],
)  # fmt: skip
def test_tables_whose_first_cell_names_no_personal_field_stay(rows: str) -> None:
    page = _page(rows)
    assert _html(page) == page


_LABELS = {
    "Nome": lambda: _FAKE.name(),
    "Nome completo:": lambda: _FAKE.name(),
    "Data de Nascimento": lambda: _FAKE.date_of_birth().strftime("%d/%m/%Y"),
    "Logradouro": lambda: _FAKE.street_name(),
    "Complemento:": lambda: f"Apto {_FAKE.building_number()}",
}


@settings(max_examples=80, deadline=None)
@given(
    rows=st.lists(st.sampled_from(sorted(_LABELS)), min_size=1, max_size=6),
    kept=st.lists(st.sampled_from(KEPT_ROWS), max_size=3),
    wrap=st.sampled_from(["{}", "<b>{}</b>", "<strong>{}</strong>", "<span class=l>{}</span>"]),
)
def test_any_label_table_leaves_no_labelled_value(
    rows: list[str], kept: list[tuple[str, str]], wrap: str
) -> None:
    planted = [(label, _LABELS[label]()) for label in rows]
    pairs = [(wrap.format(label), value) for label, value in planted] + kept
    out = _html(_page("".join(_row(label, value) for label, value in pairs)))
    assert [value for _, value in planted if value in out] == []
    assert all(value in out for _, value in kept)
