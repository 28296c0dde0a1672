"""A member that names a CPF or a CNPJ (``cpfCnpj``, ``cpf_cnpj``, ``cpfCnpjCliente``)
marks no one by its name; its value does. Eleven digits are a CPF: the object is a
person's, as a ``cpf`` member makes it (before, the name, the CEP and the contacts
beside a customer's CPF under ``cpfCnpjCliente`` went out). Fourteen are a CNPJ's (or
an alphanumeric CNPJ), and the object stays as its other keys make it. So do a CPF
under a name that says only "document" and a member naming the record's kind
(``tipoPessoa``: record_kinds).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

from ext_proc_server.sanitize import fields, record_kinds, secret_keys
from ext_proc_server.sanitize.field_names import key_words
from ext_proc_server.sanitize.typed_entries import with_typed


def marks_person(value: object) -> bool:
    """Whether a CPF-or-CNPJ member's value is a CPF: 11 digits, bare or formatted
    (a JSON number loses a CPF's leading zeros: 9 or 10 digits are one too)."""
    return record_kinds.any_cpf(value)


def persons_record(
    keys: tuple[str, ...], value_of: Callable[[int], object], *, company: bool | None = None
) -> bool:
    """Whether an object with these keys is a person's by what its document's or its
    kind's members hold (record_kinds; ``value_of(i)``: the i-th member's value).
    ``company``: its place is a company's (else read from its keys alone)."""
    if company is None:
        company = _company_keys(keys)
    return record_kinds.persons(keys, value_of, company=company)


@functools.lru_cache(maxsize=1024)
def _company_keys(keys: tuple[str, ...]) -> bool:
    """Whether a record's keys alone make it a company's (a ``cnpj``, a ``razaoSocial``)."""
    return fields.object_place(fields.ROOT, "", frozenset(keys)).owner == fields.OTHER


@functools.lru_cache(maxsize=1024)
def person_plan(
    parent: fields.Place, holder: str, keys: tuple[str, ...]
) -> tuple[fields.Place, tuple[str | None, ...] | None]:
    """``fields.object_plan`` of an object whose CPF-or-CNPJ member holds a CPF: a
    person's, as one with a ``cpf`` member is."""
    place = fields.object_place(parent, holder, frozenset((*keys, "cpf")))
    verdicts = tuple(fields.builtin_verdict(place, key) for key in keys)
    verdicts = _bairro_province(keys, verdicts)
    verdicts = with_typed(secret_keys.open_id_kept(keys, verdicts), fields.typed_pair(keys))
    return place, verdicts if any(v is not None for v in verdicts) else None


_PROVINCE_BESIDE = frozenset({"postalcode", "addressnumber"})


def _bairro_province(
    keys: tuple[str, ...], verdicts: tuple[str | None, ...]
) -> tuple[str | None, ...]:
    """``verdicts`` with ``province`` beside ``postalCode`` and ``addressNumber`` read
    as the bairro it is in a record a CPF or a person's kind makes a person's (Asaas'
    customers); elsewhere a province is a state (Canada's, Argentina's) and is kept."""
    if "province" not in keys or not _PROVINCE_BESIDE.issubset("".join(key_words(k)) for k in keys):
        return verdicts
    return tuple(
        fields.ADDRESS if key == "province" and v is None else v
        for key, v in zip(keys, verdicts, strict=True)
    )


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


def names_either(name: str) -> bool:
    """Whether a field's name names a CPF or a CNPJ, whichever it holds (``cpfCnpj``,
    ``cliente[cpf_cnpj]``, ``CPFCNPJ``; a table's ``CPF/CNPJ do Pagador``)."""
    return record_kinds.member_role(name) == record_kinds.EITHER


@functools.lru_cache(maxsize=2048)
def either_at(names: tuple[str, ...]) -> tuple[int, ...]:
    """Where the fields that say whose a record is stand among ``names`` (a document
    naming either, a "document", a kind: record_kinds), none when a ``cpf`` field
    already makes it a person's: one cached call per kind of record."""
    if MARK in names:
        return ()
    return record_kinds.deciding(names)


def with_either(place: fields.Place, keys: tuple[str, ...]) -> fields.Place:
    """``place`` of an object with these keys, with its member naming either document
    (``Place.either``) as ``fields.object_plan`` gives it: for a walk with the user's
    rules, which plans objects itself."""
    if not fields.reads_either(place, keys):
        return place
    at = either_at(keys)
    return place._replace(either=at[0]) if at else place


def holds_cpf(value: str) -> bool:
    """Whether a flat record's value (quoted, spaced, as text writes it) is a CPF."""
    return marks_person(_unquoted(value))


def _unquoted(value: str) -> str:  # a flat record's value, as text writes it
    return value.strip().strip("\"'")


def marked_names(names: tuple[str, ...], value_of: Callable[[int], str]) -> tuple[str, ...]:
    """A flat record's field names (a form's, a query string's), with ``cpf`` added
    when its document or its kind says it is a person's (``value_of(i)``: the i-th
    field's decoded value), as a JSON object is."""
    if either_at(names) and persons_record(names, lambda i: _unquoted(value_of(i))):
        return (*names, MARK)
    return names


# Words only a text naming a record's document or kind holds (may_name_either and
# "doc" aside).
_RECORD_NEEDLES = ("essoa", "ESSOA", "ersonType", "nscri", "NSCRI")
_DOCUMENT_NEEDLES = ("doc", "Doc", "DOC")
_DOCTYPE = ("<!DOCTYPE", "<!doctype", "<!Doctype")  # an HTML page's first line names none


def may_name_record(text: str) -> bool:
    """Whether a text (key lines, a script's literal, an XML or HTML document) may
    name a field that says whose its record is: either document's, a "document", a
    kind (an HTML page's ``<!DOCTYPE html>`` is no document's name)."""
    return (
        may_name_either(text)
        or _may_name_document(text)
        or any(needle in text for needle in _RECORD_NEEDLES)
    )


def _may_name_document(text: str) -> bool:
    """Whether "doc" stands in a text outside its ``<!DOCTYPE``."""
    for needle in _DOCUMENT_NEEDLES:
        at = text.find(needle)
        while at >= 0:
            if text[at - 2 : at + 7] not in _DOCTYPE:
                return True
            at = text.find(needle, at + 3)
    return False


def mark_records(
    values: Iterable[tuple[tuple[str, ...], str]], siblings: dict[tuple[str, ...], set[str]]
) -> None:
    """Adds ``cpf`` to the keys (``siblings``, by the path of their record) of each
    record its document or its kind says is a person's (``values``: each field's path,
    its key last, and its value as written), for text read by its keys (key lines, a
    script's object literal); records sharing a path share their keys, so one person
    among a list's rows marks them all."""
    rows: dict[tuple[str, ...], list[dict[str, str]]] = {}
    for path, value in values:
        if path and record_kinds.member_role(path[-1]) is not None:
            found = rows.setdefault(path[:-1], [{}])
            if path[-1] in found[-1]:  # the next row of a list
                found.append({})
            found[-1][path[-1]] = value
    for record, found in rows.items():
        names = tuple(sorted(siblings.get(record, ())))  # a CNPJ beside counts too
        for row in found:
            if persons_record(
                names, lambda i, row=row, names=names: _unquoted(row.get(names[i], ""))
            ):
                siblings.setdefault(record, set()).add(MARK)
                break
