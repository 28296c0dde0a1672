"""A company's record a person's holder or a person's parent would make a person's:
a bank slip's payer whose ``documento_pagador`` is a CNPJ, Asaas', Pagar.me's and
Iugu's customer or payer with a CNPJ, NFE.io's borrower (``federalTaxNumber``), a
customer's employer nested in the customer with its own CNPJ under ``cpfCnpj`` or
``documento``. Its name, street, number, bairro and CEP are the company's and stay;
before, they went out as the person's: on the records below, 986 of the 1,360 strings
planted beside the CNPJ and the e-mail were replaced whole, now none (docs/sanitizer.md,
"A company's record under a person's name"). A person's record beside them, and a sole
trader's name, still go.

Companies, people, CNPJs and addresses from Faker's pt_BR providers; the shapes from
the published APIs named."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from faker import Faker

from ext_proc_server.sanitize import record_kinds
from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.people import leaked, person, seeded_faker
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()


def _sanitized(body: object) -> object:
    text = json.dumps(body, ensure_ascii=False)
    out = SANITIZER.sanitize(request_exchange(body=text)).request.body.decode()  # type: ignore[union-attr]
    return json.loads(out)


def _company(fake: Faker) -> dict[str, str]:
    return {
        "name": fake.company(),
        "cnpj": fake.cnpj(),
        "street": fake.street_name(),
        "number": fake.building_number(),
        "bairro": fake.bairro(),
        "cep": fake.postcode(),
        "email": fake.company_email(),
    }


def _slip(c: dict[str, str], document: str) -> dict[str, object]:
    """A bank slip's payer (a boleto registration's "pagador")."""
    address = {"logradouro": c["street"], "numero": c["number"], "bairro": c["bairro"],
               "cidade": "Campinas", "uf": "SP", "cep": c["cep"]}  # fmt: skip
    return {
        "valor": 150.0,
        "pagador": {"nome": c["name"], document: c["cnpj"], "endereco": address},
    }


def _asaas(c: dict[str, str]) -> dict[str, object]:
    """Asaas' customer (POST /v3/customers), as a payment's body embeds it."""
    return {"billingType": "BOLETO", "customer": {
        "name": c["name"], "cpfCnpj": re.sub(r"\D", "", c["cnpj"]), "email": c["email"],
        "address": c["street"], "addressNumber": c["number"], "province": c["bairro"],
        "postalCode": c["cep"]}}  # fmt: skip


def _pagarme(c: dict[str, str]) -> dict[str, object]:
    """Pagar.me v5's order customer, a company's (its "type" and "document_type")."""
    return {"customer": {
        "name": c["name"], "email": c["email"], "document": re.sub(r"\D", "", c["cnpj"]),
        "type": "company", "document_type": "CNPJ",
        "address": {"line_1": f"{c['number']}, {c['street']}, {c['bairro']}",
                    "zip_code": c["cep"], "city": "Campinas", "state": "SP", "country": "BR"}}}  # fmt: skip


def _iugu(c: dict[str, str]) -> dict[str, object]:
    """Iugu's invoice payer (POST /v1/invoices)."""
    return {"email": c["email"], "payer": {
        "cpf_cnpj": c["cnpj"], "name": c["name"],
        "address": {"zip_code": c["cep"], "street": c["street"], "number": c["number"],
                    "district": c["bairro"], "city": "Campinas", "state": "SP"}}}  # fmt: skip


def _nfeio(c: dict[str, str]) -> dict[str, object]:
    """NFE.io's NFS-e borrower: its document a JSON number."""
    return {"cityServiceCode": "2690", "borrower": {
        "federalTaxNumber": int(re.sub(r"\D", "", c["cnpj"])), "name": c["name"],
        "address": {"postalCode": c["cep"], "street": c["street"], "number": c["number"],
                    "district": c["bairro"]}}}  # fmt: skip


def _employer(holder: str, document: str) -> Callable[[dict[str, str]], dict[str, object]]:
    def shape(c: dict[str, str]) -> dict[str, object]:
        address = {"logradouro": c["street"], "numero": c["number"], "bairro": c["bairro"],
                   "cep": c["cep"]}  # fmt: skip
        employer = {"nome": c["name"], document: c["cnpj"], "endereco": address}
        return {"cliente": {"nome": "Giancarlo Zanetti", "cpf": "52998224725", holder: employer}}

    return shape


_SHAPES = {
    "slip documento_pagador": lambda c: _slip(c, "documento_pagador"),
    "slip documentoPagador": lambda c: _slip(c, "documentoPagador"),
    "slip doc_pagador": lambda c: _slip(c, "doc_pagador"),
    "asaas": _asaas,
    "pagarme": _pagarme,
    "iugu": _iugu,
    "nfeio": _nfeio,
    "employer trabalho cpfCnpj": _employer("trabalho", "cpfCnpj"),
    "employer localTrabalho documento": _employer("localTrabalho", "documento"),
    "employer dadosProfissionais cpf_cnpj": _employer("dadosProfissionais", "cpf_cnpj"),
    "employer vinculo documento": _employer("vinculo", "documento"),
}


