"""Delimited text (CSV, TSV) with a header row: each column read as a field its
header names (``nome,cpf,telefone``), as a form's fields are, besides every detector.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

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
    names = [_unquoted(text[start:end]) for _, start, end in _cells(cell, text, 0, header_end)]
    columns = _columns(run.scanner.field_rules, tuple(names))
    if not columns:
        return None
    hits = []
    for column, start, end in _cells(cell, text, header_end + 1, len(text)):
        cls = columns.get(column)
        if cls is None:
            continue
        raw = text[start:end].strip(" \t")
        if raw.startswith('"') and raw.endswith('"') and len(raw) > 1:
            start = text.index('"', start) + 1
            end = start + len(raw) - 2
        else:
            start = text.index(raw, start) if raw else start
            end = start + len(raw)
        value = _unquoted(text[start:end])
        if not value or is_token(value) or (type(cls) is Verdict and not value_fits(cls, value)):
            continue
        hits.append(Hit(start, end, resolved(cls)))
    return run.scrub(text, resolve([*run.scanner.find(text), *hits]))


def _columns(rules: FieldRules, names: tuple[str, ...]) -> dict[int, str]:
    classes = flat_classes(names, rules)
    return {i: classes[name] for i, name in enumerate(names) if name in classes}


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
    cell = cell.strip(" \t")
    if len(cell) > 1 and cell.startswith('"') and cell.endswith('"'):
        return cell[1:-1].replace('""', '"')
    return cell
