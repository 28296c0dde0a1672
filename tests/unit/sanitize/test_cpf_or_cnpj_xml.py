"""An XML record is whose its document or its kind says, as a JSON object is: a CPF
under ``<documento>`` or ``<numeroDocumento>``, ``<tipoPessoa>F</tipoPessoa>``,
CNAB's ``tipoInscricao="1"`` beside ``numeroInscricao``, and a kind one level down
(``<tipo_pessoa><codigo_tipo_pessoa>F</codigo_tipo_pessoa>…``, Itaú's cobrança
shape). Before, xml_fields read only names of either document (``<cpfCnpj>``): the
name, CEP and contacts beside these went out when nothing else in the record named a
person (on the shapes below, 30 of the 240 values planted; a registration whose
street and name read as a person's lost them before too).

What must stay: a company's kind or CNPJ keeps its record; a slip's number beside
its issuer's CNPJ; eSocial's employer inscription (its ``tpInsc`` 1 is a CNPJ, not
CNAB's CPF); NF-e's issuer; an HTML page that speaks of documents.

People from Faker's es_ES and it_IT profiles, documents and CEPs from pt_BR's."""

from __future__ import annotations

import re

import pytest

from tests.unit.sanitize.people import foreign_fakers, leaked
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()


def _xml(body: str, content_type: str = "application/xml") -> str:
    exchange = request_exchange(body=body, content_type=content_type)
    return SANITIZER.sanitize(exchange).request.body.decode()  # type: ignore[union-attr]


def _people(seed: int, count: int = 12) -> list[dict[str, str]]:
    br, foreign = foreign_fakers(seed)
    return [
        {
            "cpf": re.sub(r"\D", "", br.cpf()) if i % 2 else br.cpf(),
            "name": foreign[i % 2].name(),
            "street": br.street_address(),
            "cep": br.postcode(formatted=False),
            "phone": br.cellphone_number(),
        }
        for i in range(count)
    ]


# A slip's registration as cobrança web services write the payer: kind and document
# as elements (Inter's and Sicredi's fields), inside a neutral <cadastro>.
_REGISTRATION = (
    "<registro><titulo><seuNumero>{i}</seuNumero><valor>150.00</valor></titulo>"
    "<cadastro><tipoPessoa>{kind}</tipoPessoa><{doc}>{cpf}</{doc}><nome>{name}</nome>"
    "<logradouro>{street}</logradouro><cep>{cep}</cep><fone>{phone}</fone></cadastro></registro>"
)


@pytest.mark.parametrize("doc", ["documento", "numeroDocumento", "docNumber"])
@pytest.mark.parametrize("kind", ["F", "FISICA", "PESSOA_FISICA"])
def test_a_persons_kind_and_document_in_elements(doc: str, kind: str) -> None:
    leaks = []
    for i, p in enumerate(_people(91, 4)):
        out = _xml(_REGISTRATION.format(i=i, kind=kind, doc=doc, **p))
        leaks += leaked(out, [p["cpf"], p["name"], p["street"], p["cep"], p["phone"]])
    assert leaks == []


def test_a_cpf_under_a_document_name_alone_decides() -> None:
    """No kind: the CPF's check digits say it is one (a slip's own number is another)."""
    leaks = []
    for p in _people(92, 6):
        body = (
            f"<clientes><item><documento>{p['cpf']}</documento><nome>{p['name']}</nome>"
            f"<cep>{p['cep']}</cep></item></clientes>"
        )
        leaks += leaked(_xml(body), [p["name"], p["cep"]])
    assert leaks == []


def test_a_cnab_inscription_in_attributes() -> None:
    """A CNAB remittance's payer written as attributes, namespaced as SOAP writes them."""
    leaks = []
    for i, p in enumerate(_people(93, 6)):
        kind = "1" if i % 2 else "CPF"
        body = (
            '<ns:lote xmlns:ns="urn:cobranca"><ns:registro ns:tipoInscricao="{}" '
            'ns:numeroInscricao="{cpf}" nome="{name}" cep="{cep}" telefone="{phone}"/></ns:lote>'
        ).format(kind, **p)
        leaks += leaked(_xml(body, "text/xml"), [p["cpf"], p["name"], p["cep"], p["phone"]])
    assert leaks == []


