"""What a field's name says of an identifier that points at a person without naming
one: a client's IP address, a vehicle's plate, a bank account's number (its own field,
or the ``number`` of an account's object) or its Pix random key, and whether a value
has that identifier's shape. Read by fields.field_class and fields.value_fits; and a
product's barcode under its own key, kept (id_shapes, formats.sanitize_query and
sanitize_multipart)."""

from __future__ import annotations

import re

from ext_proc_server.sanitize import ip_addresses, plates, validators

IP = ip_addresses.CLASS
PLATE = plates.CLASS
BANK_ACCOUNT = "bank_account"
# An identity number only when its check digit says so (PIS/PASEP: document_names).
CHECKED_DOCUMENT = "rg?"
# A person's identity number under a generic name ("document"), unless the value is a
# CPF or CNPJ: those the shape detectors name (and a pseudonym keeps valid).
HELD_DOCUMENT = "rg+"
_MIN_DOCUMENT_DIGITS = 5
# A Pix random key (chave aleatória, "EVP"): a UUID the central bank's directory maps
# to one bank account, replaced as the account's number is. Only a UUID: a key that is
# a CPF, an e-mail or a phone is found by its shape, and NF-e's 44-digit "chave" (an
# access key) is no Pix key. Names whose last word ("key") would otherwise make them
# describe a value.
PIX_KEY = "bank_account?"
PIX_KEY_NAMES = frozenset({"chave", "chavepix", "pixkey", "chavealeatoria", "pixrandomkey"})
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

_IP_WORDS = frozenset({"ip", "ipv"})  # ipv4, ipv6: "ipv" then digits
_IP_COMPACT = frozenset({"remoteaddr", "remoteaddress", "clientaddr", "clientaddress"})
_PLATE_COMPACT = frozenset(
    {"placa", "plate", "licenseplate", "placaveiculo", "placadoveiculo", "vehicleplate",
     "numberplate", "platenumber", "numeroplaca"}
)  # fmt: skip
_ACCOUNT_FIELDS = frozenset(
    {"conta", "numeroconta", "numerodaconta", "contacorrente", "contapoupanca",
     "contabancaria", "accountnumber", "bankaccountnumber", "contadeposito", "nconta"}
    | {"iban", "bban", "ibannumber", "numeroiban", "codigoiban", "bankaccount"}
)  # fmt: skip
_ACCOUNT_OBJECTS = frozenset({"contabancaria", "bankaccount", "dadosbancarios", "contacorrente"})
# Not "branch": a CI build's {"branch": "main", "number": 1234}.
_BRANCH_MARKS = frozenset({"branchcode", "agencia", "codigoagencia", "numeroagencia"})
# Digits (at most one group of thousands: "12.345-6"), a check digit after "-" or not;
# a chart of accounts' "1.1.01.001" is no account number.
_ACCOUNT_NUMBER = re.compile(r"[0-9]{1,15}(?:\.[0-9]{3})?(?:-?[0-9Xx])?")
_MIN_ACCOUNT_DIGITS = 4
# An account written as an IBAN (BR42 2837 9298 …: country, check digits, then the
# national part) or as that national part alone, a BBAN (Brazil's: bank, branch,
# account, then its type and holder letters); spaces between groups.
_IBAN = re.compile(r"[A-Z]{2}[0-9]{2}[0-9A-Z]{11,30}")
_BBAN = re.compile(r"[0-9][0-9A-Z]{7,29}")
_MIN_BBAN_DIGITS = 8

# A product's GTIN (EAN-8, UPC-A, EAN-13, GTIN-14) under its own key: NF-e's cEAN and
# cEANTrib, schema.org's gtin13, a store's codigoBarras. An EAN-13 from "4" may pass
# Luhn (a Visa) and a GTIN-14 be a valid CNPJ: the key and the GS1 check digit say it
# is a barcode. Names compared lower case, letters and digits only.
_BARCODE_NAMES = frozenset(
    {"ean", "ean8", "ean13", "ean14", "gtin", "gtin8", "gtin12", "gtin13", "gtin14", "upc",
     "upca", "barcode", "codigobarras", "codigodebarras", "codbarras", "cean", "ceantrib",
     "eancode", "codigoean", "codean", "gtincode", "codigogtin"}
)  # fmt: skip
_GTIN_LENGTHS = frozenset({8, 12, 13, 14})
# A key then what opens its value, just before the digits: JSON's "ean": " (escaped or
# not, or a number), XML's <cEAN>, a form's or a query's ean=, a YAML or log line's ean: .
_KEY_BEFORE = re.compile(
    r"(?:^|[^A-Za-z0-9_])([A-Za-z_][A-Za-z0-9_.:-]{0,30})"
    r'(?:\\?"\s*:\s*(?:\\?")?|>|=\s*"?|:\s*"?)\Z'
)
_KEY_REACH = 40

