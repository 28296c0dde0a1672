"""A person's name in a free-text field with no cue word before it went out: an NF-e's
``<infCpl>Entregar para Maria Aparecida da Silva</infCpl>``, an order's ``"observacao":
"João Pereira ligou às 10h"``, a CRM's ``"notes": "Spoke with Ana Costa"``. In a field
that holds prose, a known first name followed by a known last name or a particle is a
name now; places, businesses and products named after people stay."""

from __future__ import annotations

import base64
import json
from urllib.parse import unquote_plus

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


def _body(text: str, content_type: str, sanitize=TOKENS) -> str:
    out = sanitize.sanitize(request_exchange(body=text, content_type=content_type))
    return out.request.body.decode()


FORM = "application/x-www-form-urlencoded"


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        ("pedido=12&obs=Jo%C3%A3o+Pereira+ligou", FORM, "pedido=12&obs=SANITIZED_NAME+ligou"),
        ("pedido=12&observacao=Ana%20Costa%2C%20apto%2012", FORM,
         "pedido=12&observacao=SANITIZED_NAME%2C%20apto%2012"),
        ('--b\r\nContent-Disposition: form-data; name="observacao"\r\n\r\n'
         "João Pereira ligou\r\n--b--\r\n", "multipart/form-data; boundary=b",
         '--b\r\nContent-Disposition: form-data; name="observacao"\r\n\r\n'
         "SANITIZED_NAME ligou\r\n--b--\r\n"),
        ('level=info pedido=12 obs="João Pereira ligou"', "text/plain",
         'level=info pedido=12 obs="SANITIZED_NAME ligou"'),
        ("pedido: 12\nobservacao: João Pereira ligou\n", "application/yaml",
         "pedido: 12\nobservacao: SANITIZED_NAME ligou\n"),
        ('mutation { criarPedido(observacao: "João Pereira ligou") { id } }',
         "application/graphql",
         'mutation { criarPedido(observacao: "SANITIZED_NAME ligou") { id } }'),
        (json.dumps({"error": 'invalid value {"observacao": "Ana Costa ligou", "id": 1}'}),
         "application/json",
         json.dumps({"error": 'invalid value {"observacao": "SANITIZED_NAME ligou", "id": 1}'})),
    ],
)  # fmt: skip
def test_a_free_text_field_read_by_its_key_outside_json(
    body: str, content_type: str, expected: str
) -> None:
    """Forms, log pairs, YAML, GraphQL's literal arguments and pairs quoted in a message
    read such a field as JSON does: the names in it go, the rest stays."""
    assert _body(body, content_type) == expected


def test_a_free_text_query_value_and_base64_pairs() -> None:
    blob = base64.b64encode(b"pedido=12&obs=Ana Costa ligou").decode()
    out = TOKENS.sanitize(
        request_exchange(body=json.dumps({"ctx": blob}), query=(("obs", "Ana+Costa+ligou"),))
    )
    assert out.request.query == (("obs", "SANITIZED_NAME+ligou"),)
    decoded = base64.b64decode(json.loads(out.request.body)["ctx"]).decode()
    assert decoded == "pedido=12&obs=SANITIZED_NAME ligou"


def test_a_pseudonym_in_a_form_is_encoded_as_the_value_was() -> None:
    out = _body("obs=Jo%C3%A3o+Pereira+ligou", FORM, PSEUDONYMS)
    value = unquote_plus(out.removeprefix("obs="))
    assert value.endswith(" ligou") and "João" not in value and " " not in out


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Paul S Edelman ligou", "SANITIZED_NAME ligou"),
        ("on behalf of Mary E. Lewis", "on behalf of SANITIZED_NAME"),
        ("Falar com Maria J. Souza amanhã", "Falar com SANITIZED_NAME amanhã"),
        ("Prefácio de J. R. Tolkien", "Prefácio de SANITIZED_NAME"),
        ("ENTREGAR A MARIA J. SOUZA", "ENTREGAR A SANITIZED_NAME"),
        ("Reunião com o presidente João Pereira", "Reunião com o presidente SANITIZED_NAME"),
        ("Presidente João Pereira assinou", "Presidente SANITIZED_NAME assinou"),
        ("Enviado por Maria Silva e São Paulo aprovou", "Enviado por SANITIZED_NAME e São Paulo aprovou"),
        ("Ligar para Maria Silva de João Pessoa", "Ligar para SANITIZED_NAME de João Pessoa"),
    ],
)  # fmt: skip
def test_a_name_with_initials_after_a_title_or_beside_a_place(text: str, expected: str) -> None:
    assert _json({"observacao": text}) == {"observacao": expected}


