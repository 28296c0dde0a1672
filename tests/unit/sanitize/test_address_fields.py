"""A person's address written beside their name rather than in an address object of its
own: a delivery form's ``nome`` and ``cep`` (nothing else says whose the record is), a
customer's ``numero`` or ``line2`` outside their ``address``. Values from Faker's pt_BR,
en_US and es_ES providers (fixed seeds), in the shapes of real payloads (iFood's and
Rappi's orders, Shopify's and Stripe's customers); a company's address, a store's, a
product's number and ViaCEP's answer to a CEP lookup are kept as they were.
"""

from __future__ import annotations

import json
from urllib.parse import urlencode

import pytest
from faker import Faker

from tests.unit.sanitize.sanitize_helpers import fmt_cnpj, make_cnpj, request_exchange, sanitizer

SANITIZER = sanitizer()


def _json(body: object) -> str:
    exchange = request_exchange(body=json.dumps(body, ensure_ascii=False))
    return SANITIZER.sanitize(exchange).request.body.decode()


def _form(pairs: list[tuple[str, str]]) -> str:
    exchange = request_exchange(
        body=urlencode(pairs), content_type="application/x-www-form-urlencoded"
    )
    return SANITIZER.sanitize(exchange).request.body.decode()


def _faker(locale: str, seed: int) -> Faker:
    fake = Faker(locale)
    fake.seed_instance(seed)
    return fake


def _addressees(seed: int) -> list[dict[str, str]]:
    fake = _faker("pt_BR", seed)
    return [
        {"nome": fake.name(), "cep": fake.postcode(), "numero": fake.building_number(),
         "bairro": fake.bairro(), "complemento": f"Apto {fake.random_int(1, 999)}"}
        for _ in range(10)
    ]  # fmt: skip


# A name beside some of an address's parts: the parts are the addressee's.
_PART_SETS = (("cep",), ("cep", "numero"), ("cep", "numero", "bairro"), ("numero",),
              ("complemento", "numero"), ("cep", "complemento"))  # fmt: skip


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("parts", _PART_SETS, ids="+".join)
def test_a_form_with_a_name_beside_a_cep_or_number_replaces_them(
    seed: int, parts: tuple[str, ...]
) -> None:
    for record in _addressees(seed):
        out = _form([("nome", record["nome"]), *((p, record[p]) for p in parts)])
        left = dict(pair.split("=", 1) for pair in out.split("&"))
        assert all(left[p].startswith("SANITIZED_") for p in parts), out


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("parts", _PART_SETS, ids="+".join)
def test_a_top_level_object_with_a_name_beside_a_cep_or_number_replaces_them(
    seed: int, parts: tuple[str, ...]
) -> None:
    for record in _addressees(seed):
        out = json.loads(_json({"nome": record["nome"], **{p: record[p] for p in parts}}))
        assert all(out[p].startswith("SANITIZED_") for p in parts), out


@pytest.mark.parametrize("key", ["numero", "number", "houseNumber", "nro"])
@pytest.mark.parametrize("holder", ["cliente", "customer", "destinatario"])
def test_a_persons_house_number_outside_an_address_object_is_replaced(
    key: str, holder: str
) -> None:
    fake = _faker("pt_BR", 7)
    for _ in range(10):
        number = fake.building_number()
        out = json.loads(_json({holder: {"nome": fake.name(), key: number}}))
        assert out[holder][key] == "SANITIZED_ADDRESS"


@pytest.mark.parametrize("key", ["line2", "line1", "address2", "complemento"])
@pytest.mark.parametrize("locale", ["en_US", "es_ES"])
def test_a_persons_address_line_outside_an_address_object_is_replaced(
    key: str, locale: str
) -> None:
    fake = _faker(locale, 3)
    for _ in range(10):
        line = fake.secondary_address()
        out = json.loads(_json({"customer": {"name": fake.name(), key: line}}))
        assert out["customer"][key] == "SANITIZED_ADDRESS"


