"""Personal data: names, birth dates, addresses, CEP, RG and phones, by field and context."""

from __future__ import annotations

import datetime
import json
import re
from urllib.parse import parse_qsl

import phonenumbers
import pytest
from faker.providers.address.pt_BR import Provider as Address
from faker.providers.person.pt_BR import Provider as Person

from ext_proc_server.core.errors import ConfigError
from ext_proc_server.mapping.noise import SANITIZED_PATTERN
from ext_proc_server.sanitize.pseudonym import TOKENS
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SCRUB = sanitizer()


def _json(body: dict, **config: object) -> dict:
    exchange = request_exchange(body=json.dumps(body, ensure_ascii=False))
    return json.loads(sanitizer(**config).sanitize(exchange).request.body)


def test_the_readme_example_is_replaced_and_the_rest_kept() -> None:
    out = _json(
        {
            "name": "Maria da Silva Souza",
            "birth_date": "1985-03-14",
            "address": "Rua das Flores, 123, apto 45 - Jardim Paulista, São Paulo - SP, 01452-000",
            "created_at": "2024-01-15",
            "product": {"name": "Camiseta Polo Azul"},
            "plan": {"name": "Plano Família Premium"},
            "bank_name": "Banco do Brasil S.A.",
            "company": {"name": "Acme Ltda", "address": {"street": "Av. Brasil", "zipCode": "01000-000"}},
        }
    )  # fmt: skip
    assert out["name"] == "SANITIZED_NAME"
    assert out["birth_date"] == "SANITIZED_DATE"
    assert out["address"] == "SANITIZED_ADDRESS"
    assert out["created_at"] == "2024-01-15"
    assert out["product"] == {"name": "Camiseta Polo Azul"}
    assert out["plan"] == {"name": "Plano Família Premium"}
    assert out["bank_name"] == "Banco do Brasil S.A."
    assert out["company"]["address"] == {"street": "Av. Brasil", "zipCode": "01000-000"}


@pytest.mark.parametrize(
    ("key", "value", "token"),
    [
        ("nome", "Maria Souza", "SANITIZED_NAME"),
        ("nomeCompleto", "Kauã Xavier", "SANITIZED_NAME"),
        ("nome_mae", "Ana Souza", "SANITIZED_NAME"),
        ("nomeDaMae", "Ana Souza", "SANITIZED_NAME"),
        ("NOME-PAI", "José Souza", "SANITIZED_NAME"),
        ("fullName", "Kauã Xavier", "SANITIZED_NAME"),
        ("first_name", "Kauã", "SANITIZED_NAME"),
        ("lastName", "Xavier", "SANITIZED_NAME"),
        ("cardholder_name", "MARIA S SOUZA", "SANITIZED_NAME"),
        ("dataNascimento", "14/03/1985", "SANITIZED_DATE"),
        ("dtNasc", "1985-03-14", "SANITIZED_DATE"),
        ("birthDate", "1985-03-14T00:00:00Z", "SANITIZED_DATE"),
        ("dob", "14-03-1985", "SANITIZED_DATE"),
        ("rg", "12.345.678-9", "SANITIZED_DOCUMENT"),
        ("numeroRG", "MG-12.345.678", "SANITIZED_DOCUMENT"),
        ("logradouro", "Rua das Flores", "SANITIZED_ADDRESS"),
        ("bairro", "Centro", "SANITIZED_ADDRESS"),
        ("telefone", "1134567890", "SANITIZED_PHONE"),
        ("fone", "3456-7890", "SANITIZED_PHONE"),
        ("phone", "+55 (11) 9 1234-5678", "SANITIZED_PHONE"),
    ],
)
def test_fields_by_name_in_a_person_object(key: str, value: str, token: str) -> None:
    out = _json({"cliente": {key: value, "cpf": "529.982.247-25"}})
    assert out["cliente"][key] == token


def test_field_names_with_accents() -> None:
    out = _json({"endereço": "Alameda Santos", "nome_mãe": "Kauã Xavier", "número": "12"})
    # A person's record (nome_mãe): its "número" is their house number.
    assert out == {
        "endereço": "SANITIZED_ADDRESS",
        "nome_mãe": "SANITIZED_NAME",
        "número": "SANITIZED_ADDRESS",
    }


