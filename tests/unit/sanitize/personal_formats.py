"""A person from Faker's pt_BR providers, written in the formats real services send:
vCard, iCalendar, LDIF, YAML, TOML, ``.properties``, a Kubernetes Secret, base64 text
(in JSON, wrapped in MIME lines, after a byte order mark), HTML cells holding markup,
JavaScript literals and Nuxt's state; YAML lists, folded vCard lines, ``JSON.parse``
state, RDAP as plain JSON, a Secret's person-named values, a SAML assertion posted in
a form, a GraphQL error echoing its variables, JSON encoded twice; values
percent-encoded twice (a form's, a ``redirect_uri``'s query), name/value pairs (HAR,
Pix's ``infoAdicionais``, key/value arrays, a Pod's ``env``) and base64 of
``name=value`` text. Each builder
returns (content type, body) and the values it plants; ``leaked`` finds any of them
(also as bare digits and folded) in a text."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from urllib.parse import quote, quote_plus

from tests.unit.sanitize.document_formats import MORE_BUILDERS
from tests.unit.sanitize.people import Person, leaked, person, seeded_faker

__all__ = [
    "BUILDERS",
    "MOBILE_EXAMPLE",
    "Person",
    "leaked",
    "person",
    "saml_assertion",
    "seeded_faker",
    "twice",
]

# phonenumbers' example of a Brazilian mobile (metadata of region BR, type MOBILE).
MOBILE_EXAMPLE = "+55 11 96123-4567"


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def vcard(p: Person) -> tuple[str, str, list[str]]:
    body = (
        "BEGIN:VCARD\r\nVERSION:4.0\r\n"
        f"FN:{p.name}\r\nN:{p.last};{p.first};;;\r\n"
        f"TEL;TYPE=cell:{p.phone}\r\nEMAIL;TYPE=home:{p.email}\r\n"
        f"ADR;TYPE=home:;;{p.street}, {p.number};{p.city};SP;{p.cep};Brasil\r\n"
        f"BDAY:{p.birth.replace('-', '')}\r\nORG:Loja Exemplo\r\nEND:VCARD\r\n"
    )
    return "text/vcard", body, [p.name, p.first, p.last, p.phone, p.email, p.street, p.cep,
                                p.birth.replace("-", "")]  # fmt: skip


def icalendar(p: Person) -> tuple[str, str, list[str]]:
    body = (
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Clinica//Agenda//PT\r\nBEGIN:VEVENT\r\n"
        "UID:consulta-4815@clinica.example\r\nDTSTART:20270110T140000Z\r\nSUMMARY:Consulta\r\n"
        "ORGANIZER;CN=Agenda:mailto:agenda@clinica.example\r\n"
        f"ATTENDEE;CN={p.name};ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED:mailto:{p.email}\r\n"
        "END:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    return "text/calendar", body, [p.name, p.email]


def ldif(p: Person) -> tuple[str, str, list[str]]:
    body = (
        f"dn: cn={p.name},ou=clientes,dc=loja,dc=example\nobjectClass: inetOrgPerson\n"
        f"cn: {p.name}\ngivenName: {p.first}\nsn: {p.last}\nmail: {p.email}\n"
        f"telephoneNumber: {p.phone}\nstreet: {p.street}, {p.number}\npostalCode: {p.cep}\n"
        f"l: {p.city}\n"
    )
    return "text/plain", body, [p.name, p.first, p.last, p.email, p.phone, p.street, p.cep]


def yaml_doc(p: Person) -> tuple[str, str, list[str]]:
    body = (
        f"pedido: 4815\ncliente:\n  nome: {p.name}\n  cpf: '{p.cpf}'\n  email: {p.email}\n"
        f'  celular: "{p.phone}"\n  data_nascimento: {p.birth}\n  endereco:\n'
        f"    logradouro: {p.street}\n    numero: '{p.number}'\n    cep: '{p.cep}'\n"
        f"    cidade: {p.city}\n"
    )
    return "application/yaml", body, [p.name, p.cpf, p.email, p.phone, p.birth, p.street, p.cep]


def toml_doc(p: Person) -> tuple[str, str, list[str]]:
    body = (
        f'pedido = 4815\n\n[cliente]\nnome = "{p.name}"\ncpf = "{p.cpf}"\nemail = "{p.email}"\n'
        f'telefone = "{p.phone}"\ndata_nascimento = {p.birth}\n\n[cliente.endereco]\n'
        f'logradouro = "{p.street}"\ncep = "{p.cep}"\ncidade = "{p.city}"\n'
    )
    return "application/toml", body, [p.name, p.cpf, p.email, p.phone, p.birth, p.street, p.cep]


def properties(p: Person) -> tuple[str, str, list[str]]:
    body = (
        f"# cadastro\ncliente.nome={p.name}\ncliente.cpf={p.cpf}\ncliente.email={p.email}\n"
        f"cliente.telefone={p.phone}\ncliente.dataNascimento={p.birth}\n"
        f"cliente.endereco.logradouro={p.street}\ncliente.endereco.cep={p.cep}\n"
    )
    return "text/x-java-properties", body, [p.name, p.cpf, p.email, p.phone, p.birth, p.street,
                                            p.cep]  # fmt: skip


def k8s_secret(p: Person) -> tuple[str, str, list[str]]:
    document = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "cliente-4815", "namespace": "loja"},
        "type": "Opaque",
        "data": {"responsavel": _b64(p.name), "documento": _b64(p.cpf), "contato": _b64(p.email)},
    }
    return "application/json", json.dumps(document), [p.name, p.cpf, p.email, _b64(p.name),
                                                      _b64(p.cpf), _b64(p.email)]  # fmt: skip


def base64_csv(p: Person) -> tuple[str, str, list[str]]:
    table = (
        "Nome Completo,CPF,E-mail,Data de Nascimento,Endereço\r\n"
        f'"{p.name}",{p.cpf},{p.email},{p.birth},"{p.street}, {p.number}"\r\n'
    )
    # As a browser's FileReader.readAsDataURL hands a file to an upload form's script.
    document = {"arquivo": "clientes.csv", "conteudo": "data:text/csv;base64," + _b64(table)}
    return "application/json", json.dumps(document), [p.name, p.cpf, p.email, p.birth, p.street,
                                                      _b64(table)]  # fmt: skip


def mime_base64(p: Person) -> tuple[str, str, list[str]]:
    """A message with a text part in base64, wrapped at 76 characters (RFC 2045)."""
    text = (
        f"Olá! Confirmamos o cadastro de {p.email}, CPF {p.cpf}.\r\n"
        "Qualquer dúvida, responda esta mensagem. Equipe da loja.\r\n"
    )
    encoded = _b64(text)
    wrapped = "\r\n".join(encoded[i : i + 76] for i in range(0, len(encoded), 76))
    body = (
        "--b0undary\r\nContent-Type: text/plain; charset=utf-8\r\n"
        f"Content-Transfer-Encoding: base64\r\n\r\n{wrapped}\r\n--b0undary--\r\n"
    )
    return "multipart/mixed; boundary=b0undary", body, [p.email, p.cpf, encoded[:76]]


def bom_base64_json(p: Person) -> tuple[str, str, list[str]]:
    document = "\ufeff" + json.dumps({"cliente": {"nome": p.name, "cpf": p.cpf}})
    token = _b64(document)
    return "application/json", json.dumps({"payload": token}), [p.name, p.cpf, token]


def marked_up_cells(p: Person) -> tuple[str, str, list[str]]:
    body = (
        "<html><body><table>"
        f"<tr><td>Nome</td><td><span>{p.name}</span></td></tr>"
        f"<tr><td><strong>Data de nascimento:</strong></td><td><b>{p.birth}</b></td></tr>"
        f'<tr><th>Endereço</th><td><span class="v">{p.street}</span>, {p.number}</td></tr>'
        "<tr><td>Plano</td><td><span>Ouro</span></td></tr>"
        "</table></body></html>"
    )
    return "text/html; charset=utf-8", body, [p.name, p.birth, p.street]


def js_object(p: Person) -> tuple[str, str, list[str]]:
    body = (
        "<html><head><script>\nvar cliente = {nome: '"
        f"{p.name}', cpf: '{p.cpf}', contato: {{email: '{p.email}', celular: \"{p.phone}\"}},"
        " plano: {nome: 'Ouro'}, ativo: true};\n</script></head><body></body></html>"
    )
    return "text/html; charset=utf-8", body, [p.name, p.cpf, p.email, p.phone]


def nuxt_state(p: Person) -> tuple[str, str, list[str]]:
    body = (
        '<html><body><div id="__nuxt"></div><script>window.__NUXT__=(function(a,b,c,d){'
        'return {layout:"default",data:[{cliente:{nome:a,cpf:b,email:c,plano:d}}],'
        'fetch:{},error:null,serverRendered:true,routePath:"\\u002Fconta"}}'
        f'("{p.name}","{p.cpf}","{p.email}","Ouro"));</script></body></html>'
    )
    return "text/html; charset=utf-8", body, [p.name, p.cpf, p.email]


def event_stream(p: Person) -> tuple[str, str, list[str]]:
    document = {"tipo": "cadastro", "cliente": {"nome": p.name, "celular": p.phone},
                "nome_mae": p.first + " " + p.last}  # fmt: skip
    body = f"event: cliente\nid: 7\ndata: {json.dumps(document, ensure_ascii=False)}\n\n"
    return "text/event-stream", body, [p.name, p.phone, p.first + " " + p.last]


def ndjson(p: Person) -> tuple[str, str, list[str]]:
    rows = [{"pedido": 1}, {"cliente": {"nome": p.name, "cpf": p.cpf, "nascimento": p.birth}}]
    body = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows)
    return "application/x-ndjson", body, [p.name, p.cpf, p.birth]


def fhir_patient(p: Person) -> tuple[str, str, list[str]]:
    """HL7 FHIR R4 Patient, as Brazil's RNDS profiles write one."""
    document = {
        "resourceType": "Patient",
        "id": "example",
        "identifier": [{"system": "https://saude.gov.br/fhir/sid/cpf", "value": p.cpf}],
        "name": [{"use": "official", "family": p.last, "given": [p.first]}],
        "telecom": [{"system": "phone", "value": p.phone, "use": "mobile"},
                    {"system": "email", "value": p.email}],
        "gender": "female",
        "birthDate": p.birth,
        "address": [{"use": "home", "line": [f"{p.street}, {p.number}"], "city": p.city,
                     "postalCode": p.cep, "country": "BR"}],
    }  # fmt: skip
    return "application/fhir+json", json.dumps(document, ensure_ascii=False), [
        p.cpf, p.last, p.first, p.phone, p.email, p.birth, p.street, p.cep]  # fmt: skip


