"""A record is whose its document or its kind says, under the names payment and bank
APIs give them: a CPF under a name that says only "document" (``documento``,
``numeroDocumento``, ``docNumber``), a kind member (Asaas' ``personType``, Inter's
``tipoPessoa``, Banco do Brasil's and CNAB's ``tipoInscricao``, Pagar.me's ``type``
and ``document_type``). Before, the CEP, name and contacts beside them went out in
every format (on the corpora below: 606 of 606 values planted beside a CPF under
such a name in the 19 formats besides XML's, 704 beside a kind, 661 beside an
inscription). XML's elements and attributes were read so later: before, 244 of 1,200
values planted beside 40 people's documents, kinds and inscriptions there went out.

A bank slip's own "número do documento" is named so too: a CPF's check digits pass
for one random 11-digit number in 100 (2,012 of 200,000), and a record that names a
CNPJ (its issuer's) stays a company's whatever its slip number is.

People from Faker's es_ES and it_IT profiles (names the name lists may not know),
their documents, CEPs and phones from pt_BR's; companies from pt_BR's."""

from __future__ import annotations

import json
import re

import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.run import is_token
from ext_proc_server.sanitize.validators import cpf_valid
from tests.unit.sanitize.people import foreign_fakers, leaked
from tests.unit.sanitize.sanitize_helpers import (
    fmt_cnpj,
    fmt_cpf,
    make_cnpj,
    make_cpf,
    sanitizer,
)
from tests.unit.sanitize.test_cpf_or_cnpj_formats import (
    CEPS,
    FORMATS,
    NAME_WORDS,
    Pairs,
    planted_fields,
    sanitized_request,
)

SANITIZER = sanitizer()
DOCUMENT_KEYS = (
    "documento", "nrDocumento", "numeroDocumento", "docNumber", "document", "documentNumber",
    "documento_pagador",
)  # fmt: skip
# Every format, XML's elements and attributes too (before, xml_fields read only names
# of either document).
TEXT_FORMATS = sorted(FORMATS)
Pairs = Pairs


def _json(document: object) -> str:
    return sanitized_request(body=json.dumps(document, ensure_ascii=False)).body.decode()


def _people(count: int, seed: int) -> list[tuple[str, Pairs]]:
    """Each person's CPF (formatted or bare) and the fields planted beside it."""
    br, foreign = foreign_fakers(seed)
    people = []
    for i in range(count):
        fake = foreign[i % 2]
        cpf = br.cpf()
        planted = planted_fields(fake, br)
        people.append((cpf if i % 3 else re.sub(r"\D", "", cpf), planted))
    return people


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_a_cpf_under_a_document_name_makes_the_record_a_persons(fmt: str) -> None:
    leaks = []
    for i, (cpf, planted) in enumerate(_people(20, seed=81)):
        out = FORMATS[fmt]([(DOCUMENT_KEYS[i % len(DOCUMENT_KEYS)], cpf), *planted])
        leaks += leaked(out, [value for _, value in planted])
    assert leaks == []


# A kind member with each value the APIs write: Inter's and Sicoob's "FISICA", Asaas'
# personType, a form's "PF", accented as people type it.
KINDS = (("tipoPessoa", "F"), ("personType", "FISICA"), ("tipo_pessoa", "PF"),
         ("tipoPessoa", "FÍSICA"))  # fmt: skip


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_a_persons_kind_makes_the_record_a_persons_without_its_document(fmt: str) -> None:
    """Asaas keeps a customer without a CPF; the kind alone says whose it is."""
    leaks = []
    for i, (_, planted) in enumerate(_people(20, seed=82)):
        out = FORMATS[fmt]([KINDS[i % len(KINDS)], *planted])
        leaks += leaked(out, [value for _, value in planted])
    assert leaks == []


@pytest.mark.parametrize("fmt", TEXT_FORMATS)
def test_an_inscription_of_type_1_is_a_persons(fmt: str) -> None:
    """CNAB's and Banco do Brasil's inscription: type 1 (or "CPF") and its number."""
    leaks = []
    for i, (cpf, planted) in enumerate(_people(20, seed=83)):
        kind = ("tipoInscricao", "1" if i % 2 else "CPF")
        number = ("numeroInscricao" if i % 3 else "inscricao", cpf)
        leaks += leaked(FORMATS[fmt]([kind, number, *planted]), [v for _, v in planted])
    assert leaks == []


