"""Whose record a document's members say it is, when their names alone do not: a
member naming a CPF or a CNPJ (``cpfCnpj``), one that says "document" and no more
(``documento``, ``numeroDocumento``, ``docNumber``) or a CNAB inscription
(``numeroInscricao``), a member naming the record's kind (``tipoPessoa``,
``personType``, ``tipoInscricao``; ``type`` or ``document_type`` beside a document),
and an identification wrapper holding a document up to two levels down (NFS-e's
``<TomadorServico><IdentificacaoTomador><CpfCnpj><Cpf>``: the tomador is a person,
their address, CEP and contacts go out; a ``<Cnpj>`` leaves the record as it was).

A kind member decides when its value is one it knows: "F", "FISICA", "PF",
"individual", "CPF" or CNAB's 1 make the record a person's; "J", "JURIDICA", "PJ",
"company", "CNPJ" or 2 a company's. Else the document does: any 11 digits under a
name of either document (``cpfCnpj`` holds nothing else), a CPF whose check digits
hold under a name that says only "document" (a bank slip's "número do documento" is
named so too: see docs/sanitizer.md, "A document's number, or a slip's"). The same
members say a record is a company's (companys): a kind's value, else a CNPJ whose check
digits hold under either name (company_records reads it)."""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable

from ext_proc_server.sanitize import document_names as docs
from ext_proc_server.sanitize.field_names import key_words
from ext_proc_server.sanitize.validators import cnpj_valid, cpf_valid

PERSON = "person"
COMPANY = "company"

_CPF_DIGITS = 11
_FORMATTED_CPF_MAX_CHARS = 14  # "123.456.789-09"

# Members naming the record's kind whatever stands beside them (Asaas' "personType",
# Inter's and Sicoob's "tipoPessoa") ...
_KIND_ALONE = frozenset(
    {"tipopessoa", "tipodepessoa", "persontype", "pessoatipo", "naturezapessoa"}
)  # fmt: skip
# ... and those that name it only beside a document (Banco do Brasil's and CNAB's
# "tipoInscricao", Pagar.me's "type" and "document_type").
_KIND_BESIDE = frozenset(
    {"tipoinscricao", "tipodeinscricao", "codigotipoinscricao", "documenttype", "doctype",
     "tipodocumento", "tipodedocumento", "type", "tipo", "kind"}
)  # fmt: skip
# A CNAB inscription's number (Banco do Brasil's pagador.numeroInscricao).
_INSCRIPTION = frozenset(
    {"inscricao", "numeroinscricao", "numerodeinscricao", "nrinscricao", "numinscricao"}
)  # fmt: skip
# Words a name that says "document" may carry besides: its number's, and a payer's role
# ("documento_pagador", "documentoSacado").
_DOCUMENT_WORDS = frozenset({"documento", "document", "doc"})
_NUMBER_WORDS = frozenset({"nr", "nro", "num", "numero", "number", "no", "n", "do", "de", "da"})
_PAYER_WORDS = frozenset(
    {"pagador", "sacado", "cliente", "customer", "payer", "comprador", "buyer", "titular",
     "holder", "tomador", "destinatario"}
)  # fmt: skip

_FRAMING_WORDS = frozenset({"codigo", "cobranca"})

_PERSON_VALUES = frozenset(
    {"f", "fisica", "pf", "pessoafisica", "individual", "natural", "naturalperson", "person",
     "cpf"}
)  # fmt: skip
_COMPANY_VALUES = frozenset(
    {"j", "juridica", "pj", "pessoajuridica", "company", "business", "corporation",
     "legalentity", "cnpj"}
)  # fmt: skip
# CNAB 240's "tipo de inscrição": 1 a CPF, 2 a CNPJ (0, 3 and 9: none, PIS, another).
_INSCRIPTION_CODES = {"1": PERSON, "01": PERSON, "2": COMPANY, "02": COMPANY}

# Names of either document in English: NFE.io's NFS-e borrower.federalTaxNumber.
_EITHER_COMPACT = frozenset({"federaltaxnumber"})

EITHER = "either"  # a name of a CPF or a CNPJ: any 11 digits are a CPF
NUMBERED = "numbered"  # "document" and no more: a CPF only by its check digits
KIND = "kind"  # the record's kind
WRAPPER = "wrapper"  # an identification wrapper: the document it holds decides
_ALONE = "alone"  # a kind member that decides beside no document


@functools.lru_cache(maxsize=8192)
def member_role(name: str) -> str | None:
    """EITHER, NUMBERED, KIND (or _ALONE), WRAPPER for a member's name; None for any
    other."""
    words = key_words(name)
    if docs.names_either(words) or "".join(words) in _EITHER_COMPACT:
        return EITHER
    if "/" in name and docs.names_either(key_words(name.replace("/", " "))):
        return EITHER  # a table's "CPF/CNPJ do Pagador": its slash divides no namespace
    # A payer's role and a bank's framing words aside: Banco do Brasil's
    # "codigoTipoInscricaoSacado", "numeroInscricaoSacadoCobranca".
    compact = "".join(w for w in words if w not in _PAYER_WORDS and w not in _FRAMING_WORDS)
    if compact in _KIND_ALONE:
        return _ALONE
    if compact in _KIND_BESIDE:
        return KIND
    if compact in _INSCRIPTION:
        return NUMBERED
    if _names_wrapper(words):
        return WRAPPER
    owned = set(words) - _NUMBER_WORDS - _PAYER_WORDS
    return NUMBERED if len(owned) == 1 and owned <= _DOCUMENT_WORDS else None


