"""A member naming a CPF or a CNPJ (``cpfCnpj``, ``cpfCnpjCliente``, ``CPFCNPJ``) marks
no one by its name: its value does. A CPF (11 digits) made the record a person's only
when another key said so, so a customer's name, CEP and street beside
``cpfCnpjCliente`` went out; a CNPJ (14) leaves a company's record as it was.

People from Faker's pt_BR, es_ES and it_IT profiles, their documents from pt_BR's;
decoys: Faker's pt_BR companies with their CNPJs, addresses and CEPs."""

from __future__ import annotations

import json
import re

import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.cpf_or_cnpj import marks_person
from tests.unit.sanitize.people import leaked
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
KEYS = ("cpfCnpj", "cpfCnpjCliente", "cpf_cnpj", "CPFCNPJ", "documentoCpfCnpj")


def _out(document: object) -> str:
    body = json.dumps(document, ensure_ascii=False)
    return SANITIZER.sanitize(request_exchange(body=body)).request.body.decode()


def _company(br: Faker) -> str:
    """A company's name that reads as none of a person's ("Pereira Ltda."): a name
    alone ("da Cunha") is ambiguous under an owner no key tells, whatever its document."""
    return f"{br.last_name()} {br.company_suffix()}"


def _written(document: str, style: str) -> str | int:
    digits = re.sub(r"\D", "", document)
    return {"formatted": document, "bare": digits, "number": int(digits)}[style]


@pytest.mark.parametrize("locale", ["pt_BR", "es_ES", "it_IT"])
@pytest.mark.parametrize("style", ["formatted", "bare", "number"])
def test_a_cpf_under_a_cpf_or_cnpj_key_makes_the_record_a_persons(locale: str, style: str) -> None:
    fake, br = Faker(locale), Faker("pt_BR")
    fake.seed_instance(61)
    br.seed_instance(62)
    leaks = []
    for i in range(60):
        name = f"{fake.first_name()} {fake.last_name()}"
        # No street: an object holding one is an address, whoever's it is.
        record = {KEYS[i % len(KEYS)]: _written(br.cpf(), style), "nome": name,
                  "telefone": br.cellphone_number(), "email": fake.free_email(),
                  "cep": br.postcode()}  # fmt: skip
        planted = [name, record["cep"], record["email"]]
        leaks += leaked(_out({"dados": record}), planted)
    assert leaks == []


@pytest.mark.parametrize("style", ["formatted", "bare", "number"])
def test_a_cnpj_under_a_cpf_or_cnpj_key_keeps_the_companys_record(style: str) -> None:
    br = Faker("pt_BR")
    br.seed_instance(63)
    changed = []
    for i in range(60):
        record = {KEYS[i % len(KEYS)]: _written(br.cnpj(), style), "nome": _company(br),
                  "cep": br.postcode()}  # fmt: skip
        out = json.loads(_out({"cadastros": [record]}))["cadastros"][0]
        if (out["nome"], out["cep"]) != (record["nome"], record["cep"]):
            changed.append(record)
    assert changed == []


def test_records_of_both_kinds_in_one_list_are_told_apart() -> None:
    br = Faker("pt_BR")
    br.seed_instance(64)
    for _ in range(40):
        person, company = br.name(), _company(br)
        rows = [{"cpfCnpj": br.cnpj(), "nome": company, "cep": br.postcode()},
                {"cpfCnpj": br.cpf(), "nome": person, "cep": br.postcode()}]  # fmt: skip
        out = json.loads(_out({"cadastros": rows}))["cadastros"]
        assert out[0]["nome"] == company and out[0]["cep"] == rows[0]["cep"]
        assert leaked(json.dumps(out[1], ensure_ascii=False), [person, rows[1]["cep"]]) == []


@settings(max_examples=300, deadline=None)
@given(digits=st.text("0123456789", min_size=11, max_size=11), formatted=st.booleans())
def test_eleven_digits_are_a_cpf_fourteen_are_not(digits: str, formatted: bool) -> None:
    cpf = f"{digits[:3]}.{digits[3:6]}.{digits[6:9]}-{digits[9:]}" if formatted else digits
    cnpj = f"{digits[:2]}.{digits[2:5]}.{digits[5:8]}/0001-{digits[8:10]}"
    assert marks_person(cpf)
    assert not marks_person(cnpj) and not marks_person(digits + "000")