def test_an_address_object_is_personal_and_its_city_and_state_are_kept() -> None:
    address = {"logradouro": "Rua X", "numero": "12", "complemento": "apto 4",
               "bairro": "Centro", "cidade": "São Paulo", "uf": "SP", "cep": "01452-000"}  # fmt: skip
    out = _json({"cliente": {"endereco": address}, "pedido": {"numero": "12"}})
    assert out["cliente"]["endereco"] == {
        "logradouro": "SANITIZED_ADDRESS", "numero": "SANITIZED_ADDRESS",
        "complemento": "SANITIZED_ADDRESS", "bairro": "SANITIZED_ADDRESS",
        "cidade": "São Paulo", "uf": "SP", "cep": "SANITIZED_CEP",
    }  # fmt: skip
    assert out["pedido"] == {"numero": "12"}  # an order number is not an address


@pytest.mark.parametrize(
    "body",
    [
        {"razaoSocial": "Silva Comércio Ltda", "nomeFantasia": "Loja Silva"},
        {
            "empresa": {
                "nome": "Souza e Filhos",
                "endereco": {"logradouro": "Av. Brasil", "cep": "01000-000"},
            }
        },
        {"produto": {"nome": "Maria Mole"}, "categoria": {"nome": "Doces"}},
        {"banco": {"nome": "Banco Souza"}, "bank_name": "Banco Souza"},
        {"items": [{"name": "Ana Gift Card", "sku": "X-1"}]},
        {"cep": "01452-000", "frete": 12.5},  # a freight quote: no person's address
        {"vencimento": "1985-03-14", "created_at": "1985-03-14", "order_date": "1985-03-14"},
        {"cidade": "São Paulo", "estado": "SP", "birth_city": "Recife"},
        {"ip_address": "10.0.0.1", "email_address_verified": True, "username": "maria.souza"},
        {"telefone": "N/A", "customer_id": 12345678901, "phone_number_id": "106540352242922"},
    ],
)
def test_what_is_not_personal_is_kept(body: dict) -> None:
    assert _json(body) == body


def test_an_ambiguous_name_is_replaced_when_it_reads_like_a_person() -> None:
    out = _json({"name": "Maria Souza", "items": [{"name": "alpha 123"}, {"name": "Camiseta"}]})
    assert out == {"name": "SANITIZED_NAME", "items": [{"name": "alpha 123"}, {"name": "Camiseta"}]}


def test_nfe_dest_is_personal_and_emit_is_not() -> None:
    body = (
        "<NFe><infNFe><emit><CNPJ>11222333000181</CNPJ><xNome>Souza Comercio Ltda</xNome>"
        "<enderEmit><xLgr>Av. Brasil</xLgr><nro>100</nro><xBairro>Centro</xBairro>"
        "<xMun>Sao Paulo</xMun><UF>SP</UF><CEP>01000000</CEP></enderEmit></emit>"
        "<dest><CPF>52998224725</CPF><xNome>Maria da Silva Souza</xNome><enderDest>"
        "<xLgr>Rua das Flores</xLgr><nro>123</nro><xCpl>apto 45</xCpl><xBairro>Jardim Paulista"
        "</xBairro><xMun>Sao Paulo</xMun><UF>SP</UF><CEP>01452000</CEP></enderDest></dest>"
        "<det><prod><xProd>Camiseta</xProd></prod></det></infNFe></NFe>"
    )
    exchange = request_exchange(body=body, content_type="application/xml")
    out = SCRUB.sanitize(exchange).request.body.decode()
    emit, dest = out.split("<dest>")
    assert "<xNome>Souza Comercio Ltda</xNome>" in emit and "<CEP>01000000</CEP>" in emit
    assert "<xLgr>Av. Brasil</xLgr><nro>100</nro><xBairro>Centro</xBairro>" in emit
    for element in ("xNome", "xLgr", "nro", "xCpl", "xBairro"):
        assert f"<{element}>SANITIZED_" in dest
    assert "<CEP>SANITIZED_CEP</CEP>" in dest and "<xMun>Sao Paulo</xMun>" in dest
    assert "<xProd>Camiseta</xProd>" in dest


