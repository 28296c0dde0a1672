"""Other countries' phones written nationally ("(424) 621-9489", "447-359-3824",
"612 34 56 78", "07400 123456", "011 15-2345-6789") went out unchanged in free text,
in JSON values under neutral keys and in forms: only a phone-named field or a cue
("tel:") read them. The corpus is phonenumbers' example numbers in their national
format, the NANP numbers of every NANP region in the layouts US APIs and Faker write
(dashed, dotted, "1-", extensions), and Faker en_US's phone_number()."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode

import phonenumbers
import pytest
from faker import Faker
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
_KINDS = {
    "MOBILE": PhoneNumberType.MOBILE,
    "FIXED_LINE": PhoneNumberType.FIXED_LINE,
    "TOLL_FREE": PhoneNumberType.TOLL_FREE,
}
# The countries and number types whose national layouts are read without a cue.
_READ = {
    "MOBILE": ("US", "CA", "MX", "ES", "FR", "GB", "AR", "AU", "IT"),
    "FIXED_LINE": ("US", "CA", "MX", "ES", "FR", "GB", "AR"),
    "TOLL_FREE": ("US", "CA", "MX", "GB", "AR"),
}
_NEUTRAL_KEYS = ("contato", "info", "notes", "value")


def _national_examples() -> list[str]:
    out = []
    for kind, regions in _READ.items():
        for region in regions:
            number = phonenumbers.example_number_for_type(region, _KINDS[kind])
            assert number is not None, (region, kind)
            out.append(phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL))
    return sorted(set(out))


def _nanp_written() -> list[str]:
    """Every NANP region's example numbers, written as US forms and APIs write them."""
    out = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        if phonenumbers.country_code_for_region(region) != 1:
            continue
        for kind in _KINDS.values():
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None:
                continue
            d = str(number.national_number)
            area, exchange, line = d[:3], d[3:6], d[6:]
            out += [
                f"({area}) {exchange}-{line}",
                f"({area}){exchange}-{line}",
                f"{area}-{exchange}-{line}",
                f"{area}.{exchange}.{line}",
                f"1-{area}-{exchange}-{line}",
                f"{area}-{exchange}-{line} x533",
                f"{area}.{exchange}.{line}x12",
                f"({area}) {exchange}-{line} ext. 12",
            ]
    return sorted(set(out))


def _faker_en_us() -> list[str]:
    """Faker's en_US numbers that are phones by the rule: valid for a NANP region, or
    written with parentheses or an extension (its area codes are drawn at random)."""
    fake = Faker("en_US")
    fake.seed_instance(7)
    out = []
    for _ in range(300):
        written = fake.phone_number()
        number_part = written.split("x")[0]
        digits = "".join(c for c in number_part if c.isdigit())[-10:]
        valid = phonenumbers.is_valid_number(phonenumbers.parse(digits, "US"))
        nanp = digits[0] in "23456789" and digits[3] in "23456789"
        if written.startswith("+") or written.isdigit():
            continue  # +1 numbers are read as international ones; bare runs stay
        if valid or "(" in written or ("x" in written and nanp):
            out.append(written)
    return out


CORPUS = _national_examples() + _nanp_written() + _faker_en_us()


def _digits(written: str) -> str:
    return "".join(c for c in written.split("x")[0].split("ext")[0] if c.isdigit())


def test_the_corpus_is_large() -> None:
    assert len(_national_examples()) >= 15
    assert len(_nanp_written()) > 150
    assert len(_faker_en_us()) > 100


def test_national_numbers_are_found_in_prose() -> None:
    kept = [w for w in CORPUS if _digits(w) in _digits_of(f"Call me at {w} tomorrow.")]
    assert kept == []


@pytest.mark.parametrize("key", _NEUTRAL_KEYS)
def test_national_numbers_are_found_under_neutral_keys(key: str) -> None:
    kept = []
    for written in CORPUS:
        body = json.dumps({"id": 7, key: written})
        out = SANITIZER.sanitize(request_exchange(body=body)).request.body.decode()
        if _digits(written) in "".join(c for c in out if c.isdigit()):
            kept.append(written)
    assert kept == []


def test_national_numbers_are_found_in_forms() -> None:
    kept = []
    for written in CORPUS:
        body = urlencode({"info": written, "plan": "basic"})
        out = SANITIZER.sanitize(
            request_exchange(body=body, content_type="application/x-www-form-urlencoded")
        )
        value = parse_qs(out.request.body.decode()).get("info", [""])[0]
        if _digits(written) in _only_digits(value):
            kept.append(written)
    assert kept == []


def test_an_extension_goes_with_its_number() -> None:
    out = SANITIZER.sanitize_text("ligar (424) 621-9489 x533 ou 447-359-3824 ext. 12 hoje")
    assert "533" not in out
    assert " 12 " not in out
    assert out.startswith("ligar ")
    assert out.endswith(" hoje")


def _digits_of(text: str) -> str:
    return _only_digits(SANITIZER.sanitize_text(text))


def _only_digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())