def _companies(count: int, seed: int) -> list[tuple[str, str, str]]:
    br = Faker("pt_BR")
    br.seed_instance(seed)
    return [
        (br.cnpj(), f"{br.last_name()} {br.company_suffix()}", br.postcode()) for _ in range(count)
    ]


@pytest.mark.parametrize("fmt", sorted(FORMATS))
@pytest.mark.parametrize(
    "kind",
    [None, ("tipoPessoa", "J"), ("personType", "JURIDICA"), ("tipoInscricao", "2"),
     ("tipo_pessoa", "PJ")],
)  # fmt: skip
def test_a_companys_record_keeps_its_name_and_cep(fmt: str, kind: tuple[str, str] | None) -> None:
    """A CNPJ under a document's name, with or beside a company's kind: the record
    reads as it did (``documento_pagador`` aside: its payer's role makes it a
    person's by its name alone, as before)."""
    changed = []
    for i, (cnpj, company, cep) in enumerate(_companies(20, seed=84)):
        pairs = [
            (DOCUMENT_KEYS[i % (len(DOCUMENT_KEYS) - 1)], cnpj),
            ("nome", company),
            ("cep", cep),
        ]
        out = FORMATS[fmt]([kind, *pairs] if kind else pairs)
        if company not in out or cep not in out:
            changed.append((pairs, out))
    assert changed == []


def test_the_kind_decides_over_the_document() -> None:
    """A company's kind beside a CPF-shaped number under ``cpfCnpj`` (a partner's
    number, a typo) keeps the company's record; a person's kind beside a masked
    document (``***.456.789-**``, as receipts print it) makes the record a person's."""
    company = _json({"cpfCnpj": "52998224725", "tipoPessoa": "J", "nome": "Duarte Ltda",
                     "cep": "13186-091"})  # fmt: skip
    assert "Duarte Ltda" in company and "13186-091" in company
    person = _json({"documento": "***.982.247-**", "tipoPessoa": "FISICA",
                    "nome": "Giancarlo Zanetti", "cep": "61318-609"})  # fmt: skip
    assert leaked(person, ["Giancarlo Zanetti", "61318-609"]) == []


def test_an_unknown_kind_leaves_the_document_to_decide() -> None:
    out = _json({"type": "boleto", "document": "529.982.247-25", "nome": "Giancarlo Zanetti",
                 "cep": "61318-609"})  # fmt: skip
    assert leaked(out, ["Giancarlo Zanetti", "61318-609"]) == []
    out = _json({"type": "boleto", "document": "4512", "nome": "Mensalidade", "cep": "61318-609"})
    assert "Mensalidade" in out and "61318-609" in out


# -- bank slips: their own "document number" -------------------------------------


def test_one_random_slip_number_in_a_hundred_passes_a_cpfs_check() -> None:
    """The measure behind reading a bare 11-digit "document" as a CPF only by its check
    digits: about one slip number in a hundred passes, whatever the issuer's counter."""
    passed = sum(cpf_valid(f"{n:011d}") for n in range(10**10, 10**10 + 100_000))
    assert passed == 1000


def _slip(number: str, i: int) -> dict[str, object]:
    """A company's slip as an issuer's API lists it: its number under numeroDocumento,
    its issuer's CNPJ beside it."""
    return {
        "numeroDocumento": number,
        "nossoNumero": f"{109000 + i:011d}",
        "dataVencimento": "2026-12-20",
        "valor": 150.0,
        "empresa": "Duarte Comércio Ltda",
        "cnpjEmpresa": "11.222.333/0001-81",
        "cep": "13186-091",
        "nome": "Mensalidade dezembro",
    }


