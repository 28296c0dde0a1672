"""A PIX code ("Pix copia e cola", a BR Code's text) went out whole: the receiver's
key (a CPF, a CNPJ, an e-mail, a phone, a random key) and name sit between the digits of its
ID-length-value fields, where no detector can tell where a number starts or ends.
Codes are built here as the BR Code manual lays them out (EMV QR, CRC16/CCITT-FALSE)
and read back with this file's own reader."""

from __future__ import annotations

import json
import uuid
from urllib.parse import quote_plus, unquote_plus

import pytest

from ext_proc_server.sanitize.validators import cnpj_valid, cpf_valid
from tests.unit.sanitize.sanitize_helpers import make_cnpj, make_cpf, request_exchange, sanitizer

TOKENS = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-pix")
CPF = make_cpf("529982247")
CNPJ = make_cnpj("112223330001")


def _crc(payload: str) -> str:
    crc = 0xFFFF
    for byte in payload.encode():
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else crc << 1
            crc &= 0xFFFF
    return f"{crc:04X}"


def _field(tag: int, value: str) -> str:
    return f"{tag:02d}{len(value):02d}{value}"


def pix_code(key: str, name: str, *, description: str = "", cep: str = "") -> str:
    account = _field(0, "br.gov.bcb.pix") + _field(1, key)
    if description:
        account += _field(2, description)
    payload = (
        _field(0, "01") + _field(1, "12") + _field(26, account) + _field(52, "0000")
        + _field(53, "986") + _field(54, "125.90") + _field(58, "BR") + _field(59, name)
        + _field(60, "SAO PAULO") + (_field(61, cep) if cep else "")
        + _field(62, _field(5, "PEDIDO8812")) + "6304"
    )  # fmt: skip
    return payload + _crc(payload)


def read_code(code: str) -> dict[str, str]:
    """The fields of a code (the merchant account's as "26.01"...), its CRC checked."""
    assert code[-8:-4] == "6304" and _crc(code[:-4]) == code[-4:], code
    fields: dict[str, str] = {}

    def walk(text: str, prefix: str) -> None:
        at = 0
        while at < len(text):
            tag, size = text[at : at + 2], int(text[at + 2 : at + 4])
            value = text[at + 4 : at + 4 + size]
            assert len(value) == size, code
            fields[prefix + tag] = value
            if prefix == "" and tag == "26":
                walk(value, "26.")
            at += 4 + size
        assert at == len(text), code

    walk(code, "")
    return fields


CASES = [
    (CPF, "JOAO DA SILVA", "cpf"),
    ("joao.silva@example.com.br", "Joao da Silva", "email"),
    ("+5511987654321", "MARIA SOUZA", "phone"),
    # A random key: the central bank's directory maps it to one person's account.
    ("123e4567-e12b-12d1-a456-426655440000", "ANA PAULA COSTA", "bank_account"),
]


def _wrapped(code: str) -> list[tuple[str, str]]:
    """The code as APIs carry it: (body, content type)."""
    return [
        (json.dumps({"point_of_interaction": {"transaction_data": {"qr_code": code}}}),
         "application/json"),
        (f"Pague com Pix copia e cola: {code}\nObrigado", "text/plain"),
        (f"pix={quote_plus(code)}&valor=125.90", "application/x-www-form-urlencoded"),
        (f"<cobranca><brcode>{code}</brcode></cobranca>", "application/xml"),
    ]  # fmt: skip


def _codes_in(text: str) -> list[str]:
    found = []
    at = text.find("000201")
    while at >= 0:
        end = text.find("6304", at) + 8
        found.append(text[at:end])
        at = text.find("000201", end)
    return found


@pytest.mark.parametrize(("key", "name", "key_class"), CASES)
@pytest.mark.parametrize("sanitizer_", [TOKENS, PSEUDONYMS], ids=["tokens", "pseudonyms"])
def test_the_key_and_name_are_replaced_and_the_code_still_reads(
    key: str, name: str, key_class: str | None, sanitizer_
) -> None:
    code = pix_code(key, name, description=f"pedido do cpf {CPF}", cep="01310100")
    for body, content_type in _wrapped(code):
        out = sanitizer_.sanitize(request_exchange(body=body, content_type=content_type))
        text = out.request.body.decode()
        if content_type.endswith("urlencoded"):
            text = unquote_plus(text)
        (fresh,) = _codes_in(text)
        fields = read_code(fresh)
        assert fields["26.01"] != key and key.lower() not in text.lower()
        assert fields["59"] != name and "SILVA" not in fields["59"].upper()
        assert len(fields["59"]) <= 25
        assert CPF not in fresh and "01310100" not in fresh
        assert fields["54"] == "125.90" and fields["60"] == "SAO PAULO"
        assert fields["62"] == "0510PEDIDO8812"
        if sanitizer_ is PSEUDONYMS and key_class == "cpf":
            assert cpf_valid(fields["26.01"])
        if sanitizer_ is PSEUDONYMS and key_class == "bank_account":
            assert uuid.UUID(fields["26.01"]).version == 4


@pytest.mark.parametrize("sanitizer_", [TOKENS, PSEUDONYMS], ids=["tokens", "pseudonyms"])
def test_one_random_key_one_replacement_in_the_code_and_the_charge(sanitizer_) -> None:
    """The charge's ``chave`` and the code's key are one value: one replacement."""
    key = "7d9f0335-8dcc-4054-9bf9-0dbd61d36906"
    body = {"chave": key, "pixCopiaECola": pix_code(key, "ANA PAULA COSTA")}
    out = json.loads(sanitizer_.sanitize(request_exchange(body=json.dumps(body))).request.body)
    assert read_code(out["pixCopiaECola"])["26.01"] == out["chave"] != key


@pytest.mark.parametrize("cnpj", [CNPJ, make_cnpj("12ABC34501DE")], ids=["numeric", "alnum"])
def test_a_company_key_keeps_its_name(cnpj: str) -> None:
    code = pix_code(cnpj, "PADARIA BOM PAO LTDA")
    out = TOKENS.sanitize(request_exchange(body=json.dumps({"qr_code": code}))).request.body
    fields = read_code(json.loads(out)["qr_code"])
    assert fields["26.01"] == "SANITIZED_DOCUMENT" and fields["59"] == "PADARIA BOM PAO LTDA"
    out = PSEUDONYMS.sanitize(request_exchange(body=json.dumps({"qr_code": code}))).request.body
    fresh = read_code(json.loads(out)["qr_code"])["26.01"]
    assert fresh != cnpj and cnpj_valid(fresh) and fresh.isdigit() is cnpj.isdigit()


@pytest.mark.parametrize(
    "text",
    ["pedido 0002010203 enviado", "000201" + "9" * 40,
     # An EMV code of another scheme (no PIX account): left to the other detectors.
     "00020101021229300012D156000000000510A93FO3230Q31280012D15600000001030812345678"
     "52044111530398654041.005802CN5914BEST TRANSPORT6007BEIJING6304A13A"],
)  # fmt: skip
def test_what_is_not_a_pix_code_stays(text: str) -> None:
    assert TOKENS.sanitize_text(text) == text
