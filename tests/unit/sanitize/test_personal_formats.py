"""People in the formats real services send, beyond JSON, forms, CSV and XML: vCard,
iCalendar, LDIF, YAML, TOML, ``.properties``, base64 text (a Kubernetes Secret's
``data``, a CSV in a JSON field, a MIME part in 76-character lines, a document after a
byte order mark), HTML cells holding markup, JavaScript literals and Nuxt's state.
Each went out with the person's name (and in base64, everything) until these readers.

Property tests over Faker pt_BR people: no planted value may come back, as written,
case-folded or as bare digits; documents with nobody in them come back byte for byte.
"""

from __future__ import annotations

import base64
import json
import re

import pytest
import yaml
from faker import Faker

from tests.unit.sanitize.personal_formats import BUILDERS, leaked, person
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k" * 32)
PEOPLE_PER_FORMAT = 40


def _sanitized(sanitizer_, content_type: str, body: str) -> list[str]:
    out = sanitizer_.sanitize(
        request_exchange(body=body, content_type=content_type, response_body=body)
    )
    texts = []
    for message in (out.request, out.response):
        assert not message.body_dropped, message.body_drop_reason
        texts.append(message.body.decode("utf-8"))
    return texts


@pytest.mark.parametrize("name", sorted(BUILDERS))
@pytest.mark.parametrize("mode", ["tokens", "pseudonyms"])
def test_no_planted_value_comes_back(name: str, mode: str) -> None:
    fake = Faker("pt_BR")
    fake.seed_instance(sum(map(ord, name)))
    sanitizer_ = SANITIZER if mode == "tokens" else PSEUDONYMS
    for _ in range(PEOPLE_PER_FORMAT):
        content_type, body, planted = BUILDERS[name](person(fake))
        if mode == "pseudonyms":  # a fake surname may be a planted one: whole names only
            planted = [value for value in planted if not value.isalpha()]
        for text in _sanitized(sanitizer_, content_type, body):
            assert leaked(text, planted) == [], text


def _one(name: str) -> tuple[str, str]:
    fake = Faker("pt_BR")
    fake.seed_instance(7)
    content_type, body, _ = BUILDERS[name](person(fake))
    return content_type, _sanitized(SANITIZER, content_type, body)[1]


def test_formats_keep_their_shape() -> None:
    """What is not a person's stays, and each format still reads as itself."""
    _, text = _one("yaml")
    document = yaml.safe_load(text)
    assert document["pedido"] == 4815
    assert document["cliente"]["nome"] == "SANITIZED_NAME"
    assert document["cliente"]["endereco"]["cidade"] not in ("", "SANITIZED_ADDRESS")
    _, text = _one("vcard")
    assert "ORG:Loja Exemplo\r\n" in text and "FN:SANITIZED_NAME\r\n" in text
    assert "BDAY:SANITIZED_DATE\r\n" in text and "TEL;TYPE=cell:SANITIZED_PHONE\r\n" in text
    _, text = _one("icalendar")
    assert "ATTENDEE;CN=SANITIZED_NAME;ROLE=REQ-PARTICIPANT" in text
    assert "SUMMARY:Consulta" in text
    _, text = _one("toml")
    assert 'nome = "SANITIZED_NAME"' in text and "pedido = 4815" in text
    _, text = _one("rdap_entity")
    card = json.loads(text)["vcardArray"][1]
    assert card[1] == ["fn", {}, "text", "SANITIZED_NAME"]
    assert card[5][3][2:] == ["SANITIZED_ADDRESS", card[5][3][3], "SP", "SANITIZED_CEP", "BR"]
    assert card[5][3][3] not in ("", "SANITIZED_ADDRESS")  # the city stays
    _, text = _one("properties")
    assert "cliente.nome=SANITIZED_NAME\n" in text and "# cadastro\n" in text