@settings(max_examples=80, deadline=None)
@given(base=st.text("0123456789", min_size=9, max_size=9).filter(lambda d: len(set(d)) > 1))
def test_a_companys_slip_keeps_its_data_whatever_its_number(base: str) -> None:
    """A slip number that passes a CPF's check (one in a hundred) beside the issuer's
    CNPJ leaves the company's name, its CEP and the slip's description as they were."""
    out = _json({"titulos": [_slip(make_cpf(base), 0)]})
    assert all(v in out for v in ("Duarte Comércio Ltda", "13186-091", "Mensalidade dezembro"))


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_companys_slip_keeps_its_data_in_every_format(fmt: str) -> None:
    """A slip's number passing a CPF's check (529.982.247-25's digits, 123.456.789-09's)
    beside the issuer's CNPJ: the company's name, CEP and the slip's text stay."""
    for number in ("52998224725", "12345678909", "000123"):
        out = FORMATS[fmt](
            [("numeroDocumento", number), ("cnpjEmpresa", "11.222.333/0001-81"),
             ("empresa", "Duarte Comércio Ltda"), ("cep", "13186-091"),
             ("descricao", "Mensalidade dezembro")]
        )  # fmt: skip
        assert all(v in out for v in ("Duarte Comércio Ltda", "13186-091", "Mensalidade dezembro"))


@pytest.mark.parametrize("number", ["000123", "NF-4512", "2026/000981", "45120981"])
def test_a_slips_own_number_stays(number: str) -> None:
    out = _json({"boletos": [_slip(number, 1)], "total": 1})
    assert f'"numeroDocumento": "{number}"' in out
    assert "Duarte Comércio Ltda" in out and "13186-091" in out


# -- real payloads ---------------------------------------------------------------


def _asaas_customer(fake: Faker, br: Faker, cpf_cnpj: str | None, kind: str) -> dict[str, object]:
    """A customer as Asaas' GET /v3/customers lists it."""
    return {
        "object": "customer", "id": f"cus_{br.numerify('############')}",
        "dateCreated": "2026-11-02", "name": fake.name(), "email": fake.free_email(),
        "phone": br.phone_number(), "mobilePhone": br.cellphone_number(),
        "address": br.street_name(), "addressNumber": br.building_number(), "complement": "",
        "province": br.bairro(), "postalCode": br.postcode(formatted=False), "cpfCnpj": cpf_cnpj,
        "personType": kind, "deleted": False, "additionalEmails": None,
        "externalReference": None, "notificationDisabled": False, "city": 15873,
        "state": br.estado_sigla(), "country": "Brasil", "observations": None,
    }  # fmt: skip


def _pagarme_customer(fake: Faker, br: Faker, cpf: str) -> dict[str, object]:
    """A customer as Pagar.me's v5 GET /core/v5/customers lists it."""
    return {
        "id": f"cus_{br.lexify('????????????????')}", "name": fake.name(),
        "email": fake.free_email(), "code": br.numerify("CLI-#####"), "document": cpf,
        "document_type": "CPF", "type": "individual", "delinquent": False,
        "address": {"id": f"addr_{br.lexify('????????')}", "line_1": br.street_address(),
                    "line_2": "apto 12", "zip_code": br.postcode(formatted=False),
                    "city": br.city(), "state": br.estado_sigla(), "country": "BR",
                    "status": "active"},
        "created_at": "2026-11-02T10:00:00Z", "updated_at": "2026-11-02T10:00:00Z",
        "phones": {"mobile_phone": {"country_code": "55", "area_code": "21",
                                    "number": br.numerify("9########")}},
    }  # fmt: skip


def _bb_slip(fake: Faker, br: Faker, cpf: str) -> dict[str, object]:
    """A slip as Banco do Brasil's cobrança API details it (GET /boletos/{id}): the
    payer's fields flat beside the slip's, CNAB's inscription type among them."""
    return {
        "codigoLinhaDigitavel": br.numerify("#" * 47), "textoEmailPagador": fake.free_email(),
        "codigoTipoInscricaoSacado": 1, "numeroInscricaoSacadoCobranca": int(cpf),
        "nomeSacadoCobranca": fake.name(), "textoEnderecoSacadoCobranca": br.street_address(),
        "nomeBairroSacadoCobranca": br.bairro(), "nomeMunicipioSacadoCobranca": br.city(),
        "siglaUnidadeFederacaoSacadoCobranca": br.estado_sigla(),
        "numeroCepSacadoCobranca": int(br.postcode(formatted=False)),
        "valorAtualTituloCobranca": 150.0, "dataVencimentoTituloCobranca": "20.12.2026",
    }  # fmt: skip


_NOT_PLANTED = {"FISICA", "CPF", "individual", "BR", "active", "Brasil", "apto 12"}


