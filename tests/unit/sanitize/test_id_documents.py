"""Brazilian identity numbers beyond CPF and RG: PIS/PASEP (the NIS and NIT), the SUS
card (CNS), a driving licence (CNH) and a voter's card (título de eleitor). Under a
field named ``pis`` or ``cartaoSus`` and after their names in text they went out; each
is read now, by its name and its check digits, while NF-e's PIS (a tax: an amount)
and numbers after such a word that are no document stay."""

from __future__ import annotations

import json

import pytest

from ext_proc_server.sanitize import validators
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-id-documents")

# Valid by their check digits (never real people's).
PIS = ("29141777638", "17066907432")
CNS = ("944686227656872", "823598593547198")
CNH = ("53818602560", "13903999381")
VOTER_ID = ("328855282267", "113885170221")


@pytest.mark.parametrize(
    ("valid", "numbers"),
    [(validators.pis_valid, PIS), (validators.cns_valid, CNS), (validators.cnh_valid, CNH),
     (validators.voter_id_valid, VOTER_ID)],
)  # fmt: skip
def test_check_digits(valid, numbers: tuple[str, ...]) -> None:
    for number in numbers:
        assert valid(number)
        assert not valid(number[:-1])
    assert not valid("0" * len(numbers[0]))


@pytest.mark.parametrize(
    ("valid", "numbers"), [(validators.pis_valid, PIS), (validators.cns_valid, CNS)]
)
def test_a_wrong_last_digit_fails(valid, numbers: tuple[str, ...]) -> None:
    for number in numbers:
        wrong = [number[:-1] + digit for digit in "0123456789" if digit != number[-1]]
        assert [changed for changed in wrong if valid(changed)] == []


def _body(document: dict, sanitizer=SANITIZER) -> dict:
    out = sanitizer.sanitize(request_exchange(body=json.dumps(document)))
    return json.loads(out.request.body)


def test_document_fields_are_replaced() -> None:
    person = {"nome": "Maria Souza", "pis": f"{PIS[0][:3]}.{PIS[0][3:8]}.{PIS[0][8:10]}-{PIS[0][10]}",
              "pisPasep": PIS[1], "numeroPis": PIS[0], "cartaoSus": CNS[0],
              "cartao_sus": CNS[1], "numeroCartaoSus": CNS[0]}  # fmt: skip
    out = _body({"cliente": person})["cliente"]
    assert out == {
        key: "SANITIZED_NAME" if key == "nome" else "SANITIZED_DOCUMENT" for key in person
    }


def test_nfe_pis_stays() -> None:
    """NF-e's PIS is a tax: its amounts, rates and codes are not a person's number."""
    document = {"imposto": {"pis": "12.50", "valorPis": 1.2, "PIS": {"CST": "01", "vPIS": "1.65"}},
                "totais": {"pis": "10000000000"}}  # fmt: skip
    assert _body(document) == document
    xml = "<imposto><PIS><PISAliq><CST>01</CST><vBC>100.00</vBC><vPIS>1.65</vPIS></PISAliq></PIS></imposto>"
    out = SANITIZER.sanitize(request_exchange(body=xml, content_type="application/xml"))
    assert out.request.body.decode() == xml


def test_document_numbers_after_their_names_are_replaced() -> None:
    text = (
        f"Segurado: CNH {CNH[0]}, PIS/PASEP: {PIS[0][:3]}.{PIS[0][3:8]}.{PIS[0][8:10]}-{PIS[0][10]}, "
        f"NIS {PIS[1]}, título de eleitor {VOTER_ID[0][:4]} {VOTER_ID[0][4:8]} {VOTER_ID[0][8:]}, "
        f"Cartão SUS nº {CNS[0][:3]} {CNS[0][3:7]} {CNS[0][7:11]} {CNS[0][11:]}, "
        f"CNS {CNS[1]}, habilitação {CNH[0]}"
    )
    out = SANITIZER.sanitize(request_exchange(body=text, content_type="text/plain"))
    assert out.request.body.decode() == (
        "Segurado: CNH SANITIZED_DOCUMENT, PIS/PASEP: SANITIZED_DOCUMENT, NIS SANITIZED_DOCUMENT, "
        "título de eleitor SANITIZED_DOCUMENT, Cartão SUS nº SANITIZED_DOCUMENT, "
        "CNS SANITIZED_DOCUMENT, habilitação SANITIZED_DOCUMENT"
    )