def test_base64_text_is_written_back_as_base64() -> None:
    _, text = _one("k8s_secret")
    data = json.loads(text)["data"]
    assert base64.b64decode(data["responsavel"]).decode() == "SANITIZED_NAME"
    assert base64.b64decode(data["documento"]).decode() == "SANITIZED_DOCUMENT"
    assert base64.b64decode(data["contato"]).decode() == "SANITIZED_EMAIL"
    _, text = _one("base64_csv")
    uri = json.loads(text)["conteudo"]
    assert uri.startswith("data:text/csv;base64,")
    table = base64.b64decode(uri.partition(",")[2]).decode()
    assert table.startswith("Nome Completo,CPF,E-mail,Data de Nascimento,Endereço\r\n")
    assert "SANITIZED_NAME" in table and "SANITIZED_DOCUMENT" in table
    _, text = _one("bom_base64_json")
    document = base64.b64decode(json.loads(text)["payload"]).decode()
    assert document.startswith("\ufeff")
    assert json.loads(document[1:])["cliente"]["nome"] == "SANITIZED_NAME"
    _, text = _one("mime_base64")
    lines = text.split("\r\n\r\n", 1)[1].split("\r\n--b0undary--")[0].split("\r\n")
    assert {len(line) for line in lines[:-1]} == {76}
    decoded = base64.b64decode("".join(lines)).decode()
    assert "SANITIZED_EMAIL" in decoded and "Equipe da loja." in decoded


def test_scripts_stay_code() -> None:
    _, text = _one("js_object")
    assert "nome: 'SANITIZED_NAME'" in text and "plano: {nome: 'Ouro'}" in text
    _, text = _one("nuxt_state")
    assert re.search(r'\("SANITIZED_NAME","SANITIZED_DOCUMENT","SANITIZED_EMAIL","Ouro"\)\)', text)
    _, text = _one("nuxt3_payload")
    payload = json.loads(text.split('data-ssr="true">')[1].split("</script>")[0])
    assert payload[3] == {"nome": 4, "cpf": 5, "nascimento": 6, "telefones": 7, "plano": 9}
    assert payload[4:10] == ["SANITIZED_NAME", "SANITIZED_DOCUMENT", "SANITIZED_DATE", [8],
                             "SANITIZED_PHONE", "Ouro"]  # fmt: skip
    _, text = _one("marked_up_cells")
    assert "<td><span>SANITIZED_NAME</span></td>" in text
    assert "<td><span>Ouro</span></td>" in text


CLEAN = {
    "text/vcard": "BEGIN:VCARD\r\nVERSION:4.0\r\nKIND:org\r\nFN:Loja Exemplo\r\nORG:Loja Exemplo\r\n"
    "URL:https://loja.example\r\nEND:VCARD\r\n",
    "application/yaml": "servico:\n  nome: pedidos-api\n  porta: 8080\n  n: 3\n  tags:\n"
    "    - name: pagamentos\n  imagem: registry.example/pedidos:1.4.2\n",
    "application/toml": '[package]\nname = "pedidos"\nversion = "1.4.2"\n[dependencies]\n'
    'serde = "1.0"\n',
    "text/x-java-properties": "server.port=8080\napp.name=Pedidos\nspring.datasource.url="
    "jdbc:postgresql://db:5432/pedidos\n",
    "application/json": json.dumps(
        {
            "kind": "Secret",
            "data": {"tls.crt": base64.b64encode(bytes(range(200))).decode(), "replicas": "Mw=="},
            "sha256": base64.b64encode(bytes(range(32, 64))).decode(),
            "png": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
            "id": "dXNlci00ODE1",
            "content": base64.b64encode(b"id,sku,preco\n1,ABC-1,10.00\n").decode(),
            "encoding": "base64",
        }
    ),
    "text/html": "<table><tr><td>Produto</td><td><span>Camiseta Azul</span></td></tr>"
    "<tr><td>Nome</td><td><b>Camiseta Polo</b></td></tr></table>"
    "<script>var produto = {nome: 'Camiseta Polo', preco: 59.9, tags: ['azul']};"
    "window.__NUXT__=(function(a,b){return {data:[{produto:{nome:a,sku:b}}]}}"
    '("Camiseta Polo","ABC-1"));</script>'
    '<script type="application/json" id="__NUXT_DATA__">[["ShallowReactive",1],'
    '{"data":2},{"produto":3},{"nome":4,"sku":5},"Camiseta Polo","ABC-1"]</script>',
}


