"""What a field's name says of an identity document: an RG's, another document's
(a driving licence, a passport, NIS/NIT, the SUS card, a work or voter's card, a
national identity number), or a number only a check digit tells from a tax
(PIS/PASEP), or a person's document under a name that alone says no more than
"document", or what describes one rather than numbers it (its issuer, state, expiry)."""

from __future__ import annotations

DOCUMENT = "document"  # replaced as an RG is (SANITIZED_DOCUMENT)
CHECKED = "checked"  # the same, when the value passes PIS/PASEP's check digit
DESCRIBED = "described"  # a field about the document: kept
HELD = "held"  # a person's document by a generic name: see _HELD_COMPACT

RG_META = frozenset(
    {"orgao", "emissor", "expedidor", "emissora", "uf", "estado", "state", "data", "date",
     "dt", "emissao", "expedicao", "issuer", "issued", "digito"}
)  # fmt: skip
# Other identity documents, replaced as an RG is (SANITIZED_DOCUMENT): driving licence,
# passport, NIS/NIT, CNS (the SUS card), work card, voter's card; a foreign customer's
# national number (a US SSN: Plaid's and Stripe's identity answers; a UK National
# Insurance number; Argentina's and Spain's DNI, a Latin American cédula; a document's
# ID number: Plaid's extracted_data.id_number of a driving licence). Not "pis": NF-e's
# <PIS>, <vPIS> and "valorPis" are a tax.
_ID_WORDS = frozenset(
    {"cnh", "passaporte", "passport", "nis", "nit", "cns", "ctps", "ssn", "dni", "cedula"}
)  # fmt: skip
_ID_COMPACT = frozenset(
    {"tituloeleitor", "titulodeeleitor", "tituloeleitoral", "habilitacao",
     "numerohabilitacao", "carteiradehabilitacao", "driverslicense", "driverlicense",
     "driverlicence", "driverslicence", "cartaosus", "numerocartaosus", "numerosus",
     "carteirasus", "socialsecuritynumber", "socialsecurityno", "nationalinsurancenumber",
     "idnumber", "nationalidnumber", "nationalidentitynumber",
     "nationalidentificationnumber"}
)  # fmt: skip
# A national identity number whose name ends in "id", a word that otherwise makes a
# field describe a value ("national_id": Truora's background checks, Colombia's cédula).
NATIONAL_ID_NAMES = frozenset({"nationalid", "nationalidentity"})
# Names that say "document" and no more: a person's identity document in a person's
# record (VTEX's clientProfileData {"document": …, "documentType": "dni"}), anything
# elsewhere (a bank slip's "numeroDocumento" is its own number).
_HELD_COMPACT = frozenset(
    {"document", "documento", "documentnumber", "numerodocumento", "numerododocumento",
     "docnumber", "numerodoc", "ndoc"}  # BP-e's passenger's <nDoc> (beside its <tpDoc>)
)  # fmt: skip
# PIS/PASEP, the same number as the NIS (checked: see CHECKED_DOCUMENT).
_PIS_WORDS = frozenset({"pis", "pasep"})
# What describes such a document rather than numbers it.
_ID_META = frozenset(
    {"validade", "vencimento", "categoria", "category", "expiry", "expiration", "expires",
     "pontos", "points", "zona", "secao", "tipo"}
)  # fmt: skip
_RG_COMPACT = frozenset(
    {"identidade", "numeroidentidade", "carteiraidentidade", "carteiradeidentidade",
     "registrogeral", "documentoidentidade", "documentodeidentidade", "idcard",
     "identitynumber", "identityno", "identitycard", "identitycardnumber"}
)  # fmt: skip

# Words of the names above, for the body probe ("sus" of cartaoSus; "national" of
# national_id, nationalIdNumber).
DOCUMENT_WORDS = _ID_WORDS | _PIS_WORDS | {"sus", "national"}


def document_kind(
    owned: set[str], compact: str, *, person: bool = False, roles: frozenset[str] = frozenset()
) -> str | None:
    """DOCUMENT, CHECKED, HELD or DESCRIBED for a field's words (and their compact
    form) naming an identity document (HELD only in a ``person``'s record, or by a
    person's ``roles`` among the words: documentoCliente); None for any other field."""
    if person and compact in _HELD_COMPACT:
        return HELD
    if "rg" in owned or compact in _RG_COMPACT or "identidade" in owned:
        return DESCRIBED if owned & RG_META else DOCUMENT
    if owned & _ID_WORDS or compact in _ID_COMPACT:
        return DESCRIBED if owned & (_ID_META | RG_META) else DOCUMENT
    if owned & _PIS_WORDS:
        return DESCRIBED if owned & (_ID_META | RG_META) else CHECKED
    if person and roles and names_person_document(owned - roles):
        return HELD
    return None


# What a person's document is named by besides their role (cpfCliente, nrCpfPagador,
# numeroDocumentoTitular): the document's words and its number's.
_PERSON_DOCUMENT_WORDS = frozenset({"cpf", "rg", "documento", "document", "doc"})
_NUMBER_WORDS = frozenset({"nr", "nro", "num", "numero", "number", "no", "n", "do", "de", "da"})


def names_person_document(words: set[str]) -> bool:
    """Whether a field's words, its role's taken out, name a CPF or a document and no
    more (not its type, its issuer, a CNPJ)."""
    return bool(words & _PERSON_DOCUMENT_WORDS) and words <= _PERSON_DOCUMENT_WORDS | _NUMBER_WORDS


_CPF_NAME_WORDS = frozenset({"cpf", "nr", "nro", "num", "numero", "number", "no", "n", "do"})


def numbers_cpf(words: tuple[str, ...]) -> bool:
    """Whether a member's words name a CPF by a longer name ("nrCpf", "numeroCpf",
    "cpf_number"): one that names another's ("cpfResponsavel") or either ("cpfCnpj")
    does not count."""
    return len(words) > 1 and "cpf" in words and set(words) <= _CPF_NAME_WORDS


def names_either(words: tuple[str, ...]) -> bool:
    """Whether a member's words name a CPF or a CNPJ, whichever it holds ("cpfCnpj",
    "cpf_cnpj", "cpfCnpjCliente", "documentoCpfCnpj"): its value tells whose it is."""
    return ("cpf" in words and "cnpj" in words) or bool(_EITHER_WORDS.intersection(words))


_EITHER_WORDS = frozenset({"cpfcnpj", "cnpjcpf"})  # written together: "CPFCNPJ"
