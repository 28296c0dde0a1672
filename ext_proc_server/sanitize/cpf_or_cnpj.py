"""A member that names a CPF or a CNPJ (``cpfCnpj``, ``cpf_cnpj``, ``cpfCnpjCliente``)
marks no one by its name; its value does. Eleven digits are a CPF: the object is a
person's, as a ``cpf`` member makes it (before, the name, the CEP and the contacts
beside a customer's CPF under ``cpfCnpjCliente`` went out). Fourteen are a CNPJ's (or
an alphanumeric CNPJ), and the object stays as its other keys make it.
"""

from __future__ import annotations

import functools

from ext_proc_server.sanitize import fields
from ext_proc_server.sanitize.typed_entries import with_typed

_CPF_DIGITS = 11
_FORMATTED_CPF_MAX_CHARS = 14  # "123.456.789-09"


def marks_person(value: object) -> bool:
    """Whether a CPF-or-CNPJ member's value is a CPF: 11 digits, bare or formatted
    (a JSON number loses a CPF's leading zeros: 9 or 10 digits are one too)."""
    if type(value) is int:
        return 10 ** (_CPF_DIGITS - 3) <= value < 10**_CPF_DIGITS
    if type(value) is not str or len(value) > _FORMATTED_CPF_MAX_CHARS:
        return False
    digits = sum(c.isdigit() for c in value)
    return digits == _CPF_DIGITS and all(c.isdigit() or c in ".- " for c in value)


@functools.lru_cache(maxsize=1024)
def person_plan(
    parent: fields.Place, holder: str, keys: tuple[str, ...]
) -> tuple[fields.Place, tuple[str | None, ...] | None]:
    """``fields.object_plan`` of an object whose CPF-or-CNPJ member holds a CPF: a
    person's, as one with a ``cpf`` member is."""
    place = fields.object_place(parent, holder, frozenset((*keys, "cpf")))
    verdicts = tuple(fields.builtin_verdict(place, key) for key in keys)
    verdicts = with_typed(verdicts, fields.typed_pair(keys))
    return place, verdicts if any(v is not None for v in verdicts) else None
