"""What a sensitive value becomes: a fixed token, or a keyed pseudonym that keeps its format.

Pseudonyms are HMAC-SHA256 of the class and the normalized value, so one value gets
the same replacement in the request, the response and every mapping, whatever its
formatting ("(11) 91234-5678" and "+5511912345678" are one phone).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re

from stdnum.br import cnpj as _stdnum_cnpj

from ext_proc_server.sanitize import fake_dates, fakes, ip_addresses, phones, plates
from ext_proc_server.sanitize import validators as v
from ext_proc_server.sanitize.identifier_names import is_uuid

TOKENS = {
    "jwt": "SANITIZED_JWT",
    "api_key": "SANITIZED_HEADER",
    "cookie": "SANITIZED_HEADER",
    "password": "SANITIZED_PASSWORD",
    "card": "SANITIZED_CARD",
    "cpf": "SANITIZED_DOCUMENT",
    "cnpj": "SANITIZED_DOCUMENT",
    "phone": "SANITIZED_PHONE",
    "email": "SANITIZED_EMAIL",
    "name": "SANITIZED_NAME",
    "birth_date": "SANITIZED_DATE",
    "address": "SANITIZED_ADDRESS",
    "cep": "SANITIZED_CEP",
    "rg": "SANITIZED_DOCUMENT",
    plates.CLASS: "SANITIZED_PLATE",
    "bank_account": "SANITIZED_ACCOUNT",
    "sensitive": "SANITIZED_SENSITIVE",
}
TOKEN_VALUES = frozenset(TOKENS.values())
# A token in both modes: a keyed pseudonym of a value drawn from a handful (five race
# answers, eight blood types) would still tell equal values apart (sensitive_names).
FIXED_IN_BOTH_MODES = frozenset({"sensitive"})
_HEX_CHARS = 12
# Cards become numbers in the 4000 00xx test range, never a real issuer's.
_TEST_CARD_PREFIX = "400000"
_CNPJ_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# Hex digits and dashes with a hex letter among them: part of a UUID, not an account's
# number (digits only).
_UUID_PART = re.compile(r"[0-9a-fA-F-]*[a-fA-F][0-9a-fA-F-]*")


class Replacer:
    """``replacer(cls, value)`` -> the replacement text for one finding."""

    def __init__(self, *, key: bytes | None, custom: dict[str, str] | None = None) -> None:
        # None = tokens mode.
        self._key = key
        # The user's own classes (sanitize_patterns names) -> their literal replacement.
        self._custom = dict(custom or {})

    @property
    def pseudonyms(self) -> bool:
        return self._key is not None

    def __call__(self, cls: str, value: str, fixed: str | None = None) -> str:
        if fixed is not None:
            return fixed
        if cls == ip_addresses.CLASS:  # coarsened in both modes, as coordinates are
            return ip_addresses.coarsened(value) or value
        if cls not in TOKENS and cls in self._custom:
            return self._custom[cls]
        if self._key is None or cls in FIXED_IN_BOTH_MODES:
            return TOKENS[cls]
        return self._pseudonym(cls, value)

    def _digest(self, cls: str, normalized: str) -> bytes:
        assert self._key is not None
        message = f"{cls}:{normalized}".encode("utf-8", "surrogatepass")
        return hmac.new(self._key, message, hashlib.sha256).digest()

    def _digits(self, cls: str, normalized: str, count: int) -> str:
        return str(int.from_bytes(self._digest(cls, normalized), "big")).zfill(78)[-count:]

    def pick(self, label: str, normalized: str, n: int) -> int:
        """A keyed choice in range(n): the same (label, value) always picks the same."""
        return int.from_bytes(self._digest(label, normalized), "big") % n

    def _pseudonym(self, cls: str, value: str) -> str:
        if cls == "email":
            return f"u-{self._digest(cls, value.lower()).hex()[:_HEX_CHARS]}@example.invalid"
        if cls == "card":
            digits = v.only_digits(value)
            body = _TEST_CARD_PREFIX + self._digits(cls, digits, 30)
            body = body[: len(digits) - 1]
            return _in_layout(value, body + v.luhn_check_digit(body))
        if cls == "cpf":
            return self._cpf(value)
        if cls == "cnpj":
            return self._cnpj(value)
        if cls in _HOLDING_TAX_IDS and (kind := _tax_id_kind(value, cls)) is not None:
            # A CPF or a CNPJ under another field's name ("rg", "cnh", "telefone"): the
            # same pseudonym as wherever else it stands, with valid check digits.
            return self._cpf(value) if kind == "cpf" else self._cnpj(value)
        if cls == "phone":
            digits = v.only_digits(value)
            if not digits.isdigit():
                # "912345678 ramal 2", a trailing ";" or line break: its digits alone are
                # replaced (_phone would hand back the value as it came).
                digits = "".join(filter(str.isdigit, value))
                return _digits_in_layout(value, self._phone(digits, value))
            return _in_layout(value, self._phone(digits, value))
        if cls == "name":
            return fakes.fake_name(self.pick, value)
        if cls == "birth_date":
            return fake_dates.fake_date(self.pick, value)
        if cls == "address":
            return fakes.fake_address(self.pick, value)
        if cls == plates.CLASS:
            return plates.fake_plate(self.pick, value)
        if cls == "bank_account" and (is_uuid(value) or _UUID_PART.fullmatch(value)):
            # A Pix random key (or the start of one, in a code cut short): another one.
            return self._uuid(cls, value)
        if cls == "cep":
            return fakes.fake_postal_code(self.pick, value)
        if cls in ("rg", "bank_account"):
            return fakes.fake_in_layout(self.pick, cls, value)
        if cls == "jwt":
            header = _b64url(b'{"alg":"none","typ":"JWT"}')
            claims = {"sub": f"pseudonym-{self._digest(cls, value).hex()[:_HEX_CHARS]}"}
            return f"{header}.{_b64url(json.dumps(claims).encode())}."
        return f"{TOKENS[cls]}_{self._digest(cls, value).hex()[:_HEX_CHARS]}"

    def _cpf(self, value: str) -> str:
        """Valid check digits in the value's layout, keyed on its digits."""
        digits = v.only_digits(value)
        base = self._digits("cpf", digits, 9)
        if len(set(base)) == 1:  # "111.111.111-11" passes the sums but no validator
            base = self._digits("cpf", "again:" + digits, 9)
        return _in_layout(value, base + cpf_check_digits(base))

    def _cnpj(self, value: str) -> str:
        """Valid check digits in the value's layout. An alphanumeric CNPJ (IN RFB
        2.229/2024) gets a letter wherever it had one, so a validator of either kind
        still accepts it; a numeric one stays numeric (a head office, branch 0001)."""
        compact = value.replace(".", "").replace("/", "").replace("-", "").upper()
        if compact[:12].isdigit():
            base = self._digits("cnpj", compact, 8) + "0001"
        else:
            digest = self._digest("cnpj", compact)
            base = "".join(
                _CNPJ_LETTERS[byte % 26] if ch.isalpha() else str(byte % 10)
                for ch, byte in zip(compact[:12], digest, strict=False)
            )
        fresh = base + _stdnum_cnpj.calc_check_digits(base)
        return _in_layout(value, fresh.lower() if value.islower() else fresh)

    def _uuid(self, cls: str, value: str) -> str:
        """A version 4 UUID in the value's case and spacing, keyed on the value."""
        fresh = list(self._digest(cls, value.strip().lower()).hex()[:32])
        fresh[12] = "4"
        fresh[16] = "89ab"[int(fresh[16], 16) & 3]
        text = "".join(fresh)
        text = text.upper() if value.strip().isupper() else text
        return _in_layout(value, text)

    def _phone(self, digits: str, value: str) -> str:
        """Country, trunk, carrier and area code kept (useful for routing mocks) and the
        number type's leading digits (mobile 9, landline 2-5, 0800, 4004): the rest
        replaced, so a valid number stays valid in the same layout."""
        if not digits.isdigit():
            return digits
        if value.lstrip().startswith("+") and not digits.startswith("55"):
            return digits[:-8] + self._digits("phone", digits, 8)
        national = phones.national_number(digits)
        prefix = digits[: len(digits) - len(national)]
        kept = max(2, len(national) - 7) if len(national) >= 8 else min(2, len(national))
        tail = national[kept:]
        if not tail:
            return digits
        return prefix + national[:kept] + fakes.fake_digits(self.pick, "phone:" + national, tail)


