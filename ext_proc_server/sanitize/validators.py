"""Check-digit and structure validators: a shape alone never makes a value sensitive."""

from __future__ import annotations

import base64
import binascii
import functools
import json
import operator
import re

import phonenumbers
from phonenumbers.phonemetadata import PhoneMetadata
from stdnum.br import cnpj as _stdnum_cnpj

# Candidates hold only digits and these separators.
_SEPARATORS = str.maketrans("", "", " .()/-+\t")


def only_digits(text: str) -> str:
    return text.translate(_SEPARATORS)


# Luhn doubles every second digit from the right, minus 9 when above 9.
_LUHN_DOUBLED = str.maketrans("0123456789", "0246813579")
_LUHN_DOUBLED_BYTES = bytes.maketrans(b"0123456789", b"0246813579")


def luhn_valid(digits: str) -> bool:
    if digits.isascii() and digits.isdigit():
        # Byte sums of the ASCII digits minus 48 each: a few C calls, no per-digit int().
        raw = digits.encode()
        total = sum(raw[-1::-2]) + sum(raw[-2::-2].translate(_LUHN_DOUBLED_BYTES))
        return (total - 48 * len(raw)) % 10 == 0
    kept = sum(map(int, digits[-1::-2]))
    doubled = sum(map(int, digits[-2::-2].translate(_LUHN_DOUBLED)))
    return (kept + doubled) % 10 == 0


def luhn_check_digit(partial: str) -> str:
    """The digit that makes ``partial + digit`` Luhn-valid."""
    for digit in "0123456789":
        if luhn_valid(partial + digit):
            return digit
    raise AssertionError("unreachable: one of ten digits always completes a Luhn number")


def _all_same(chars: str) -> bool:
    return chars.count(chars[0]) == len(chars)


# Maestro's IINs (Mastercard's 50, 56-58 and 6 ranges as issued: 5018, 5020, 5038, 5893,
# 6304, 6390, 6759, 6761-6763): the only cards of 12 digits. Ids of 12 digits are common
# (AWS accounts, order numbers), so a 12-digit number is a card only under one of them.
_MAESTRO_12 = ("5018", "5020", "5038", "56", "57", "58", "5893", "6304", "6390", "6759")
_MAESTRO_12 += ("6761", "6762", "6763")


def card_valid(digits: str) -> bool:
    """12-19 digits, Luhn-valid, with a length and first digits some issuer uses."""
    if not 12 <= len(digits) <= 19 or _all_same(digits):
        return False
    if not _issuer_plausible(digits):
        return False
    return luhn_valid(digits)


def _issuer_plausible(digits: str) -> bool:
    """Lengths real issuers use: 12 is Maestro only, 13 Visa only, 14 Diners, 15
    Amex/JCB/UATP; 16 any issuer (major industry 2-6), 17-19 the issuers of those
    lengths. Rules out EAN-13 barcodes (789...), GTIN-14, epoch timestamps (1...) and
    most snowflake ids, whatever their Luhn digit."""
    size, first = len(digits), digits[0]
    if size == 12:
        return digits.startswith(_MAESTRO_12)
    if size == 13:
        return first == "4"
    if size == 14:
        return first == "3"
    if size == 15:
        return first in "3" or digits.startswith(("1", "2131", "1800"))
    if size == 16:
        return first in "23456"
    return digits.startswith(_LONG_CARD_IINS) or (size == 19 and first == "4")


# The issuers of 17 to 19 digits (Visa's 19 apart): Mir, JCB, Diners, Hipercard, Maestro,
# Verve, Discover and UnionPay. Mastercard (51-55, 2221-2720) and Amex issue none; ids of
# 18 and 19 digits (Twitter's and Discord's snowflakes) start anywhere from 1 to 9.
_LONG_CARD_IINS = ("2200", "2201", "2202", "2203", "2204", "35", "36", "3841", "50")
_LONG_CARD_IINS += ("56", "57", "58", "6011", "62", "6304", "64", "65", "6759", "676")


_CPF_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
_CPF_WEIGHTS_2 = (11, 10, 9, 8, 7, 6, 5, 4, 3)


_CPF_BIAS = 48 * sum(_CPF_WEIGHTS)  # the weights applied to ASCII codes, not digit values
_CPF_BIAS_2 = 48 * sum(_CPF_WEIGHTS_2)


def cpf_valid(digits: str) -> bool:
    """The two CPF check digits (same rule as stdnum's, without its parsing overhead)."""
    if len(digits) != 11 or _all_same(digits) or not (digits.isascii() and digits.isdigit()):
        return False
    codes = digits.encode()  # ASCII codes: digit + 48, summed by map in C
    first = (11 - (sum(map(operator.mul, _CPF_WEIGHTS, codes)) - _CPF_BIAS)) % 11 % 10
    second = (
        (11 - (sum(map(operator.mul, _CPF_WEIGHTS_2, codes)) - _CPF_BIAS_2) - 2 * first) % 11 % 10
    )
    return codes[9] - 48 == first and codes[10] - 48 == second


def cnpj_valid(compact: str) -> bool:
    """Numeric and the alphanumeric CNPJ (July 2026); stdnum >= 2.0 implements both."""
    if len(compact) != 14 or _all_same(compact[:12]):
        return False
    return bool(_stdnum_cnpj.is_valid(compact))


def _plain_digits(digits: str, length: int) -> bool:
    return len(digits) == length and digits.isascii() and digits.isdigit() and not _all_same(digits)