def scim_user(p: Person) -> tuple[str, str, list[str]]:
    """RFC 7643's User resource."""
    document = {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "userName": p.email,
        "name": {"formatted": p.name, "familyName": p.last, "givenName": p.first},
        "displayName": p.name,
        "emails": [{"value": p.email, "type": "work", "primary": True}],
        "phoneNumbers": [{"value": p.phone, "type": "mobile"}],
        "addresses": [{"type": "home", "streetAddress": f"{p.street}, {p.number}",
                       "postalCode": p.cep, "locality": p.city, "country": "BR"}],
    }  # fmt: skip
    return "application/scim+json", json.dumps(document, ensure_ascii=False), [
        p.name, p.last, p.first, p.email, p.phone, p.street, p.cep]  # fmt: skip


def schema_person(p: Person) -> tuple[str, str, list[str]]:
    document = {
        "@context": "https://schema.org", "@type": "Person", "name": p.name,
        "givenName": p.first, "familyName": p.last, "email": p.email, "telephone": p.phone,
        "birthDate": p.birth,
        "address": {"@type": "PostalAddress", "streetAddress": f"{p.street}, {p.number}",
                    "postalCode": p.cep, "addressLocality": p.city},
    }  # fmt: skip
    return "application/ld+json", json.dumps(document, ensure_ascii=False), [
        p.name, p.first, p.last, p.email, p.phone, p.birth, p.street, p.cep]  # fmt: skip


