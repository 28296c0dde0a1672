"""A person's name in a free-text field with no cue word before it went out: an NF-e's
``<infCpl>Entregar para Maria Aparecida da Silva</infCpl>``, an order's ``"observacao":
"João Pereira ligou às 10h"``, a CRM's ``"notes": "Spoke with Ana Costa"``. In a field
that holds prose, a known first name followed by a known last name or a particle is a
name now; places, businesses and products named after people stay."""

from __future__ import annotations

import json

import pytest

from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

TOKENS = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-free-text-names")


def _json(document: object, sanitize=TOKENS, *, ascii_only: bool = False) -> object:
    body = json.dumps(document, ensure_ascii=ascii_only)
    return json.loads(sanitize.sanitize(request_exchange(body=body)).request.body)


def _xml(text: str, sanitize=TOKENS) -> str:
    out = sanitize.sanitize(request_exchange(body=text, content_type="application/xml"))
    return out.request.body.decode()


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("observacao", "João Pereira ligou às 10h", "SANITIZED_NAME ligou às 10h"),
        ("notes", "Spoke with Ana Costa about the renewal",
         "Spoke with SANITIZED_NAME about the renewal"),
        ("comentario", "Falar com Maria Aparecida da Silva amanhã",
         "Falar com SANITIZED_NAME amanhã"),
        ("mensagem", "Oi, aqui é o PEDRO HENRIQUE DOS SANTOS", "Oi, aqui é o SANITIZED_NAME"),
        ("description", "Refund requested by John Smith and Mary Johnson",
         "Refund requested by SANITIZED_NAME and SANITIZED_NAME"),
        ("obs", "Entregar a Luiz Otávio de Moraes, CPF 529.982.247-25",
         "Entregar a SANITIZED_NAME, CPF SANITIZED_DOCUMENT"),
    ],
)  # fmt: skip
def test_a_name_in_a_free_text_field(key: str, text: str, expected: str) -> None:
    assert _json({"pedido": 1234, key: text}) == {"pedido": 1234, key: expected}


def test_a_name_written_in_ascii_json() -> None:
    """Python's json.dumps writes "Jo\\u00e3o": the field is read decoded."""
    out = _json({"observacao": "João Pereira ligou às 10h"}, ascii_only=True)
    assert out == {"observacao": "SANITIZED_NAME ligou às 10h"}


def test_nfe_complementary_information() -> None:
    note = (
        "<NFe><infNFe><infAdic><infAdFisco>Conferido por Carlos Eduardo Nogueira</infAdFisco>"
        "<infCpl>Entregar para Maria Aparecida da Silva, apto 12</infCpl>"
        "</infAdic></infNFe></NFe>"
    )
    assert _xml(note) == (
        "<NFe><infNFe><infAdic><infAdFisco>Conferido por SANITIZED_NAME</infAdFisco>"
        "<infCpl>Entregar para SANITIZED_NAME, apto 12</infCpl></infAdic></infNFe></NFe>"
    )


def test_a_pseudonym_is_a_name_and_the_same_wherever_it_stands() -> None:
    out = PSEUDONYMS.sanitize(
        request_exchange(
            body=json.dumps({"observacao": "Maria Aparecida da Silva ligou"}),
            response_body=json.dumps({"historico": "retorno para Maria Aparecida da Silva"}),
        )
    )
    fake = json.loads(out.request.body)["observacao"].removesuffix(" ligou")
    assert fake != "Maria Aparecida da Silva" and " da " in fake
    assert json.loads(out.response.body) == {"historico": f"retorno para {fake}"}


@pytest.mark.parametrize(
    "text",
    [
        # Places named after people, or holding a first name.
        "Entrega em São José dos Campos e Santa Maria",
        "Filial de João Pessoa, Bento Gonçalves e Vitória da Conquista",
        "Rota Rio Branco - Porto Alegre - São Paulo",
        "Loja na Avenida Getúlio Vargas, esquina com a Rua Maria Aparecida",
        "Show no Estádio Mário Filho e na Escola Estadual Maria Silva",
        # Businesses and products.
        "Fornecedor: Padaria João Pereira Ltda",
        "Perfume Carolina Herrera 212 e camisa Ralph Lauren",
        "Pagamento via JP Morgan Chase",
        # Not a whole name: a first name alone, two first names, a title.
        "Falar com Maria na recepção",
        "Ana e Souza assinaram",
        "Grace Period ends on Monday",
        "Mark As Read",
    ],
)
def test_what_is_not_a_person_stays(text: str) -> None:
    assert _json({"observacao": text}) == {"observacao": text}


def test_only_free_text_fields_are_read_so() -> None:
    """A product's description, a city, an id and an unknown field stay."""
    document = {
        "produto": {"descricao": "Kit Maria Silva de bordado", "sku": "MS-1"},
        "cidade": "Teresa Cristina",
        "codigo": "Ana Costa",
        "status": "Ana Costa",
    }
    assert _json(document) == document