def _planted(record: object) -> list[str]:
    """A person's values (strings and the digits of numbers) but the kinds, ids and
    dates a record carries."""
    if isinstance(record, dict):
        return [
            v
            for key, value in record.items()
            # Asaas' "province" is the bairro: a person's is replaced as a bairro is
            if key not in ("id", "object", "code", "dateCreated", "created_at", "updated_at",
                           "state", "siglaUnidadeFederacaoSacadoCobranca", "country_code",
                           "area_code", "dataVencimentoTituloCobranca", "codigoLinhaDigitavel",
                           "nomeMunicipioSacadoCobranca", "city")
            for v in _planted(value)
        ]  # fmt: skip
    if isinstance(record, str) and len(record) > 2 and record not in _NOT_PLANTED:
        return [record]
    return [str(record)] if type(record) is int and record > 10**6 else []


def _payloads(seed: int) -> list[tuple[str, list[dict[str, object]], dict[str, object]]]:
    br, foreign = foreign_fakers(seed)
    out = []
    for i in range(12):
        fake = foreign[i % 2]
        cpf = re.sub(r"\D", "", br.cpf())
        records = [_asaas_customer(fake, br, None, "FISICA") for _ in range(2)]
        out.append(("asaas", records, {"object": "list", "hasMore": False, "totalCount": 2,
                                       "limit": 10, "offset": 0, "data": records}))  # fmt: skip
        records = [_pagarme_customer(fake, br, cpf)]
        out.append(("pagarme", records, {"data": records, "paging": {"total": 1}}))
        records = [_bb_slip(fake, br, cpf)]
        out.append(("bb", records, records[0]))
    return out


@pytest.mark.parametrize("api", ["asaas", "pagarme", "bb"])
def test_a_payment_apis_person_keeps_nothing_of_theirs(api: str) -> None:
    leaks = []
    for name, records, document in _payloads(85):
        if name == api:
            leaks += leaked(_json(document), [v for r in records for v in _planted(r)])
    assert leaks == []


def test_a_payment_apis_company_keeps_its_data() -> None:
    """Asaas' JURIDICA customer keeps its name and CEP, Pagar.me's company its name (an
    address object's zip_code is replaced whoever's it is, as before)."""
    br = Faker("pt_BR")
    br.seed_instance(86)
    for i in range(10):
        company, cep = f"{br.last_name()} {br.company_suffix()}", br.postcode(formatted=False)
        asaas = _asaas_customer(br, br, br.cnpj(), "JURIDICA") | {
            "name": company,
            "postalCode": cep,
        }
        out = _json({"data": [asaas]})
        assert company in out and cep in out, (i, out)
        pagarme = _pagarme_customer(br, br, re.sub(r"\D", "", br.cnpj()))
        pagarme |= {"name": company, "type": "company", "document_type": "CNPJ"}
        out = _json({"data": [pagarme]})
        assert company in out, (i, out)


# A CNAB 240 remittance's payers (segment Q) as exported to a spreadsheet. (With the
# street's columns, every row is read as an address, a company's too.)
_CNAB_HEADER = "Tipo de Inscrição;Número de Inscrição;Nome;CEP;Cidade;UF;Nosso Número;Valor"


def test_a_cnab_export_reads_each_row_by_its_inscription_type() -> None:
    br = Faker("pt_BR")
    br.seed_instance(87)
    fake = Faker("it_IT")
    fake.seed_instance(88)
    rows, people, companies = [], [], []
    for i in range(30):
        person = i % 3 != 1
        doc = re.sub(r"\D", "", br.cpf() if person else br.cnpj())
        name = fake.name() if person else f"{br.last_name()} {br.company_suffix()}"
        cep = br.postcode(formatted=False)
        cells = ["1" if person else "2", doc, name, cep, br.city(), br.estado_sigla(),
                 br.numerify("##########"), "150,00"]  # fmt: skip
        rows.append(";".join(cells))
        (people if person else companies).append((name, cep))
    body = "\ufeff" + "\r\n".join([_CNAB_HEADER, *rows]) + "\r\n"
    out = sanitized_request(body=body, content_type="text/csv").body.decode()
    assert leaked(out, [v for person in people for v in person]) == []
    assert all(name in out and cep in out for name, cep in companies)


# -- a table's headers ------------------------------------------------------------