def openid_userinfo(p: Person) -> tuple[str, str, list[str]]:
    """OpenID Connect Core's standard claims."""
    document = {
        "sub": "248289761001", "name": p.name, "given_name": p.first, "family_name": p.last,
        "preferred_username": "cliente4815", "email": p.email, "email_verified": True,
        "birthdate": p.birth, "phone_number": p.phone,
        "address": {"street_address": f"{p.street}, {p.number}", "postal_code": p.cep,
                    "locality": p.city, "country": "BR"},
    }  # fmt: skip
    return "application/json", json.dumps(document, ensure_ascii=False), [
        p.name, p.first, p.last, p.email, p.birth, p.phone, p.street, p.cep]  # fmt: skip


def keycloak_users(p: Person) -> tuple[str, str, list[str]]:
    """Keycloak's admin API, GET /admin/realms/{realm}/users."""
    document = [{
        "id": "af3c2a0e-1d2b-4f5e-9a7b-0c1d2e3f4a5b", "username": "cliente4815",
        "enabled": True, "firstName": p.first, "lastName": p.last, "email": p.email,
        "attributes": {"cpf": [p.cpf], "phoneNumber": [p.phone], "birthdate": [p.birth]},
    }]  # fmt: skip
    return "application/json", json.dumps(document, ensure_ascii=False), [
        p.first, p.last, p.email, p.cpf, p.phone, p.birth]  # fmt: skip


