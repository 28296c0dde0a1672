"""A record its holder's name or its parent makes a person's ("pagador", "customer",
"tomador"; a "trabalho" object inside a "cliente") whose own document says it is a
company's: a CNPJ whose check digits hold under a name of either document
(``cpfCnpj``) or one that says "document" (``documento_pagador``, ``doc_pagador``),
or a kind member saying so (``tipoPessoa``: "J"). Its name, address and CEP are the
company's and stay, as a record with a ``cnpj`` member keeps them; a name that reads
as a person's (a sole trader's) still goes, as a razão social's does (legal_names).
A record whose other members mark a person (a ``cpf``, a birth date, ``sexo``) stays
a person's whatever its document says."""

from __future__ import annotations

import functools
from collections.abc import Callable

from ext_proc_server.sanitize import fields, record_kinds, secret_keys
from ext_proc_server.sanitize.typed_entries import with_typed

Plan = tuple[fields.Place, tuple[str | None, ...] | None]

# A person's name verdicts, read as a razão social is in a company's record.
_NAME_VERDICTS = (fields.NAME, fields.MAYBE_NAME, fields.NAME_IF_WORDS)


def plan_if_company(
    parent: fields.Place, holder: str, keys: tuple[str, ...], value_of: Callable[[int], object]
) -> Plan | None:
    """``fields.object_plan`` of an object (held by ``holder`` in ``parent``) whose
    document or kind says it is a company's, None for any other (``value_of(i)``: the
    i-th member's value)."""
    if not fields.unmarked_keys(keys) or not record_kinds.companys(keys, value_of):
        return None
    return company_plan(parent, holder, keys)


@functools.lru_cache(maxsize=1024)
def company_plan(parent: fields.Place, holder: str, keys: tuple[str, ...]) -> Plan:
    """The plan of a company's record: as if a ``cnpj`` stood among its members,
    whatever its holder's name says."""
    as_person = fields.object_place(parent, holder, frozenset(keys))
    place = fields.object_place(parent, holder, frozenset((*keys, "cnpj")))
    place = place._replace(owner=fields.OTHER, cpf=False, either=None)
    verdicts = tuple(_company_verdict(place, as_person, key) for key in keys)
    verdicts = with_typed(secret_keys.open_id_kept(keys, verdicts), fields.typed_pair(keys))
    return place, verdicts if any(v is not None for v in verdicts) else None


def _company_verdict(place: fields.Place, as_person: fields.Place, key: str) -> str | None:
    found = fields.builtin_verdict(place, key)
    if found is None and fields.builtin_verdict(as_person, key) in _NAME_VERDICTS:
        return fields.LEGAL_NAME  # a sole trader's name is theirs
    return found
