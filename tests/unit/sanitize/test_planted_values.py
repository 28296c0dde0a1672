"""Values planted where earlier rounds did not look: each case failed before its fix
(a value, or part of it, came out as it went in).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.sanitize.sanitize_helpers import (
    fmt_cnpj,
    fmt_cpf,
    make_cnpj,
    make_cpf,
    request_exchange,
    sanitizer,
)

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k" * 32)
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _json_out(document: object, s: object = SANITIZER) -> object:
    body = json.dumps(document, ensure_ascii=False)
    return json.loads(s.sanitize(request_exchange(body=body)).request.body)  # type: ignore[attr-defined]


# -- e-mail addresses in any script ---------------------------------------------------
# The local part was read as ASCII only: "joão@x.com" became "joãSANITIZED_EMAIL", and
# "joao_silva@x.com" "joao_SANITIZED_EMAIL". Domains in other scripts were not read.

LOCALS = st.sampled_from(
    ["joão", "conceição.silva", "joao_silva", "maria-jose", "ana+news", "müller", "zoë.o",
     "Ñandú", "user_1"]
)  # fmt: skip
DOMAINS = st.sampled_from(
    ["exemplo.com.br", "müller.de", "café.com.br", "açaí.net.br", "mail.exämple.de", "x.io"]
)
TEXTS = st.sampled_from(["{}", "e-mail: {}", "<{}>", "({}); ok", "para {}, obrigado"])


@SETTINGS
@given(LOCALS, DOMAINS, TEXTS)
def test_an_address_in_any_script_is_replaced_whole(local: str, domain: str, text: str) -> None:
    address = f"{local}@{domain}"
    out = _json_out({"obs": text.format(address)})
    assert out == {"obs": text.format("SANITIZED_EMAIL")}


@pytest.mark.parametrize(
    "value",
    ["logo@2x.png", "a@b.c", "x@1.2.3.4", "user@localhost", "preço@", "@menção"],
)
def test_what_is_not_an_address_stays(value: str) -> None:
    assert _json_out({"obs": value}) == {"obs": value}


# -- a display name under a login's name --------------------------------------------
# "username"/"userName"/"x-user-name" were kept whatever they held, as a login is.


@pytest.mark.parametrize("key", ["username", "userName", "user_name", "nomeUsuario", "login"])
def test_a_name_under_a_login_key_is_replaced(key: str) -> None:
    assert _json_out({key: "Maria Conceição Souza", "id": 3}) == {key: "SANITIZED_NAME", "id": 3}


@pytest.mark.parametrize("value", ["maria.souza", "msouza", "maria_souza_1985", "Admin"])
def test_a_login_stays(value: str) -> None:
    assert _json_out({"username": value}) == {"username": value}


def test_a_name_in_a_user_name_header_is_replaced() -> None:
    exchange = request_exchange(headers=(("x-user-name", "João Pereira"), ("x-username", "jp")))
    headers = dict(SANITIZER.sanitize(exchange).request.headers)
    assert (headers["x-user-name"], headers["x-username"]) == ("SANITIZED_NAME", "jp")


# -- XML attributes and HTML form controls -------------------------------------------
# Before a body is read for personal fields, a probe looks for a key naming one; it read
# XML element names only, so a body whose only personal field was an attribute (or an
# HTML control's name="...") went out as it came in.

ATTRIBUTE_CASES = [
    ('<pedido id="1" telefone="912345678"/>', '<pedido id="1" telefone="SANITIZED_PHONE"/>'),
    ('<pedido nome="João Pereira" id="2"/>', '<pedido nome="SANITIZED_NAME" id="2"/>'),
    ("<r><item dataNascimento='14/03/1985'/></r>", "<r><item dataNascimento='SANITIZED_DATE'/></r>"),
    ('<ns:p xmlns:ns="u" ns:celular="11912345678"/>', '<ns:p xmlns:ns="u" ns:celular="SANITIZED_PHONE"/>'),
    ('<form><input type="text" name="telefone" value="912345678"></form>',
     '<form><input type="text" name="telefone" value="SANITIZED_PHONE"></form>'),
    ('<input value="João Pereira" name="cliente[nome]"/><input name="qtd" value="912345678">',
     '<input value="SANITIZED_NAME" name="cliente[nome]"/><input name="qtd" value="912345678">'),
    ('<textarea name="endereco">Boa Vista 12</textarea>',
     '<textarea name="endereco">SANITIZED_ADDRESS</textarea>'),
]  # fmt: skip


@pytest.mark.parametrize("content_type", ["application/xml", "text/html"])
@pytest.mark.parametrize(("body", "expected"), ATTRIBUTE_CASES)
def test_attributes_and_form_controls(body: str, expected: str, content_type: str) -> None:
    out = SANITIZER.sanitize(request_exchange(body=body, content_type=content_type))
    assert out.request.body.decode() == expected


@pytest.mark.parametrize(
    "body",
    [
        '<html><body><p>Pedido <b>42</b></p><input name="q" value="camiseta"></body></html>',
        '<produto nome="Camiseta Polo" id="912345678"/>',
        '<input name="produto" value="Tênis Corrida"><input name="quantidade" value="2">',
    ],
)
def test_attributes_naming_nothing_personal_stay(body: str) -> None:
    out = SANITIZER.sanitize(request_exchange(body=body, content_type="text/html"))
    assert out.request.body.decode() == body


# -- GraphQL literal arguments --------------------------------------------------------
# Only secrets were read from a GraphQL document (senha: "..."): a person's name or a
# bare phone number written as an argument went out as it came in.

GRAPHQL_CASES = [
    ('mutation { criarCliente(nome: "João Pereira", telefone: "912345678") { id } }',
     'mutation { criarCliente(nome: "SANITIZED_NAME", telefone: "SANITIZED_PHONE") { id } }'),
    ('mutation M { update(input: {cpf: "x", nome: "Ana Lima", celular: 11912345678}) { ok } }',
     'mutation M { update(input: {cpf: "x", nome: "SANITIZED_NAME", celular: SANITIZED_PHONE}) '
     "{ ok } }"),
    ('{ cliente(dataNascimento: "1985-03-14") { id } }',
     '{ cliente(dataNascimento: "SANITIZED_DATE") { id } }'),
    ('query { produtos(nome: "Camiseta Polo", first: 912345678) { id nome } }',
     'query { produtos(nome: "Camiseta Polo", first: 912345678) { id nome } }'),
]  # fmt: skip


@pytest.mark.parametrize(("document", "expected"), GRAPHQL_CASES)
def test_graphql_arguments_in_a_json_request(document: str, expected: str) -> None:
    body = {"query": document, "variables": {"id": 3}}
    assert _json_out(body) == {"query": expected, "variables": {"id": 3}}


@pytest.mark.parametrize(("document", "expected"), GRAPHQL_CASES)
def test_graphql_arguments_in_a_graphql_body(document: str, expected: str) -> None:
    out = SANITIZER.sanitize(request_exchange(body=document, content_type="application/graphql"))
    assert out.request.body.decode() == expected


# -- query strings of URLs inside text -------------------------------------------------
# The request's own query is read by parameter name; a URL in a Referer or Location
# header, a JSON string or an HTML href was free text, where "nome=" names nothing.

URL_CASES = [
    ("https://loja.com/c?cpf=1&nome=Jo%C3%A3o+Pereira", "https://loja.com/c?cpf=1&nome=SANITIZED_NAME"),
    ("/conta?first_name=Maria&last_name=Souza&page=2",
     "/conta?first_name=SANITIZED_NAME&last_name=SANITIZED_NAME&page=2"),
    ("https://x.com/cb?nomeCompleto=Ana%20Lima#top", "https://x.com/cb?nomeCompleto=SANITIZED_NAME#top"),
    ("https://x.com/?telefone=912345678", "https://x.com/?telefone=SANITIZED_PHONE"),
    ("https://x.com/?produto=Camiseta+Polo&nome=Camiseta", "https://x.com/?produto=Camiseta+Polo&nome=Camiseta"),
]  # fmt: skip


@pytest.mark.parametrize(("url", "expected"), URL_CASES)
@pytest.mark.parametrize("header", ["referer", "location", "content-location", "x-return-to"])
def test_url_parameters_in_headers(url: str, expected: str, header: str) -> None:
    exchange = request_exchange(headers=((header, url),))
    assert dict(SANITIZER.sanitize(exchange).request.headers)[header] == expected


@pytest.mark.parametrize(("url", "expected"), URL_CASES)
def test_url_parameters_in_json_strings(url: str, expected: str) -> None:
    assert _json_out({"next": url, "links": [url]}) == {"next": expected, "links": [expected]}


@pytest.mark.parametrize(("url", "expected"), URL_CASES)
def test_url_parameters_in_html(url: str, expected: str) -> None:
    def page(href: str) -> str:
        return f'<p><a href="{href.replace("&", "&amp;")}">perfil</a></p>'

    out = SANITIZER.sanitize(request_exchange(body=page(url), content_type="text/html"))
    assert out.request.body.decode() == page(expected)


def test_url_parameters_with_pseudonyms_are_encoded_values() -> None:
    exchange = request_exchange(headers=(("referer", URL_CASES[0][0]),))
    referer = dict(PSEUDONYMS.sanitize(exchange).request.headers)["referer"]
    prefix, _, value = referer.partition("&nome=")
    assert prefix == "https://loja.com/c?cpf=1"
    assert value and "Pereira" not in value and " " not in value


# -- CPF and CNPJ joined to a word by "_" ---------------------------------------------
# A word character next to the digits made them part of an id, "_" included:
# "extrato_52998224725.pdf" (a file name, a Content-Disposition) or "cpf_529.982.247-25"
# went out as they came.

DOCUMENTS = st.sampled_from(
    [make_cpf("529982247"), fmt_cpf(make_cpf("529982247")), make_cpf("111444777"),
     make_cnpj("112223330001"), fmt_cnpj(make_cnpj("112223330001"))]
)  # fmt: skip
WORDS = st.sampled_from(["extrato", "cpf", "doc", "rg", "cliente_v2", "x"])


@SETTINGS
@given(DOCUMENTS, WORDS, st.sampled_from(["{w}_{d}", "{d}_{w}", "{w}_{d}.pdf", "{w}_{d}_{w}"]))
def test_a_document_joined_by_an_underscore(document: str, word: str, shape: str) -> None:
    text = shape.format(w=word, d=document)
    expected = shape.format(w=word, d="SANITIZED_DOCUMENT")
    assert _json_out({"arquivo": text}) == {"arquivo": expected}
    exchange = request_exchange(
        headers=(("content-disposition", f'attachment; filename="{text}"'),)
    )
    disposition = dict(SANITIZER.sanitize(exchange).request.headers)["content-disposition"]
    assert disposition == f'attachment; filename="{expected}"'


@pytest.mark.parametrize(
    "text",
    ["order_12345678901", "x52998224725_", "_52998224725.5", "v_529.982.247-2", "id_1234567890123"],
)
def test_an_id_joined_by_an_underscore_stays(text: str) -> None:
    assert _json_out({"ref": text}) == {"ref": text}


# -- other identity documents by field name -------------------------------------------
# Only RG was replaced by its field's name: a driving licence, passport, NIS or voter's
# card number went out as it came.


@pytest.mark.parametrize(
    ("key", "value"),
    [("cnh", "12345678901"), ("numeroCnh", "12345678901"), ("passaporte", "AB123456"),
     ("passportNumber", "FZ987654"), ("titulo_eleitor", "123456789012"), ("nis", "12345678901"),
     ("cns", "123456789012345"), ("ctps", "1234567 0012"), ("driversLicense", "X1234567"),
     ("numeroHabilitacao", "04567891234")],
)  # fmt: skip
def test_identity_documents_by_name(key: str, value: str) -> None:
    document = {"id": 7, "cliente": {key: value, "ativo": True}}
    expected = {"id": 7, "cliente": {key: "SANITIZED_DOCUMENT", "ativo": True}}
    assert _json_out(document) == expected
    assert _json_out({key: value}) == {key: "SANITIZED_DOCUMENT"}


@pytest.mark.parametrize(
    "document",
    [{"cnh_validade": "2030-01-01", "cnhCategoria": "AB", "cnhUf": "SP"},
     {"vPIS": 1.65, "valorPis": 2.5, "aliquotaPis": "1.65"},
     {"passaporte": "N/A"},
     # A package manifest's dependencies: versions, not document numbers.
     {"dependencies": {"passport": "^0.6.0", "passport-local": "1.0.0", "cns": "~1.2"}}],
)  # fmt: skip
def test_what_describes_a_document_stays(document: dict) -> None:
    assert _json_out(document) == document


def test_nfe_pis_tax_stays() -> None:
    body = "<imposto><PIS><PISAliq><CST>01</CST><vBC>100.00</vBC><pPIS>1.65</pPIS></PISAliq></PIS></imposto>"
    out = SANITIZER.sanitize(request_exchange(body=body, content_type="application/xml"))
    assert out.request.body.decode() == body


# -- an object made an address by its address lines -------------------------------------
# {"shipping": {"address1": ..., "zip": ...}}: the zip code (and number) of an object
# holding address lines was kept, as no member said it was an address.


@pytest.mark.parametrize("holder", ["shipping", "delivery", "entrega", "destino"])
def test_address_lines_make_an_address(holder: str) -> None:
    document = {holder: {"address_line_1": "Boa Vista 12", "address2": "ap 3",
                         "zip": "01452-000", "number": "12", "city": "São Paulo", "method": "pac"}}  # fmt: skip
    expected = {holder: {"address_line_1": "SANITIZED_ADDRESS", "address2": "SANITIZED_ADDRESS",
                         "zip": "SANITIZED_CEP", "number": "SANITIZED_ADDRESS",
                         "city": "São Paulo", "method": "pac"}}  # fmt: skip
    assert _json_out(document) == expected


def test_an_order_next_to_an_address_keeps_its_number() -> None:
    document = {
        "order": {"address": {"street": "Boa Vista"}, "number": "PED-123", "zip": "01452000"}
    }
    assert _json_out(document) == {
        "order": {
            "address": {"street": "SANITIZED_ADDRESS"},
            "number": "PED-123",
            "zip": "01452000",
        }
    }


# -- typed entries ----------------------------------------------------------------------
# {"tipo": "telefone", "valor": "912345678"}: the value's class is named by a sibling's
# value, not by its key; a bare phone number or an RG number there went out as it came.

RULES_SANITIZER = sanitizer(sanitize_fields={"apelido": "name"})


@pytest.mark.parametrize("s", [SANITIZER, RULES_SANITIZER])
@pytest.mark.parametrize(
    ("entry", "token"),
    [({"tipo": "CELULAR", "valor": "912345678"}, "SANITIZED_PHONE"),
     ({"type": "phone", "value": 11912345678}, "SANITIZED_PHONE"),
     ({"tipo": "whatsapp", "principal": True, "valor": "11 91234-5678"}, "SANITIZED_PHONE"),
     ({"tipo": "RG", "numero": "123456789", "orgao": "SSP"}, "SANITIZED_DOCUMENT"),
     ({"tipoDocumento": "CNH", "numero": "12345678901"}, "SANITIZED_DOCUMENT")],
)  # fmt: skip
def test_a_typed_entry_is_read_by_its_type(entry: dict, token: str, s: object) -> None:
    value_key = next(k for k in entry if k in ("valor", "value", "numero"))
    document = {"cliente": {"id": 1, "contatos": [entry, entry]}}
    out = _json_out(document, s)
    assert out["cliente"]["contatos"] == [{**entry, value_key: token}] * 2  # type: ignore[index]


# With no key naming anything personal around them ({"documentos": [...]}, a bare list),
# the body was never read by its structure, and an RG number went out as it came.
@pytest.mark.parametrize(
    ("entry", "token"),
    [({"tipo": "rg", "valor": "123456789"}, "SANITIZED_DOCUMENT"),
     ({"type": "RG", "number": "123456789", "issuer": "SSP"}, "SANITIZED_DOCUMENT"),
     ({"tipoDocumento": "CNH", "numero": "12345678901"}, "SANITIZED_DOCUMENT"),
     ({"tipo_contato": "CELULAR", "valor": "912345678"}, "SANITIZED_PHONE")],
)  # fmt: skip
@pytest.mark.parametrize("wrap", ["list", "documentos"])
def test_a_typed_entry_alone_is_read_by_its_type(entry: dict, token: str, wrap: str) -> None:
    value_key = next(k for k in entry if k in ("valor", "number", "numero"))
    document: object = [entry, entry] if wrap == "list" else {"documentos": [entry]}
    expected = {**entry, value_key: token}
    out = _json_out(document)
    assert out == ([expected] * 2 if wrap == "list" else {"documentos": [expected]})


@pytest.mark.parametrize(
    "entry",
    [{"tipo": "site", "valor": "loja.com"}, {"type": "sku", "value": "912345678"},
     {"type": "pix", "value": 12.5},
     {"tipo": "telefone", "valor": "N/A"}],
)  # fmt: skip
def test_a_typed_entry_naming_nothing_personal_stays(entry: dict) -> None:
    document = {"cliente": {"contatos": [entry]}}
    assert _json_out(document) == document


def test_a_product_attribute_stays() -> None:
    document = {"cliente": {"id": 1}, "produto": {"atributos": [{"tipo": "nome", "valor": "Polo"}]}}
    assert _json_out(document) == document


# -- a phone-named field's value with more than the number ----------------------------
# With pseudonyms, a value holding a character that is neither a digit nor a separator
# ("912345678\n" in a multipart part written with bare line breaks, a trailing
# no-break space) came back as it went in. "912345678 ramal 2" or a list's "912345678;"
# was not read as a phone at all. A multipart part ending in a bare "\n" lost it.

PHONE_VALUES = ["912345678 ramal 2", "912345678;", "9123-4567\u00a0", "(11) 3456-7890 Ext. 12"]


@pytest.mark.parametrize("s", [SANITIZER, PSEUDONYMS])
@pytest.mark.parametrize("value", PHONE_VALUES)
def test_a_phone_with_an_extension_or_a_trailing_mark(value: str, s: object) -> None:
    out = _json_out({"telefone": value, "id": 4}, s)
    fresh = out["telefone"]  # type: ignore[index]
    assert out["id"] == 4  # type: ignore[index]
    number = value.partition(" r")[0].partition(" E")[0].rstrip(";\u00a0")
    assert number not in fresh and number[-4:] not in fresh


@pytest.mark.parametrize("s", [SANITIZER, PSEUDONYMS])
@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_a_multipart_part_keeps_its_line_break(s: object, newline: str) -> None:
    part = f'--b{newline}Content-Disposition: form-data; name="telefone"{newline}{newline}'
    body = f"{part}912345678{newline}--b--{newline}"
    out = s.sanitize(  # type: ignore[attr-defined]
        request_exchange(body=body, content_type="multipart/form-data; boundary=b")
    ).request.body.decode()
    assert out.startswith(part) and out.endswith(f"{newline}--b--{newline}")
    assert "912345678" not in out and len(out.splitlines()) == len(body.splitlines())