def test_an_ifood_order_replaces_the_customers_address() -> None:
    fake = _faker("pt_BR", 11)
    street, number, bairro = fake.street_name(), fake.building_number(), fake.bairro()
    cep = fake.postcode(formatted=False)
    order = {
        "id": "e5fd1b6c-3b8e-4f6f-9a2d-1c2f3e4d5a6b",
        "customer": {"id": "22b1ff64", "name": fake.name(), "documentNumber": None,
                     "numero": number, "phone": {"number": "0800 705 0500"}},
        "delivery": {"mode": "DEFAULT", "deliveryAddress": {
            "streetName": street, "streetNumber": number, "formattedAddress": f"{street}, {number}",
            "neighborhood": bairro, "complement": "casa 2", "postalCode": cep,
            "city": "São Paulo", "state": "SP", "country": "BR"}},
    }  # fmt: skip
    out = _json(order)
    assert not any(value in out for value in (street, bairro, cep, f'"{number}"'))
    assert '"city": "São Paulo"' in out and '"state": "SP"' in out


def test_a_rappi_order_replaces_the_clients_number_and_line() -> None:
    fake = _faker("es_ES", 5)
    number, line = fake.building_number(), fake.secondary_address()
    order = {"order_detail": {"order_id": "392625", "client": {
        "first_name": fake.first_name(), "last_name": fake.last_name(), "number": number,
        "line2": line, "city": "Bogotá"}}}  # fmt: skip
    out = json.loads(_json(order))
    client = out["order_detail"]["client"]
    assert client["number"] == client["line2"] == "SANITIZED_ADDRESS"
    assert client["city"] == "Bogotá"


# -- kept ------------------------------------------------------------------------------


def test_a_company_or_store_keeps_its_address() -> None:
    cnpj = fmt_cnpj(make_cnpj("112223330001"))
    records = [
        {"empresa": {"nome": "Padaria Pão Quente", "cep": "01310-100", "numero": "1578"}},
        {"loja": {"nome": "Loja Centro", "cep": "01310-100", "numero": "900", "line2": "Piso 2"}},
        {"merchant": {"name": "Acme Store", "zip": "94105", "number": "12"}},
        {"cnpj": cnpj, "razao_social": "PADARIA PAO QUENTE LTDA", "nome_fantasia": "Pão Quente",
         "cep": "01310100", "numero": "1578", "complemento": "LOJA 2", "bairro": "BELA VISTA"},
    ]  # fmt: skip
    for record in records:
        out = json.loads(_json(record))
        out.pop("cnpj", None)  # a company's CNPJ is a document of its own (cpf_or_cnpj)
        assert out == {k: v for k, v in record.items() if k != "cnpj"}


@pytest.mark.parametrize(
    "record",
    [{"name": "Plano Básico", "number": 3},
     {"produto": {"nome": "Tênis Corrida", "numero": "42"}},
     {"customer": {"name": "SANITIZED_NAME", "number": "C-000123"}},
     {"cliente": {"nome": "SANITIZED_NAME", "numero": "20240314001"}},
     {"cliente": {"nome": "SANITIZED_NAME", "cidade": "Campinas", "uf": "SP", "pais": "Brasil"}},
     {"customer": {"name": "SANITIZED_NAME", "city": "Austin", "state": "TX", "country": "US"}}],
)  # fmt: skip
def test_a_products_number_a_customers_code_and_a_city_stay(record: dict[str, object]) -> None:
    assert _json(record) == json.dumps(record, ensure_ascii=False)


# ViaCEP's and Correios' answers to a CEP lookup name no person: the sanitizer reads them
# as it did (their street, bairro and CEP replaced as any address's, the city kept).
_VIACEP = {"cep": "01001-000", "logradouro": "Praça da Sé", "complemento": "lado ímpar",
           "unidade": "", "bairro": "Sé", "localidade": "São Paulo", "uf": "SP",
           "estado": "São Paulo", "regiao": "Sudeste", "ibge": "3550308", "gia": "1004",
           "ddd": "11", "siafi": "7107"}  # fmt: skip


def test_viacep_s_answer_is_read_as_it_was() -> None:
    exchange = request_exchange(response_body=json.dumps(_VIACEP, ensure_ascii=False))
    out = json.loads(SANITIZER.sanitize(exchange).response.body)
    assert out == {**_VIACEP, "cep": "SANITIZED_CEP", "logradouro": "SANITIZED_ADDRESS",
                   "complemento": "SANITIZED_ADDRESS", "bairro": "SANITIZED_ADDRESS"}  # fmt: skip
