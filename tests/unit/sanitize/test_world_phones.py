"""Other countries' phone numbers written in E.164 (+447400123456, as Twilio, WhatsApp
and most APIs write them) went out unchanged anywhere but in a phone-named field or
after a cue: a run of 12 digits from "4" was skipped as an id before the "+" in front
was looked at, a run that first read as a CPF (+12015550123) stopped the search for
other countries' numbers, and numbers of 7 to 10 digits were only looked for after
"+55". Every example number phonenumbers' metadata has, for every region and type,
in every international writing, is held here."""

from __future__ import annotations

import json
from urllib.parse import quote_plus

import phonenumbers
import pytest
from phonenumbers import PhoneNumberFormat, PhoneNumberType

from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
_TYPES = (PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE, PhoneNumberType.TOLL_FREE,
          PhoneNumberType.VOIP, PhoneNumberType.PERSONAL_NUMBER, PhoneNumberType.UAN)  # fmt: skip
_FORMATS = (PhoneNumberFormat.E164, PhoneNumberFormat.INTERNATIONAL, PhoneNumberFormat.RFC3966)


def _examples() -> list[tuple[str, str]]:
    """(written number, its national digits) for every region's example numbers of 6
    digits or more (shorter ones, Niue's, Ascension's or a Dutch UAN "14020", are
    found in phone fields and after a cue, not on their own)."""
    out = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in _TYPES:
            number = phonenumbers.example_number_for_type(region, kind)
            if number is None or len(str(number.national_number)) < 6:
                continue
            for layout in _FORMATS:
                out.append(
                    (phonenumbers.format_number(number, layout), str(number.national_number))
                )
    return sorted(set(out))


EXAMPLES = _examples()


def test_every_example_number_is_found_in_text() -> None:
    assert len(EXAMPLES) > 2000
    kept = [w for w, digits in EXAMPLES if digits in SANITIZER.sanitize_text(f"ligou de {w} hoje")]
    assert kept == []


@pytest.mark.parametrize("chunk", range(4))
def test_every_example_number_is_found_in_bodies_and_queries(chunk: int) -> None:
    kept = []
    for written, digits in EXAMPLES[chunk::4]:
        message = json.dumps({"to": written, "from": "MGd2b3", "body": "Seu pedido saiu"})
        out = SANITIZER.sanitize(
            request_exchange(
                body=message,
                query=(("To", quote_plus(written)),),
                response_body=f"To={quote_plus(written)}&Body=ok",
            )
        )
        seen = out.request.body.decode() + repr(out.request.query) + out.response.body.decode()
        if digits in seen:
            kept.append(written)
    assert kept == []


@pytest.mark.parametrize(
    "text",
    ["2024-05-01T10:00:00+03:00", "1.0.0+20130313144700", "preço +15.00", "x+1234567890",
     "2+3456789012", "versão 4.2.1+build.7", "+1 (mais)", "placar +12", "ISO +0300 offset",
     "id a1+20240501"],
)  # fmt: skip
def test_what_only_looks_international_stays(text: str) -> None:
    assert SANITIZER.sanitize_text(text) == text