def _leaves(value: object, path: tuple[object, ...] = ()) -> dict[tuple[object, ...], object]:
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in _leaves(item, (*path, key)).items()}
    return {path: value}


def _replaced(c: dict[str, str], body: object, out: object) -> list[str]:
    """The company's name and address parts replaced whole (its document and e-mail
    aside: they go wherever they are)."""
    kept = {c["cnpj"], re.sub(r"\D", "", c["cnpj"]), c["email"]}
    before, after = _leaves(body), _leaves(out)
    return [
        str(value)
        for path, value in before.items()
        if isinstance(value, str)
        and value not in kept
        and is_token(str(after[path]))
        and not any(value in v for v in ("Giancarlo Zanetti", "52998224725"))
    ]


@pytest.mark.parametrize("shape", list(_SHAPES))
def test_a_companys_record_under_a_persons_name_keeps_its_values(shape: str) -> None:
    fake = seeded_faker(401)
    replaced = []
    for _ in range(20):
        c = _company(fake)
        body = _SHAPES[shape](c)
        replaced += _replaced(c, body, _sanitized(body))
    assert replaced == []


def test_the_person_beside_the_employer_still_goes() -> None:
    fake = seeded_faker(402)
    for _ in range(10):
        c = _company(fake)
        out = json.dumps(_sanitized(_employer("trabalho", "cpfCnpj")(c)), ensure_ascii=False)
        assert leaked(out, ["Giancarlo Zanetti", "52998224725", c["cnpj"]]) == []


def _payer(p_name: str, document: str, cep: str, **more: str) -> dict[str, object]:
    return {"pagador": {"nome": p_name, "documento_pagador": document, **more,
                        "endereco": {"logradouro": "Rua Dona Ana Neri", "cep": cep}}}  # fmt: skip


def test_a_persons_payer_record_is_still_a_persons() -> None:
    """A CPF, or a CNPJ beside what only a person has (a birth date), keeps the payer
    a person's: their name and address go."""
    fake = seeded_faker(403)
    leaks = []
    for _ in range(10):
        p = person(fake)
        cpf = re.sub(r"\D", "", p.cpf)
        for body in (_payer(p.name, cpf, p.cep),
                     _payer(p.name, fake.cnpj(), p.cep, dataNascimento=p.birth)):  # fmt: skip
            out = json.dumps(_sanitized(body), ensure_ascii=False)
            leaks += leaked(out, [p.name, p.cep, "Rua Dona Ana Neri"])
    assert leaks == []


def test_a_sole_traders_name_beside_a_cnpj_still_goes() -> None:
    """An MEI's registered name is its holder's: a name that reads as a person's goes."""
    fake = seeded_faker(404)
    leaks = []
    for _ in range(10):
        p = person(fake)
        name = f"{p.first} {p.last}"
        out = json.dumps(_sanitized(_payer(name, fake.cnpj(), p.cep)), ensure_ascii=False)
        leaks += leaked(out, [name])
    assert leaks == []


@pytest.mark.parametrize(
    ("value", "company"),
    [("11222333000181", True), ("11.222.333/0001-81", True), (11222333000181, True),
     ("11222333000182", False), ("52998224725", False), ("00000000000000", False),
     ("", False), (None, False)],
)  # fmt: skip
def test_checked_cnpj(value: object, company: bool) -> None:
    assert record_kinds.checked_cnpj(value) is company


@pytest.mark.parametrize(
    ("members", "company"),
    [({"documento_pagador": "11222333000181"}, True),
     ({"cpfCnpj": "11.222.333/0001-81"}, True),
     ({"documento": "11222333000181", "tipoPessoa": "F"}, False),  # the kind decides
     ({"documento": "52998224725", "tipoPessoa": "J"}, True),
     ({"cpfCnpj": "52998224725"}, False),
     ({"numeroDocumento": "0012345"}, False),  # a slip's own number
     ({"cnpj": "11222333000181"}, False)],  # no member saying whose: its name does
)  # fmt: skip
def test_companys(members: dict[str, object], company: bool) -> None:
    names = tuple(members)
    assert record_kinds.companys(names, lambda i: members[names[i]]) is company


def test_a_list_of_payers_tells_each_row_apart() -> None:
    """A person's row goes and a company's row stays, in either order."""
    fake = seeded_faker(405)
    for _ in range(5):
        p, c = person(fake), _company(fake)
        person_row = _slip({**c, "name": p.name, "cep": p.cep, "cnpj": p.cpf}, "documento")
        company_row = _slip(c, "documento")
        for rows in ([person_row["pagador"], company_row["pagador"]],
                     [company_row["pagador"], person_row["pagador"]]):  # fmt: skip
            out = json.dumps(_sanitized({"pagadores": rows}), ensure_ascii=False)
            assert leaked(out, [p.name, p.cep]) == []
            assert c["name"] in out and c["cep"] in out
