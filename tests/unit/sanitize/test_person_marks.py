"""What marks a record as a person's beyond a bare ``cpf``: a CPF or a document named by
its holder's role (``cpfCliente``, ``cpf_titular``, ``nrCpfPagador``,
``documentoCliente``); a CPF beside a company's name (a sole proprietor, an MEI, whose
corporate name is the person's); a person's header named in camelCase and lowered on
the way (``x-holderName`` arrives as ``x-holdername``); ``<dt>``/``<dd>`` pairs outside a
``<dl>``, read by the block that holds them rather than pooled page-wide (identity
providers' answers: test_identity_answers).

People from Faker's pt_BR, en_US and es_ES profiles (es_ES names are in none of the
name lists, so only the record's owner can tell them); decoys: a company's record, a
product's name, a login, the ids an identity provider's answer must echo."""

from __future__ import annotations

import json
import re
from urllib.parse import urlencode
from xml.sax.saxutils import escape

import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.sanitize.fields import PERSON, ROOT, object_place
from tests.unit.sanitize.people import leaked
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
LOCALES = ("pt_BR", "en_US", "es_ES")
PER_LOCALE = 40  # 120 records per case


def _people(seed: int) -> list[tuple[Faker, Faker]]:
    """(a locale's Faker, pt_BR's for the Brazilian documents), PER_LOCALE per locale."""
    out = []
    for i, locale in enumerate(LOCALES):
        fake, br = Faker(locale), Faker("pt_BR")
        fake.seed_instance(seed + i)
        br.seed_instance(seed + 100 + i)
        out += [(fake, br)] * PER_LOCALE
    return out


def _company(br: Faker) -> str:
    """A company's name that reads as none of a person's: "Pereira Ltda."."""
    return f"{br.last_name()} {br.company_suffix()}"


def _json_request(document: object) -> str:
    body = json.dumps(document, ensure_ascii=False)
    return SANITIZER.sanitize(request_exchange(body=body)).request.body.decode()


def _json_answer(document: object) -> str:
    body = json.dumps(document, ensure_ascii=False)
    out = SANITIZER.sanitize(request_exchange(body="{}", response_body=body))
    return out.response.body.decode()


# -- a document named by its holder's role -----------------------------------------------

ROLE_DOCUMENTS = ("cpfCliente", "cpf_titular", "nrCpfPagador", "documentoCliente",
                  "numeroCpfTitular", "CPF_PACIENTE", "cpf-comprador", "cpfResponsavel",
                  "rgCliente", "rg_titular", "numeroDocumentoTitular", "docPagador")  # fmt: skip


@pytest.mark.parametrize("key", ROLE_DOCUMENTS)
def test_a_role_named_document_makes_its_record_a_persons(key: str) -> None:
    """The record's name and CEP go, and the document: a CPF, or an RG by its field's
    name (documentoCliente holds the customer's RG as often as their CPF)."""
    leaks = []
    for i, (fake, br) in enumerate(_people(21)):
        document = br.cpf() if "cpf" in key.lower() or i % 2 else br.rg()
        record = {key: document, "nome": fake.name(), "cep": br.postcode()}
        out = _json_request({"dados": record})
        leaks += leaked(out, list(record.values()))
    assert leaks == []


def _shaped(shape: str, record: dict[str, str]) -> str:
    """A record sent as a form, XML, a query string or multipart parts: what comes out."""
    body, content_type, query = "", "application/json", ()
    if shape == "form":
        body, content_type = urlencode(record), "application/x-www-form-urlencoded"
    elif shape == "xml":
        body = "<dados>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in record.items())
        body, content_type = body + "</dados>", "application/xml"
    elif shape == "query":
        query = tuple(record.items())
    else:
        body = "".join(
            f'--b0\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
            for k, v in record.items()
        )
        body, content_type = body + "--b0--\r\n", "multipart/form-data; boundary=b0"
    out = SANITIZER.sanitize(request_exchange(body=body, content_type=content_type, query=query))
    return out.request.body.decode() + repr(out.request.query)


@pytest.mark.parametrize("shape", ["form", "xml", "query", "multipart"])
@pytest.mark.parametrize("key", ["cpfCliente", "documentoTitular", "rg_pagador"])
def test_a_role_named_document_marks_a_person_in_every_shape(key: str, shape: str) -> None:
    leaks = []
    for fake, br in _people(32):
        record = {key: br.cpf(), "nome": fake.name(), "cep": br.postcode()}
        leaks += leaked(_shaped(shape, record), list(record.values()))
    assert leaks == []


@given(
    document=st.sampled_from([("cpf",), ("documento",), ("nr", "cpf"), ("numero", "documento"),
                              ("num", "cpf"), ("cpf", "numero")]),
    role=st.sampled_from(["cliente", "titular", "pagador", "paciente", "customer", "holder"]),
    style=st.sampled_from(["camel", "snake", "kebab", "upper", "role_first"]),
)  # fmt: skip
@settings(max_examples=60, deadline=None)
def test_any_spelling_of_a_role_named_document_marks_a_person(
    document: tuple[str, ...], role: str, style: str
) -> None:
    words = [*document, role]
    key = {
        "camel": words[0] + "".join(w.capitalize() for w in words[1:]),
        "snake": "_".join(words),
        "kebab": "-".join(words),
        "upper": "_".join(words).upper(),
        "role_first": role + "".join(w.capitalize() for w in document),
    }[style]
    assert object_place(ROOT, "dados", frozenset({key, "nome"})).owner == PERSON