# An identification wrapper's words: "identificacao" or "id", and whose (ABRASF's
# IdentificacaoTomador, IdentificacaoPrestador, IdentificacaoIntermediario; a JSON
# API's identificacao_tomador, idTomador). Not IdentificacaoRps: an RPS holds no one.
_WRAPPER_WORDS = frozenset({"identificacao", "identification", "ident", "id"})
_WRAPPER_PARTIES = _PAYER_WORDS | {
    "prestador", "intermediario", "emitente", "remetente", "beneficiario", "contratante"
}  # fmt: skip


def _names_wrapper(words: tuple[str, ...]) -> bool:
    """Whether a name's words name an identification wrapper: ``identificacao`` alone
    or before a party's word (``IdentificacaoTomadorServico`` too), ``id`` only before
    one (a bare ``id`` is a key)."""
    if not words or words[0] not in _WRAPPER_WORDS:
        return False
    if len(words) == 1:
        return words[0] != "id"
    return words[1] in _WRAPPER_PARTIES and all(
        w in _WRAPPER_PARTIES or w == "servico" for w in words[2:]
    )


_DECIDING = (EITHER, NUMBERED, _ALONE, WRAPPER)


def decides(name: str) -> bool:
    """Whether a member's name alone may say whose its record is: a document's, a
    kind deciding beside none (not "type": only beside a document), or an
    identification wrapper's (by the document it holds)."""
    return member_role(name) in _DECIDING


@functools.lru_cache(maxsize=4096)
def deciding(names: tuple[str, ...]) -> tuple[int, ...]:
    """Where the members that say whose a record is stand among its ``names``: none
    when no document and no kind that decides alone is among them."""
    roles = tuple(member_role(name) for name in names)
    if not any(role in _DECIDING for role in roles):
        return ()
    return tuple(i for i, role in enumerate(roles) if role is not None)


def kind_of(value: object, *, coded: bool) -> str | None:
    """PERSON or COMPANY for a kind member's value ("FISICA", "individual", "PJ"; CNAB's
    1 and 2 when ``coded``), None for one it does not know."""
    if type(value) is int:
        return _INSCRIPTION_CODES.get(str(value)) if coded else None
    if type(value) is not str or len(value) > 24:
        return None
    folded = _folded(value.strip().strip("\"'"))
    if coded and folded in _INSCRIPTION_CODES:
        return _INSCRIPTION_CODES[folded]
    if folded in _PERSON_VALUES:
        return PERSON
    return COMPANY if folded in _COMPANY_VALUES else None


@functools.lru_cache(maxsize=256)
def _folded(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower() if c.isalnum())


def any_cpf(value: object) -> bool:
    """Whether a CPF-or-CNPJ member's value is a CPF: 11 digits, bare or formatted
    (a JSON number loses a CPF's leading zeros: 9 or 10 digits are one too)."""
    if type(value) is int:
        return 10 ** (_CPF_DIGITS - 3) <= value < 10**_CPF_DIGITS
    if type(value) is not str or len(value) > _FORMATTED_CPF_MAX_CHARS:
        return False
    digits = sum(c.isdigit() for c in value)
    return digits == _CPF_DIGITS and all(c.isdigit() or c in ".- " for c in value)


def checked_cpf(value: object) -> bool:
    """Whether a document's value is a CPF its check digits confirm (a JSON number's
    leading zeros restored), bare or formatted."""
    if type(value) is int:
        return 0 < value < 10**_CPF_DIGITS and cpf_valid(f"{value:011d}")
    if not any_cpf(value):
        return False
    return cpf_valid("".join(c for c in value if c.isdigit()))  # type: ignore[union-attr]


def persons(
    names: tuple[str, ...], value_of: Callable[[int], object], *, company: bool = False
) -> bool:
    """Whether a record with these member ``names`` is a person's (``value_of(i)``:
    the i-th member's value): its kind member's known value decides, else a CPF under
    a document's name; under a name that says only "document", not in a record its
    other members make a ``company``'s (a slip's own number beside its issuer's CNPJ)."""
    at = deciding(names)
    if not at:
        return False
    found = _said_kind(names, at, value_of)
    if found is not None:
        return found == PERSON
    numbered = not company and not names_cnpj(names)  # else a slip's own number
    for i in at:
        role = member_role(names[i])
        if role == EITHER and any_cpf(value_of(i)):
            return True
        if role == NUMBERED and numbered and checked_cpf(value_of(i)):
            return True
    return False


