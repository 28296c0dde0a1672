"""A record's kind one level down says whose the record is: Itaú's cobrança API writes
the payer as ``"pessoa": {"nome_pessoa": …, "tipo_pessoa": {"codigo_tipo_pessoa":
"F", "numero_cadastro_pessoa_fisica": …}}``, other APIs ``"documento": {"tipo": "CPF",
"numero": …}``, NFS-e ``<CpfCnpj><Cpf>…</Cpf></CpfCnpj>``. A child object holding only
the kind and its document decides for its parent; before, its parent's name, CEP and
contacts went out when no other member named a person (on the records below, 31 of
the 115 values planted), and a company's kind one level down decided nothing.

People from Faker's es_ES and it_IT profiles, documents and CEPs from pt_BR's."""

from __future__ import annotations

import json
import re

import pytest

from ext_proc_server.sanitize import record_kinds
from tests.unit.sanitize.people import foreign_fakers, leaked
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()


def _json(body: str) -> str:
    return SANITIZER.sanitize(request_exchange(body=body)).request.body.decode()  # type: ignore[union-attr]


def _itau_kind(kind: str, document: str) -> dict[str, str]:
    """Itaú's "tipo_pessoa" (cobrança v2, boletos' pagador.pessoa)."""
    name = (
        "numero_cadastro_pessoa_fisica"
        if kind == "F"
        else "numero_cadastro_nacional_pessoa_juridica"
    )
    return {"codigo_tipo_pessoa": kind, name: document}


def _people(seed: int, count: int) -> list[dict[str, str]]:
    br, foreign = foreign_fakers(seed)
    return [
        {
            "cpf": re.sub(r"\D", "", br.cpf()),
            "name": foreign[i % 2].name(),
            "cep": br.postcode(formatted=False),
            "email": foreign[i % 2].free_email(),
        }
        for i in range(count)
    ]


def test_a_persons_kind_one_level_down_makes_the_record_a_persons() -> None:
    leaks = []
    for p in _people(95, 20):
        record = {"nome": p["name"], "tipo_pessoa": _itau_kind("F", p["cpf"]), "cep": p["cep"],
                  "email": p["email"]}  # fmt: skip
        out = _json(json.dumps({"data": [record]}, ensure_ascii=False))
        leaks += leaked(out, [p["name"], p["cep"], p["email"], p["cpf"]])
    assert leaks == []


@pytest.mark.parametrize(
    "document",
    [{"tipo": "CPF", "numero": "52998224725"}, {"type": "individual", "number": "52998224725"},
     {"Cpf": "52998224725"}, {"tipoInscricao": 1, "numeroInscricao": "52998224725"}],
)  # fmt: skip
def test_a_document_object_with_its_kind_says_whose_the_record_is(
    document: dict[str, object],
) -> None:
    body = {"itens": [{"documento": document, "nome": "Giancarlo Zanetti", "cep": "61318-609"}]}
    out = _json(json.dumps(body))
    assert leaked(out, ["Giancarlo Zanetti", "61318-609"]) == []


def test_duplicate_members_are_read_too() -> None:
    """A JSON object with a duplicate member is read as its pairs: the kind one level
    down still decides."""
    body = (
        '{"data": [{"nome": "Giancarlo Zanetti", "tipo_pessoa": {"codigo_tipo_pessoa": "F", '
        '"numero_cadastro_pessoa_fisica": "52998224725"}, "cep": "61318-609", '
        '"cep": "40015-970"}]}'
    )
    assert leaked(_json(body), ["Giancarlo Zanetti", "61318-609", "40015-970"]) == []


@pytest.mark.parametrize(
    "kind",
    [_itau_kind("J", "11222333000181"), {"tipo": "CNPJ", "numero": "11222333000181"},
     {"Cnpj": "11222333000181"}],
)  # fmt: skip
def test_a_companys_kind_one_level_down_keeps_its_record(kind: dict[str, str]) -> None:
    for name in ("tipo_pessoa", "documento"):
        body = {"data": [{name: kind, "nome": "Duarte Comércio Ltda", "cep": "13186-091"}]}
        out = _json(json.dumps(body, ensure_ascii=False))
        assert "Duarte Comércio Ltda" in out and "13186-091" in out


def test_itaus_boleto_keeps_nothing_of_its_payer() -> None:
    """Itaú's POST /boletos body: the payer's name, CPF and address replaced."""
    for p in _people(96, 6):
        body = {
            "etapa_processo_boleto": "efetivacao",
            "beneficiario": {"id_beneficiario": "150000052061"},
            "dado_boleto": {
                "tipo_boleto": "a vista", "codigo_carteira": "109",
                "valor_total_titulo": "00000000000180.00",
                "pagador": {
                    "pessoa": {"nome_pessoa": p["name"], "tipo_pessoa": _itau_kind("F", p["cpf"])},
                    "endereco": {"nome_logradouro": "Rua Dona Ana Neri, 368",
                                 "nome_bairro": "Mooca", "nome_cidade": "Sao Paulo",
                                 "sigla_UF": "SP", "numero_CEP": p["cep"]},
                },
            },
        }  # fmt: skip
        out = _json(json.dumps(body, ensure_ascii=False))
        assert leaked(out, [p["name"], p["cpf"], p["cep"], "Rua Dona Ana Neri, 368"]) == []


@pytest.mark.parametrize(
    ("pairs", "kind"),
    [
        (
            [("codigo_tipo_pessoa", "F"), ("numero_cadastro_pessoa_fisica", "1")],
            record_kinds.PERSON,
        ),
        ([("tipo", "CNPJ"), ("numero", "1")], record_kinds.COMPANY),
        ([("tipoInscricao", "1")], record_kinds.PERSON),
        ([("Cpf", "52998224725")], record_kinds.PERSON),
        ([("Cnpj", "11222333000181")], record_kinds.COMPANY),
        ([("Cpf", "")], None),  # an empty element says nothing
        ([("tipo", "RG"), ("numero", "12")], None),  # a kind it does not know
        ([("tipo", "1"), ("numero", "12")], None),  # a code only an inscription's kind has
        # More than the kind and its document: an object of its own, not a kind's.
        ([("tipo", "F"), ("numero", "1"), ("descricao", "conta")], None),
        ([("nome", "Giancarlo"), ("cep", "61318-609")], None),
        ([], None),
    ],
)
def test_nested_kind(pairs: list[tuple[str, object]], kind: str | None) -> None:
    assert record_kinds.nested_kind(pairs) == kind