# A CPF's and a CNPJ's layouts, punctuated or bare (a CNPJ's first twelve characters
# may be letters: IN RFB 2.229/2024).
_CPF_LAYOUT = re.compile(r"\d{3}(\.?)\d{3}\1\d{3}-?\d{2}")
_CNPJ_LAYOUT = re.compile(
    r"[0-9A-Za-z]{2}(\.?)[0-9A-Za-z]{3}\1[0-9A-Za-z]{3}/?[0-9A-Za-z]{4}-?\d{2}"
)


# Classes whose fields may hold a CPF or a CNPJ: a document's, whatever its writing; a
# phone's or an account's only when punctuated as one (eleven bare digits are as
# likely a mobile number, fourteen an account, whose check digits happen to hold).
_HOLDING_TAX_IDS = frozenset({"rg", "phone", "bank_account"})


def _tax_id_kind(value: str, cls: str) -> str | None:
    """The class of a field's value that is a CPF or a CNPJ ("cpf", "cnpj"), written
    as one with its check digits valid; None for anything else (an RG, a CNH, a phone)."""
    stripped = value.strip()
    if cls != "rg" and "." not in stripped:
        return None
    if _CPF_LAYOUT.fullmatch(stripped) and v.cpf_valid(v.only_digits(stripped)):
        return "cpf"
    if _CNPJ_LAYOUT.fullmatch(stripped):
        compact = stripped.replace(".", "").replace("/", "").replace("-", "").upper()
        if v.cnpj_valid(compact):
            return "cnpj"
    return None


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _in_layout(original: str, chars: str) -> str:
    """Put ``chars`` where ``original`` had letters or digits, keeping its separators."""
    out = []
    fresh = iter(chars)
    for ch in original:
        out.append(next(fresh, "0") if ch.isalnum() else ch)
    return "".join(out)


def _digits_in_layout(original: str, digits: str) -> str:
    """Put ``digits`` where ``original`` had digits, keeping everything else."""
    fresh = iter(digits)
    return "".join(next(fresh, "0") if ch.isdigit() else ch for ch in original)


def cpf_check_digits(base: str) -> str:
    digits = [int(c) for c in base]
    for weight_start in (10, 11):
        total = sum(d * w for d, w in zip(digits, range(weight_start, 1, -1), strict=False))
        digits.append((total * 10) % 11 % 10)
    return f"{digits[-2]}{digits[-1]}"
