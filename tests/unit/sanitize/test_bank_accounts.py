"""A person's bank account number went out: under ``conta``, ``numeroConta``,
``contaCorrente``, ``accountNumber``, and as the ``number`` of an Open Finance Brasil
account (``{"compeCode", "branchCode", "number", "checkDigit"}``). It is replaced now
(a pseudonym keeps its layout); a bill (``"conta": "Conta de luz"``), a chart of
accounts' code (``1.1.01.001``), a CI build's ``number`` beside its ``branch`` and the
branch (agência) itself stay."""

from __future__ import annotations

import json

from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-accounts")

KEPT = {"build": {"branch": "main", "number": "1234"}, "lancamento": {"conta": "1.1.01.001"},
        "fatura": {"conta": "Conta de luz"}, "conta": {"id": 7, "saldo": "10.00"}}  # fmt: skip


def _body(document: dict, sanitize=SANITIZER) -> dict:
    return json.loads(sanitize.sanitize(request_exchange(body=json.dumps(document))).request.body)


def test_account_numbers_are_replaced() -> None:
    document = {
        "cliente": {"nome": "Maria Souza", "banco": "341", "agencia": "1234-5",
                    "conta": "12.345-6", "contaCorrente": "0012345X"},
        "favorecido": {"numeroConta": "98765432-1", "accountNumber": "000123456789"},
        "data": {"compeCode": "001", "branchCode": "6272", "number": "94088392", "checkDigit": "4",
                 "type": "CONTA_DEPOSITO_A_VISTA"},
        **KEPT,
    }  # fmt: skip
    out = _body(document)
    assert out["cliente"] == {"nome": "SANITIZED_NAME", "banco": "341", "agencia": "1234-5",
                              "conta": "SANITIZED_ACCOUNT", "contaCorrente": "SANITIZED_ACCOUNT"}  # fmt: skip
    assert out["favorecido"] == {
        "numeroConta": "SANITIZED_ACCOUNT",
        "accountNumber": "SANITIZED_ACCOUNT",
    }
    assert out["data"] == {**document["data"], "number": "SANITIZED_ACCOUNT"}
    assert {key: out[key] for key in KEPT} == KEPT


def test_pseudonyms_keep_the_layout() -> None:
    out = _body({"cliente": {"conta": "12.345-6"}, "data": {"branchCode": "6272", "number": "94088392"}},
                PSEUDONYMS)  # fmt: skip
    conta, number = out["cliente"]["conta"], out["data"]["number"]
    assert conta != "12.345-6" and [c.isdigit() for c in conta] == [c.isdigit() for c in "12.345-6"]
    assert number != "94088392" and number.isdigit() and len(number) == 8