@pytest.mark.parametrize("content_type", sorted(CLEAN))
def test_documents_with_nobody_in_them_come_back_byte_for_byte(content_type: str) -> None:
    body = CLEAN[content_type]
    out = SANITIZER.sanitize(request_exchange(body=body, content_type=content_type))
    assert out.request.body.decode() == body


def test_github_contents_wrapped_in_escaped_lines() -> None:
    """GitHub's contents API: a file in base64, lines of 60 joined by "\\n" escapes."""
    fake = Faker("pt_BR")
    fake.seed_instance(60)
    p = person(fake)
    csv_text = "nome,cpf,email\n" + f"{p.name},{p.cpf},{p.email}\n" * 3
    encoded = base64.b64encode(csv_text.encode()).decode()
    wrapped = "\n".join(encoded[i : i + 60] for i in range(0, len(encoded), 60)) + "\n"
    body = json.dumps({"name": "clientes.csv", "encoding": "base64", "content": wrapped})
    text = _sanitized(SANITIZER, "application/json", body)[1]
    content = json.loads(text)["content"]
    assert {len(line) for line in content.split("\n")[:-2]} == {60}
    decoded = base64.b64decode(content.replace("\n", "")).decode()
    assert leaked(decoded, [p.name, p.cpf, p.email]) == []
    assert decoded.startswith("nome,cpf,email\nSANITIZED_NAME,SANITIZED_DOCUMENT,")


@pytest.mark.parametrize("value_of", [lambda p: p.cpf.replace(".", "").replace("-", ""),
                                      lambda p: p.email, lambda p: p.phone])  # fmt: skip
def test_padded_base64_of_one_value_anywhere(value_of) -> None:
    """No word says base64: a padded token is decoded all the same."""
    fake = Faker("pt_BR")
    fake.seed_instance(61)
    for _ in range(20):
        value = value_of(person(fake))
        token = base64.b64encode(value.encode()).decode()
        if not token.endswith("="):
            continue
        body = json.dumps({"id": 4815, "ref": token})
        text = _sanitized(SANITIZER, "application/json", body)[1]
        assert token not in text
        assert leaked(base64.b64decode(json.loads(text)["ref"]).decode(), [value]) == []


@pytest.mark.parametrize(
    "script",
    ["var x = {" + "a: {" * 500 + "}" * 500 + "};",
     "var x = " + "[" * 500 + "]" * 500 + ";",
     "var x = {a: 1" + ", b: 'x'" * 30000 + "};",
     "var a = {b: function(){ return {c: 1} }, d: /\\{/g};",
     'window.__NUXT__=(function(a){return {x:a}}(void 0,!0,"Ouro",[1,{b:2}]));'],
)  # fmt: skip
def test_scripts_past_what_is_read_are_kept(script: str) -> None:
    """Code, deep nesting and long literals: read as text, never a dropped body."""
    page = f"<html><script>{script}</script></html>"
    out = SANITIZER.sanitize(request_exchange(body=page, content_type="text/html"))
    assert not out.request.body_dropped
    assert out.request.body.decode() == page