def test_xml_attributes_and_namespaces() -> None:
    body = (
        '<ns:cliente ns:nome="Maria Souza" tipo="PF"><ns:dtNasc>1985-03-14</ns:dtNasc></ns:cliente>'
    )
    out = SCRUB.sanitize(request_exchange(body=body, content_type="text/xml")).request.body
    assert out.decode() == (
        '<ns:cliente ns:nome="SANITIZED_NAME" tipo="PF"><ns:dtNasc>SANITIZED_DATE</ns:dtNasc>'
        "</ns:cliente>"
    )


def test_forms_and_query_strings_by_field_name() -> None:
    form = "nome=Maria+da+Silva&cpf=1&cliente%5Bendereco%5D%5Blogradouro%5D=Rua+X&produto=Camisa"
    exchange = request_exchange(
        body=form,
        content_type="application/x-www-form-urlencoded",
        query=(("nomeCliente", "Ana%20Souza"), ("dtNasc", "1985-03-14"), ("categoria", "Moda")),
    )
    request = SCRUB.sanitize(exchange).request
    assert dict(parse_qsl(request.body.decode())) == {
        "nome": "SANITIZED_NAME",
        "cpf": "1",
        "cliente[endereco][logradouro]": "SANITIZED_ADDRESS",
        "produto": "Camisa",
    }
    assert request.query == (
        ("nomeCliente", "SANITIZED_NAME"),
        ("dtNasc", "SANITIZED_DATE"),
        ("categoria", "Moda"),
    )


def test_ids_are_skipped_only_in_headers_whose_name_is_not_secret() -> None:
    token = "9f86d081884c7d659a2feaa0c55ad015"
    headers = (("x-api-key", token), ("x-auth-token", token), ("x-trace-id", token),
               ("cookie", token), ("x-forwarded-for", "10.1.2.3"))  # fmt: skip
    request = SCRUB.sanitize(request_exchange(headers=headers)).request
    assert dict(request.headers) == {
        "content-type": "application/json",
        "x-api-key": "SANITIZED_HEADER",
        "x-auth-token": "SANITIZED_HEADER",
        "x-trace-id": token,
        "cookie": "SANITIZED_HEADER",
        "x-forwarded-for": "10.1.2.3",
    }


def test_headers_named_like_personal_fields() -> None:
    headers = (("x-customer-name", "Maria Souza"), ("x-client-name", "mobile-app"))
    request = SCRUB.sanitize(request_exchange(headers=headers)).request
    assert dict(request.headers)["x-customer-name"] == "SANITIZED_NAME"
    assert dict(request.headers)["x-client-name"] == "mobile-app"


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("nascida em 14/03/1985, mora na Av. Paulista 1000", ["nascida em", "mora na"]),
        ("O titular Maria da Silva Souza ligou", ["O titular", "ligou"]),
        ("cliente José Carlos Pereira pediu troca", ["cliente", "pediu troca"]),
        ("Falei com a Sra. Souza hoje", ["Falei com a Sra.", "hoje"]),
        ("Rua das Flores, 123, apto 45 - Jardim Paulista, São Paulo - SP, 01452-000.", ["."]),
        ("RG 12.345.678-9 emitido", ["RG", "emitido"]),
        ("date of birth: March 14, 1985", ["date of birth:"]),
        ("nasceu em 14 de março de 1985", ["nasceu em"]),
        ("ligue para 4004-1234", ["ligue para"]),
    ],
)
def test_free_text_by_context(text: str, kept: list[str]) -> None:
    out = SCRUB.sanitize_text(text)
    assert "SANITIZED_" in out
    assert all(piece in out for piece in kept)
    assert not re.search(r"\d{3}|Maria|Souza|Pereira|Flores|Paulista", out)


@pytest.mark.parametrize(
    "text",
    [
        "pedido 2024-01-15 entregue em São Paulo, mora em Campinas",
        "Plano Família Premium com Cliente Premium Gold",
        "Igreja de Nossa Senhora da Conceição",
        "Avenida de oportunidades para você",
        "versão 1.2.3 de 14/03/2024",
        "cidade de Senhor do Bonfim",
    ],
)
def test_free_text_decoys_are_kept(text: str) -> None:
    assert SCRUB.sanitize_text(text) == text


def test_new_tokens_are_noise_for_mappings() -> None:
    for token in ("SANITIZED_NAME", "SANITIZED_DATE", "SANITIZED_ADDRESS", "SANITIZED_CEP"):
        assert token in TOKENS.values()
        assert re.fullmatch(SANITIZED_PATTERN, token)


