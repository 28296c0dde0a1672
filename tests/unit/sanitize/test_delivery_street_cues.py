"""Streets in prose that went out whole: a Brazilian street with no number after a
word that says a parcel goes there ("Endereço: Loteamento Luigi da Luz", "entregar em
Praia Silva"), a United States one after "ship to" ("ship to Maple Grove Drive,
Springfield"), Brasília's sectors ("SQN 308 Bloco C"), Correios' street types Faker
lacks ("Escadaria", "Córrego", "Subida") and a street named after a Weeks ("lives on
Weeks Road": "weeks" read as a product's word). Streets from Faker's pt_BR and en_US
providers; towns, neighbourhoods, product names and a company's address stay.
"""

from __future__ import annotations

import json

import pytest
from faker import Faker
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.named_places import is_known_place
from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.sanitize_helpers import (
    fmt_cnpj,
    make_cnpj,
    request_exchange,
    sanitized_plain_text,
    sanitizer,
)

SANITIZER = sanitizer()


def _text(body: str) -> str:
    return sanitized_plain_text(SANITIZER, body)


@pytest.mark.parametrize(
    ("text", "left"),
    [("Endereço: Loteamento Luigi da Luz, ligar antes", "Endereço: SANITIZED_ADDRESS, ligar antes"),
     ("entregar em Praia Silva.", "entregar em SANITIZED_ADDRESS."),
     ("Entregar na Rua das Flores amanhã", "Entregar na SANITIZED_ADDRESS amanhã"),
     ("enviar para a Avenida Paulista", "enviar para a SANITIZED_ADDRESS"),
     ("Endereço de entrega: Pátio Lorenzo Camargo", "Endereço de entrega: SANITIZED_ADDRESS"),
     ("endereco: Residencial de Sá", "endereco: SANITIZED_ADDRESS"),
     ("Dirección: Calle Mayor", "Dirección: SANITIZED_ADDRESS"),
     ("entregar na rua das flores e avisar", "entregar na SANITIZED_ADDRESS e avisar")],
)  # fmt: skip
def test_a_street_with_no_number_after_a_delivery_word_is_replaced(text: str, left: str) -> None:
    assert _text(text) == left


@pytest.mark.parametrize(
    ("text", "left"),
    [("ship to Maple Grove Drive, Springfield", "ship to SANITIZED_ADDRESS"),
     ("Please deliver to Oak Avenue today", "Please deliver to SANITIZED_ADDRESS today"),
     ("Shipping address: Old Mill Road", "Shipping address: SANITIZED_ADDRESS"),
     ("send it to Elm Street.", "send it to SANITIZED_ADDRESS.")],
)  # fmt: skip
def test_a_us_street_with_no_number_after_a_delivery_word_is_replaced(text: str, left: str) -> None:
    assert _text(text) == left


@pytest.mark.parametrize(
    ("text", "left"),
    [("lives on Weeks Road", "lives on SANITIZED_ADDRESS"),
     ("Lives at 12 John Weeks Road.", "Lives at SANITIZED_ADDRESS."),
     ("moved to Hours Lane", "moved to SANITIZED_ADDRESS")],
)  # fmt: skip
def test_a_street_named_after_a_weeks_is_replaced(text: str, left: str) -> None:
    assert _text(text) == left


@pytest.mark.parametrize(
    ("text", "left"),
    [("mora no SQN 308 Bloco C, apto 201", "mora no SANITIZED_ADDRESS"),
     ("Entregar: SQS 104 Bloco A", "Entregar: SANITIZED_ADDRESS"),
     ("QI 5 Conjunto 2 Casa 10, Guará", "SANITIZED_ADDRESS"),
     ("CLN 405 Bloco B sala 12", "SANITIZED_ADDRESS"),
     ("QNM 20 Conjunto A Casa 5 - Ceilândia", "SANITIZED_ADDRESS")],
)  # fmt: skip
def test_a_brasilia_address_is_replaced(text: str, left: str) -> None:
    assert _text(text) == left


