"""Delimited text (CSV, TSV) with a header row: each column read as a field its
header names (``nome,cpf,telefone``), as a form's fields are, besides every detector.
"""

from __future__ import annotations

import functools
import re
from bisect import bisect_right
from collections.abc import Iterator

from ext_proc_server.sanitize import cpf_or_cnpj
from ext_proc_server.sanitize.fields import FieldRules, Verdict, flat_classes, resolved, value_fits
from ext_proc_server.sanitize.hits import Hit, resolve
from ext_proc_server.sanitize.run import Run, is_token

DELIMITED_TYPES = frozenset(
    {"text/csv", "application/csv", "text/tab-separated-values", "text/tsv"}
)
# The header's delimiter: the one it holds most of.
_DELIMITERS = ",;\t|"


@functools.lru_cache(maxsize=8)
def _cell(delimiter: str) -> re.Pattern[str]:
    """One cell: quoted (a comma and doubled quotes inside) when its quotes close it,
    else up to the next delimiter or line break (a stray quote is then part of it)."""
    d = re.escape(delimiter)
    return re.compile(rf'[ \t]*"(?:[^"]|"")*"[ \t]*(?=[{d}\r\n]|$)|[^{d}\r\n]*')


def sanitize_delimited(run: Run, text: str) -> str | None:
    """The text with every detector's findings and its named columns' values
    replaced; None when it has no header row naming a sensitive column."""
    header_end = text.find("\n")
    if header_end < 0:
        return None
    header = text[:header_end].rstrip("\r")
    delimiter = max(_DELIMITERS, key=header.count)  # "," for a single column
    cell = _cell(delimiter)
    names = tuple(_unquoted(text[start:end]) for _, start, end in _cells(cell, text, 0, header_end))
    rules = run.scanner.field_rules
    columns = _columns(rules, names)
    # A row whose CPF-or-CNPJ column holds a CPF (or whose kind column says "F") is a
    # person's, as a ``cpf`` column makes it (cpf_or_cnpj): its CEP, name and contacts
    # too; a CNPJ's row keeps them.
    either = cpf_or_cnpj.either_at(names)
    persons = _columns(rules, (*names, cpf_or_cnpj.MARK)) if either else columns
    if not columns and not persons:
        return None
    hits = []
    for row in _rows(cell, text, header_end + 1):
        read = columns
        if either and _persons_row(text, names, either, row):
            read = persons
        for column, start, end in row:
            cls = read.get(column)
            hit = None if cls is None else _cell_hit(text, cls, start, end)
            if hit is not None:
                hits.append(hit)
    return run.scrub(text, resolve([*outside(run.scanner.find(text), hits), *hits]))


def _persons_row(
    text: str, names: tuple[str, ...], at: tuple[int, ...], row: list[tuple[int, int, int]]
) -> bool:
    """Whether a row's document or kind cells (columns ``at``) say it is a person's
    (cpf_or_cnpj)."""
    cells = {column: _unquoted(text[start:end]) for column, start, end in row if column in at}
    return cpf_or_cnpj.persons_record(names, lambda i: cells.get(i, ""))


def _cell_hit(text: str, cls: str, start: int, end: int) -> Hit | None:
    """The finding for a named column's cell (its value, inside its quotes), or None
    when the value is empty, a placeholder, or not of its column's shape."""
    raw = text[start:end].strip(" \t")
    if raw.startswith('"') and raw.endswith('"') and len(raw) > 1:
        start = text.index('"', start) + 1
        end = start + len(raw) - 2
    else:
        start = text.index(raw, start) if raw else start
        end = start + len(raw)
    value = _unquoted(text[start:end])
    if not value or is_token(value) or (type(cls) is Verdict and not value_fits(cls, value)):
        return None
    return Hit(start, end, resolved(cls))


def outside(found: list[Hit], cells: list[Hit]) -> list[Hit]:
    """The findings that overlap no replaced cell (``cells`` in text order, apart): the
    cell is replaced whole, and a finding read from free text may run on into the next
    cell ("Av. Brasil 1500,Ouro" read as an address and its city) or cover only part of
    it (an address's first line)."""
    starts = [cell.start for cell in cells]  # in text order, apart
    kept = []
    for hit in found:
        at = bisect_right(starts, hit.start) - 1
        before = cells[at] if at >= 0 else None
        after = cells[at + 1] if at + 1 < len(cells) else None
        if (before is None or before.end <= hit.start) and (
            after is None or hit.end <= after.start
        ):
            kept.append(hit)
    return kept


def reads_as_table(text: str) -> bool:
    """Whether plain text (``text/plain``, a file part) is a table with a header row:
    its first two lines hold the same delimiter the same number of times."""
    first = text.find("\n")
    if first < 0:
        return False
    second = text.find("\n", first + 1)
    header = text[:first].rstrip("\r")
    delimiter = max(_DELIMITERS, key=header.count)
    count = header.count(delimiter)
    if count < 1 or len(header) > 64 * (count + 1):
        return False
    cell = _cell(delimiter)
    row = sum(1 for _ in _cells(cell, text, first + 1, second if second >= 0 else len(text)))
    return row == count + 1


def _columns(rules: FieldRules, names: tuple[str, ...]) -> dict[int, str]:
    classes = flat_classes(names, rules)
    return {i: classes[name] for i, name in enumerate(names) if name in classes}


def _rows(cell: re.Pattern[str], text: str, pos: int) -> Iterator[list[tuple[int, int, int]]]:
    """Each row's cells from ``pos`` on, as ``_cells`` gives them."""
    row: list[tuple[int, int, int]] = []
    for found in _cells(cell, text, pos, len(text)):
        if found[0] == 0 and row:
            yield row
            row = []
        row.append(found)
    if row:
        yield row


def _cells(cell: re.Pattern[str], text: str, pos: int, stop: int) -> Iterator[tuple[int, int, int]]:
    """(column, start, end) of each cell from ``pos`` to ``stop``, row by row."""
    column = 0
    while pos <= stop:
        found = cell.match(text, pos, stop)
        if found is None:  # a quoted cell reaching past ``stop``
            return
        yield column, found.start(), found.end()
        pos = found.end()
        if pos >= stop:
            return
        if text[pos] in "\r\n":
            pos += 2 if text.startswith("\r\n", pos) else 1
            column = 0
        else:
            pos += 1
            column += 1


def _unquoted(cell: str) -> str:
    cell = cell.strip(" \t\ufeff")  # a header's byte order mark (Excel's "CSV UTF-8")
    if len(cell) > 1 and cell.startswith('"') and cell.endswith('"'):
        return cell[1:-1].replace('""', '"')
    return cell
