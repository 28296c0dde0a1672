"""Focus NFe's NFS-e ``"tomador"`` that is a company, named by a bare ``cnpj`` member
(``{"cnpj": …, "razao_social": …, "endereco": {…}}``): its name, address and CEP are
the company's and stay, as a record with a ``cnpj`` member keeps them; before, the
holder's name alone made it a person's and its address went out. A sole trader's name
(a person's, read as a razão social is) still goes, and a tomador with a CPF, or a
birth date beside its CNPJ, stays a person's."""

from __future__ import annotations

import json

import pytest
from faker import Faker

from tests.unit.sanitize.name_prose import TOKENS
from tests.unit.sanitize.people import seeded_faker
from tests.unit.sanitize.sanitize_helpers import request_exchange

_ADDRESS = ("logradouro", "numero", "bairro", "cep")


def _nfse(tomador: dict[str, object]) -> dict[str, object]:
    """Focus NFe's NFS-e request (POST /v2/nfse), its tomador given."""
    return {
        "data_emissao": "2026-12-07T10:00:00-03:00",
        "prestador": {"cnpj": "07504505000132", "inscricao_municipal": "14051",
                      "codigo_municipio": "3550308"},
        "tomador": tomador,
        "servico": {"aliquota": 3, "discriminacao": "Consultoria", "iss_retido": "false",
                    "item_lista_servico": "0107", "valor_servicos": 1.0},
    }  # fmt: skip


def _tomador(fake: Faker, document: dict[str, str], name: str) -> dict[str, object]:
    return {
        **document,
        "razao_social": name,
        "email": fake.company_email(),
        "endereco": {
            "logradouro": fake.street_name(),
            "numero": fake.building_number(),
            "bairro": fake.bairro(),
            "codigo_municipio": "3550308",
            "uf": "SP",
            "cep": fake.postcode(),
        },
    }


def _sanitized(doc: dict[str, object]) -> dict[str, object]:
    body = json.dumps(doc, ensure_ascii=False)
    return json.loads(TOKENS.sanitize(request_exchange(body=body)).request.body)["tomador"]


def _planted(tomador: dict[str, object]) -> list[str]:
    address = tomador["endereco"]
    return [str(tomador["razao_social"]), *(str(address[k]) for k in _ADDRESS)]  # type: ignore[index]


def _companies(seed: int, count: int = 20) -> list[dict[str, object]]:
    fake = Faker("pt_BR")
    fake.seed_instance(seed)
    return [_tomador(fake, {"cnpj": fake.cnpj()}, fake.company()) for _ in range(count)]


@pytest.mark.parametrize("seed", [0, 1])
def test_a_company_tomador_keeps_its_name_address_and_cep(seed: int) -> None:
    """Measured on seeds 0 and 1 (20 Faker pt_BR companies each, 5 strings planted):
    before, 80 of 100 went out each time (the address and CEP); now none."""
    gone = []
    for tomador in _companies(seed):
        kept = _planted(_sanitized(_nfse(tomador)))
        gone += [p for p, k in zip(_planted(tomador), kept, strict=True) if p != k]
    assert gone == []


def test_a_formatted_cnpj_and_a_cnpj_beside_an_email_make_a_company_too() -> None:
    tomador = _companies(2, 1)[0]
    tomador["cnpj"] = seeded_faker(78).cnpj()  # formatted: "12.345.678/0001-90"
    assert _planted(_sanitized(_nfse(tomador))) == _planted(tomador)


@pytest.mark.parametrize("key", ["razao_social", "nome"])
@pytest.mark.parametrize("locale", ["pt_BR", "pt_PT", "en_US"])
def test_a_sole_traders_name_still_goes(locale: str, key: str) -> None:
    fake, names = Faker("pt_BR"), Faker(locale)
    fake.seed_instance(3)
    names.seed_instance(3)
    kept = []
    for _ in range(10):
        name = f"{names.first_name()} {names.last_name()}"
        tomador = _tomador(fake, {"cnpj": fake.cnpj()}, name)
        tomador[key] = tomador.pop("razao_social")
        if _sanitized(_nfse(tomador))[key] == name:
            kept.append(name)
    assert kept == []


def test_a_person_tomador_still_loses_name_address_and_cep() -> None:
    fake = Faker("pt_BR")
    fake.seed_instance(4)
    for document in ({"cpf": fake.cpf()}, {"cnpj": fake.cnpj(), "data_nascimento": "1980-01-02"}):
        tomador = _tomador(fake, document, fake.name())
        kept = _planted(_sanitized(_nfse(tomador)))
        assert [p for p, k in zip(_planted(tomador), kept, strict=True) if p == k] == []


def test_an_nfe_recipient_beside_a_cnpj_is_read_as_before() -> None:
    """NF-e's ``dest`` is no tomador: its address goes as before."""
    fake = Faker("pt_BR")
    fake.seed_instance(5)
    dest = {"CNPJ": fake.cnpj(), "xNome": fake.company(),
            "enderDest": {"xLgr": fake.street_name(), "nro": "12", "CEP": "01310100"}}  # fmt: skip
    body = json.dumps({"dest": dest}, ensure_ascii=False)
    out = json.loads(TOKENS.sanitize(request_exchange(body=body)).request.body)["dest"]
    assert out["enderDest"]["xLgr"] != dest["enderDest"]["xLgr"]
