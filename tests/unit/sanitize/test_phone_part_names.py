"""A phone field named with a part of a phone before it, as BrasilAPI's CNPJ answer
writes them ("ddd_telefone_1": "1123851939", "ddd_fax"), was read as the part alone
(an area code) and its whole number went out; a company's phone is replaced like
anyone's. A field whose last phone word is a part (telefone_ddd, phone_extension)
still names only that part."""

from __future__ import annotations

import json

from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()


def test_brasilapi_company_phones_are_replaced_and_parts_kept() -> None:
    company = {
        "cnpj": "19131243000197", "razao_social": "OPEN KNOWLEDGE BRASIL",
        "ddd_telefone_1": "1123851939", "ddd_telefone_2": "", "ddd_fax": "11 23851940",
        "telefone_ddd": "11", "phone_country_code": "55", "phone_extension": "12345",
        "codigo_municipio": 7107, "cep": "01311902",
    }  # fmt: skip
    body = json.dumps(company)
    out = json.loads(SANITIZER.sanitize(request_exchange(body=body)).request.body)
    assert out["ddd_telefone_1"] == "SANITIZED_PHONE"
    assert out["ddd_fax"] == "SANITIZED_PHONE"
    kept = ("razao_social", "ddd_telefone_2", "telefone_ddd", "phone_country_code",
            "phone_extension", "codigo_municipio", "cep")  # fmt: skip
    assert {k: out[k] for k in kept} == {k: company[k] for k in kept}