@pytest.mark.parametrize(
    "text",
    ["PIS 1,65% e COFINS 7,6%", "CNS 2024: relatório", "CNH categoria AB, validade 2030-01-01",
     "cartão 4111 1111 1111 1112 recusado", "NIT 12345678901 inválido",
     "título de eleitor 1234 5678 9012"],
)  # fmt: skip
def test_other_numbers_after_those_names_stay(text: str) -> None:
    out = SANITIZER.sanitize(request_exchange(body=text, content_type="text/plain"))
    assert out.request.body.decode() == text


def test_pseudonyms_keep_the_layout() -> None:
    written = f"{PIS[0][:3]}.{PIS[0][3:8]}.{PIS[0][8:10]}-{PIS[0][10]}"
    out = _body({"cliente": {"pis": written, "cartaoSus": CNS[0]}}, PSEUDONYMS)["cliente"]
    assert out["pis"] != written and [c.isdigit() for c in out["pis"]] == [
        c.isdigit() for c in written
    ]
    assert out["cartaoSus"] != CNS[0] and out["cartaoSus"].isdigit() and len(out["cartaoSus"]) == 15


def test_open_finance_personal_identification() -> None:
    """Open Finance Brasil's customer identification (``/customers/v2/personal/
    identifications``): a passport's number sits in an object the document names, and
    the address's ``postCode``. Both went out."""
    person = {"civilName": "Maria Aparecida Souza", "birthDate": "1985-03-14",
              "documents": {"cpfNumber": "52998224725",
                            "passport": {"number": "FZ123456", "country": "BRA",
                                         "expirationDate": "2030-01-01"}},
              "postalAddresses": [{"isMain": True, "address": "Av Naburo Ykesaki, 1270",
                                   "townName": "Marília", "postCode": "17500001",
                                   "country": "Brasil"}]}  # fmt: skip
    out = _body({"data": [person]})["data"][0]
    assert out["documents"]["passport"] == {"number": "SANITIZED_DOCUMENT", "country": "BRA",
                                            "expirationDate": "2030-01-01"}  # fmt: skip
    assert out["postalAddresses"][0] == {"isMain": True, "address": "SANITIZED_ADDRESS",
                                         "townName": "Marília", "postCode": "SANITIZED_CEP",
                                         "country": "Brasil"}  # fmt: skip
    assert _body({"pedido": {"number": "481516"}}) == {"pedido": {"number": "481516"}}


def test_a_foreign_customers_national_number_is_replaced() -> None:
    """Plaid's identity answer (``/credit/relay/get``) holds a US owner's SSN beside their
    names; it went out."""
    owner = {"ssn": "123-45-6789", "social_security_number": "078-05-1120",
             "socialSecurityNumber": "219-09-9999", "nationalInsuranceNumber": "QQ123456C"}  # fmt: skip
    out = _body({"owners": [owner]})["owners"][0]
    assert out == dict.fromkeys(owner, "SANITIZED_DOCUMENT")


def test_an_account_owners_names_are_replaced() -> None:
    """Plaid's identity answer lists each owner's ``names``; they went out beside the
    replaced SSN and e-mail."""
    owner = {"names": ["Alberta Bobbeth Charleson"], "ssn": "123-45-6789",
             "emails": [{"data": "accountholder0@example.com", "primary": True}]}  # fmt: skip
    out = _body({"accounts": [{"owners": [owner]}]})["accounts"][0]["owners"][0]
    assert out["names"] == ["SANITIZED_NAME"]
    assert out["ssn"] == "SANITIZED_DOCUMENT"
    assert _body({"product": {"names": ["Caneca Azul"]}}) == {"product": {"names": ["Caneca Azul"]}}
