"""The parties of Brazil's fiscal XML that are companies though their holders' names
make them people's records: the ``<dest>`` (a recipient) of an NF-e or NFC-e holding a
``<CNPJ>`` (a sale between companies, the most common note), of a CT-e, NF3e or NFCom;
any element a person's name holds is read alike. A ``<CNPJ>`` and no ``<CPF>`` says
the party is a company, whose name, address and CEP are no personal data: they stay,
with its ``<ender*>``, as a record with a ``cnpj`` member keeps them elsewhere
(company_records, held_companies). A name that reads as a
person's (a sole trader's razão social, "DANIELA SOUZA - ME") still goes, read as a
razão social is (legal_names). A party holding a ``<CPF>`` stays a person's."""

from __future__ import annotations

import re

from ext_proc_server.sanitize import fields, legal_names
from ext_proc_server.sanitize.wordlists import fold, word_lists

_COMPANY_DOCUMENT = "CNPJ"  # the fiscal layouts' element names, as written
_PERSON_DOCUMENT = "CPF"
# What a sole trader's razão social adds to the owner's name: an MEI's CPF ("Maria
# Silva 12345678900", the form the law gives it) or its size ("DANIELA SOUZA - ME").
_SOLE_TRADER_MARK = re.compile(
    r"[\s,.-]*(?:\b(?:MEI?|EPP)\.?|\b\d{3}\.?\d{3}\.?\d{3}-?\d{2})\s*$", re.IGNORECASE
)
# A person's name verdicts, read as a razão social is in a company's record.
_NAME_VERDICTS = (fields.NAME, fields.MAYBE_NAME, fields.NAME_IF_WORDS)


class CompanyParties:
    """The elements of one document read as a company's party, and the place each
    would have as a person's (a sole trader's name is read there)."""

    def __init__(self) -> None:
        self.as_person: dict[int, fields.Place] = {}  # a company's element -> that place

    def place(
        self, index: int, parent: int, children: list[str], parent_place: fields.Place,
        place: fields.Place,
    ) -> fields.Place:  # fmt: skip
        """An element's place (``place``: as its name and members read it), a company's
        when the element is a party holding a ``<CNPJ>`` and no ``<CPF>``, or is held
        by one (``<enderDest>``) and holds no ``<CPF>`` of its own."""
        if place.owner != fields.PERSON or _PERSON_DOCUMENT in children:
            return place
        if parent not in self.as_person:
            if _COMPANY_DOCUMENT not in children:
                return place
            # Its members alone (no holder's name) must read as a company's.
            members = frozenset(children)
            if fields.object_place(parent_place, "", members).owner != fields.OTHER:
                return place
        self.as_person[index] = place
        return place._replace(owner=fields.OTHER, cpf=False, either=None)

    def legal_name(self, parent: int, name: str, value: str) -> fields.Verdict | None:
        """A company party's member that a person's record reads as a name, read as a
        razão social (its holder's name, if a sole trader's: ``NAME`` when the owner's
        name stands before an MEI's marks); None for any other."""
        person = self.as_person.get(parent)
        if person is None or fields.builtin_verdict(person, name) not in _NAME_VERDICTS:
            return None
        return fields.NAME if sole_traders_name(value) else fields.LEGAL_NAME


def sole_traders_name(value: str) -> bool:
    """Whether a razão social is a person's name followed by a sole trader's marks (its
    CPF, "ME", "MEI", "EPP"), as an MEI's is: a full name, or a known first name alone
    ("DANIELA - ME")."""
    owner, marks = value, 0
    while marks < 3 and (found := _SOLE_TRADER_MARK.search(owner)) and found.start() > 0:
        owner, marks = owner[: found.start()].strip(), marks + 1
    if not marks:
        return False
    if " " not in owner and owner.isalpha():
        return fold(owner) in word_lists().prose_first_folded
    return legal_names.reads_as_holders_name(owner)