def multipart_form(p: Person) -> tuple[str, str, list[str]]:
    table = (
        "Nome Completo;CPF;Data de Nascimento;Endereço;CEP\r\n"
        f"{p.name};{p.cpf};{p.birth};{p.street}, {p.number};{p.cep}\r\n"
    )
    body = (
        '--b0undary\r\nContent-Disposition: form-data; name="nome_completo"\r\n\r\n'
        f'{p.name}\r\n--b0undary\r\nContent-Disposition: form-data; name="arquivo"; '
        f'filename="clientes.csv"\r\nContent-Type: text/csv\r\n\r\n{table}\r\n--b0undary--\r\n'
    )
    return "multipart/form-data; boundary=b0undary", body, [p.name, p.cpf, p.birth, p.street,
                                                           p.cep]  # fmt: skip


def multipart_vcard(p: Person) -> tuple[str, str, list[str]]:
    """A contact card uploaded in a form, as phones share one (vCard 3.0, grouped TEL)."""
    card = (
        f"BEGIN:VCARD\r\nVERSION:3.0\r\nFN:{p.name}\r\nN:{p.last};{p.first};;;\r\n"
        f"item1.TEL;type=CELL:{p.phone}\r\nBDAY:{p.birth}\r\nEND:VCARD\r\n"
    )
    body = (
        '--b0undary\r\nContent-Disposition: form-data; name="contato"; filename="contato.vcf"'
        f"\r\nContent-Type: text/x-vcard\r\n\r\n{card}\r\n--b0undary--\r\n"
    )
    return "multipart/form-data; boundary=b0undary", body, [p.name, p.first, p.last, p.phone,
                                                           p.birth]  # fmt: skip


