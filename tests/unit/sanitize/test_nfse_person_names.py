"""A record whose own document is a CPF names a person: its razão social
(``RazaoSocial``, ``razao_social``, ``razaoSocial``, São Paulo's ``RazaoSocialTomador``)
is that person's name, replaced whatever it reads as. Before, a razão social was read as
a company's legal name and replaced only when it read as a holder's name, so an NFS-e
tomador's foreign or uncommon name went out ("Dott. Livio Gremese", "Manu de Pelayo").

What must stay: the same records beside a CNPJ (the company's legal name, though the
place's name, ``<Tomador>``, says a person), the prestador's, a company's razão social
beside its partner's ``cpfResponsavel`` or beside both documents (a sole trader's pair).

Shapes from ABRASF 2.01/2.04 (``Tomador``, ``TomadorServico``), GINFES's namespaced
``tipos:`` elements, Betha's ABRASF layout, São Paulo's RPS and Focus NFe's JSON; people
from Faker's es_ES, it_IT, en_US, pt_PT and fr_FR profiles, documents from pt_BR's."""

from __future__ import annotations

import json
import re

import pytest
from faker import Faker
from hypothesis import assume, given
from hypothesis import strategies as st

from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.people import leaked
from tests.unit.sanitize.sanitize_helpers import make_cnpj, request_exchange, sanitizer

SANITIZER = sanitizer()
PRESTADOR = make_cnpj("112223330001")
COMPANY = make_cnpj("998887770001")
_XML, _JSON = "application/xml", "application/json"


def _sanitized(body: str, content_type: str) -> str:
    exchange = request_exchange(body=body, content_type=content_type)
    return SANITIZER.sanitize(exchange).request.body.decode()  # type: ignore[union-attr]


_ADVERSARIAL = [
    "Dott. Livio Gremese",
    "Manu de Pelayo",
    "Sr. Óscar Núñez-Ibáñez",
    "Dña. Rosalía Villanueva",
    "Mary O'Connor-Smith",
    "Lê Văn Thành",
    "Zé do Caixão",
    "Acme Servicos",  # a CPF says a person: whatever the name reads as
]


def _names() -> list[str]:
    out = list(_ADVERSARIAL)
    for i, locale in enumerate(("es_ES", "it_IT", "en_US", "pt_PT", "fr_FR")):
        fake = Faker(locale)
        fake.seed_instance(40 + i)
        out += [fake.name() for _ in range(6)]
    return out


def _cpf(i: int) -> str:
    br = Faker("pt_BR")
    br.seed_instance(i)
    cpf = br.cpf()
    return cpf if i % 2 else re.sub(r"\D", "", cpf)