# Words of the names above, for the body probe.
PROBE_WORDS = frozenset(
    {"placa", "plate", "conta", "accountnumber", "account_number", "bank_account", "chave", "pix"}
    | {"iban", "bban"}
    | _ACCOUNT_OBJECTS
    | _BRANCH_MARKS
)


def identifier_class(owned: set[str], compact: str) -> str | None:
    """IP, PLATE or BANK_ACCOUNT for a field's words (and their compact form)."""
    if owned & _IP_WORDS or compact in _IP_COMPACT:  # clientIp, ip_address, remote_addr
        return IP
    if compact in _PLATE_COMPACT:
        return PLATE
    if compact in _ACCOUNT_FIELDS:  # a bank account's number, a person's or a company's
        return BANK_ACCOUNT
    return None


def account_object(compact: str, member_marks: set[str], number_words: frozenset[str]) -> bool:
    """Whether an object (held by ``compact``, with members of those compact names)
    is a bank account's, so its ``number`` is the account's."""
    if compact in _ACCOUNT_OBJECTS:
        return True
    return bool(member_marks & _BRANCH_MARKS and member_marks & number_words)


def announces_account(compact: str) -> bool:
    """Whether a key makes a sibling ``number`` an account's (a reason to read the body)."""
    return compact in _BRANCH_MARKS or compact in _ACCOUNT_OBJECTS


def is_uuid(value: str) -> bool:
    return _UUID.fullmatch(value.strip()) is not None


def identifier_fits(cls: str, value: str) -> bool | None:
    """Whether ``value`` has the shape of the identifier ``cls``; None for other classes."""
    if cls == CHECKED_DOCUMENT:
        return validators.pis_valid(validators.only_digits(value))
    if cls == PIX_KEY:
        return is_uuid(value)
    if cls == HELD_DOCUMENT:
        digits = validators.only_digits(value)
        return len(digits) >= _MIN_DOCUMENT_DIGITS and not (
            validators.cpf_valid(digits) or validators.cnpj_valid(digits)
        )
    if cls == BANK_ACCOUNT:
        plain = value.strip()
        if _ACCOUNT_NUMBER.fullmatch(plain) is not None:
            return sum(map(str.isdigit, plain)) >= _MIN_ACCOUNT_DIGITS
        return _iban_or_bban(plain)
    if cls == PLATE:
        return plates.is_plate(value)
    if cls == IP:
        return ip_addresses.coarsened(value) is not None
    return None


def _iban_or_bban(plain: str) -> bool:
    """Whether an account field's value is an IBAN or a BBAN (a check digit mistyped
    is still someone's account)."""
    compact = plain.replace(" ", "").upper()
    shaped = _IBAN.fullmatch(compact) or _BBAN.fullmatch(compact)
    return shaped is not None and sum(map(str.isdigit, compact)) >= _MIN_BBAN_DIGITS


def gtin_valid(digits: str) -> bool:
    """A GTIN-8, -12, -13 or -14 whose GS1 check digit (weights 3 and 1 from the
    right) is right."""
    if len(digits) not in _GTIN_LENGTHS or not digits.isdigit():
        return False
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits[:-1])))
    return (10 - total % 10) % 10 == int(digits[-1])


def barcode_name(name: str) -> bool:
    """Whether a field's name is a product barcode's (a namespace prefix or a parent's
    path dropped: "ns:cEAN", "produto.ean")."""
    last = re.split(r"[:.]", name)[-1].lower()
    return "".join(filter(str.isalnum, last)) in _BARCODE_NAMES


def kept_barcode(name: str, value: str) -> bool:
    """Whether a field's value is a product's barcode kept as written."""
    return barcode_name(name) and gtin_valid(value.strip())


def barcode_in_text(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] lies in a whole run of digits that is a valid GTIN and
    the value of a barcode's key written just before it."""
    if not text[start:end].isdigit():
        return False  # "+55 ...", "12.345.678/0001-95": written as no barcode is
    while start > 0 and text[start - 1].isdigit():
        start -= 1
    while end < len(text) and text[end].isdigit():
        end += 1
    if end < len(text) and (text[end].isalpha() or text[end] in "_-./"):
        return False
    if not gtin_valid(text[start:end]):
        return False
    key = _KEY_BEFORE.search(text, max(0, start - _KEY_REACH), start)
    return key is not None and barcode_name(key.group(1))