def rdap_entity(p: Person) -> tuple[str, str, list[str]]:
    """An RDAP entity (RFC 9083) with its jCard (RFC 7095), as a registry answers for a
    domain's registrant."""
    card = [
        ["version", {}, "text", "4.0"],
        ["fn", {}, "text", p.name],
        ["n", {}, "text", [p.last, p.first, "", "", ""]],
        ["email", {}, "text", p.email],
        ["tel", {"type": ["voice", "cell"]}, "uri", "tel:" + p.phone.replace(" ", "-")],
        ["adr", {}, "text", ["", "", f"{p.street}, {p.number}", p.city, "SP", p.cep, "BR"]],
    ]
    document = {"objectClassName": "entity", "handle": "MASOU12", "roles": ["registrant"],
                "vcardArray": ["vcard", card]}  # fmt: skip
    return "application/rdap+json", json.dumps(document, ensure_ascii=False), [
        p.name, p.first, p.last, p.email, p.phone, p.street, p.cep]  # fmt: skip


def nuxt3_payload(p: Person) -> tuple[str, str, list[str]]:
    """Nuxt 3's state as devalue writes it: one flat array, objects holding indexes."""
    payload = [["ShallowReactive", 1], {"data": 2, "state": 10}, {"cliente": 3},
               {"nome": 4, "cpf": 5, "nascimento": 6, "telefones": 7, "plano": 9}, p.name,
               p.cpf, p.birth, [8], p.phone, "Ouro", {"carrinho": 11}, 3]  # fmt: skip
    body = (
        '<html><body><div id="__nuxt"></div><script type="application/json" '
        f'id="__NUXT_DATA__" data-ssr="true">{json.dumps(payload, ensure_ascii=False)}'
        "</script></body></html>"
    )
    return "text/html; charset=utf-8", body, [p.name, p.cpf, p.birth, p.phone]


def ldif_base64(p: Person) -> tuple[str, str, list[str]]:
    """An entry as ldapsearch writes one: values that are not plain ASCII (a name with
    an accent) in base64 after "::"."""
    name = p.name.replace("a", "ã", 1)
    body = (
        f"dn:: {_b64(f'cn={name},ou=clientes,dc=loja,dc=example')}\n"
        f"objectClass: inetOrgPerson\ncn:: {_b64(name)}\nsn:: {_b64(p.last + 'ç')}\n"
        f"description:: {_b64(f'Cliente {name}, CPF {p.cpf}')}\n"
    )
    return "text/plain", body, [name, p.last + "ç", p.cpf, _b64(name), _b64(p.last + "ç")]


def yaml_lists(p: Person) -> tuple[str, str, list[str]]:
    """Names as a YAML list's items, in block and in flow style."""
    other = f"{p.first} {p.last}"
    body = (
        f"pedido: 4815\nclientes:\n  - {p.name}\n  - {other}\nresponsaveis:\n- {p.name}\n"
        f"nomes: [{p.name}, {other}]\ntags:\n  - atacado\n  - frete gratis\n"
    )
    return "application/yaml", body, [p.name, other]


def fold_at(line: str, cut: int) -> str:
    """A vCard content line folded once after ``cut`` characters (RFC 6350 3.2)."""
    return line[:cut] + "\r\n " + line[cut:]


def vcard_folded(p: Person) -> tuple[str, str, list[str]]:
    """Lines folded inside their values, as writers fold at 75 octets wherever that falls."""
    name = f"FN:{p.name}"
    note = f"NOTE:Cliente desde 2020. CPF {p.cpf}\\, e-mail {p.email}."
    body = (
        "BEGIN:VCARD\r\nVERSION:4.0\r\n"
        f"{fold_at(name, 3 + len(p.name) // 2)}\r\n"
        f"{fold_at(f'N:{p.last};{p.first};;;', 2 + len(p.last) // 2)}\r\n"
        f"{fold_at(f'EMAIL;TYPE=home:{p.email}', 16 + len(p.email) // 2)}\r\n"
        f"{fold_at(note, note.index(p.cpf) + 6)}\r\n"
        f"{fold_at(f'TEL;TYPE=cell:{p.phone}', 18)}\r\nORG:Loja Exemplo\r\nEND:VCARD\r\n"
    )
    return "text/vcard", body, [p.name, p.first, p.last, p.email, p.cpf, p.phone]


