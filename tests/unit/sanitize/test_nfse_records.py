"""An NFS-e's tomador is whose the document in its identification wrapper says: ABRASF
2.04's ``<TomadorServico><IdentificacaoTomador><CpfCnpj><Cpf>`` (two levels below the
record) makes it a person's, so their street, bairro and CEP go out as a ``<Cpf>``
child's would make them; a JSON API's ``identificacao_tomador: {cpf_cnpj: {cpf}}`` the
same, and NFE.io's ``borrower.federalTaxNumber`` holds either document. Before, the
tomador's address beside a CPF two levels down stayed (ABRASF 2.04: 79 of 240 planted
values on the corpus below).

What must stay: a tomador whose wrapper holds a CNPJ (its legal name, its address as
its other members make it), the prestador, the service's description, municipal codes
and values; ``IdentificacaoRps`` and a bare ``id`` are no wrapper. An HTML page's
``<!DOCTYPE html>`` no longer opens the record reading.

People from Faker's es_ES and it_IT profiles, documents and CEPs from pt_BR's."""

from __future__ import annotations

import json
import re

import pytest
from faker import Faker
from hypothesis import given
from hypothesis import strategies as st

from ext_proc_server.sanitize import cpf_or_cnpj, record_kinds
from tests.unit.sanitize.people import leaked
from tests.unit.sanitize.sanitize_helpers import make_cnpj, request_exchange, sanitizer

SANITIZER = sanitizer()
CNPJ = make_cnpj("112223330001")


def _sanitized(body: str, content_type: str) -> str:
    exchange = request_exchange(body=body, content_type=content_type)
    return SANITIZER.sanitize(exchange).request.body.decode()  # type: ignore[union-attr]


def _people(seed: int, count: int = 8) -> list[dict[str, str]]:
    br = Faker("pt_BR")
    br.seed_instance(seed)
    foreign = [Faker("es_ES"), Faker("it_IT")]
    for i, fake in enumerate(foreign):
        fake.seed_instance(seed + i + 1)
    return [
        {
            "cpf": re.sub(r"\D", "", br.cpf()) if i % 2 else br.cpf(),
            "name": foreign[i % 2].name(),
            "street": br.street_name(),
            "bairro": br.bairro(),
            "cep": br.postcode(formatted=False),
        }
        for i in range(count)
    ]


# ABRASF 2.04's GerarNfseEnvio (element names from its nfse.xsd): the tomador under
# <TomadorServico>, its document in <IdentificacaoTomador><CpfCnpj>.
_ABRASF_204 = (
    '<GerarNfseEnvio xmlns="http://www.abrasf.org.br/nfse.xsd"><Rps>'
    '<InfDeclaracaoPrestacaoServico Id="r{i}"><Rps><IdentificacaoRps><Numero>{i}</Numero>'
    "<Serie>A1</Serie><Tipo>1</Tipo></IdentificacaoRps><DataEmissao>2024-03-01</DataEmissao>"
    "<Status>1</Status></Rps><Competencia>2024-03-01</Competencia><Servico><Valores>"
    "<ValorServicos>1500.00</ValorServicos><Aliquota>2.00</Aliquota></Valores>"
    "<IssRetido>2</IssRetido><ItemListaServico>01.07</ItemListaServico>"
    "<Discriminacao>Suporte tecnico mensal</Discriminacao><CodigoMunicipio>3550308"
    "</CodigoMunicipio><ExigibilidadeISS>1</ExigibilidadeISS></Servico><Prestador><CpfCnpj>"
    "<Cnpj>{cnpj}</Cnpj></CpfCnpj><InscricaoMunicipal>12345</InscricaoMunicipal></Prestador>"
    "<TomadorServico><IdentificacaoTomador><CpfCnpj><{doc}>{cpf}</{doc}></CpfCnpj>"
    "<InscricaoMunicipal>778</InscricaoMunicipal></IdentificacaoTomador>"
    "<RazaoSocial>{name}</RazaoSocial><Endereco><Endereco>{street}</Endereco>"
    "<Numero>120</Numero><Bairro>{bairro}</Bairro><CodigoMunicipio>3550308</CodigoMunicipio>"
    "<Uf>SP</Uf><Cep>{cep}</Cep></Endereco></TomadorServico>"
    "<OptanteSimplesNacional>2</OptanteSimplesNacional></InfDeclaracaoPrestacaoServico>"
    "</Rps></GerarNfseEnvio>"
)