def test_a_kind_one_level_down() -> None:
    """Itaú's shape written as XML: the kind and the CPF in <tipo_pessoa>."""
    leaks = []
    for p in _people(94, 6):
        body = (
            f"<dados><registro><nome>{p['name']}</nome><tipo_pessoa>"
            "<codigo_tipo_pessoa>F</codigo_tipo_pessoa>"
            f"<numero_cadastro_pessoa_fisica>{p['cpf']}</numero_cadastro_pessoa_fisica>"
            f"</tipo_pessoa><cep>{p['cep']}</cep></registro></dados>"
        )
        leaks += leaked(_xml(body), [p["name"], p["cep"], p["cpf"]])
    assert leaks == []


def test_a_kind_escaped_or_in_cdata() -> None:
    body = (
        "<cadastro><tipoPessoa>F&#205;SICA</tipoPessoa><nome>Giancarlo Zanetti</nome>"
        "<cep>61318-609</cep></cadastro>"
        "<cadastro><documento><![CDATA[529.982.247-25]]></documento>"
        "<nome>Mirella Bonaventura</nome><cep>40015-970</cep></cadastro>"
    )
    out = _xml(f"<lista>{body}</lista>")
    assert leaked(out, ["Giancarlo Zanetti", "61318-609", "Mirella Bonaventura", "40015-970"]) == []


# -- what must stay -----------------------------------------------------------------


@pytest.mark.parametrize(
    "record",
    [
        "<tipoPessoa>J</tipoPessoa><documento>11.222.333/0001-81</documento>",
        "<tipoPessoa>JURIDICA</tipoPessoa><documento>52998224725</documento>",  # the kind decides
        "<tipoInscricao>2</tipoInscricao><numeroInscricao>11222333000181</numeroInscricao>",
        "<tipo_pessoa><codigo_tipo_pessoa>J</codigo_tipo_pessoa>"
        "<numero_cadastro_nacional_pessoa_juridica>11222333000181"
        "</numero_cadastro_nacional_pessoa_juridica></tipo_pessoa>",
        "<numeroDocumento>52998224725</numeroDocumento><cnpjEmpresa>11222333000181</cnpjEmpresa>",
    ],
)
def test_a_companys_record_keeps_its_name_and_cep(record: str) -> None:
    body = f"<dados><cadastro>{record}<nome>Duarte Comércio Ltda</nome><cep>13186-091</cep></cadastro></dados>"
    out = _xml(body)
    assert "Duarte Comércio Ltda" in out and "13186-091" in out


def test_esocials_employer_inscription_is_a_companys() -> None:
    """eSocial's tpInsc 1 is a CNPJ (2 a CPF): its names are not CNAB's."""
    body = (
        '<eSocial xmlns="http://www.esocial.gov.br/schema/evt/evtInfoEmpregador/v_S_01_02_00">'
        "<evtInfoEmpregador><ideEmpregador><tpInsc>1</tpInsc><nrInsc>11222333</nrInsc>"
        "</ideEmpregador><infoEmpregador><inclusao><infoCadastro><nmRazao>Duarte Comércio Ltda"
        "</nmRazao><classTrib>99</classTrib></infoCadastro></inclusao></infoEmpregador>"
        "</evtInfoEmpregador></eSocial>"
    )
    out = _xml(body)
    assert "Duarte Comércio Ltda" in out and "<nrInsc>11222333</nrInsc>" in out


def test_nfe_reads_as_before() -> None:
    body = (
        "<NFe><infNFe><emit><CNPJ>11222333000181</CNPJ><xNome>Duarte Comércio Ltda</xNome>"
        "<enderEmit><xLgr>Rua Industrial</xLgr><CEP>13186091</CEP></enderEmit></emit>"
        "<dest><CPF>52998224725</CPF><xNome>Giancarlo Zanetti</xNome><enderDest>"
        "<xLgr>Rua das Flores</xLgr><CEP>61318609</CEP></enderDest></dest></infNFe></NFe>"
    )
    out = _xml(body)
    assert "Duarte Comércio Ltda" in out and "13186091" in out
    assert leaked(out, ["Giancarlo Zanetti", "61318609"]) == []


def test_a_page_that_speaks_of_documents_keeps_a_companys_row() -> None:
    body = (
        "<!DOCTYPE html><html><body><p>Envie o documento da empresa</p><table><tr><th>Tipo"
        "</th><th>Documento</th><th>Empresa</th><th>CEP</th></tr><tr><td>J</td>"
        "<td>11.222.333/0001-81</td><td>Duarte Comércio Ltda</td><td>13186-091</td></tr>"
        "</table></body></html>"
    )
    out = _xml(body, "text/html")
    assert "Duarte Comércio Ltda" in out and "13186-091" in out