def json_parse_state(p: Person) -> tuple[str, str, list[str]]:
    """State handed to ``JSON.parse`` as a single-quoted string (Apollo's, Vue's SSR)."""
    state = {"cliente": {"nome": p.name, "cpf": p.cpf, "nascimento": p.birth,
                         "celular": p.phone}, "plano": {"nome": "Ouro"}}  # fmt: skip
    literal = json.dumps(state, ensure_ascii=False).replace("\\", "\\\\").replace("'", "\\'")
    body = (
        "<html><head><script>window.__APOLLO_STATE__ = JSON.parse("
        f"'{literal}');</script></head><body></body></html>"
    )
    return "text/html; charset=utf-8", body, [p.name, p.cpf, p.birth, p.phone]


def rdap_plain_json(p: Person) -> tuple[str, str, list[str]]:
    """An RDAP entity served as application/json, as many registries serve it."""
    _, body, planted = rdap_entity(p)
    return "application/json", body, planted


def k8s_secret_person(p: Person) -> tuple[str, str, list[str]]:
    """A Secret whose data keys name a person's fields."""
    data = {"nome": _b64(p.name), "cpf": _b64(p.cpf), "dataNascimento": _b64(p.birth),
            "email": _b64(p.email)}  # fmt: skip
    document = {"apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": {"name": "titular-4815"}, "data": data}  # fmt: skip
    return "application/json", json.dumps(document), [p.name, p.cpf, p.birth, p.email,
                                                      *data.values()]  # fmt: skip


def saml_assertion(p: Person) -> str:
    """A SAML 2.0 response naming its subject: attributes by OID (with a friendly name
    or not), by a claim URI, by a plain name."""
    attributes = [
        ('Name="urn:oid:2.5.4.42" FriendlyName="givenName"', p.first),
        ('Name="urn:oid:2.5.4.4"', p.last),
        ('Name="http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"', p.name),
        ('Name="urn:oid:2.16.840.1.113730.3.1.241"', p.name),
        ('Name="cpf"', p.cpf),
        ('Name="urn:oid:2.5.4.20" FriendlyName="telephoneNumber"', p.phone),
        ('Name="data_nascimento"', p.birth),
    ]
    statements = "".join(
        f"<saml:Attribute {names}><saml:AttributeValue>{value}</saml:AttributeValue>"
        "</saml:Attribute>"
        for names, value in attributes
    )
    return (
        '<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" '
        'xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_8e8dc5f6" Version="2.0">'
        "<saml:Issuer>https://idp.loja.example</saml:Issuer><saml:Assertion><saml:Subject>"
        '<saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">'
        f"{p.email}</saml:NameID></saml:Subject><saml:AttributeStatement>{statements}"
        "</saml:AttributeStatement></saml:Assertion></samlp:Response>"
    )


def saml_post(p: Person) -> tuple[str, str, list[str]]:
    """SAML's HTTP-POST binding: the response in base64 in a form field."""
    token = quote(_b64(saml_assertion(p)), safe="")
    body = f"SAMLResponse={token}&RelayState=%2Fconta%2Fpedidos"
    return "application/x-www-form-urlencoded", body, [token]


def graphql_error(p: Person) -> tuple[str, str, list[str]]:
    """graphql-js refusing a variable: the message echoes the value it got."""
    message = (
        f'Variable "$input" got invalid value {{ nome: "{p.name}", cpf: "{p.cpf}", '
        f'celular: "{p.phone}" }}; Field "email" of required type "String!" was not provided.'
    )
    document = {"errors": [{"message": message, "locations": [{"line": 1, "column": 16}],
                            "extensions": {"code": "BAD_USER_INPUT"}}], "data": None}  # fmt: skip
    return "application/json", json.dumps(document, ensure_ascii=False), [p.name, p.cpf, p.phone]


def double_encoded(p: Person) -> tuple[str, str, list[str]]:
    """A JSON document in a string encoded twice (an encoder run on its own output)."""
    inner = json.dumps({"cliente": {"nome": p.name, "cpf": p.cpf, "nascimento": p.birth}},
                       ensure_ascii=False)  # fmt: skip
    document = {"evento": "cadastro", "payload": json.dumps(inner, ensure_ascii=False)}
    return "application/json", json.dumps(document, ensure_ascii=False), [p.name, p.cpf, p.birth]