@pytest.mark.parametrize(
    "key", ["cnpjEmpresa", "cnpj_loja", "tipoDocumentoCliente", "cpfCnpjCliente", "idCliente"]
)
def test_a_company_number_or_a_documents_type_marks_no_person(key: str) -> None:
    assert object_place(ROOT, "dados", frozenset({key, "nome"})).owner != PERSON


def test_a_persons_record_keeps_what_describes_a_document() -> None:
    """Its type and its issuer are no number: "RG" and "SSP/SP" stay."""
    br = Faker("pt_BR")
    br.seed_instance(31)
    for _ in range(40):
        record = {"cpfCliente": br.cpf(), "tipoDocumentoCliente": "RG",
                  "orgaoEmissorRgCliente": "SSP/SP", "documentoCliente": br.rg()}  # fmt: skip
        out = json.loads(_json_request({"dados": record}))["dados"]
        assert (out["tipoDocumentoCliente"], out["orgaoEmissorRgCliente"]) == ("RG", "SSP/SP")
        assert leaked(json.dumps(out), [record["documentoCliente"], record["cpfCliente"]]) == []


def test_a_companys_record_with_its_responsibles_cpf_keeps_the_companys_name() -> None:
    kept = 0
    people = _people(22)
    for _, br in people:
        company = _company(br)
        record = {"cnpjEmpresa": br.cnpj(), "cpfResponsavel": br.cpf(), "nome": company}
        kept += company in _json_request({"empresa": record})
    assert kept == len(people)


def test_a_persons_order_keeps_its_products_names() -> None:
    fake = Faker("pt_BR")
    fake.seed_instance(23)
    for _ in range(60):
        product = f"{fake.word().capitalize()} {fake.color_name()}"
        order = {"cpfCliente": fake.cpf(), "nome": fake.name(),
                 "itens": [{"nome": product, "sku": fake.ean8()}]}  # fmt: skip
        out = _json_request({"pedido": order})
        assert product in out
        assert leaked(out, [order["nome"]]) == []


# -- a CPF beside a company's name ------------------------------------------------------


def test_a_sole_proprietors_record_keeps_none_of_the_persons_values() -> None:
    """An MEI's record: its CNPJ, its corporate name (the person's name and CPF), the
    person's CPF, name, phone, e-mail and street."""
    leaks = []
    for fake, br in _people(24):
        # An MEI's corporate name is its holder's civil name (no title) and CPF.
        name, cpf = f"{fake.first_name()} {fake.last_name()}", br.cpf()
        digits = re.sub(r"\D", "", cpf)
        record = {"razaoSocial": f"{name} {digits}", "cnpj": br.cnpj(),
                  "cpf": cpf, "nome": name, "telefone": br.cellphone_number(),
                  "email": fake.free_email(), "logradouro": br.street_name(),
                  "cep": br.postcode()}  # fmt: skip
        planted = [record[k] for k in ("cpf", "nome", "telefone", "email", "logradouro", "cep")]
        leaks += leaked(_json_request({"fornecedor_dados": record}), planted)
    assert leaks == []


def test_a_companys_record_without_a_cpf_keeps_the_companys_values() -> None:
    br = Faker("pt_BR")
    br.seed_instance(25)
    for _ in range(60):
        company, trade = _company(br), f"{br.last_name()} {br.word().capitalize()}"
        record = {"cnpj": br.cnpj(), "razaoSocial": company, "nomeFantasia": trade,
                  "nome": company, "cep": br.postcode()}  # fmt: skip
        out = _json_request({"dados": record})
        assert company in out and trade in out and record["cep"] in out


def test_open_finance_business_identification_keeps_its_partners_out() -> None:
    """Open Finance Brasil's business identification: the company, and its partners
    (``parties``), each a person by their civil name and CPF."""
    leaks = []
    for fake, br in _people(26):
        partner = {"personType": "PESSOA_NATURAL", "type": "SOCIO", "civilName": fake.name(),
                   "socialName": "", "documentType": "CPF", "documentNumber": br.cpf(),
                   "shareholding": "0.510000"}  # fmt: skip
        company = {"businessId": br.uuid4(), "brandName": "Organização A",
                   "companyName": _company(br), "cnpjNumber": br.cnpj(), "parties": [partner]}  # fmt: skip
        out = _json_answer({"data": [company]})
        leaks += leaked(out, [partner["civilName"], partner["documentNumber"]])
        assert company["businessId"] in out and company["companyName"] in out
    assert leaks == []


# -- headers named in camelCase, lowered on the way ----------------------------------------