def test_key_lines_keep_reading_urls_and_plain_text() -> None:
    """A URL in a value still has its parameters read; plain text of key lines is
    read as such, prose is not."""
    body = "cliente:\n  site: https://x.example/c?nome=Ana+Lima&cpf=52998224725\n  nome: Ana Lima\n"
    text = _sanitized(SANITIZER, "application/yaml", body)[1]
    assert text == (
        "cliente:\n  site: https://x.example/c?nome=SANITIZED_NAME&cpf=SANITIZED_DOCUMENT\n"
        "  nome: SANITIZED_NAME\n"
    )
    properties = "# exportado\ncliente.nome=Ana Lima\ncliente.plano=Ouro\n"
    text = _sanitized(SANITIZER, "text/plain", properties)[1]
    assert text == "# exportado\ncliente.nome=SANITIZED_NAME\ncliente.plano=Ouro\n"
    prose = "Obrigado pela compra!\nSeu pedido 4815 chega amanhã.\n"
    assert _sanitized(SANITIZER, "text/plain", prose)[1] == prose


def test_secret_values_under_a_persons_keys_stay_base64() -> None:
    """A Secret whose keys name a person's fields: each value replaced as what it
    decodes to and written back in base64 (before: "SANITIZED_NAME", which no
    consumer of the Secret could decode)."""
    _, text = _one("k8s_secret_person")
    data = json.loads(text)["data"]
    decoded = {key: base64.b64decode(value, validate=True).decode() for key, value in data.items()}
    assert decoded == {"nome": "SANITIZED_NAME", "cpf": "SANITIZED_DOCUMENT",
                       "dataNascimento": "SANITIZED_DATE", "email": "SANITIZED_EMAIL"}  # fmt: skip


def _unfolded(text: str) -> str:
    return re.sub(r"\r\n[ \t]", "", text)


def test_folded_lines_are_read_unfolded_and_folded_again() -> None:
    fake = Faker("pt_BR")
    fake.seed_instance(62)
    for _ in range(PEOPLE_PER_FORMAT):
        p = person(fake)
        content_type, body, planted = BUILDERS["vcard_folded"](p)
        text = _sanitized(SANITIZER, content_type, body)[1]
        assert leaked(_unfolded(text), planted) == [], text
        lines = _unfolded(text).split("\r\n")
        assert "FN:SANITIZED_NAME" in lines and "N:SANITIZED_NAME" in lines
        assert "EMAIL;TYPE=home:SANITIZED_EMAIL" in lines
        assert "TEL;TYPE=cell:SANITIZED_PHONE" in lines
        assert "NOTE:Cliente desde 2020. CPF SANITIZED_DOCUMENT\\, e-mail SANITIZED_EMAIL." in lines
        assert text.endswith("\r\nORG:Loja Exemplo\r\nEND:VCARD\r\n")
        assert max(len(line.encode()) for line in text.split("\r\n")) <= 75


def test_a_long_changed_line_is_folded_at_75_octets() -> None:
    note = "NOTE:" + "Observação longa do atendimento, " * 3 + "CPF 529.982.247-25 no cadastro."
    cut = note.index("529") + 5  # the fold splits the CPF
    body = f"BEGIN:VCARD\r\nVERSION:4.0\r\n{note[:cut]}\r\n {note[cut:]}\r\nEND:VCARD\r\n"
    text = _sanitized(SANITIZER, "text/vcard", body)[1]
    assert _unfolded(text) == _unfolded(body).replace("529.982.247-25", "SANITIZED_DOCUMENT")
    octets = [len(line.encode()) for line in text.split("\r\n")]
    assert octets[2] in (74, 75) and max(octets) <= 75  # never inside a character's bytes


def test_lists_stay_lists() -> None:
    _, text = _one("yaml_lists")
    document = yaml.safe_load(text)
    assert document["clientes"] == ["SANITIZED_NAME"] * 2
    assert document["responsaveis"] == ["SANITIZED_NAME"]
    assert document["nomes"] == ["SANITIZED_NAME"] * 2
    assert document["tags"] == ["atacado", "frete gratis"] and document["pedido"] == 4815
    _, text = _one("json_name_lists")
    assert json.loads(text)["nomes"] == ["SANITIZED_NAME"] * 2