# -- the user's field rules ----------------------------------------------------------


def test_sanitize_fields_map_field_names_to_builtin_and_own_classes() -> None:
    config = {
        "sanitize_patterns": [{"name": "employee_id", "regex": "EMP-\\d{6}", "replacement": "EMP-X"}],
        "sanitize_fields": {"cliente.apelido": "name", "matricula*": "employee_id"},
    }  # fmt: skip
    out = _json(
        {"cliente": {"apelido": "Mari"}, "apelido": "Mari", "matricula_nova": "A1", "x": "EMP-123456"},
        **config,
    )  # fmt: skip
    assert out == {
        "cliente": {"apelido": "SANITIZED_NAME"},
        "apelido": "Mari",  # not inside cliente
        "matricula_nova": "EMP-X",
        "x": "EMP-X",
    }


def test_sanitize_fields_apply_to_forms_and_xml() -> None:
    s = sanitizer(sanitize_fields={"codigo_interno": "api_key", "apelido": "name"})
    form = s.sanitize(
        request_exchange(
            body="codigoInterno=abc&outro=1", content_type="application/x-www-form-urlencoded"
        )
    )
    assert form.request.body == b"codigoInterno=SANITIZED_HEADER&outro=1"
    xml = s.sanitize(
        request_exchange(body="<a><apelido>Mari</apelido></a>", content_type="text/xml")
    )
    assert xml.request.body == b"<a><apelido>SANITIZED_NAME</apelido></a>"


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        (
            {"apelido": "nickname"},
            r"collector\.sanitize_fields: 'apelido': unknown class 'nickname'",
        ),
        ({"a..b": "name"}, r"collector\.sanitize_fields: 'a\.\.b': invalid field pattern"),
        ({"**": "name"}, r"collector\.sanitize_fields: '\*\*': the pattern must name"),
    ],
)
def test_sanitize_fields_are_validated_at_load(tmp_path, fields: dict, message: str) -> None:
    from ext_proc_server.core.config import load_config

    path = tmp_path / "m.yaml"
    path.write_text(json.dumps({"collector": {"sanitize_fields": fields}}))
    with pytest.raises(ConfigError, match=message):
        load_config(path, env={})


# -- phones ----------------------------------------------------------------------------

_TYPES = (
    phonenumbers.PhoneNumberType.FIXED_LINE,
    phonenumbers.PhoneNumberType.MOBILE,
    phonenumbers.PhoneNumberType.TOLL_FREE,
    phonenumbers.PhoneNumberType.PREMIUM_RATE,
    phonenumbers.PhoneNumberType.SHARED_COST,
)


def _layouts(number: phonenumbers.PhoneNumber) -> list[str]:
    nsn = str(number.national_number)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    out = [
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164),
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL),
        national,
        ("0" + nsn) if national.startswith("0") else nsn,
    ]
    if national.startswith("("):
        out += [
            "55" + nsn,
            f"(0{nsn[:2]}) {national.partition(') ')[2]}",
            "0" + nsn,
            phonenumbers.format_national_number_with_carrier_code(number, "21"),
            "021" + nsn,
        ]
    return out


@pytest.mark.parametrize("kind", _TYPES)
def test_every_br_number_type_in_every_layout_under_a_phone_key_and_after_a_cue(kind) -> None:
    number = phonenumbers.example_number_for_type("BR", kind)
    for layout in _layouts(number):
        assert phonenumbers.is_valid_number(phonenumbers.parse(layout, "BR")), layout
        assert _json({"telefone": layout}) == {"telefone": "SANITIZED_PHONE"}, layout
        assert SCRUB.sanitize_text(f"WhatsApp: {layout}.") == "WhatsApp: SANITIZED_PHONE.", layout


def test_a_phone_named_field_loses_any_digit_string_that_could_be_a_phone() -> None:
    # WhatsApp ids drop the mobile 9 (not valid to libphonenumber): still a phone.
    out = _json({"wa_id": "551181234567", "celular": "(99) 0000-0000", "tel": "12"})
    assert out == {"wa_id": "SANITIZED_PHONE", "celular": "SANITIZED_PHONE", "tel": "12"}


