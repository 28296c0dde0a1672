"""Each class, positive and negative, through sanitize_text (every detector)."""

from __future__ import annotations

import pytest

from ext_proc_server.sanitize.secret_keys import classify_key
from tests.unit.sanitize.sanitize_helpers import (
    b64url,
    fmt_cnpj,
    fmt_cpf,
    make_card,
    make_cnpj,
    make_cpf,
    make_jwt,
    sanitizer,
)

CPF = make_cpf("529982247")
CNPJ = make_cnpj("112223330001")
CNPJ_ALNUM = make_cnpj("12ABC34501DE")


@pytest.fixture(scope="module")
def scrub():
    return sanitizer().sanitize_text


@pytest.mark.parametrize(
    ("text", "token"),
    [
        (f"Bearer {make_jwt()}", "SANITIZED_JWT"),
        (f"id_token={make_jwt(alg='RS256')}&x=1", "SANITIZED_JWT"),
        ("reach me: joao.silva+promo@empresa.com.br", "SANITIZED_EMAIL"),
        ("mail ana@mail.sub.example.org now", "SANITIZED_EMAIL"),
        (f"card {make_card('4532', 16)}", "SANITIZED_CARD"),
        (
            "card " + " ".join([make_card("2221", 16)[i : i + 4] for i in range(0, 16, 4)]),
            "SANITIZED_CARD",
        ),
        (
            "card " + "-".join([make_card("5105", 16)[i : i + 4] for i in range(0, 16, 4)]),
            "SANITIZED_CARD",
        ),
        (f"amex {make_card('378282', 15)}", "SANITIZED_CARD"),
        (f"cpf {fmt_cpf(CPF)}", "SANITIZED_DOCUMENT"),
        (f"cpf {CPF}", "SANITIZED_DOCUMENT"),
        (f"cnpj {fmt_cnpj(CNPJ)}", "SANITIZED_DOCUMENT"),
        (f"cnpj {CNPJ}", "SANITIZED_DOCUMENT"),
        (f"cnpj {CNPJ_ALNUM}", "SANITIZED_DOCUMENT"),
        (f"cnpj {fmt_cnpj(CNPJ_ALNUM)}", "SANITIZED_DOCUMENT"),
        ("tel +55 11 91234-5678", "SANITIZED_PHONE"),
        ("tel (11) 91234-5678", "SANITIZED_PHONE"),
        ("tel 11912345678", "SANITIZED_PHONE"),
        ("tel +5511912345678", "SANITIZED_PHONE"),
        ("tel (21) 3456-7890", "SANITIZED_PHONE"),
        ("password=hunter2&user=x", "SANITIZED_PASSWORD"),
        ('{"senha": "abc123"', "SANITIZED_PASSWORD"),
        ("<Password>s3cr3t</Password>", "SANITIZED_PASSWORD"),
        ('<wsse:Password Type="PasswordText">s3cr3t</wsse:Password>', "SANITIZED_PASSWORD"),
        ("<senha><![CDATA[abc]]></senha>", "SANITIZED_PASSWORD"),
        ("postgres://app:Pg-S3cret@db:5432/x", "SANITIZED_PASSWORD"),
        ("Authorization: Bearer opaque_0123456789abcdef", "SANITIZED_HEADER"),
        ("client_secret=cs_live_51HxYz", "SANITIZED_HEADER"),
        ("Basic dXNlcjpwYXNzd29yZA==", "SANITIZED_HEADER"),
    ],
)
def test_secret_is_replaced(scrub, text: str, token: str) -> None:
    out = scrub(text)
    assert token in out


@pytest.mark.parametrize(
    "text",
    [
        "epoch 1734567890 and 1700000000004",  # 10 and 13 digits (the 13 is Luhn-valid)
        "order " + make_card("4532", 16)[:-1] + str((int(make_card("4532", 16)[-1]) + 1) % 10),
        "uuid 550e8400-e29b-41d4-a716-446655440000",
        "sha 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "date 2024-01-15T10:30:00Z version 2.14.3 price 1299.90 R$ 1.234.567,89",
        "sku SKU-AB12-3456 ean 7891000315507",
        "pix E18236120202401151030s0123456789",
        f"cursor {b64url({'offset': 10})}.{b64url({'page': 2})}.c2ln",
        "Forgot your password? The password must have 8 characters.",
        "logo@2x.png icon@3x.webp",
        "cpf invalido " + fmt_cpf(CPF[:9] + str((int(CPF[9:]) + 1) % 100).zfill(2)),
        "ip 192.168.10.100 pi 3.14159265358979",
        "token_type=Bearer&expires_in=3600",
    ],
)
def test_decoy_is_kept(scrub, text: str) -> None:
    assert scrub(text) == text


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("password", "password"),
        ("confirmPassword", "password"),
        ("novaSenha", "password"),
        ("user_password", "password"),
        ("pwd", "password"),
        ("api_key", "api_key"),
        ("X-Api-Key", "api_key"),
        ("access_token", "api_key"),
        ("client_secret", "api_key"),
        ("refreshToken", "api_key"),
        ("token_type", None),
        ("nextPageToken", None),
        ("passwordChangedAt", None),
        ("cacheKey", None),
        ("secretaria", None),
        ("author", None),
        ("passport", None),
        ("pin", "password"),
        ("cardPin", "password"),
        ("new_pin", "password"),
        ("pincode", None),  # India's postal code
        ("pinCode", None),
        ("shipping", None),
        ("hmac", "api_key"),
        ("hmac_algorithm", None),
    ],
)
def test_classify_key(name: str, expected: str | None) -> None:
    assert classify_key(name) == expected


def test_br_phone_validator_agrees_with_phonenumbers() -> None:
    """The compiled validator answers as phonenumbers does, valid and invalid alike."""
    import random

    import phonenumbers

    from ext_proc_server.sanitize.validators import br_phone_valid

    rng = random.Random(55)
    answers = {True: 0, False: 0}
    for _ in range(5000):
        length = rng.choice((8, 9, 10, 11, 11, 12))
        national = f"{rng.randrange(10**length):0{length}d}"
        if length == 11 and rng.random() < 0.5:
            national = national[:2] + "9" + national[3:]  # mobiles are most of the valid ones
        expected = phonenumbers.is_valid_number(
            phonenumbers.PhoneNumber(country_code=55, national_number=int(national))
        )
        assert br_phone_valid.__wrapped__(national) is expected, national
        answers[expected] += 1
    assert answers[True] > 500 and answers[False] > 500