_PIS_WEIGHTS = (3, 2, 9, 8, 7, 6, 5, 4, 3, 2)


def pis_valid(digits: str) -> bool:
    """PIS/PASEP, NIS and NIT (one numbering, Caixa's): 11 digits, the last a check
    digit of the ten before (weights 3, 2, 9…2, modulo 11)."""
    if not _plain_digits(digits, 11):
        return False
    rest = 11 - sum(map(operator.mul, _PIS_WEIGHTS, map(int, digits))) % 11
    return int(digits[10]) == (0 if rest >= 10 else rest)


def cns_valid(digits: str) -> bool:
    """The Cartão Nacional de Saúde (SUS): 15 digits opening with 1, 2, 7, 8 or 9, whose
    sum weighted 15 down to 1 is a multiple of 11 (Ministério da Saúde's rule)."""
    if not _plain_digits(digits, 15) or digits[0] not in "12789":
        return False
    return sum(map(operator.mul, range(15, 0, -1), map(int, digits))) % 11 == 0


def cnh_valid(digits: str) -> bool:
    """A driving licence's registration number (RENACH): 11 digits, two check digits
    of the nine before, modulo 11; a first remainder of 10 is 0 and takes 2 off the
    second. Published validators differ on a second digit that goes below 0 (0, or
    that plus 11): both are read as valid."""
    if not _plain_digits(digits, 11):
        return False
    body = list(map(int, digits[:9]))
    first = sum(map(operator.mul, range(9, 0, -1), body)) % 11
    carry = 0
    if first >= 10:
        first, carry = 0, 2
    if int(digits[9]) != first:
        return False
    rest = sum(map(operator.mul, range(1, 10), body)) % 11
    seconds = {0 if rest >= 10 else rest - carry, (rest - carry) % 11 % 10}
    return int(digits[10]) in seconds


def voter_id_valid(digits: str) -> bool:
    """A título de eleitor: 12 digits, a sequence of 8, the state's code (01-28) and
    two check digits modulo 11 (10 is 0). For São Paulo and Minas Gerais (01, 02) the
    TSE writes a 0 as 1; validators that skip that rule are followed too."""
    if not _plain_digits(digits, 12):
        return False
    state = int(digits[8:10])
    if not 1 <= state <= 28:
        return False
    values = list(map(int, digits))
    first = sum(map(operator.mul, range(2, 10), values[:8])) % 11 % 10
    second = (values[8] * 7 + values[9] * 8 + first * 9) % 11 % 10
    if values[10:] == [first, second]:
        return True
    if state > 2:
        return False
    first = first or 1
    second = (values[8] * 7 + values[9] * 8 + first * 9) % 11 % 10
    return values[10:] == [first, second or 1]


def jwt_valid(token: str) -> bool:
    """A JWT's first part base64url-decodes to a JSON object naming an "alg"."""
    header = token.split(".", 1)[0]
    if len(header) <= _JWT_HEADER_CACHE_MAX_CHARS:
        return _jwt_header_valid_cached(header)
    return _jwt_header_valid(header)


# Headers recur (one per issuer and key) and name the algorithm and key id, no secret:
# short ones are remembered, so each is decoded once.
_JWT_HEADER_CACHE_MAX_CHARS = 256


def _jwt_header_valid(header: str) -> bool:
    try:
        raw = base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))
        decoded = json.loads(raw)
    except (binascii.Error, ValueError):
        return False
    return isinstance(decoded, dict) and "alg" in decoded


_jwt_header_valid_cached = functools.lru_cache(maxsize=1024)(_jwt_header_valid)


# The number types phonenumbers tries, in its order; a number is valid when it fits the
# region's general description and one of these.
_NUMBER_TYPES = (
    "premium_rate", "toll_free", "shared_cost", "voip", "personal_number", "pager", "uan",
    "voicemail", "fixed_line", "mobile",
)  # fmt: skip


@functools.cache
def _national_patterns(region: str) -> dict[int, tuple[re.Pattern[str], re.Pattern[str]]]:
    """Per national number length: phonenumbers' own patterns for ``region``, the general
    one and every type's joined into one regex (one C match instead of ten Python calls
    to phonenumbers' matcher, each with its own length checks)."""
    metadata = PhoneMetadata.metadata_for_region(region)
    general = metadata.general_desc
    patterns = {}
    for length in general.possible_length:
        alternatives = [
            desc.national_number_pattern
            for desc in (getattr(metadata, name) for name in _NUMBER_TYPES)
            if desc is not None
            and desc.national_number_pattern
            and (not desc.possible_length or length in desc.possible_length)
        ]
        if alternatives:
            joined = "|".join(f"(?:{a})" for a in alternatives)
            patterns[length] = (re.compile(general.national_number_pattern), re.compile(joined))
    return patterns


def prepare() -> None:
    """Load and compile the validators' data ahead of the first value."""
    _national_patterns("BR")


@functools.lru_cache(maxsize=4096)
def br_phone_valid(national: str) -> bool:
    """A Brazilian number given as DDD + subscriber digits (10 or 11 digits).

    Same answer as ``phonenumbers.is_valid_number`` for +55 (a unit test compares them),
    from the same metadata, several times faster.
    """
    significant = str(int(national))  # what phonenumbers keeps of a national number
    found = _national_patterns("BR").get(len(significant))
    if found is None:
        return False
    general, any_type = found
    return bool(general.fullmatch(significant) and any_type.fullmatch(significant))


def phone_valid(candidate: str, *, region: str | None) -> bool:
    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return False
    return phonenumbers.is_valid_number(number)
