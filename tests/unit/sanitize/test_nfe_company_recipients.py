"""An NF-e's recipient holding a <CNPJ> is a company: its name and address stay; one
holding a <CPF> loses them; a sole trader's razão social (the owner's name) goes."""

from __future__ import annotations

import pytest
from faker import Faker

from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

_SANITIZER = sanitizer()
_FAKER = Faker("pt_BR")
_FAKER.seed_instance(20261207)


def _digits(text: str) -> str:
    return "".join(c for c in text if c.isdigit())


def _nfe(document: str, name: str, street: str, bairro: str, cep: str, model: str) -> str:
    return (
        '<nfeProc xmlns="http://www.portalfiscal.inf.br/nfe" versao="4.00"><NFe><infNFe>'
        f"<ide><mod>{model}</mod></ide><emit><CNPJ>{_digits(_FAKER.cnpj())}</CNPJ>"
        f"<xNome>{_FAKER.company()}</xNome></emit><dest>{document}<xNome>{name}</xNome>"
        f"<enderDest><xLgr>{street}</xLgr><nro>1234</nro><xBairro>{bairro}</xBairro>"
        "<cMun>3550308</cMun><xMun>Sao Paulo</xMun><UF>SP</UF>"
        f"<CEP>{cep}</CEP></enderDest><indIEDest>1</indIEDest></dest></infNFe></NFe></nfeProc>"
    )


def _sanitized(body: str) -> str:
    exchange = request_exchange(body=body, content_type="application/xml", path="/v1/nfe")
    return _SANITIZER.sanitize(exchange).request.body.decode()


def _recipients(count: int) -> list[tuple[str, str, str, str]]:
    return [
        (_FAKER.street_name(), _FAKER.bairro(), _digits(_FAKER.postcode()), model)
        for model in ("55", "65")
        for _ in range(count)
    ]


@pytest.mark.parametrize(("street", "bairro", "cep", "model"), _recipients(6))
def test_a_company_recipients_address_stays(street: str, bairro: str, cep: str, model: str) -> None:
    company = _FAKER.company()
    while not company.endswith(("Ltda.", "S.A.", "S/A", "EIRELI")):
        company = _FAKER.company()  # a company's name a person's never reads as
    document = f"<CNPJ>{_digits(_FAKER.cnpj())}</CNPJ>"
    out = _sanitized(_nfe(document, company, street, bairro, cep, model))
    for value in (company, street, bairro, cep):
        assert f">{value}<" in out, value


@pytest.mark.parametrize(("street", "bairro", "cep", "model"), _recipients(6))
def test_a_person_recipient_loses_name_and_address(
    street: str, bairro: str, cep: str, model: str
) -> None:
    name = f"{_FAKER.first_name()} {_FAKER.last_name()}"
    document = f"<CPF>{_digits(_FAKER.cpf())}</CPF>"
    out = _sanitized(_nfe(document, name, street, bairro, cep, model))
    for value in (name, street, cep):
        assert f">{value}<" not in out, value


@pytest.mark.parametrize("form", ["{name} - ME", "{name} {cpf}", "{upper} ME", "{name} MEI"])
def test_a_sole_traders_name_under_a_cnpj_goes(form: str) -> None:
    name = f"{_FAKER.first_name()} {_FAKER.last_name()}"
    razao = form.format(name=name, upper=name.upper(), cpf=_digits(_FAKER.cpf()))
    document = f"<CNPJ>{_digits(_FAKER.cnpj())}</CNPJ>"
    out = _sanitized(_nfe(document, razao, "Rua Ema", "Centro", "18208123", "55"))
    assert razao not in out  # as on a person's record: the owner's name


def test_a_cte_sender_with_a_cnpj_keeps_its_address() -> None:
    street, company = _FAKER.street_name(), "Transportes Exemplo Ltda."
    body = (
        '<cteProc xmlns="http://www.portalfiscal.inf.br/cte"><CTe><infCte>'
        f"<rem><CNPJ>{_digits(_FAKER.cnpj())}</CNPJ><xNome>{company}</xNome><enderReme>"
        f"<xLgr>{street}</xLgr><nro>12</nro><xBairro>Centro</xBairro><CEP>01310100</CEP>"
        "</enderReme></rem></infCte></CTe></cteProc>"
    )
    out = _sanitized(body)
    assert f">{street}<" in out and f">{company}<" in out


# Razões sociais of companies with a size mark, as nfelib's published samples write them.
_FIRMS_WITH_MARKS = (
    "COMERCIO DE PRODUTOS ALIMENTICIOS LTDA ME",
    "FRICAL FRIGORIFICO LTDA EPP",
    "Teste Produtos Médicos Ltda - ME",
    "P J TOSTA TRANSPORTES ME",
)


@pytest.mark.parametrize("razao", _FIRMS_WITH_MARKS)
def test_a_firms_name_with_a_size_mark_stays(razao: str) -> None:
    document = f"<CNPJ>{_digits(_FAKER.cnpj())}</CNPJ>"
    out = _sanitized(_nfe(document, razao, "Rua Ema", "Centro", "18208123", "55"))
    assert f">{razao}<" in out