NAME_HEADERS = ("x-holderName", "x-nomeCliente", "x-customerName", "x-nomeTitular",
                "x-userFullName", "X-Nome-Cliente")  # fmt: skip


def _headers_out(name: str, value: str, where: str) -> str:
    headers = ((name.lower(), value),)
    request = HttpRequest(method="GET", path="/", query=(), authority="api.example.com",
                          headers=headers if where == "request" else (), body=b"")  # fmt: skip
    response = HttpResponse(status=200, headers=headers if where == "response" else (), body=b"")
    out = SANITIZER.sanitize(Exchange(id="t", request=request, response=response))
    return repr((out.request.headers, out.response.headers))


@pytest.mark.parametrize("where", ["request", "response"])
@pytest.mark.parametrize("name", NAME_HEADERS)
def test_a_persons_name_in_a_camel_case_header_does_not_leak(name: str, where: str) -> None:
    leaks = []
    for fake, _ in _people(27):
        value = fake.name()
        leaks += leaked(_headers_out(name, value, where), [value])
    assert leaks == []


@given(
    role=st.sampled_from(["holder", "customer", "cliente", "titular", "user", "pagador", ""]),
    field=st.sampled_from(["name", "nome", "fullName", "nomeCompleto", "email", "cpf", "phone"]),
    role_first=st.booleans(),
    value=st.sampled_from(["Maria Souza", "Ambrosio Rozas Borrás", "ana@example.com",
                           "529.982.247-25", "+55 11 98765-4321", "Camiseta Azul"]),
)  # fmt: skip
@settings(max_examples=80, deadline=None)
def test_a_header_joined_in_camel_case_reads_as_its_words_apart(
    role: str, field: str, role_first: bool, value: str
) -> None:
    """x-holderName, lowered on the way, is sanitized as x-holder-name is."""
    words = [role, field] if role_first else [field, role]
    words = [w for w in words if w]
    joined = words[0] + "".join(w[0].upper() + w[1:] for w in words[1:])
    apart = "-".join(w.lower() for w in words)
    out = _headers_out("x-" + joined, value, "response")
    assert out.replace(joined.lower(), apart) == _headers_out("x-" + apart, value, "response")


@pytest.mark.parametrize(
    ("name", "value"),
    [("x-productName", "Camiseta Azul Marinho"), ("x-nomeProduto", "Camiseta Azul Marinho"),
     ("x-username", "msouza"), ("x-request-id", "f3b2c1d0-5e6f-4a7b-8c9d-0e1f2a3b4c5d"),
     ("x-datadog-trace-id", "1234567890123456789"), ("x-userId", "u-8812")],
)  # fmt: skip
def test_headers_naming_no_person_are_echoed(name: str, value: str) -> None:
    assert value in _headers_out(name, value, "response")


# -- <dt>/<dd> pairs outside a <dl> -------------------------------------------------------


def _page(company: str, cnpj: str, name: str, cpf: str, cep: str) -> str:
    def pair(term: str, value: str) -> str:
        return f"<div class='row'><dt>{term}</dt><dd>{value}</dd></div>"

    return (
        "<html><body><section class='empresa'>"
        + pair("Razão social", company) + pair("CNPJ", cnpj) + pair("Nome", company)
        + "</section><section class='cliente'>"
        + pair("Nome", name) + pair("CPF", cpf) + pair("CEP", cep)
        + "</section></body></html>"
    )  # fmt: skip


def test_terms_outside_a_list_are_read_by_their_block() -> None:
    """A page's company block and its customer's block: the customer's name and CEP go,
    the company's name (its block has no CPF) stays."""
    leaks, kept = [], 0
    people = _people(28)
    for fake, br in people:
        company, name, cep = _company(br), fake.name(), br.postcode()
        page = _page(company, br.cnpj(), name, br.cpf(), cep)
        out = SANITIZER.sanitize(request_exchange(body=page, content_type="text/html"))
        text = out.request.body.decode()
        leaks += leaked(text, [name, cep])
        kept += text.count(company) == 2
    assert leaks == []
    assert kept == len(people)


def test_terms_in_a_table_row_are_read_by_their_row() -> None:
    """<dt>/<dd> pairs in a table's cells: a store's row (its name, its CEP) stays
    whole beside a customer's row elsewhere on the page."""
    br = Faker("pt_BR")
    br.seed_instance(29)
    for _ in range(60):
        store, cep = _company(br), br.postcode()
        page = (
            f"<table><tr><td><dt>Loja</dt><dd>{store}</dd></td><td><dt>CNPJ</dt>"
            f"<dd>{br.cnpj()}</dd></td></tr></table>"
            f"<table><tr><td><dt>Nome</dt><dd>{br.name()}</dd></td><td><dt>CPF</dt>"
            f"<dd>{br.cpf()}</dd></td></tr></table>"
            f"<p>Loja: <span>{store}</span>, CEP {cep}</p>"
        )
        out = SANITIZER.sanitize(request_exchange(body=page, content_type="text/html"))
        assert out.request.body.decode().count(store) == 2
