"""The parts of a person's address written beside their name rather than in an address
object of their own: a delivery form's ``nome`` and ``cep``, a customer's ``numero`` and
``line2`` (read by fields).
"""

from __future__ import annotations

import re

from ext_proc_server.sanitize.field_names import key_words
from ext_proc_server.sanitize.record_kinds import deciding
from ext_proc_server.sanitize.secret_keys import Verdict, open_id_kept
from ext_proc_server.sanitize.typed_entries import is_pair_name, with_typed

# An address only if the value reads as a house number: a person's own "numero". Equal
# to fields.ADDRESS (replaced as one), told apart by identity (fields.value_fits).
HOUSE_NUMBER = Verdict("address")
_ADDRESS_LINE = Verdict("address")
# Keys (compacted words) of a house number in a person's object.
_HOUSE_NUMBER_KEYS = frozenset({"numero", "number", "nro"})
# An address's lines written in a person's object ("customer": {"line1": …, "line2": …}).
_ADDRESS_LINE_KEYS = frozenset({"line1", "line2", "line3", "linha1", "linha2", "linha3"})
_NAME_KEYS = frozenset({"nome", "name", "nomecompleto", "fullname"})
# Members that, beside a name, make an object an addressee's: a CEP, a complement, an
# address's line or district, a Brazilian form's "numero" ("nome", "cep", "numero" of a
# delivery form). English "number" does not: {"name": …, "number": …} is an invoice's
# or a plan's as often.
_ADDRESSEE_PARTS = frozenset(
    {"cep", "zip", "zipcode", "postalcode", "postcode", "codigopostal", "complemento",
     "complement", "numero", "nro", "district", "distrito", *_ADDRESS_LINE_KEYS}
)  # fmt: skip
# What a house number is written as: one to six digits, a letter after them, "S/N".
_HOUSE_NUMBER = re.compile(r"\d{1,6}(?:[ -]?[A-Za-z])?|(?i:s/?n)[º°o.]?")


def addressee(members: frozenset[str], marks: set[str]) -> bool:
    """Whether an object's keys (``marks`` compacted) hold a name beside a part of an
    address, and no member whose value says whether it is a person's (a CPF-or-CNPJ, a
    "tipoPessoa": record_kinds)."""
    return (
        not marks.isdisjoint(_NAME_KEYS)
        and not marks.isdisjoint(_ADDRESSEE_PARTS)
        and not deciding(tuple(members))
    )


def persons_own(compact: str) -> Verdict | None:
    """The class of a key (compacted) in a person's object outside an address object:
    their address's line, or their house number."""
    if compact in _ADDRESS_LINE_KEYS:
        return _ADDRESS_LINE
    return HOUSE_NUMBER if compact in _HOUSE_NUMBER_KEYS else None


def fits_house_number(value: str) -> bool:
    """Whether a value reads as a house number (not a customer's code or a phone)."""
    return _HOUSE_NUMBER.fullmatch(value.strip()) is not None


Verdicts = tuple[str | None, ...]  # an object's members' classes, in order


def typed(
    keys: tuple[str, ...], verdicts: Verdicts, entry: tuple[int, tuple[int, ...]] | None
) -> Verdicts:
    """``verdicts`` of an object's ``keys`` with the value members of its typed ``entry``
    (typed_entries.typed_members) TYPED: an entry's type says what its number is ({"tipo":
    "RG", "numero": …}), no house number; a pair's name does not ({"nome", "numero"})."""
    if entry is not None and not is_pair_name("".join(key_words(keys[entry[0]]))):
        verdicts = tuple(None if v is HOUSE_NUMBER else v for v in verdicts)
    return with_typed(open_id_kept(keys, verdicts), entry)