_ADDRESS = "<Endereco><Endereco>Rua Um</Endereco><Numero>5</Numero><Uf>SP</Uf></Endereco>"
_PRESTADOR_XML = f"<Prestador><CpfCnpj><Cnpj>{PRESTADOR}</Cnpj></CpfCnpj></Prestador>"
# Each shape: (content type, template with {doc} ("Cpf", "CPF", "cpf", or a CNPJ's
# spelling), {number} and {name}).
SHAPES = {
    "abrasf201": (
        _XML,
        "<GerarNfseEnvio><Rps><InfRps><Servico><Discriminacao>Suporte</Discriminacao>"
        f"</Servico>{_PRESTADOR_XML}<Tomador><IdentificacaoTomador><CpfCnpj>"
        "<{doc}>{number}</{doc}></CpfCnpj></IdentificacaoTomador><RazaoSocial>{name}"
        f"</RazaoSocial>{_ADDRESS}</Tomador></InfRps></Rps></GerarNfseEnvio>",
    ),
    "abrasf204": (
        _XML,
        '<GerarNfseEnvio xmlns="http://www.abrasf.org.br/nfse.xsd"><Rps>'
        f"<InfDeclaracaoPrestacaoServico>{_PRESTADOR_XML}<TomadorServico>"
        "<IdentificacaoTomador><CpfCnpj><{doc}>{number}</{doc}></CpfCnpj>"
        "<InscricaoMunicipal>778</InscricaoMunicipal></IdentificacaoTomador>"
        f"<RazaoSocial>{{name}}</RazaoSocial>{_ADDRESS}</TomadorServico>"
        "</InfDeclaracaoPrestacaoServico></Rps></GerarNfseEnvio>",
    ),
    "ginfes": (
        _XML,
        '<EnviarLoteRpsEnvio xmlns:tipos="http://www.ginfes.com.br/tipos_v03.xsd">'
        "<tipos:Rps><tipos:InfRps><tipos:Tomador><tipos:IdentificacaoTomador>"
        "<tipos:CpfCnpj><tipos:{doc}>{number}</tipos:{doc}></tipos:CpfCnpj>"
        "</tipos:IdentificacaoTomador><tipos:RazaoSocial>{name}</tipos:RazaoSocial>"
        "</tipos:Tomador></tipos:InfRps></tipos:Rps></EnviarLoteRpsEnvio>",
    ),
    "betha": (
        _XML,
        "<ConsultarNfseResposta><CompNfse><Nfse><InfNfse><PrestadorServico>"
        f"<IdentificacaoPrestador><Cnpj>{PRESTADOR}</Cnpj></IdentificacaoPrestador>"
        "<RazaoSocial>Betha Sistemas Ltda</RazaoSocial></PrestadorServico><TomadorServico>"
        "<IdentificacaoTomador><CpfCnpj><{doc}>{number}</{doc}></CpfCnpj>"
        "</IdentificacaoTomador><RazaoSocial>{name}</RazaoSocial></TomadorServico>"
        "</InfNfse></Nfse></CompNfse></ConsultarNfseResposta>",
    ),
    "sao_paulo": (
        _XML,
        "<PedidoEnvioRPS><RPS><ChaveRPS><InscricaoPrestador>39616924</InscricaoPrestador>"
        "<NumeroRPS>4105</NumeroRPS></ChaveRPS><ValorServicos>20500</ValorServicos>"
        "<CPFCNPJTomador><{doc}>{number}</{doc}></CPFCNPJTomador>"
        "<RazaoSocialTomador>{name}</RazaoSocialTomador><Discriminacao>Desenvolvimento"
        "</Discriminacao></RPS></PedidoEnvioRPS>",
    ),
    "focus": (
        _JSON,
        '{{"prestador": {{"cnpj": "' + PRESTADOR + '", "inscricao_municipal": "12345"}}, '
        '"tomador": {{"{doc}": "{number}", "razao_social": "{name}", '
        '"email": "contato@example.com"}}, "servico": {{"discriminacao": "Consultoria"}}}}',
    ),
    "focus_either": (
        _JSON,
        '{{"tomador": {{"cpf_cnpj": "{number}", "razao_social": "{name}"}}, '
        '"servico": {{"valor_servicos": 10.0}}}}',
    ),
    "camel_either": (
        _JSON,
        '{{"dados": {{"cpfCnpj": "{number}", "razaoSocial": "{name}", "uf": "SP"}}}}',
    ),
}
_CPF_SPELLING = {"abrasf201": "Cpf", "abrasf204": "Cpf", "ginfes": "Cpf", "betha": "Cpf"}


def _body(shape: str, name: str, number: str, *, company: bool) -> tuple[str, str]:
    content_type, template = SHAPES[shape]
    doc = {"sao_paulo": "CPF", "focus": "cpf"}.get(shape) or _CPF_SPELLING.get(shape, "")
    if company:
        doc = doc.replace("pf", "npj").replace("PF", "NPJ")
    if content_type == _JSON:
        name = json.dumps(name, ensure_ascii=False)[1:-1]
    return template.format(doc=doc, number=number, name=name), content_type


def _companies() -> list[str]:
    out = ["Acme Servicos Ltda", "Manu de Pelayo Ltda", "Gremese Editore S.r.l."]
    for i, locale in enumerate(("pt_BR", "es_ES", "it_IT", "en_US", "pt_PT")):
        fake = Faker(locale)
        fake.seed_instance(60 + i)
        out += [fake.company() for _ in range(6)]
    return out