def test_yaml_block_text_is_no_list() -> None:
    """Lines of a block scalar that start with "- " are text, not a list's items."""
    body = (
        "cliente:\n  observacao: |\n    - Entregar na portaria\n    - Ligar antes\n  plano: Ouro\n"
    )
    assert _sanitized(SANITIZER, "application/yaml", body)[1] == body


def test_json_parse_state_is_still_a_string_of_json() -> None:
    _, text = _one("json_parse_state")
    literal = text.split("JSON.parse('")[1].split("');</script>")[0]
    state = json.loads(re.sub(r"\\(.)", r"\1", literal))
    assert state == {"cliente": {"nome": "SANITIZED_NAME", "cpf": "SANITIZED_DOCUMENT",
                                 "nascimento": "SANITIZED_DATE", "celular": "SANITIZED_PHONE"},
                     "plano": {"nome": "Ouro"}}  # fmt: skip


def test_saml_response_is_still_base64_of_the_assertion() -> None:
    import xml.etree.ElementTree as ET
    from urllib.parse import parse_qs

    _, text = _one("saml_post")
    form = parse_qs(text)
    assert form["RelayState"] == ["/conta/pedidos"]
    root = ET.fromstring(base64.b64decode(form["SAMLResponse"][0], validate=True))
    ns = {"saml": "urn:oasis:names:tc:SAML:2.0:assertion"}
    assert root.find("saml:Issuer", ns).text == "https://idp.loja.example"
    assert root.find(".//saml:NameID", ns).text == "SANITIZED_EMAIL"
    values = [v.text for v in root.iterfind(".//saml:AttributeValue", ns)]
    assert values == ["SANITIZED_NAME"] * 4 + ["SANITIZED_DOCUMENT", "SANITIZED_PHONE",
                                               "SANITIZED_DATE"]  # fmt: skip


def test_echoed_variables_and_twice_encoded_json() -> None:
    _, text = _one("graphql_error")
    message = json.loads(text)["errors"][0]["message"]
    assert message == (
        'Variable "$input" got invalid value { nome: "SANITIZED_NAME", cpf: "SANITIZED_DOCUMENT", '
        'celular: "SANITIZED_PHONE" }; Field "email" of required type "String!" was not provided.'
    )
    _, text = _one("double_encoded")
    inner = json.loads(json.loads(json.loads(text)["payload"]))
    assert inner == {"cliente": {"nome": "SANITIZED_NAME", "cpf": "SANITIZED_DOCUMENT",
                                 "nascimento": "SANITIZED_DATE"}}  # fmt: skip


def test_json_parse_literal_keeps_its_quote_and_stays_inside_its_script() -> None:
    """Double quotes, JavaScript's own escapes (a surrogate pair, "\\/"), and a value
    holding "</script>": the literal is written back so it still closes where it did."""
    state = '{\\"cliente\\": {\\"nome\\": \\"Maria Souza\\", \\"cpf\\": \\"529.982.247-25\\", '
    state += '\\"obs\\": \\"\\ud83d\\ude00 <\\/script><b>\\"}}'
    page = f'<html><script>window.s = JSON.parse("{state}");</script><p>fim</p></html>'
    text = _sanitized(SANITIZER, "text/html", page)[1]
    script = text.split("<script>")[1].split("</script>")[0]
    literal = script.split("JSON.parse(")[1].rsplit(");", 1)[0]
    assert literal[0] == literal[-1] == '"' and text.endswith("</script><p>fim</p></html>")
    document = json.loads(json.loads(literal.replace("<\\/", "</")))
    assert document == {"cliente": {"nome": "SANITIZED_NAME", "cpf": "SANITIZED_DOCUMENT",
                                    "obs": "\U0001f600 </script><b>"}}  # fmt: skip