@pytest.mark.parametrize(
    "kind",
    ["Escadaria", "Córrego", "Subida", "Cais", "Calçada", "Caminho", "Estância",
     "Granja", "Túnel", "Boulevard", "Zigue-Zague", "Acampamento", "Rótula"],
)  # fmt: skip
def test_a_correios_street_type_faker_lacks_is_an_address(kind: str) -> None:
    fake = Faker("pt_BR")
    fake.seed_instance(7)
    for _ in range(10):
        street = f"{kind} {fake.last_name()}, {fake.building_number()}"
        out = _text(f"Cliente: ver ficha. Entrega na {street} - portão azul.")
        assert out == "Cliente: ver ficha. Entrega na SANITIZED_ADDRESS - portão azul.", street


_KIND = st.sampled_from(["Loteamento", "Pátio", "Quadra", "Vila", "Viela", "Servidão",
                         "Ladeira", "Beco", "Estrada", "Rodovia", "Sítio", "Chácara",
                         "Condomínio", "Residencial", "Rua", "Travessa"])  # fmt: skip
_WORD = st.sampled_from(["Souza", "Luigi", "Camargo", "Rocha", "Lima", "Flores", "Acácias",
                         "Moraes", "Sampaio", "Costa"])  # fmt: skip
_CUE = st.sampled_from(["Endereço: ", "entregar em ", "entregar na ", "enviar para ",
                        "Endereço de entrega: "])  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(_CUE, _KIND, st.sampled_from(["", "de ", "das "]), st.lists(_WORD, min_size=1, max_size=3))
@example("entregar em ", "Loteamento", "", ["Luigi", "Costa"])
def test_any_numberless_street_after_a_delivery_word_is_replaced(
    cue: str, kind: str, particle: str, words: list[str]
) -> None:
    street = f"{kind} {particle}{' '.join(words)}"
    assume(not is_token(street))
    assume(not is_known_place(street))  # "Vila Flores" is a town in RS: kept, as above
    assert _text(f"{cue}{street}. Obrigado") == f"{cue}SANITIZED_ADDRESS. Obrigado"


@pytest.mark.parametrize(
    "text",
    ["entregar em Campo Grande.", "enviar para Vila Velha", "Endereço: São Paulo",
     "entregar em Praia Grande amanhã", "Estrada Real Café", "Caminho das Índias (novela)",
     "ship to Palm Springs", "Ship to Main Street Coffee", "Lives at 12 Weeks Ferry Road.",
     "USB 3 Casa", "QI 140 pontos", "SQL 3 Lote", "Acesso Premium, 12 meses",
     "Reta Final, 3 dias", "Buraco Negro, 2", "Módulo Básico, 2 horas",
     "12 Weeks Summer Camp", "Endereço: ver cadastro"],
)  # fmt: skip
def test_towns_products_and_counts_stay(text: str) -> None:
    assert _text(text) == text


def test_ten_downing_street_tea_set_is_replaced_as_before() -> None:
    assert _text("10 Downing Street Tea Set") == "SANITIZED_ADDRESS"


def test_a_company_record_keeps_its_address() -> None:
    cnpj = fmt_cnpj(make_cnpj("112223330001"))
    record = {"cnpj": cnpj, "razao_social": "ESTRADA REAL CAFE LTDA", "logradouro": "Escadaria Selarón",
              "numero": "24", "complemento": "Servidão Silva", "bairro": "Santa Teresa"}  # fmt: skip
    out = SANITIZER.sanitize(request_exchange(body=json.dumps(record, ensure_ascii=False)))
    kept = json.loads(out.request.body)
    kept.pop("cnpj")  # a company's CNPJ is a document of its own (cpf_or_cnpj)
    assert kept == {k: v for k, v in record.items() if k != "cnpj"}
