"""What the town-record tests share: where a value stands in a document, and the records
where a town's name is a person's name."""

from __future__ import annotations

from collections.abc import Callable

from tests.unit.sanitize.sanitize_helpers import fmt_cpf, make_cpf

Path = tuple[object, ...]

# The same words as a person's name: each record, with where the name stands in it.
PERSON_SHAPES: dict[str, tuple[Callable[[str], object], Path]] = {
    "beside a cpf": (lambda name: {"nome": name, "cpf": fmt_cpf(make_cpf("529982247"))},
                     ("nome",)),
    "a customer": (lambda name: {"cliente": {"nome": name, "email": "c@example.com"}},
                   ("cliente", "nome")),
}  # fmt: skip


def value_at(doc: object, path: Path) -> object:
    for step in path:
        doc = doc[step]  # type: ignore[index]
    return doc