def _abrasf(person: dict[str, str], i: int, doc: str = "Cpf") -> str:
    return _ABRASF_204.format(i=i, cnpj=CNPJ, doc=doc, **person)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_abrasf_tomador_with_a_cpf_two_levels_down_loses_its_address(seed: int) -> None:
    for i, person in enumerate(_people(seed)):
        out = _sanitized(_abrasf(person, i), "application/xml")
        assert leaked(out, [person["street"], person["bairro"], person["cep"]]) == []


def test_abrasf_tomador_with_a_cnpj_and_the_rest_of_the_note_stay() -> None:
    company = {"cpf": make_cnpj("998887770001"), "name": "Acme Servicos Ltda"}
    body = _abrasf({**_people(0)[0], **company}, 1, doc="Cnpj")
    out = _sanitized(body, "application/xml")
    for kept in ("Acme Servicos Ltda", "Suporte tecnico mensal", "3550308", "1500.00", "01.07"):
        assert kept in out
    assert "<InscricaoMunicipal>12345</InscricaoMunicipal>" in out  # the prestador's


def _api_body(shape: str, person: dict[str, str]) -> dict:
    address = {"logradouro": person["street"], "bairro": person["bairro"], "cep": person["cep"]}
    if shape == "wrapped":  # ABRASF's layout written as JSON, under a neutral holder
        return {
            "dadosServico": {
                "identificacao_tomador": {"cpf_cnpj": {"cpf": person["cpf"]}},
                "nome": person["name"],
                "endereco": address,
            },
            "servico": {"discriminacao": "Consultoria", "valor_servicos": 10.0},
        }
    # NFE.io's service invoice: the borrower's federalTaxNumber holds either document.
    return {
        "borrower": {
            "federalTaxNumber": int(re.sub(r"\D", "", person["cpf"])),
            "name": person["name"],
            "address": {
                "postalCode": person["cep"],
                "street": person["street"],
                "district": person["bairro"],
            },
        },
        "cityServiceCode": "2690",
        "description": "Consultoria",
    }


@pytest.mark.parametrize("shape", ["wrapped", "nfeio"])
def test_json_tomador_is_whose_its_document_says(shape: str) -> None:
    for person in _people(3):
        out = _sanitized(json.dumps(_api_body(shape, person)), "application/json")
        assert leaked(out, [person["name"], person["street"], person["cep"]]) == []
        assert "Consultoria" in out


def test_json_borrower_with_a_cnpj_keeps_its_name() -> None:
    body = _api_body("nfeio", {**_people(4)[0], "cpf": CNPJ, "name": "Acme Servicos Ltda"})
    out = _sanitized(json.dumps(body), "application/json")
    assert "Acme Servicos Ltda" in out and "2690" in out


@pytest.mark.parametrize(
    ("name", "role"),
    [
        ("IdentificacaoTomador", record_kinds.WRAPPER),
        ("identificacao_tomador", record_kinds.WRAPPER),
        ("IdTomador", record_kinds.WRAPPER),
        ("IdentificacaoPrestador", record_kinds.WRAPPER),
        ("IdentificacaoRps", None),
        ("IdentificacaoNfse", None),
        ("id", None),
        ("idServico", None),
        ("federalTaxNumber", record_kinds.EITHER),
    ],
)
def test_member_roles_of_wrappers(name: str, role: str | None) -> None:
    assert record_kinds.member_role(name) == role


def test_an_html_page_without_a_document_name_skips_the_record_reading() -> None:
    page = "<!DOCTYPE html><html><body><p>Pedido 1</p></body></html>"
    assert not cpf_or_cnpj.may_name_record(page)
    assert not cpf_or_cnpj.may_name_record(page.replace("DOCTYPE", "doctype"))
    assert cpf_or_cnpj.may_name_record(page.replace("<p>", "<p data-doc='1'>"))
    assert cpf_or_cnpj.may_name_record("<r><docType>CPF</docType></r>")


_NAMES = ("IdentificacaoTomador", "RazaoSocial")


@given(st.text("0123456789", min_size=14, max_size=14))
def test_a_cnpj_in_the_wrapper_never_makes_a_person(digits: str) -> None:
    wrapper = [("CpfCnpj", [("Cnpj", digits)]), ("InscricaoMunicipal", "778")]
    values = (wrapper, "Acme Servicos Ltda")
    assert not record_kinds.persons(_NAMES, values.__getitem__)


@given(st.text("0123456789", min_size=11, max_size=11))
def test_a_cpf_in_the_wrapper_makes_a_person(digits: str) -> None:
    values = ([("CpfCnpj", [("Cpf", digits)])], "Maria")
    assert record_kinds.persons(_NAMES, values.__getitem__)
    assert record_kinds.persons(_NAMES, ({"cpf_cnpj": digits}, "Maria").__getitem__)
