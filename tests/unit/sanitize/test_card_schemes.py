"""Card numbers of every major scheme, held against an outside reference of their IIN
ranges and lengths: Faker's credit card provider (Visa 13/16/19, Mastercard 51-55 and
2221-2720, Amex, Discover, Diners, JCB 15/16, Maestro 12). A 12-digit Maestro went out
as it came: the card detector started at 13 digits. Maestro's 12-digit ranges are held
against credit-card-type's (npm): Faker's "0604" is in none, and its numbers stay ids.
"""

from __future__ import annotations

import json

import pytest
from faker import Faker
from faker.providers.credit_card import Provider as CreditCards
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.validators import luhn_valid
from tests.unit.sanitize.sanitize_helpers import make_card, request_exchange, sanitizer

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-card-schemes")
SCHEMES = sorted(CreditCards.credit_card_types)
# Faker lists "0604" among Maestro's prefixes: no issuer's (a major industry identifier of
# 0 is ISO/TC 68's, not a bank's), and a 12-digit id from 0 is far more often a number.
NOT_AN_IIN = ("0604",)


def _numbers(scheme: str, count: int = 60) -> list[str]:
    fake = Faker()
    fake.seed_instance(20261205)
    numbers = {fake.credit_card_number(card_type=scheme) for _ in range(count)}
    return sorted(n for n in numbers if not n.startswith(NOT_AN_IIN))


# As cards print them: Amex 4-6-5, Diners 4-6-4, the others in fours (13: 4-4-5).
_LAYOUTS = {14: (4, 6, 4), 15: (4, 6, 5), 13: (4, 4, 5), 19: (4, 4, 4, 4, 3)}


def _grouped(number: str, sep: str) -> str:
    sizes = _LAYOUTS.get(len(number), (4,) * (len(number) // 4))
    groups, at = [], 0
    for size in sizes:
        groups.append(number[at : at + size])
        at += size
    return sep.join(groups)


def _body(body: str, content_type: str, sanitizer_=SANITIZER) -> str:
    exchange = request_exchange(body=body, content_type=content_type)
    return sanitizer_.sanitize(exchange).request.body.decode()


def test_the_reference_covers_every_length() -> None:
    lengths = {CreditCards.credit_card_types[s].length for s in SCHEMES}
    assert lengths == {12, 13, 14, 15, 16, 19}


@pytest.mark.parametrize("scheme", SCHEMES)
def test_every_scheme_s_numbers_are_cards(scheme: str) -> None:
    numbers = _numbers(scheme)
    assert numbers and all(luhn_valid(n) for n in numbers)
    for number in numbers:
        for writing in (number, _grouped(number, " "), _grouped(number, "-")):
            assert _body(f"Pago com o cartão {writing} ontem.", "text/plain") == (
                "Pago com o cartão SANITIZED_CARD ontem."
            ), writing
        document = json.loads(
            _body(json.dumps({"n": int(number), "s": number}), "application/json")
        )
        assert document == {"n": "SANITIZED_CARD", "s": "SANITIZED_CARD"}, number


def test_a_maestro_pseudonym_is_a_card_of_the_same_layout() -> None:
    number = make_card("6759", 12)
    out = _body(f"cartão {_grouped(number, ' ')}.", "text/plain", PSEUDONYMS)
    fresh = out.removeprefix("cartão ").removesuffix(".")
    assert fresh != _grouped(number, " ") and len(fresh) == 14
    assert luhn_valid(fresh.replace(" ", ""))


# 12-digit numbers that are no card: AWS account ids and order numbers (Luhn-valid ones
# too, outside Maestro's IINs), a Maestro IIN with a bad check digit, an EAN-13.
KEPT = [
    make_card("1234", 12),
    make_card("4111", 12),
    make_card("9000", 12),
    make_card("5100", 12),  # Mastercard's range, but its cards have 16 digits
    "501812345670" if not luhn_valid("501812345670") else "501812345671",
    "7891000315507",
]


@pytest.mark.parametrize("number", KEPT)
def test_other_numbers_of_twelve_digits_stay(number: str) -> None:
    for body, content_type in (
        (f"conta {number} ativa", "text/plain"),
        (json.dumps({"account_id": number, "n": int(number)}), "application/json"),
    ):
        assert _body(body, content_type) == body


_MAESTRO = st.sampled_from(["5018", "5020", "5038", "5612", "5893", "6304", "6390", "6759", "6763"])


@settings(max_examples=200, deadline=None)
@given(prefix=_MAESTRO, rest=st.text("0123456789", min_size=7, max_size=7))
def test_any_luhn_valid_maestro_of_twelve_digits_is_replaced(prefix: str, rest: str) -> None:
    number = make_card(prefix + rest, 12)
    out = _body(
        f'{{"pagamento": {{"numero_cartao": "{number}", "parcelas": 3}}}}', "application/json"
    )
    assert number not in out and json.loads(out)["pagamento"]["parcelas"] == 3


@settings(max_examples=200, deadline=None)
@given(digits=st.text("0123456789", min_size=12, max_size=12))
def test_no_luhn_invalid_twelve_digits_is_a_card(digits: str) -> None:
    if luhn_valid(digits):
        digits = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    assert "SANITIZED_CARD" not in _body(f"pedido {digits}", "text/plain")


# Maestro's IIN ranges as credit-card-type 10.3.0 (npm, Braintree's; card-validator's
# table) lists them for 12 to 19 digits: 493698, 500000-508999 but for two gaps, 56-59,
# 63, 67 and the rest of 6. No range opens with 0.
_MAESTRO_REFERENCE_6 = ((493698, 493698), (500000, 504174), (504176, 506698), (506779, 508999))
_MAESTRO_REFERENCE_PREFIXES = ("56", "57", "58", "59", "6")


def _maestro_reference(digits: str) -> bool:
    head = int(digits[:6])
    return digits.startswith(_MAESTRO_REFERENCE_PREFIXES) or any(
        low <= head <= high for low, high in _MAESTRO_REFERENCE_6
    )


def test_faker_s_maestro_prefixes_are_the_reference_s_but_0604() -> None:
    prefixes = [p.rstrip("#") for p in CreditCards.prefix_maestro]
    outside = [p for p in prefixes if not _maestro_reference(p.ljust(6, "0"))]
    assert outside == list(NOT_AN_IIN)


def test_faker_s_0604_numbers_are_ids_not_cards() -> None:
    fake = Faker()
    fake.seed_instance(20261207)
    numbers = {fake.credit_card_number(card_type="maestro") for _ in range(600)}
    zeros = sorted(n for n in numbers if n.startswith(NOT_AN_IIN))
    assert len(zeros) > 20 and all(len(n) == 12 and luhn_valid(n) for n in zeros)
    for number in zeros:
        for body, content_type in (
            (f"conta AWS {number} ativa", "text/plain"),
            (json.dumps({"accountId": number, "Account": number}), "application/json"),
        ):
            assert _body(body, content_type) == body


@settings(max_examples=300, deadline=None)
@given(body=st.text("0123456789", min_size=11, max_size=11))
def test_property_a_card_of_twelve_digits_is_under_a_maestro_range(body: str) -> None:
    number = make_card(body, 12)
    if "SANITIZED_CARD" in _body(f"pedido {number}", "text/plain"):
        assert _maestro_reference(number), number