def companys(names: tuple[str, ...], value_of: Callable[[int], object]) -> bool:
    """Whether a record with these member ``names`` is a company's by what says whose
    it is (``value_of(i)``: the i-th member's value): its kind member's known value
    ("J", "PJ", "company"), else a CNPJ whose check digits hold under a name of either
    document or one that says "document" (``documento_pagador``, ``doc_pagador``)."""
    at = deciding(names)
    found = _said_kind(names, at, value_of)
    if found is not None:
        return found == COMPANY
    return any(
        member_role(names[i]) in (EITHER, NUMBERED) and checked_cnpj(value_of(i)) for i in at
    )


def _said_kind(
    names: tuple[str, ...], at: tuple[int, ...], value_of: Callable[[int], object]
) -> str | None:
    """The kind the members at ``at`` say (the last that says one), None when none does."""
    found = None
    for i in at:
        role = member_role(names[i])
        value = value_of(i)
        if role in (KIND, _ALONE) or type(value) is not str:
            found = _held_kind(names[i], role, value) or found
    return found


_CNPJ_MARKS = str.maketrans("", "", "./- ")


def checked_cnpj(value: object) -> bool:
    """Whether a document's value is a CNPJ its check digits confirm, bare or formatted
    ("11.222.333/0001-81"; the alphanumeric CNPJ too; a JSON number: NFE.io's
    federalTaxNumber)."""
    if type(value) is int:
        return 0 < value < 10**14 and cnpj_valid(f"{value:014d}")
    if type(value) is not str or len(value) > 18:
        return False
    compact = value.translate(_CNPJ_MARKS).upper()
    return len(compact) == 14 and compact.isascii() and compact.isalnum() and cnpj_valid(compact)


def _held_kind(name: str, role: str | None, value: object) -> str | None:
    """The kind a member says: its own value's (a kind member's), a child object's
    that holds only a kind and its document (nested_kind), or the document an
    identification wrapper holds (wrapped_kind)."""
    pairs = _pairs(value)
    if pairs is not None:
        return wrapped_kind(pairs) if role == WRAPPER else nested_kind(pairs)
    if role in (KIND, _ALONE):
        return kind_of(value, coded="inscricao" in key_words(name))
    return None


_NESTED_MEMBERS_MAX = 2  # the kind and its document


def nested_kind(pairs: list[tuple[str, object]]) -> str | None:
    """PERSON or COMPANY for a member's object holding only a kind and its document,
    which says whose its parent's record is: Itaú's "tipo_pessoa": {"codigo_tipo_pessoa":
    "F", "numero_cadastro_pessoa_fisica": …}, a "documento": {"tipo": "CPF", "numero":
    …}, NFS-e's <CpfCnpj><Cpf>…</Cpf></CpfCnpj>; None for any other object."""
    if not pairs or len(pairs) > _NESTED_MEMBERS_MAX:
        return None
    for name, value in pairs:
        if member_role(name) in (KIND, _ALONE):
            found = kind_of(value, coded="inscricao" in key_words(name))
            if found is not None:
                return found
    if len(pairs) == 1 and pairs[0][1] not in ("", None):  # NFS-e's <Cpf> or <Cnpj> alone
        return _DOCUMENT_KINDS.get(key_words(pairs[0][0]))
    return None


_DOCUMENT_KINDS = {("cpf",): PERSON, ("cnpj",): COMPANY}


def wrapped_kind(pairs: list[tuple[str, object]]) -> str | None:
    """PERSON or COMPANY for an identification wrapper's members (``pairs``) by the
    document among them, itself or one level down: <IdentificacaoTomador><CpfCnpj>
    <Cpf>…</Cpf></CpfCnpj><InscricaoMunicipal>…; a kind member; a bare <Cpf>, <Cnpj>;
    a CPF under a name of either document. None when none says (a CNPJ under
    ``cpfCnpj`` leaves the record as its other members make it)."""
    for name, value in pairs:
        role = member_role(name)
        inner = _pairs(value)
        if inner is not None:
            found = nested_kind(inner) if role in (EITHER, NUMBERED) else None
        elif role in (KIND, _ALONE):
            found = kind_of(value, coded="inscricao" in key_words(name))
        elif value in ("", None):
            found = None
        elif role == EITHER:
            found = PERSON if any_cpf(value) else None
        elif role == NUMBERED:
            found = PERSON if checked_cpf(value) else None
        else:
            found = _DOCUMENT_KINDS.get(key_words(name))
        if found is not None:
            return found
    return None


def _pairs(value: object) -> list[tuple[str, object]] | None:
    """An object's members as (name, value) pairs: a dict's, or a list of pairs (a JSON
    object read with its duplicates kept); None for any other value."""
    if type(value) is dict:
        return list(value.items())
    if isinstance(value, list) and value and all(type(p) is tuple and len(p) == 2 for p in value):
        return value  # type: ignore[return-value]
    return None


@functools.lru_cache(maxsize=1024)
def names_cnpj(names: tuple[str, ...]) -> bool:
    """Whether a record has a member naming a CNPJ alone ("cnpj", "cnpjEmpresa",
    "cnpjBeneficiario"): a company's, whose "document" may be its slip's number."""
    return any(
        "cnpj" in words and "cpf" not in words and not docs.names_either(words)
        for words in map(key_words, names)
    )