def json_name_lists(p: Person) -> tuple[str, str, list[str]]:
    other = f"{p.first} {p.last}"
    document = {"pedido": 4815, "nomes": [p.name, other], "responsaveis": [p.name]}
    return "application/json", json.dumps(document, ensure_ascii=False), [p.name, other]


def twice(text: str) -> str:
    """``text`` percent-encoded twice, as a form encoder run on its own output writes it."""
    return quote(quote(text, safe=""), safe="")


def _encodings(value: str) -> list[str]:
    return [value, quote(value, safe=""), quote_plus(value), twice(value)]


def form_encoded_twice(p: Person) -> tuple[str, str, list[str]]:
    """A form whose values were encoded twice, and a ``return_to`` whose own query was."""
    back = (
        f"https://loja.example/retorno?cliente={quote(p.name)}&email={quote(p.email)}&pedido=4815"
    )
    body = f"pedido=4815&nome={twice(p.name)}&email={twice(p.email)}&return_to={twice(back)}"
    return "application/x-www-form-urlencoded", body, [
        *_encodings(p.name), *_encodings(p.email)]  # fmt: skip


def redirect_encoded_twice(p: Person) -> tuple[str, str, list[str]]:
    """URLs in JSON whose query values were encoded twice (``?nome=Maria%2520Souza``)."""
    searched = f"{p.first} {p.last}"  # a search names no field: two listed words
    document = {
        "redirect_uri": f"https://loja.example/cb?nome={twice(p.name)}&pedido=4815",
        "next": f"/busca?q={twice(searched)}&pagina=2",
    }
    return "application/json", json.dumps(document), [*_encodings(p.name), *_encodings(searched)]


def har_entries(p: Person) -> tuple[str, str, list[str]]:
    """A HAR file's request: query, form and header fields as name/value pairs."""
    request = {
        "method": "POST", "url": "https://loja.example/cadastro?origem=app",
        "headers": [{"name": "Content-Type", "value": "application/x-www-form-urlencoded"}],
        "queryString": [{"name": "origem", "value": "app"}, {"name": "nome", "value": p.name}],
        "postData": {"mimeType": "application/x-www-form-urlencoded", "params": [
            {"name": "nome_completo", "value": p.name}, {"name": "cpf", "value": p.cpf},
            {"name": "celular", "value": p.phone}, {"name": "email", "value": p.email}]},
    }  # fmt: skip
    document = {"log": {"version": "1.2", "entries": [{"request": request}]}}
    return "application/json", json.dumps(document, ensure_ascii=False), [
        p.name, p.cpf, p.phone, p.email]  # fmt: skip


def pix_info_adicionais(p: Person) -> tuple[str, str, list[str]]:
    """A Pix charge (BCB's API) naming its payer in ``infoAdicionais``."""
    document = {
        "calendario": {"expiracao": 3600}, "valor": {"original": "123.45"},
        "chave": "7d9f0335-8dcc-4054-9bf9-0dbd61d36906",
        "solicitacaoPagador": "Pedido 4815",
        "infoAdicionais": [{"nome": "Cliente", "valor": p.name},
                           {"nome": "Pedido", "valor": "4815"}],
    }  # fmt: skip
    return "application/json", json.dumps(document, ensure_ascii=False), [p.name]


def key_value_arrays(p: Person) -> tuple[str, str, list[str]]:
    """Custom fields as key/value and field/value pairs (CRMs, form builders)."""
    document = {"contato": 4815, "campos": [
        {"key": "nome_completo", "value": p.name}, {"key": "cpf", "value": p.cpf},
        {"field": "email", "value": p.email}, {"field": "telefone", "value": p.phone}]}  # fmt: skip
    return "application/json", json.dumps(document, ensure_ascii=False), [
        p.name, p.cpf, p.email, p.phone]  # fmt: skip