@pytest.mark.parametrize("header", ["Sacado", "Nome do Sacado", "Nome para a entrega"])
def test_a_payers_and_a_recipients_header_names_a_person(header: str) -> None:
    """A boleto export's "Sacado" (its payer, as "Pagador") and a shop's "Nome para a
    entrega": a person's row loses its name."""
    body = (
        f"Nosso Número;{header};CPF/CNPJ;CEP\r\n"
        "123;Giancarlo Zanetti;529.982.247-25;61318-609\r\n"
        "124;Mirella Bonaventura;111.444.777-35;40015-970\r\n"
    )
    out = sanitized_request(body=body, content_type="text/csv").body.decode()
    assert leaked(out, ["Giancarlo Zanetti", "Mirella Bonaventura", "61318-609"]) == []


def test_a_sacado_that_is_a_company_keeps_its_name() -> None:
    """ "Sacado" names a payer, person or company: a CNPJ's row keeps its name."""
    body = "Sacado;CPF/CNPJ;CEP\r\nDuarte Comércio Ltda;11.222.333/0001-81;13186-091\r\n"
    out = sanitized_request(body=body, content_type="text/csv").body.decode()
    assert "Duarte Comércio Ltda" in out and "13186-091" in out


# -- any CPF, any kind ------------------------------------------------------------


@settings(max_examples=120, deadline=None)
@given(
    base=st.text("0123456789", min_size=12, max_size=12).filter(lambda d: len(set(d[:9])) > 1),
    cep=CEPS,
    words=st.lists(NAME_WORDS, min_size=2, max_size=3).filter(lambda w: not any(map(is_token, w))),
    key=st.sampled_from(DOCUMENT_KEYS[:-1]),
    formatted=st.booleans(),
    fmt=st.sampled_from(TEXT_FORMATS),
)
def test_a_record_is_whose_its_document_says_under_any_document_name(
    base: str, cep: str, words: list[str], key: str, formatted: bool, fmt: str
) -> None:
    cpf, cnpj = make_cpf(base[:9]), make_cnpj(base)
    cpf, cnpj = (fmt_cpf(cpf), fmt_cnpj(cnpj)) if formatted else (cpf, cnpj)
    name = " ".join(words)
    assert cep not in FORMATS[fmt]([(key, cpf), ("nome", name), ("cep", cep)])
    company = FORMATS[fmt]([(key, cnpj), ("razaoSocial", f"{name} Ltda"), ("cep", cep)])
    assert cep in company


# -- Asaas' "province" ------------------------------------------------------------


def test_asaas_province_is_a_persons_bairro_and_a_companys_place() -> None:
    """Asaas names the bairro "province": a person's is replaced as a bairro is (before,
    12 of 20 went out), a company's stays."""
    br = Faker("pt_BR")
    br.seed_instance(89)
    for _ in range(10):
        bairro = br.bairro()
        person = _asaas_customer(br, br, re.sub(r"\D", "", br.cpf()), "FISICA") | {
            "province": bairro
        }
        assert leaked(_json({"data": [person]}), [bairro]) == []
        company = _asaas_customer(br, br, br.cnpj(), "JURIDICA") | {"province": bairro}
        assert f'"province": "{bairro}"' in _json({"data": [company]})


_PROVINCES = {
    # Canada's province in a person's address (Stripe's shape, Shopify's key).
    "Quebec": {"customer": {"name": "Emily Tremblay", "address": {
        "line1": "1200 Rue Sainte-Catherine", "city": "Montréal", "province": "Quebec",
        "postalCode": "H3B 1K9"}}},
    # Argentina's, beside an address number: a person's by its role, not its document.
    "Buenos Aires": {"cliente": {"nombre": "Lucía Fernández", "direccion": "Av. Corrientes",
                     "addressNumber": "1234", "province": "Buenos Aires", "postalCode": "C1043"}},
    # The Philippines', in a record no CPF makes a person's.
    "Metro Manila": {"shipping": {"street": "Ayala Avenue", "addressNumber": "6750",
                     "city": "Makati", "province": "Metro Manila", "postalCode": "1226"}},
}  # fmt: skip


@pytest.mark.parametrize("province", sorted(_PROVINCES))
def test_a_province_elsewhere_is_a_state_and_stays(province: str) -> None:
    assert f'"province": "{province}"' in _json(_PROVINCES[province])
