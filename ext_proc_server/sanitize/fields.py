"""Personal data by field name: which class a field holds, given where it sits.

A name alone is often ambiguous (``name`` is a customer's or a product's, ``numero`` an
address's or an order's), so every field is read in a :class:`Place`: who the enclosing
object belongs to (a person, or a company/product/plan/bank: "other"), and whether it
is an address or a phone. The place comes from the key holding the object
(``customer``, ``emit``, ``enderDest``, ``phones``) and, when that says nothing, from
the object's own keys (``cpf`` makes a person, ``cnpj``/``razaoSocial`` a company).

Names are compared as words, in any casing or separator and without accents:
``nomeCompleto``, ``nome_completo`` and ``NOME-COMPLETO`` are ``nome completo``.
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterable
from typing import NamedTuple

from ext_proc_server.sanitize import address_parts as own_address
from ext_proc_server.sanitize import document_names as docs
from ext_proc_server.sanitize import free_text_names, legal_names, phones, record_kinds, secret_keys
from ext_proc_server.sanitize import identifier_names as ids
from ext_proc_server.sanitize import sensitive_names as sensitive
from ext_proc_server.sanitize.clinical_records import PROBE_COMPLAINTS, clinical_record
from ext_proc_server.sanitize.document_names import CHECKED, DOCUMENT, DOCUMENT_WORDS, document_kind
from ext_proc_server.sanitize.field_names import FieldRules, key_words
from ext_proc_server.sanitize.held_companies import cnpj_alone, sole_trader_verdicts
from ext_proc_server.sanitize.name_values import reads_as_name
from ext_proc_server.sanitize.owner_words import OTHER_BLOCK as _OTHER_BLOCK
from ext_proc_server.sanitize.owner_words import PERSON_BLOCK as _PERSON_BLOCK
from ext_proc_server.sanitize.secret_keys import Verdict, classify_key, digits_folded
from ext_proc_server.sanitize.town_records import names_town
from ext_proc_server.sanitize.typed_entries import type_field, typed_members

PERSON = "person"
OTHER = "other"  # a company, product, plan, bank, store...


# What a field's value is, when it is personal.
NAME = Verdict("name")
BIRTH_DATE = Verdict("birth_date")
ADDRESS = Verdict("address")
CEP = Verdict("cep")
RG = Verdict("rg")
PHONE = Verdict("phone")
# A name only if the value reads like a person's name (first or last name known).
MAYBE_NAME = Verdict("name?")
# A name only if the value is two or more words of letters ("titular": "Ana Souza").
NAME_IF_WORDS = Verdict("name??")
# A company's legal name, a name only if it is a person's (an MEI's: legal_names).
LEGAL_NAME = Verdict("name???")
# Free text ("observacao", "notes", NF-e's infCpl): never replaced whole; the walkers
# that read it replace the names in it (free_text_names), the others read it as text.
PROSE = Verdict("prose")
# A PIS/PASEP number only when its check digit says so ("pis" also names NF-e's tax);
# a client's IP address, a plate, a bank account (identifier_names).
CHECKED_DOCUMENT = Verdict(ids.CHECKED_DOCUMENT)
HELD_DOCUMENT = Verdict(ids.HELD_DOCUMENT)  # a person's "document": not a CPF or CNPJ
PIX_KEY = Verdict(ids.PIX_KEY)  # a bank account's, when it is a UUID
IP, PLATE, BANK_ACCOUNT = Verdict(ids.IP), Verdict(ids.PLATE), Verdict(ids.BANK_ACCOUNT)
PERSONAL_CLASSES = ("name", "birth_date", "address", "cep", "rg")
# Names whose last word ("id", "key") would make them describe a value, and what they hold.
_LAST_WORD_NAMES = {
    **dict.fromkeys(docs.NATIONAL_ID_NAMES, RG),
    **dict.fromkeys(ids.PIX_KEY_NAMES, PIX_KEY),
}


class Place(NamedTuple):
    owner: str | None = None  # PERSON, OTHER or None (unknown)
    address: bool = False
    phone: bool = False
    numbered: str | None = None  # what its "number" is (object_place): RG, BANK_ACCOUNT
    name: bool = False  # a person's name in parts ("name": {"first": …, "last": …})
    either: int | None = None  # the member naming a CPF or a CNPJ (cpf_or_cnpj), if any
    sensitive: str | None = None  # a clinical resource, a coded concept (sensitive_names)
    cpf: bool = False  # its own document is a CPF: its razão social is the person's name


ROOT = Place()


# -- vocabulary (folded words) ---------------------------------------------------

# Object keys that make the object a company's or a person's.
_COMPANY_MARKERS = frozenset(
    {"cnpj", "razaosocial", "nomefantasia", "fantasia", "xfant", "fant", "tradename",
     "legalname", "corporatename", "inscricaoestadual", "ie", "iest", "crt", "cnae",
     "companyname", "nomeempresa"}
)  # fmt: skip
# A company's marks a person may hold too: a rural producer's state registration (NF-e's
# and CT-e's <IE> beside a <CPF>).
_PERSON_HELD = frozenset({"ie", "inscricaoestadual", "iest"})
_PERSON_MARKERS = frozenset(
    {"cpf", "rg", "gender", "sexo", "genero", "firstname", "lastname", "fullname",
     "nomecompleto", "sobrenome", "surname", "estadocivil", "maritalstatus", "nacionalidade",
     "nationality", "profissao", "occupation", "nomesocial", "socialname", "givenname",
     "familyname", "nomemae", "nomedamae", "mothername", "nomepai", "fathername",
     "username", "hireable", "gravatarid", "ssn"}  # SCIM's, GitHub's profiles; US ids
)  # fmt: skip
_NAME_WORDS = frozenset({"name", "names", "nome", "nomes"})
# Parts of a compacted name that are a person's name whatever the context.
_PERSON_NAME_PARTS = (
    "firstname", "givenname", "primeironome", "lastname", "surname", "sobrenome",
    "familyname", "ultimonome", "middlename", "fullname", "nomecompleto", "nomesocial",
    "socialname", "nomemae", "nomedamae", "mothername", "mothersname", "maidenname",
    "nomepai", "nomedopai", "fathername", "fathersname", "nomecivil",
    # eSocial's: a worker's, their social name, a dependant's, a contact's
    "nmtrab", "nmsoc", "nmdep", "nmctt",
)  # fmt: skip
# Words next to "name" that make it a person's ("card_name", "nome_impresso").
_PERSON_NAME_QUALIFIERS = _PERSON_BLOCK | {
    "card", "cartao", "impresso", "printed", "on", "civil", "registro",
    "entrega",  # a shop's "Nome para a entrega": whom a parcel is for
}  # fmt: skip
# Words next to "name" that leave it as ambiguous as "name" alone.
_AMBIGUOUS_NAME_QUALIFIERS = frozenset(
    {"x", "display", "exibicao", "short", "curto", "preferred", "preferido", "completo",
     "complete", "full", "de", "da", "do", "the", "of", "1", "2"}
)  # fmt: skip
# A name's part written alone: a person's name only in a person's object ("apelido":
# Portugal's surname, Brazil's nickname; an address's "apelido" is "Casa", "Trabalho").
_NAME_PART_ALONE = frozenset({"given", "family", "formatted", "apelido"})
_NAME_PARTS = _NAME_PART_ALONE | {"first", "last", "middle"}  # in a name's own object
_LOGIN_NAMES = frozenset({"username", "usernames", "nomeusuario", "nomedeusuario", "login"})
_PLACE_WORDS = frozenset(
    {"city", "cidade", "localidade", "municipio", "mun", "state", "estado", "uf", "country",
     "pais", "region", "regiao", "ibge", "naturalidade", "place", "local", "birthplace",
     "province", "provincia"}
)  # fmt: skip
# A last word that makes the field describe a value rather than hold it.
_META_LAST = frozenset(
    {"id", "ids", "uuid", "type", "types", "tipo", "verified", "verificado", "confirmed",
     "confirmado", "valid", "valido", "status", "format", "formato", "mask", "mascara",
     "count", "length", "len", "enabled", "required", "obrigatorio", "hint", "label", "flag",
     "policy", "changed", "updated", "created", "source", "key", "hash", "ref", "url",
     "visible", "visivel", "optin", "consent", "match", "score", "privacy", "masked"}
)  # fmt: skip
_ADDRESS_WORDS = frozenset(
    {"address", "addresses", "endereco", "enderecos", "ender", "morada", "domicilio",
     "residencia", "residence"}
)  # fmt: skip
# Qualifiers of "address" that are not a street address.
_NOT_STREET = frozenset(
    {"ip", "mac", "email", "mail", "wallet", "server", "remote", "local", "host", "network",
     "web", "url", "bitcoin", "btc", "eth", "ethereum", "contract", "memory", "eletronico",
     "ipv4", "ipv6", "socket", "bind", "listen", "proxy", "gateway", "pix", "crypto",
     "cripto", "blockchain", "token", "payment", "site", "http", "ws"}
)  # fmt: skip
# A tax residence is a country ("taxResidence": "BR"), not where one lives.
_TAX_RESIDENCE = frozenset({"tax", "residence"})
# "lograd": eSocial's dscLograd (nrLograd, its number, is the address's too).
_STREET_WORDS = frozenset(
    {"street", "logradouro", "lgr", "lograd", "rua", "thoroughfare", "streets"}
)
_NEIGHBOURHOOD_WORDS = frozenset({"bairro", "neighborhood", "neighbourhood", "vizinhanca"})
_COMPLEMENT_WORDS = frozenset({"complemento", "complement"})
_DISTRICT_WORDS = frozenset({"district", "distrito"})
_IN_ADDRESS_WORDS = frozenset(
    {"cpl", "apartment", "apartamento", "apto", "apt", "unit", "suite", "bloco", "district",
     "distrito", "line", "linha", "numero", "number", "nro", "num", "n", "no"}
)  # fmt: skip
_NUMBER_COMPACT = frozenset(
    {"housenumber", "streetnumber", "buildingnumber", "numeroresidencia", "numerocasa",
     "numeroendereco", "numeroimovel", "numerologradouro"}
)  # fmt: skip
_CEP_WORDS = frozenset({"cep", "zip", "zipcode", "postal", "postcode", "postalcode", "cepcode"})
_CEP_COMPACT = frozenset({"zipcode", "postalcode", "postcode", "codigopostal", "codpostal"})
_PHONE_WORDS = frozenset(
    {"phone", "phones", "telefone", "telefones", "fone", "fones", "tel", "telephone",
     "celular", "celulares", "cel", "mobile", "cellphone", "whatsapp", "whats", "msisdn",
     "fax", "phonenumber", "telefax", "smartphone", "wa"}
)  # fmt: skip
_NOT_PHONE = frozenset({"ddd", "ddi", "countrycode", "code", "ramal", "extension", "prefix"})
_PHONE_NUMBER_WORDS = frozenset({"numero", "number", "nro", "num", "value", "valor", "n"})
# Keys that may hold or announce personal data: the body probe's word list.
PROBE_WORDS = (
    "nome", "name", "nasc", "birth", "dob", "rg", "identidade", "ender", "address",
    "street", "logradouro", "lgr", "bairro", "neighbo", "complement", "cep", "zip", "postal",
    "postcode", "phone", "fone", "tel", "celular", "mobile", "whats", "msisdn", "fax",
    "surname", "cpf", "morada", "domicilio", "residencia", "mae", "pai", "mother", "father",
    "titular", "holder", "cliente", "customer", "pagador", "payer", "dest", "benefici",
    "respons", "contato", "contact", "paciente", "patient", "pessoa", "person", "usuario",
    "user", "rua", "filiacao", "conjuge", "spouse", "aniversario", "nacimiento",
)  # fmt: skip

# Words beyond PROBE_WORDS that can make a key hold or announce personal data at the
# root (field_class, announces_personal): the probe's name-only shortcut must see them.
OTHER_PROBE_WORDS = tuple(
    sorted(
        _PERSON_BLOCK
        | _PERSON_MARKERS
        | _PHONE_WORDS - {"wa"}
        | _STREET_WORDS
        | _NEIGHBOURHOOD_WORDS
        | _COMPLEMENT_WORDS
        | _ADDRESS_WORDS
        | {"house", "building", "casa", "imovel", "aniversario", "identidade", "identity", "login"}
        | DOCUMENT_WORDS
        | ids.PROBE_WORDS
        | {"eleitor", "habilitacao"}  # driver's licence: "driver" is a person word
        | legal_names.LEGAL_NAME_WORDS
        | {"nmtrab", "nmsoc", "nmdep", "nmctt"}
        | set(free_text_names.PROBE_WORDS)
        | PROBE_COMPLAINTS  # a symptom by the record it stands in
    )
)


def _compact(words: tuple[str, ...]) -> str:
    return "".join(words)


# Long because whose an object is reads its holder, then its members, in precedence order.
@functools.lru_cache(maxsize=8192)
def object_place(parent: Place, key: str, members: frozenset[str]) -> Place:
    """The place of an object held by ``key`` (or of a list's items), from the key and
    then, if the key says nothing about its owner, from the object's own keys."""
    words = key_words(key) if key else ()
    owned = set(words)
    owner, address, phone = parent.owner, parent.address, parent.phone
    said = own_cpf = clinical = False
    if owned & _PERSON_BLOCK and not owned & _OTHER_BLOCK:
        owner, address, phone, said = PERSON, False, False, True
    elif owned & _OTHER_BLOCK and not (parent.owner == PERSON and owned & _ADDRESS_WORDS):
        # (a person's own address keeps its owner: <enderEmit> of an <emit> with a CPF)
        owner, address, phone, said = OTHER, False, False, True
    if owned & _ADDRESS_WORDS and not owned & _NOT_STREET:
        address = True
    if owned & _PHONE_WORDS:
        phone = True
    # What its "number" is: an identity document's ("passport": {"number": …}), a bank
    # account's (Open Finance: {"branchCode": …, "number": …}).
    numbered = RG if words and document_kind(owned, _compact(words)) == DOCUMENT else None
    if members:
        marks = {_compact(key_words(m)) for m in members}
        clinical = clinical_record(words, members, marks)  # a triage's complaint
        if not numbered and ids.account_object(_compact(words), marks, _PHONE_NUMBER_WORDS):
            numbered = BANK_ACCOUNT
        cpf = "cpf" in marks or any(docs.numbers_cpf(key_words(m)) for m in members)
        own_cpf = "cpf" in marks and "cnpj" not in marks  # not a sole trader's pair
        if cpf:
            # A CPF where a company has its marks is a person's record: NF-e's <emit> of
            # a rural producer, a self-employed <transporta>, a sole trader beside its
            # CNPJ, an MEI (whose corporate name is the person's), a company's partner.
            owner = PERSON
        elif not said:
            if any(map(_holds_role_document, members)) and not _company_marked(marks):
                owner = PERSON  # cpfCliente, cpf_titular, documentoCliente
            elif marks & _COMPANY_MARKERS - (_PERSON_HELD if marks & _PERSON_MARKERS else set()):
                owner = OTHER
            elif marks & _PERSON_MARKERS or any(_is_birth(key_words(m)) for m in members):
                owner = PERSON
            elif names_town(words, marks):
                owner = OTHER  # IBGE's municipality: its "nome" is the town's
        elif owner == PERSON and cnpj_alone(owned, marks) and not marks & _PERSON_MARKERS:
            owner = PERSON if any(_is_birth(key_words(m)) for m in members) else OTHER  # a PJ
        if not address and (
            any(map(_makes_address, members))
            or (own_address.addressee(members, marks) and not (said or _company_marked(marks)))
        ):
            address = True  # a street's member, or a name beside a CEP (a delivery form)
        if words and owned <= _NAME_WORDS and len(marks & _NAME_PARTS) > 1:  # Ory's traits
            return Place(PERSON, address, phone, numbered, name=True, cpf=own_cpf)
    if (
        parent.sensitive
        or sensitive.RESOURCE_MARK in members
        or not owned.isdisjoint(sensitive.KEY_WORDS)
        or clinical
    ):
        mode = sensitive.object_mode(
            parent.sensitive, words, members, person=owner == PERSON, other=parent.owner == OTHER
        )
        mode = sensitive.CLINICAL if clinical and mode is None else mode
        return Place(owner, address, phone, numbered, None, None, mode, own_cpf)
    return Place(owner, address, phone, numbered, cpf=own_cpf)


@functools.lru_cache(maxsize=4096)
def _holds_role_document(member: str) -> bool:
    """A CPF or a document named by a person's role: "cpfCliente", "nrCpfPagador",
    "documentoCliente", "cpfResponsavel" (not "cpfCnpjCliente": either's)."""
    words = set(key_words(member))
    roles = words & _PERSON_BLOCK
    return bool(roles) and docs.names_person_document(words - roles)


def _company_marked(marks: set[str]) -> bool:  # "cnpjEmpresa", "cnpj_loja" count too
    return bool(marks & _COMPANY_MARKERS) or any("cnpj" in mark for mark in marks)


# Objects with more keys than this (maps keyed by ids) are planned afresh each time.
_PLANNED_KEYS_MAX = 64


@functools.lru_cache(maxsize=4096)
def _makes_address(member: str) -> bool:
    """A member only an address has: a street, a neighbourhood, or an address line
    ("address1", "address_line_2": the object is the address, zip and number included)."""
    words = set(key_words(member))
    return bool(
        words & _ADDRESS_MEMBER_WORDS
        or (words & _ADDRESS_WORDS and words & _ADDRESS_LINE and not words & _NOT_STREET)
    )


_ADDRESS_MEMBER_WORDS = _STREET_WORDS | _NEIGHBOURHOOD_WORDS | {"xcpl"}
_ADDRESS_LINE = frozenset({"1", "2", "3", "line", "lines", "linha"})


def object_plan(
    parent: Place, holder: str, keys: tuple[str, ...]
) -> tuple[Place, tuple[str | None, ...] | None]:
    """``object_place`` and each member's ``builtin_verdict`` for an object's keys in
    order (None instead of the verdicts when every one is None): one cached call per
    object for a walk without the user's rules. Records of one kind share their keys."""
    if len(keys) > _PLANNED_KEYS_MAX:
        return _object_plan.__wrapped__(parent, holder, keys)
    return _object_plan(parent, holder, keys)


@functools.lru_cache(maxsize=4096)
def _object_plan(
    parent: Place, holder: str, keys: tuple[str, ...]
) -> tuple[Place, tuple[str | None, ...] | None]:
    place = object_place(parent, holder, frozenset(keys))
    either = record_kinds.deciding(keys)  # "cpfCnpj", "tipoPessoa": values say whose
    if either and reads_either(place, keys):
        place = place._replace(either=either[0])  # json_body reads them
    verdicts = typed_verdicts(keys, tuple(builtin_verdict(place, key) for key in keys))
    if place.owner == OTHER and object_place(ROOT, holder, frozenset()).owner == PERSON:
        as_person = functools.partial(builtin_verdict, place._replace(owner=PERSON))
        names = (NAME, MAYBE_NAME, NAME_IF_WORDS)  # a sole trader's name is theirs
        verdicts = sole_trader_verdicts(keys, verdicts, as_person, names, LEGAL_NAME)
    return place, verdicts if any(v is not None for v in verdicts) else None


def reads_either(place: Place, keys: tuple[str, ...]) -> bool:
    """Whether an object's member naming a CPF or a CNPJ says whose it is: it is no
    person's, or a person's by its holder's name (or its parent) alone, or holding a
    razão social (an NFS-e's tomador: a CPF's is the person's name, a CNPJ's the
    company's)."""
    return place.owner != PERSON or (
        not place.cpf and (legal_names.held(keys) or unmarked_keys(keys))
    )


@functools.lru_cache(maxsize=1024)
def unmarked_keys(keys: tuple[str, ...]) -> bool:
    """Whether an object's keys, those saying whose it is aside, make it no person's:
    only its holder's name or its parent do, and a CNPJ may make it a company's
    (company_records)."""
    own = frozenset(k for k in keys if record_kinds.member_role(k) is None)
    return object_place(ROOT, "", own).owner != PERSON


def typed_verdicts(keys: tuple[str, ...], verdicts: own_address.Verdicts) -> own_address.Verdicts:
    """``verdicts`` with a typed entry's value members TYPED (address_parts.typed)."""
    return own_address.typed(keys, verdicts, typed_pair(keys))


@functools.lru_cache(maxsize=4096)
def typed_pair(keys: tuple[str, ...]) -> tuple[int, tuple[int, ...]] | None:
    """The type member and value members of a typed entry (typed_entries.typed_members)."""
    return typed_members([_compact(key_words(key)) for key in keys] if len(keys) <= 6 else [])


def typed_class(place: Place, kind: object, *, pair: bool = False) -> Verdict | None:
    """The class a typed entry's type names ("telefone", "CELULAR", "RG", "cnh",
    ["street_number"]). A type naming a name only maybe ("tipo": "nome" of a product's
    attribute) names none; a pair's name naming one ({"name": "nome", "value": ...},
    Pix's {"nome": "Cliente", ...}) says the value is one when it reads as words."""
    name = type_field(kind)
    found = field_class(place, name) if name is not None else None
    if found in (MAYBE_NAME, NAME_IF_WORDS):
        return NAME_IF_WORDS if pair else None
    return found


def announces_personal(key: str) -> bool:
    """Whether a key makes its object personal (``cpf``, ``customer``, ``dadosCliente``)
    though its own value may not be, or makes a sibling personal (``branchCode`` beside
    an account's ``number``): a reason to read the body's structure."""
    words = key_words(key)
    if not words:
        return False
    compact = _compact(words)
    return (
        compact in _PERSON_MARKERS
        or words[-1] in _PERSON_BLOCK
        or ids.announces_account(compact)
        or compact == sensitive.RESOURCE_KEY  # a FHIR resource's: its place is read
    )


def _is_birth(words: tuple[str, ...]) -> bool:
    compact = _compact(words)
    return (
        (
            "nasc" in compact
            or "nacimiento" in compact
            or "birth" in compact
            or "dob" in words
            or "aniversario" in words
        )
        and not set(words) & _PLACE_WORDS
        and not compact.startswith(("renasc", "renacimiento"))
    )


# Long because its checks are the classes' precedence, read in order, a line or two each.
@functools.lru_cache(maxsize=16384)
def field_class(place: Place, key: str) -> Verdict | None:
    """The class of ``key``'s value in ``place`` (MAYBE_* if it must read as a name)."""
    folded = digits_folded(key)
    if folded != key:  # read as its words are: see digits_folded
        return field_class(place, folded)
    words = key_words(key)
    if not words:
        return None
    owned, compact = set(words), _compact(words)
    if (place.sensitive or not owned.isdisjoint(sensitive.KEY_WORDS)) and (
        found := _sensitive_class(place, words)
    ):
        return found  # raca_cor, diagnostico, a clinical resource's codes
    if compact in ("waid", "msisdn"):  # WhatsApp's id is the phone number
        return PHONE
    if compact in _LAST_WORD_NAMES:  # national_id, pixKey: the last word is no mere "id"
        return _LAST_WORD_NAMES[compact]
    if owned & _PLACE_WORDS or (len(words) > 1 and words[-1] in _META_LAST) or words == ("id",):
        return None
    if (identifier := ids.identifier_class(owned, compact)) is not None:
        return Verdict(identifier)  # clientIp, placa, numeroConta
    if compact in _LOGIN_NAMES:
        # A login ("maria.silva") is kept; "userName": "Maria Silva" is a display name.
        return None if place.owner == OTHER else MAYBE_NAME
    if _is_birth(words):
        return BIRTH_DATE
    person, roles = place.owner == PERSON, frozenset(owned & _PERSON_BLOCK)
    if (document := document_kind(owned, compact, person=person, roles=roles)) is not None:
        return {DOCUMENT: RG, CHECKED: CHECKED_DOCUMENT, docs.HELD: HELD_DOCUMENT}.get(document)
    if place.numbered and owned & _PHONE_NUMBER_WORDS - {"value", "valor"}:
        return RG if place.numbered == RG else BANK_ACCOUNT  # "passport": {"number": …}
    if any(part in compact for part in _PERSON_NAME_PARTS):
        return NAME
    parts = _NAME_PARTS if place.name else _NAME_PART_ALONE
    if compact in parts and place.owner == PERSON and not (place.address or place.phone):
        return NAME  # FHIR's HumanName (given, family), SCIM's name.formatted
    # telefone_ddd names a part of a phone; ddd_telefone_1 (BrasilAPI) the whole number.
    if owned & _PHONE_WORDS and not (owned & _NOT_PHONE and _ends_with_part(words)):
        return PHONE
    if place.phone and owned & _PHONE_NUMBER_WORDS:
        return PHONE
    if owned & _NAME_WORDS:
        return _name_class(place, owned - _NAME_WORDS)
    if compact in legal_names.LEGAL_NAME_KEYS:  # a CPF's record: the person's own name
        return NAME if place.cpf else LEGAL_NAME
    if place.cpf and legal_names.names_legal_name(words, roles=_PERSON_BLOCK):
        return NAME  # São Paulo's RPS: <RazaoSocialTomador> beside <CPFCNPJTomador><CPF>
    if place.owner == OTHER:
        return None
    if owned & _CEP_WORDS or compact in _CEP_COMPACT:
        return CEP if place.address or place.owner == PERSON else None
    if owned & _ADDRESS_WORDS:
        if owned & _NOT_STREET or owned & _OTHER_BLOCK or owned >= _TAX_RESIDENCE:
            return None
        return ADDRESS
    if owned & (_STREET_WORDS | _NEIGHBOURHOOD_WORDS | _COMPLEMENT_WORDS):
        return None if {"type", "tipo", "tp"} & owned else ADDRESS
    if compact in _NUMBER_COMPACT or (place.address and owned & _IN_ADDRESS_WORDS):
        return ADDRESS
    if place.owner == PERSON and owned & _DISTRICT_WORDS:
        return ADDRESS  # a person's own "district" is the bairro (Faker en_US, es_ES)
    if place.owner == PERSON and (found := own_address.persons_own(compact)) is not None:
        return found  # a customer's own "line2" or "numero", outside an address object
    if owned <= _PERSON_BLOCK:
        return NAME_IF_WORDS
    if free_text_names.is_free_text(words):
        return PROSE
    return None


def _sensitive_class(place: Place, words: tuple[str, ...]) -> Verdict | None:
    person, other = place.owner == PERSON, place.owner == OTHER
    return sensitive.sensitive_class(place.sensitive, words, person=person, other=other)


def _ends_with_part(words: tuple[str, ...]) -> bool:  # the last phone word is a part's
    return [w in _NOT_PHONE for w in words if w in _NOT_PHONE or w in _PHONE_WORDS][-1]


def _name_class(place: Place, qualifiers: set[str]) -> Verdict | None:
    if qualifiers & _STREET_WORDS or qualifiers & _NEIGHBOURHOOD_WORDS:
        return None if place.owner == OTHER else ADDRESS
    if qualifiers & _PERSON_NAME_QUALIFIERS:
        return NAME
    if qualifiers - _AMBIGUOUS_NAME_QUALIFIERS:
        return None  # product_name, bank_name, file_name, event_name...
    if place.owner == OTHER or place.phone:
        return None
    if place.owner == PERSON or place.address:
        return NAME
    return MAYBE_NAME


# -- values ---------------------------------------------------------------------

_DIGITS_DROPPED = str.maketrans("", "", string.digits)


def value_fits(cls: str, value: str) -> bool:
    """Whether a field's value can be of ``cls`` (a phone-named field holding "N/A",
    or a birth date holding "", is left to the shape detectors)."""
    if cls == PHONE:
        return phones.could_be_phone(value)
    if cls == CEP:
        if value.isascii():  # the digits are what deleting them takes away (C calls)
            digits = len(value) - len(value.translate(_DIGITS_DROPPED))
        else:
            digits = sum(c.isdigit() for c in value)
        return 5 <= digits <= 9
    if cls in (BIRTH_DATE, RG):  # an identity number has 5 digits and more, "^0.6.0" not
        return sum(map(str.isdigit, value)) >= (1 if cls == BIRTH_DATE else 5)
    if cls == MAYBE_NAME:
        return reads_as_name(value, known=True)
    if cls is own_address.HOUSE_NUMBER:  # (equal to ADDRESS: the same replacement)
        return own_address.fits_house_number(value)
    if cls == PROSE or cls is secret_keys.OPEN_ID_SESSION:
        return False  # never a value of its own: read as text, or alone (json_body)
    if cls in (secret_keys.API_KEY, secret_keys.PASSWORD):
        return not secret_keys.is_no_secret_by_shape(cls, value)
    if cls == NAME_IF_WORDS:
        return reads_as_name(value, known=False)
    if cls == LEGAL_NAME:
        return legal_names.reads_as_holders_name(value)
    if (fits := ids.identifier_fits(cls, value)) is not None:
        return fits
    return any(map(str.isalnum, value))  # C calls: a generator's frame cost more


def resolved(cls: str) -> str:
    """The replacement class of a verdict (a plain str)."""
    if cls in (MAYBE_NAME, NAME_IF_WORDS, LEGAL_NAME):
        return "name"
    if cls == PIX_KEY:
        return BANK_ACCOUNT
    return RG if cls in (CHECKED_DOCUMENT, HELD_DOCUMENT) else str(cls)


# -- flat field lists (forms, query strings, multipart parts, headers) -----------------

_NAME_PATH = re.compile(r"[^\[\].]+")


def field_verdict(rules: FieldRules, place: Place, key: str, parents: list[str]) -> str | None:
    """The user's rule, a secret's class, or the personal verdict for one field."""
    rule = rules.match(key, parents) if rules else None
    return rule.cls if rule is not None else builtin_verdict(place, key)


@functools.lru_cache(maxsize=16384)
def builtin_verdict(place: Place, key: str) -> str | None:
    """``field_verdict`` without the user's rules: one cached call (no Python frame)
    for a walk that knows there are none."""
    return classify_key(key) or field_class(place, key)


def flat_classes(names: Iterable[str], rules: FieldRules) -> dict[str, str]:
    """Classes of a flat list of field names, read as paths (``cliente[nome]``,
    ``endereco.logradouro``) in one object: ``cpf`` among them makes ``nome`` a person's."""
    if rules:  # the user's patterns may name digits
        return _flat_classes(names, rules)
    # Names that differ only in long digit runs classify alike (digits_folded): a form
    # numbering its fields per row is read once per kind of field.
    alike: dict[str, list[str]] = {}
    for name in names:
        alike.setdefault(digits_folded(name), []).append(name)
    classes = _flat_classes(alike, rules)
    return {name: cls for folded, cls in classes.items() for name in alike[folded]}


def _flat_classes(names: Iterable[str], rules: FieldRules) -> dict[str, str]:
    paths = {name: _NAME_PATH.findall(name) or [name] for name in names}
    root = object_place(ROOT, "", frozenset(path[-1] for path in paths.values()))
    out = {}
    for name, path in paths.items():
        place = root
        for parent in path[:-1]:
            place = object_place(place, parent, frozenset())
        # The whole name first: a secret spelled "user[password]" reads as one.
        found = classify_key(name) if len(path) > 1 else None
        found = found or field_verdict(rules, place, path[-1], path[:-1])
        if found is not None and not secret_keys.is_open_id_session(name, found, paths):
            out[name] = found
    return out