def pod_env(p: Person) -> tuple[str, str, list[str]]:
    """A Pod (``kubectl get pod -o json``) whose container's env names a person."""
    env = [{"name": "LOG_LEVEL", "value": "info"}, {"name": "USER_NAME", "value": p.name},
           {"name": "USER_EMAIL", "value": p.email}, {"name": "CLIENTE_CPF", "value": p.cpf}]  # fmt: skip
    document = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "relatorio-4815"},
                "spec": {"containers": [{"name": "app", "image": "loja/relatorio:1.4",
                                         "env": env}]}}  # fmt: skip
    return "application/json", json.dumps(document, ensure_ascii=False), [p.name, p.email, p.cpf]


def pod_env_yaml(p: Person) -> tuple[str, str, list[str]]:
    """The same Pod as its manifest: ``- name: USER_NAME`` then ``value: ...``."""
    body = (
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: relatorio-4815\nspec:\n  containers:\n"
        "  - name: app\n    image: loja/relatorio:1.4\n    env:\n    - name: LOG_LEVEL\n"
        f"      value: info\n    - name: USER_NAME\n      value: {p.name}\n"
        f"    - name: CLIENTE_CPF\n      value: '{p.cpf}'\n    - name: USER_PHONE\n"
        f'      value: "{p.phone}"\n'
    )
    return "application/yaml", body, [p.name, p.cpf, p.phone]


def base64_form_pairs(p: Person) -> tuple[str, str, list[str]]:
    """A form field holding base64url of ``name=value`` text (a gateway's user context)."""
    pairs = f"nome={p.name}&cpf={p.cpf}&email={p.email}&pedido=4815"
    token = base64.urlsafe_b64encode(pairs.encode()).decode().rstrip("=")
    body = f"evento=pedido&contexto={token}"
    # The token's opening as long as it encodes "nome=" and the name (whole 3-byte groups).
    named = f"nome={p.name}".encode()
    opening = base64.urlsafe_b64encode(named[: len(named) // 3 * 3]).decode()
    return "application/x-www-form-urlencoded", body, [opening]


BUILDERS: dict[str, Callable[[Person], tuple[str, str, list[str]]]] = {
    "vcard": vcard,
    "icalendar": icalendar,
    "ldif": ldif,
    "yaml": yaml_doc,
    "toml": toml_doc,
    "properties": properties,
    "k8s_secret": k8s_secret,
    "base64_csv": base64_csv,
    "mime_base64": mime_base64,
    "bom_base64_json": bom_base64_json,
    "marked_up_cells": marked_up_cells,
    "js_object": js_object,
    "nuxt_state": nuxt_state,
    "event_stream": event_stream,
    "ndjson": ndjson,
    "fhir_patient": fhir_patient,
    "scim_user": scim_user,
    "schema_person": schema_person,
    "openid_userinfo": openid_userinfo,
    "keycloak_users": keycloak_users,
    "multipart_form": multipart_form,
    "multipart_vcard": multipart_vcard,
    "rdap_entity": rdap_entity,
    "nuxt3_payload": nuxt3_payload,
    "ldif_base64": ldif_base64,
    "yaml_lists": yaml_lists,
    "vcard_folded": vcard_folded,
    "json_parse_state": json_parse_state,
    "rdap_plain_json": rdap_plain_json,
    "k8s_secret_person": k8s_secret_person,
    "saml_post": saml_post,
    "graphql_error": graphql_error,
    "double_encoded": double_encoded,
    "json_name_lists": json_name_lists,
    "form_encoded_twice": form_encoded_twice,
    "redirect_encoded_twice": redirect_encoded_twice,
    "har_entries": har_entries,
    "pix_info_adicionais": pix_info_adicionais,
    "key_value_arrays": key_value_arrays,
    "pod_env": pod_env,
    "pod_env_yaml": pod_env_yaml,
    "base64_form_pairs": base64_form_pairs,
    **MORE_BUILDERS,
}