@pytest.mark.parametrize(
    "text",
    [
        "Loja da R. Maria Aparecida",
        "Base da U.S. Army",
        "Saldo em U S Dollar",
        "Loja na Av. Presidente João Pereira",
        "Filial em Presidente Tancredo Neves",
        "Rota S. Paulo e Rio",
        "Fornecedor: Maria Silva e Filhos",
    ],
)
def test_initials_and_titles_of_places_stay(text: str) -> None:
    assert _json({"observacao": text}) == {"observacao": text}


@pytest.mark.parametrize("reference", ["&#227;", "&#xE3;", "&atilde;"])
def test_a_name_written_with_character_references_in_xml(reference: str) -> None:
    note = f"<NFe><infAdic><infCpl>Entregar para Jo{reference}o Pereira, apto 12</infCpl></infAdic></NFe>"
    assert _xml(note) == (
        "<NFe><infAdic><infCpl>Entregar para SANITIZED_NAME, apto 12</infCpl></infAdic></NFe>"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Rosa Souza ligou às 10h", "SANITIZED_NAME ligou às 10h"),
        ("Entregar para Aparecida Lima, apto 12", "Entregar para SANITIZED_NAME, apto 12"),
        ("Nelson Oliveira confirmou a troca", "SANITIZED_NAME confirmou a troca"),
        ("Falar com Conceição da Silva amanhã", "Falar com SANITIZED_NAME amanhã"),
        ("Wilson Pereira ligou; Rosa Maria Souza assinou",
         "SANITIZED_NAME ligou; SANITIZED_NAME assinou"),
        ("ENTREGAR PARA APARECIDA FERREIRA", "ENTREGAR PARA SANITIZED_NAME"),
    ],
)  # fmt: skip
def test_a_name_opened_by_a_word_that_is_also_a_last_name(text: str, expected: str) -> None:
    """Rosa, Aparecida, Conceição, Nelson, Wilson write last names too ("da Rosa"): before
    a known first or whole last name they open a person's name."""
    assert _json({"observacao": text}) == {"observacao": expected}


@pytest.mark.parametrize(
    "text",
    [
        "Camiseta rosa choque tamanho M",
        "Camiseta Rosa Choque tamanho M",
        "Passagem para Santa Rosa amanhã",
        "Pacote Rosa dos Ventos Turismo",
        "Reunião na Nelson Mandela Avenue",
        "Cliente de Oliveira Grande pediu troca",
        "Igreja Nossa Senhora Aparecida",
    ],
)
def test_a_word_that_is_also_a_last_name_stays_before_an_ordinary_word(text: str) -> None:
    """Lower-case prose, a town (municipalities), a product and a Faker town named
    after a surname ("Oliveira Grande": "Grande" is a word of "Casa Grande" only)."""
    assert _json({"observacao": text}) == {"observacao": text}


def test_a_search_for_a_name_opened_by_a_last_name_word() -> None:
    out = TOKENS.sanitize(
        request_exchange(query=(("busca", "Rosa Souza"), ("cidade", "Oliveira Grande")))
    )
    assert out.request.query == (("busca", "SANITIZED_NAME"), ("cidade", "Oliveira Grande"))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Francisca Soares ligou às 10h", "SANITIZED_NAME ligou às 10h"),
        ("Retirado por Raimundo Batista", "Retirado por SANITIZED_NAME"),
        ("ENTREGAR PARA SEBASTIÃO COELHO", "ENTREGAR PARA SANITIZED_NAME"),
        ("Rosa Soares confirmou", "SANITIZED_NAME confirmou"),
    ],
)
def test_a_name_ending_in_a_surname_faker_pt_br_lacks(text: str, expected: str) -> None:
    """Soares, Batista, Coelho: Portugal's common surnames (Faker's pt_PT list)."""
    assert _json({"observacao": text}) == {"observacao": expected}


@pytest.mark.parametrize("value", ["Vinho Branco", "Creme de Leite", "Coelho da Páscoa"])
def test_a_product_ending_in_a_pt_pt_surname_stays_in_a_name_field(value: str) -> None:
    """In an ambiguous ``name`` a last name alone decides: Portugal's surnames that
    are words (Branco, Leite) are no last names there."""
    assert _json({"id": 7, "name": value, "price": 9.9}) == {"id": 7, "name": value, "price": 9.9}


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Rosa Soares", "SANITIZED_NAME"),
        ("Aparecida Coelho", "SANITIZED_NAME"),
        ("Rosa Choque", "Rosa Choque"),
        ("Vinho Branco", "Vinho Branco"),
    ],
)
def test_a_name_field_opened_by_a_last_name_word_before_a_surname(
    value: str, expected: str
) -> None:
    """An ambiguous ``name``: neither "Rosa" (a last name's word too) nor "Soares" (a
    pt_PT surname) decides alone; together they do."""
    out = _json({"id": 7, "name": value, "price": 9.9})
    assert out == {"id": 7, "name": expected, "price": 9.9}