def _left(names: list[str], *, company: bool) -> list[tuple[str, str]]:
    """The (shape, name) pairs whose name is still in the sanitized body."""
    out = []
    for shape in SHAPES:
        for i, name in enumerate(names):
            number = COMPANY if company else _cpf(i)
            body = _body(shape, name, number, company=company)
            out += [(shape, name) for _ in leaked(_sanitized(*body), [name])]
    return out


def test_a_cpf_records_razao_social_goes_as_the_persons_name() -> None:
    assert _left(_names(), company=False) == []  # 170 of 304 before


def test_a_cnpj_records_company_name_stays() -> None:
    companies = _companies()
    assert len(_left(companies, company=True)) == len(SHAPES) * len(companies)


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_cnpj_tomador_keeps_its_company_name_and_the_note_stays(shape: str) -> None:
    out = _sanitized(*_body(shape, "Acme Servicos Ltda", COMPANY, company=True))
    assert "Acme Servicos Ltda" in out
    for kept in ("Betha Sistemas Ltda", "39616924", "Desenvolvimento", "Consultoria", "12345"):
        if kept in SHAPES[shape][1]:
            assert kept in out


@pytest.mark.parametrize(
    "record",
    [
        {"cnpj": COMPANY, "razaoSocial": "Rossi Comercio de Tecidos Ltda"},
        {"cnpj": COMPANY, "razaoSocial": "Manu de Pelayo Ltda", "cpfResponsavel": _cpf(1)},
        {"cpf": _cpf(2), "cnpj": COMPANY, "razaoSocial": "Padaria Pereira ME"},
        {"tipoPessoa": "J", "cpfCnpj": COMPANY, "razaoSocial": "Dott. Livio Gremese Srl"},
    ],
)
def test_a_companys_razao_social_stays(record: dict[str, str]) -> None:
    body = json.dumps({"tomador": record, "empresa": record}, ensure_ascii=False)
    out = _sanitized(body, _JSON)
    assert out.count(record["razaoSocial"]) == 2


def test_an_nfe_emitters_name_beside_a_cnpj_stays() -> None:
    body = f"<NFe><infNFe><emit><CNPJ>{COMPANY}</CNPJ><xNome>Livio Gremese Ltda</xNome></emit></infNFe></NFe>"
    assert "Livio Gremese Ltda" in _sanitized(body, _XML)


_RAZAO = re.compile(r"<RazaoSocial>(.*?)</RazaoSocial>")


@given(
    st.text(
        st.characters(categories=("Lu", "Ll"), max_codepoint=0x24F) | st.sampled_from(" .'-"),
        min_size=2,
        max_size=30,
    ),
    st.booleans(),
)
def test_any_name_beside_a_cpf_is_replaced(name: str, formatted: bool) -> None:
    name = name.strip()
    assume(any(c.isalpha() for c in name) and not is_token(name))
    number = _cpf(1 if formatted else 2)
    out = _sanitized(_body("abrasf201", name, number, company=False)[0], _XML)
    assert _RAZAO.findall(out) != [name]


RULED = sanitizer(sanitize_fields={"codigoCliente": "rg"})


def _ruled(body: str, content_type: str) -> str:
    exchange = request_exchange(body=body, content_type=content_type)
    return RULED.sanitize(exchange).request.body.decode()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    "shape", ["focus", "focus_either", "camel_either", "abrasf204", "sao_paulo"]
)
def test_with_the_users_field_rules_the_document_still_decides(shape: str) -> None:
    """A walk with the user's rules plans each object itself (cpf_or_cnpj.with_either):
    a "tomador" by its name alone still reads its ``cpf_cnpj``."""
    person = _ruled(*_body(shape, "Manu de Pelayo", _cpf(3), company=False))
    assert leaked(person, ["Manu de Pelayo"]) == []
    company = _ruled(*_body(shape, "Acme Servicos Ltda", COMPANY, company=True))
    assert "Acme Servicos Ltda" in company
