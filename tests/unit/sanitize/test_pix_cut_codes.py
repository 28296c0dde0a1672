"""A PIX code cut short (by a body limit, or by a page showing the start of a "copia e
cola" text) has no CRC field, so it was not read as a code: the receiver's key, name
and city inside it went out as they came.

Codes are built as the BR Code manual lays them out (tests/unit/sanitize/test_pix_codes.py)
and cut at every point.
"""

from __future__ import annotations

import json

import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.unit.sanitize.sanitize_helpers import make_cnpj, request_exchange
from tests.unit.sanitize.test_pix_codes import CPF, PSEUDONYMS, TOKENS, pix_code

KEYS = [CPF, "joao.silva@example.com.br", "+5511987654321", "7d9f0335-8dcc-4054-9bf9-0dbd61d36906"]
_FAKE = Faker("pt_BR")
_FAKE.seed_instance(20261205)
NAMES = sorted({_FAKE.name().upper()[:25] for _ in range(80)})
CITIES = sorted({_FAKE.city().upper()[:15] for _ in range(40)})


def _wrapped(cut: str) -> list[tuple[str, str]]:
    """A cut code as it reaches the sanitizer: (body, content type)."""
    return [
        (json.dumps({"qr_code": cut + "X"})[:-3], "application/json"),  # the body limit
        (f"Pix copia e cola: {cut}...", "text/plain"),
        (f"<p>Pague com Pix</p><span class=code>{cut}\u2026</span><p>Obrigado</p>", "text/html"),
    ]


def _present(code: str, cut_at: int, value: str) -> str:
    """The part of ``value`` (a field of ``code``) still in the code cut at ``cut_at``."""
    start = code.index(value)
    return value[: max(0, cut_at - start)]


def _code(key: str, name: str, city: str) -> str:
    # Cut before its CRC: the CRC need not match the new city.
    return pix_code(key, name, cep="01310100").replace("6009SAO PAULO", f"60{len(city):02d}{city}")


def _leaks(key: str, name: str, city: str, cut_at: int, sanitizer_=TOKENS) -> list[str]:
    code = _code(key, name, city)
    cut = code[:cut_at]
    pieces = [_present(code, cut_at, v) for v in (key, name, city, "01310100")]
    leaks = []
    for body, content_type in _wrapped(cut):
        out = sanitizer_.sanitize(request_exchange(body=body, content_type=content_type))
        text = out.request.body.decode()
        leaks += [p for p in pieces if len(p) >= 4 and p in text]
    return leaks


@pytest.mark.parametrize("key", KEYS)
@pytest.mark.parametrize("sanitizer_", [TOKENS, PSEUDONYMS], ids=["tokens", "pseudonyms"])
def test_no_cut_leaves_the_receiver_in_the_code(key: str, sanitizer_) -> None:
    code = pix_code(key, "JOAO DA SILVA", cep="01310100")
    left = {
        cut_at: leaks
        for cut_at in range(20, len(code) - 8)
        if (leaks := _leaks(key, "JOAO DA SILVA", "SAO PAULO", cut_at, sanitizer_))
    }
    assert left == {}


def test_a_cut_code_keeps_its_amount_and_what_follows_it() -> None:
    code = pix_code(CPF, "JOAO DA SILVA")
    cut = code[: code.index("JOAO") + 7]
    page = f"<span>{cut}...</span><p>Valor: R$ 125,90</p>"
    out = TOKENS.sanitize(request_exchange(body=page, content_type="text/html")).request
    text = out.body.decode()
    assert text.startswith("<span>000201") and text.endswith("</span><p>Valor: R$ 125,90</p>")
    assert "5406125.90" in text and "JOAO" not in text and CPF not in text


def test_a_company_key_keeps_its_name_when_cut() -> None:
    code = pix_code(make_cnpj("112223330001"), "PADARIA BOM PAO LTDA")
    cut = code[: code.index("PADARIA") + 20]
    assert "PADARIA BOM PAO LTDA" in TOKENS.sanitize_text(f"pix {cut}")


@pytest.mark.parametrize(
    "text",
    ["000201" + "9" * 40, "pedido 000201010212 enviado",
     # Another scheme's EMV code, cut: no PIX account.
     "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678"
     "52044111530398654041.005802CN5914BEST TRANSPORT"],
)  # fmt: skip
def test_what_opens_like_a_code_but_holds_no_pix_account_stays(text: str) -> None:
    assert TOKENS.sanitize_text(text) == text


@settings(max_examples=150, deadline=None)
@given(
    key=st.sampled_from(KEYS),
    name=st.sampled_from(NAMES),
    city=st.sampled_from(CITIES),
    cut_from_end=st.integers(9, 120),
)
def test_any_cut_of_any_code_leaves_no_receiver_field(
    key: str, name: str, city: str, cut_from_end: int
) -> None:
    code = _code(key, name, city)
    assert _leaks(key, name, city, max(20, len(code) - cut_from_end)) == []
