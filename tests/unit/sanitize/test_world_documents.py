"""Identity documents as other countries' APIs name them: a national identity number
(Truora's background checks: ``national_id``, a Colombian cédula), a document's ID number
(Plaid's identity verification: ``extracted_data.id_number`` of a driving licence), and a
customer's ``document`` beside its ``documentType`` (VTEX's ``clientProfileData``: a DNI,
or a CPF whose check digits do not hold). Each went out; a bank slip's own
``numeroDocumento``, a document's type and a valid CPF (named by its shape) are as
before."""

from __future__ import annotations

import json

from ext_proc_server.sanitize import validators
from tests.unit.sanitize.sanitize_helpers import make_cpf, request_exchange, sanitizer

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-world-documents")
DOCUMENT = "SANITIZED_DOCUMENT"


def _body(document: object, sanitizer=SANITIZER) -> object:
    out = sanitizer.sanitize(request_exchange(body=json.dumps(document)))
    return json.loads(out.request.body)


def test_a_national_identity_number_by_its_name() -> None:
    check = {"check_id": "CHK5e8c6748b7e050f857df25649ba315f7", "country": "CO",
             "first_name": "SOFIA", "last_name": "PEDROZA MORA", "national_id": "1026565742",
             "type": "person"}  # fmt: skip
    out = _body(check)
    assert out["national_id"] == DOCUMENT
    assert {k: v for k, v in out.items() if k != "national_id"} == {
        **{k: v for k, v in check.items() if k != "national_id"},
        "first_name": "SANITIZED_NAME",
        "last_name": "SANITIZED_NAME",
    }


def test_national_numbers_alone_in_a_body() -> None:
    """No other personal key around: the body probe must still read the body."""
    for key in ("national_id", "nationalId", "nationalIdNumber",
                "national_identification_number", "dni", "cedula", "idNumber"):  # fmt: skip
        assert _body({key: "30.123.456"}) == {key: DOCUMENT}, key


def test_a_documents_id_number() -> None:
    extracted = {"category": "drivers_license", "expiration_date": "2030-10-15",
                 "id_number": "AB123456", "issuing_country": "US", "issuing_region": "IN"}  # fmt: skip
    answer = {
        "documentary_verification": {"documents": [{"attempt": 1, "extracted_data": extracted}]}
    }
    out = _body(answer)["documentary_verification"]["documents"][0]["extracted_data"]
    assert out == {**extracted, "id_number": DOCUMENT}


def test_a_customers_document_beside_its_type() -> None:
    profile = {"document": "769387308", "documentType": "dni", "email": "john.doe@example.com",
               "firstName": "John", "lastName": "Doe", "isCorporate": False,
               "corporateDocument": None}  # fmt: skip
    out = _body({"clientProfileData": profile})["clientProfileData"]
    assert out["document"] == DOCUMENT
    assert out["documentType"] == "dni" and out["corporateDocument"] is None
    wrong_digits = {**profile, "document": "12345678900", "documentType": "cpf"}
    assert not validators.cpf_valid(wrong_digits["document"])
    assert _body({"document": wrong_digits})["document"]["document"] == DOCUMENT


def test_a_valid_cpf_there_is_still_a_cpf() -> None:
    """The shape detectors name it: a pseudonym keeps its check digits valid."""
    cpf = make_cpf("529982247")
    out = _body({"customer": {"document": cpf, "firstName": "Ana"}}, PSEUDONYMS)["customer"]
    assert out["document"] != cpf and validators.cpf_valid(out["document"])


def test_what_only_says_document_elsewhere_stays() -> None:
    slip = {"numeroDocumento": "000123456", "valor": "150.00", "vencimento": "2026-12-10",
            "pagador": {"nome": "Ana Souza", "documentoTipo": "CPF"}}  # fmt: skip
    out = _body(slip)
    assert out == {**slip, "pagador": {"nome": "SANITIZED_NAME", "documentoTipo": "CPF"}}
    others = {"document": "contrato-2024-00123.pdf", "documentId": "88231",
              "national_id_type": "CC", "id_number": "12"}  # fmt: skip
    assert _body({"files": [others]}) == {"files": [others]}