# -- pseudonyms ----------------------------------------------------------------------


def _pseudonyms(key: str = "k-1"):
    return sanitizer(sanitize_mode="pseudonyms", pseudonym_key=key)


def test_pseudonyms_look_real_and_keep_the_shape() -> None:
    first_names = {*Person.first_names_female, *Person.first_names_male}
    body = {
        "cliente": {"nome": "Maria da Silva Souza", "nome_mae": "ANA SOUZA",
                    "dataNascimento": "14/03/1985", "birthDate": "1985-03-14",
                    "rg": "12.345.678-9", "telefone": "(11) 91234-5678", "telefoneFixo": "1134567890",
                    "endereco": {"logradouro": "Rua das Flores", "numero": "123",
                                 "cep": "01452-000", "bairro": "Jardim Paulista"}},
    }  # fmt: skip
    out = _json(body, sanitize_mode="pseudonyms", pseudonym_key="k-1")["cliente"]
    words = out["nome"].split()
    assert len(words) == 4 and words[1] == "da" and words[0] in first_names
    assert words[0] != "Maria" and words[3] in Person.last_names
    assert out["nome_mae"].isupper() and out["nome_mae"].split()[1] != "SOUZA"
    # the same surname, whatever its case, becomes the same fake surname
    assert out["nome_mae"].split()[1] == words[3].upper()
    day, month, year = map(int, out["dataNascimento"].split("/"))
    shifted = datetime.date(year, month, day) - datetime.date(1985, 3, 14)
    assert 30 <= abs(shifted.days) <= 400
    assert out["birthDate"] == f"{year:04d}-{month:02d}-{day:02d}"  # one date, one fake
    assert re.fullmatch(r"\d\d\.\d{3}\.\d{3}-\d", out["rg"]) and out["rg"] != "12.345.678-9"
    for field, original in (("telefone", "(11) 91234-5678"), ("telefoneFixo", "1134567890")):
        assert out[field] != original and len(out[field]) == len(original)
        assert phonenumbers.is_valid_number(phonenumbers.parse(out[field], "BR"))
    address = out["endereco"]
    assert address["logradouro"].startswith("Rua ") and address["logradouro"] != "Rua das Flores"
    assert re.fullmatch(r"\d{3}", address["numero"]) and address["numero"] != "123"
    assert re.fullmatch(r"\d{5}-\d{3}", address["cep"]) and address["cep"] != "01452-000"
    assert address["bairro"].startswith("Jardim ") and address["bairro"] != "Jardim Paulista"
    assert Address.street_prefixes  # the kept prefixes come from this list


def test_pseudonyms_are_consistent_across_messages_and_sanitizers() -> None:
    body = json.dumps({"nome": "Maria Souza", "cliente": {"telefone": "+55 11 91234-5678"}})
    reply = json.dumps({"customer": {"fullName": "MARIA SOUZA", "phone": "(11) 91234-5678"}})
    first = _pseudonyms().sanitize(request_exchange(body=body, response_body=reply))
    second = _pseudonyms().sanitize(request_exchange(body=body, response_body=reply))
    assert first.request.body == second.request.body
    request, response = json.loads(first.request.body), json.loads(first.response.body)
    assert request["nome"].upper() == response["customer"]["fullName"]
    assert request["cliente"]["telefone"][-10:] == response["customer"]["phone"][-10:]
    other_key = _pseudonyms("k-2").sanitize(request_exchange(body=body))
    assert other_key.request.body != first.request.body


def test_pseudonyms_of_values_holding_digits_int_cannot_read() -> None:
    # "²" is a digit to str.isdigit but not to int(): such values were dropped whole.
    body = {"cliente": {"rg": "²", "cpf_rg": "12.345.678-9²",
                        "endereco": {"logradouro": "Rua ² 15", "numero": "⁴"}}}  # fmt: skip
    out = _json(body, sanitize_mode="pseudonyms", pseudonym_key="k-1")["cliente"]
    assert out["rg"] == "²"  # nothing decimal to replace, nothing personal to keep
    assert re.fullmatch(r"\d\d\.\d{3}\.\d{3}-\d²", out["cpf_rg"])
    assert out["cpf_rg"] != "12.345.678-9²"
    assert "15" not in out["endereco"]["logradouro"]
