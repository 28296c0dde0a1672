"""What a field's name says of an identity document: an RG's, another document's
(a driving licence, a passport, NIS/NIT, the SUS card, a work or voter's card), or a
number only a check digit tells from a tax (PIS/PASEP), or what describes one rather
than numbers it (its issuer, state, expiry)."""

from __future__ import annotations

DOCUMENT = "document"  # replaced as an RG is (SANITIZED_DOCUMENT)
CHECKED = "checked"  # the same, when the value passes PIS/PASEP's check digit
DESCRIBED = "described"  # a field about the document: kept

RG_META = frozenset(
    {"orgao", "emissor", "expedidor", "emissora", "uf", "estado", "state", "data", "date",
     "dt", "emissao", "expedicao", "issuer", "issued", "digito"}
)  # fmt: skip
# Other identity documents, replaced as an RG is (SANITIZED_DOCUMENT): driving licence,
# passport, NIS/NIT, CNS (the SUS card), work card, voter's card; a foreign customer's
# national number (a US SSN: Plaid's and Stripe's identity answers; a UK National
# Insurance number). Not "pis": NF-e's <PIS>, <vPIS> and "valorPis" are a tax.
_ID_WORDS = frozenset({"cnh", "passaporte", "passport", "nis", "nit", "cns", "ctps", "ssn"})
_ID_COMPACT = frozenset(
    {"tituloeleitor", "titulodeeleitor", "tituloeleitoral", "habilitacao",
     "numerohabilitacao", "carteiradehabilitacao", "driverslicense", "driverlicense",
     "driverlicence", "driverslicence", "cartaosus", "numerocartaosus", "numerosus",
     "carteirasus", "socialsecuritynumber", "socialsecurityno", "nationalinsurancenumber"}
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
     "registrogeral", "documentoidentidade", "documentodeidentidade", "idcard"}
)  # fmt: skip

# Words of the names above, for the body probe ("sus" of cartaoSus).
DOCUMENT_WORDS = _ID_WORDS | _PIS_WORDS | {"sus"}


def document_kind(owned: set[str], compact: str) -> str | None:
    """DOCUMENT, CHECKED or DESCRIBED for a field's words (and their compact form)
    naming an identity document; None for any other field."""
    if "rg" in owned or compact in _RG_COMPACT or "identidade" in owned:
        return DESCRIBED if owned & RG_META else DOCUMENT
    if owned & _ID_WORDS or compact in _ID_COMPACT:
        return DESCRIBED if owned & (_ID_META | RG_META) else DOCUMENT
    if owned & _PIS_WORDS:
        return DESCRIBED if owned & (_ID_META | RG_META) else CHECKED
    return None
