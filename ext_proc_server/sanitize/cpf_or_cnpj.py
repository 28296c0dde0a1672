"""A member that names a CPF or a CNPJ (``cpfCnpj``, ``cpf_cnpj``, ``cpfCnpjCliente``)
marks no one by its name; its value does. Eleven digits are a CPF: the object is a
person's, as a ``cpf`` member makes it (before, the name, the CEP and the contacts
beside a customer's CPF under ``cpfCnpjCliente`` went out). Fourteen are a CNPJ's (or
an alphanumeric CNPJ), and the object stays as its other keys make it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

from ext_proc_server.sanitize import document_names as docs
from ext_proc_server.sanitize import fields, secret_keys
from ext_proc_server.sanitize.field_names import key_words
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
    verdicts = with_typed(secret_keys.open_id_kept(keys, verdicts), fields.typed_pair(keys))
    return place, verdicts if any(v is not None for v in verdicts) else None


# -- records written flat (forms, query strings, key lines, XML) --------------------

# The member a record whose CPF-or-CNPJ member holds a CPF is read with: as a ``cpf``
# beside its other keys makes it (fields.object_place), a person's.
MARK = "cpf"


# A name holding both documents' words ("cpfCnpj", "CPF_CNPJ", "cnpjCpfTomador"), lowered.
_EITHER_NAME = re.compile(r"cpf[\w.:-]{0,40}?cnpj|cnpj[\w.:-]{0,40}?cpf")
_EITHER_REACH = 44  # characters either side of "cnpj" a name holding both may take


def may_name_either(text: str) -> bool:
    """Whether a text (an XML document, key lines) may name a field of either document:
    C searches for "npj", each read with what stands around it (NF-e's many <CNPJ>
    elements, and <CPF> beside them, name neither)."""
    for needle in ("npj", "NPJ"):
        at = text.find(needle)
        while at >= 0:
            if text[at - 2 : at] not in _PLAIN_CNPJ_TAG or text[at + 3 : at + 4] != ">":
                around = text[max(0, at - _EITHER_REACH) : at + 3 + _EITHER_REACH].lower()
                if "cpf" in around and _EITHER_NAME.search(around) is not None:
                    return True
            at = text.find(needle, at + 3)
    return False


_PLAIN_CNPJ_TAG = ("<C", "/C", "<c", "/c")  # <CNPJ>, </cnpj>: the element names only it


@functools.lru_cache(maxsize=8192)
def names_either(name: str) -> bool:
    """Whether a field's name names a CPF or a CNPJ, whichever it holds (``cpfCnpj``,
    ``cliente[cpf_cnpj]``, ``CPFCNPJ``; a table's ``CPF/CNPJ do Pagador``, whose slash
    divides no namespace from its name)."""
    if docs.names_either(key_words(name)):
        return True
    return "/" in name and docs.names_either(key_words(name.replace("/", " ")))


@functools.lru_cache(maxsize=2048)
def either_at(names: tuple[str, ...]) -> tuple[int, ...]:
    """Where fields naming either document stand among ``names`` (none when a ``cpf``
    field already makes the record a person's): one cached call per kind of record."""
    if MARK in names:
        return ()
    return tuple(i for i, name in enumerate(names) if names_either(name))


def with_either(place: fields.Place, keys: tuple[str, ...]) -> fields.Place:
    """``place`` of an object with these keys, with its member naming either document
    (``Place.either``) as ``fields.object_plan`` gives it: for a walk with the user's
    rules, which plans objects itself."""
    if place.owner == fields.PERSON:
        return place
    at = either_at(keys)
    return place._replace(either=at[0]) if at else place


def holds_cpf(value: str) -> bool:
    """Whether a flat record's value (quoted, spaced, as text writes it) is a CPF."""
    return marks_person(value.strip().strip("\"'"))


def marked_names(names: tuple[str, ...], value_of: Callable[[int], str]) -> tuple[str, ...]:
    """A flat record's field names (a form's, a query string's), with ``cpf`` added
    when a field naming either document holds a CPF (``value_of(i)``: the i-th field's
    decoded value): the record is then a person's, as a JSON object is."""
    at = either_at(names)
    if at and any(holds_cpf(value_of(i)) for i in at):
        return (*names, MARK)
    return names


def mark_records(
    values: Iterable[tuple[tuple[str, ...], str]], siblings: dict[tuple[str, ...], set[str]]
) -> None:
    """Adds ``cpf`` to the keys (``siblings``, by the path of their record) of each
    record whose field naming either document holds a CPF (``values``: each field's
    path, its key last, and its value as written), for text read by its keys (key
    lines, a script's object literal); records sharing a path share their keys, so one
    CPF among a list's rows marks them all."""
    for path, value in values:
        if path and names_either(path[-1]) and holds_cpf(value):
            siblings.setdefault(path[:-1], set()).add(MARK)
