"""Personal data in a GraphQL document's literal arguments, by the argument's name:
``criarCliente(nome: "Ana Lima", telefone: "912345678")``, input objects included
(``input: {celular: 11912345678}``). Variables are JSON, read as JSON is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ext_proc_server.sanitize import fields
from ext_proc_server.sanitize.diagnosis_text import person_diagnoses
from ext_proc_server.sanitize.fields import (
    PROSE,
    FieldRules,
    Verdict,
    flat_classes,
    resolved,
    value_fits,
)
from ext_proc_server.sanitize.free_text_names import name_hits
from ext_proc_server.sanitize.hits import Hit, resolve
from ext_proc_server.sanitize.run import Run

# An operation, a fragment or the query shorthand ("{ user(...) { ... } }").
_DOCUMENT = re.compile(r"\s*(?:query|mutation|subscription|fragment)\b|\s*\{", re.IGNORECASE)
# name: "string" (or a block string), or name: number.
_ARGUMENT = re.compile(
    r"([A-Za-z_][A-Za-z0-9_]*)\s*:\s*"
    r'(?:"""(.*?)"""|"((?:[^"\\\n]|\\.)*)"|(-?[0-9][0-9.eE+-]*))',
    re.DOTALL,
)
# A field called with arguments: "criarPaciente(", "patient(".
_CALLED = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*\(")


def is_graphql(text: str) -> bool:
    """Whether the text may be a GraphQL document holding literal arguments."""
    return "(" in text and ":" in text and _DOCUMENT.match(text) is not None


def sanitize_graphql(run: Run, text: str) -> str:
    """Every detector, and the personal literal arguments."""
    arguments = find_graphql_arguments(text, run.scanner.field_rules)
    if not arguments:
        return run.scrub(text)
    return run.scrub(text, resolve([*run.scanner.find(text), *arguments]))


def find_graphql_arguments(text: str, rules: FieldRules) -> list[Hit]:
    """Findings for literal arguments whose names make them personal; the names of a
    document are read together (``cpf`` next to ``nome`` makes it a person's)."""
    found = [
        (m.group(1), next(g for g in (2, 3, 4) if m.group(g) is not None), m)
        for m in _ARGUMENT.finditer(text)
    ]
    if not found:
        return []
    classes = flat_classes([name for name, _, _ in found], rules)
    hits: list[Hit] = []
    place: fields.Place | None = None  # the record of the arguments, read when needed
    for name, group, m in found:
        cls = classes.get(name)
        if cls is None:
            continue
        value = m.group(group)
        if not value.strip() or value.startswith("SANITIZED_"):
            continue
        if cls is PROSE:  # criarPedido(observacao: "João Pereira ligou"): its names
            hits.extend(name_hits(value, m.start(group)))
            if place is None:
                place = _record_place(text, [name for name, _, _ in found])
            hits.extend(person_diagnoses(place, value, m.start(group)))
            continue
        if type(cls) is Verdict and not value_fits(cls, value):
            continue
        hits.append(Hit(m.start(group), m.end(group), resolved(cls)))
    return hits


def _record_place(text: str, names: list[str]) -> fields.Place:
    """The record a document's arguments fill: a person's when their names make it one
    (``cpf`` beside ``nome``) or a field called with them does (``criarPaciente``,
    ``updatePatient``)."""
    members = frozenset(names)
    place = fields.object_place(fields.ROOT, "", members)
    if place.owner == fields.PERSON or place.sensitive is not None:
        return place
    return called_place(text, members) or place


def called_place(text: str, members: frozenset[str] = frozenset()) -> fields.Place | None:
    """The record of the first field the document calls that names a person's or a
    clinical one (``criarPaciente(...)``, ``updatePatient(...)``), if any."""
    return calling_place((m.group(1) for m in _CALLED.finditer(text)), members)


def calling_place(
    called: Iterable[str], members: frozenset[str] = frozenset()
) -> fields.Place | None:
    """The record of the first of the ``called`` fields that names a person's or a
    clinical one, if any."""
    for name in called:
        place = fields.object_place(fields.ROOT, name, members)
        if place.owner == fields.PERSON or place.sensitive is not None:
            return place
    return None
