"""Faker's pt_BR profiles (names, CPF, RG, phones in three writings, e-mail, street,
CEP, birth date, card, IBAN and BBAN, plate) sent the ways APIs send them: JSON with
Portuguese and English keys, nested in arrays and in an answer, form and query
parameters, XML, CSV, multipart, NDJSON, GraphQL variables, a JWT's claims, base64
JSON and HTML data attributes. Nothing planted may come out, as written or (documents
and phones) as its digits.

An account written as an IBAN (``BR42 2837 9298 …``) or its national part, a BBAN,
went out under ``iban``, ``bban`` and ``bank_account`` in every shape; an HTML data
attribute (``data-rg``, ``data-placa``, ``data-cep``) was read with its prefix, so
"data" (a date, in Portuguese) hid what it named."""

from __future__ import annotations

import base64
import csv as csv_module
import io
import json
import re
from collections.abc import Callable
from urllib.parse import quote, urlencode
from xml.sax.saxutils import escape

import pytest

from tests.unit.sanitize.people import leaked, seeded_faker
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-world-profiles")
PROFILES_PER_SHAPE = 8

Profile = dict[str, str]

_PT = {"name": "nome", "cpf": "cpf", "rg": "rg", "phone": "telefone", "msisdn": "msisdn",
       "cell": "celular", "email": "email", "street": "logradouro", "cep": "cep",
       "birth": "dataNascimento", "card": "numeroCartao", "iban": "iban", "bban": "bban",
       "plate": "placa"}  # fmt: skip
_EN = {"name": "fullName", "cpf": "taxId", "rg": "idNumber", "phone": "phoneNumber",
       "msisdn": "msisdn", "cell": "mobile", "email": "emailAddress", "street": "street_address",
       "cep": "postalCode", "birth": "date_of_birth", "card": "card_number", "iban": "iban",
       "bban": "bank_account", "plate": "license_plate"}  # fmt: skip


def _profiles(seed: int) -> list[Profile]:
    fake = seeded_faker(seed)
    out = []
    for _ in range(PROFILES_PER_SHAPE):
        simple = fake.simple_profile()
        out.append({
            "name": simple["name"], "cpf": fake.cpf(), "rg": fake.rg(),
            "phone": fake.phone_number(), "msisdn": fake.msisdn(),
            "cell": fake.cellphone_number(), "email": simple["mail"],
            "street": fake.street_address(), "cep": fake.postcode(formatted=True),
            "birth": simple["birthdate"].isoformat(),
            "card": fake.credit_card_number(card_type="visa16"),
            "iban": fake.iban(), "bban": fake.bban(), "plate": fake.license_plate(),
        })  # fmt: skip
    return out


def _keyed(profile: Profile, names: dict[str, str]) -> dict[str, str]:
    return {names[cls]: value for cls, value in profile.items()}


def _planted(profile: Profile) -> list[str]:
    """What must not come out: a street without its house number (kept by design)."""
    return [profile["street"].partition(",")[0] if c == "street" else v for c, v in profile.items()]


def _request(body: str, content_type: str = "application/json", **kwargs: object) -> str:
    out = SANITIZER.sanitize(request_exchange(body=body, content_type=content_type, **kwargs))
    return out.request.body.decode()


def _b64url(document: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(document).encode()).decode().rstrip("=")


def _decoded(text: str, encoded: str) -> str:
    """A base64 value from a sanitized JSON body, decoded (what was planted inside it),
    or the body itself where the value was replaced whole."""
    value = json.loads(text)[encoded]
    payload = value.split(".")[1] if value.count(".") == 2 else value
    try:
        return base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)).decode()
    except ValueError:
        return text


def json_pt(p: Profile) -> str:
    return _request(json.dumps(_keyed(p, _PT), ensure_ascii=False))


def json_en_nested(p: Profile) -> str:
    return _request(json.dumps({"data": {"customers": [{"profile": _keyed(p, _EN)}]}}))


def json_answer(p: Profile) -> str:
    body = json.dumps({"cliente": _keyed(p, _PT)})
    out = SANITIZER.sanitize(request_exchange(body="{}", response_body=body))
    return out.response.body.decode()


def form(p: Profile) -> str:
    return _request(urlencode(_keyed(p, _PT)), "application/x-www-form-urlencoded")


def query(p: Profile) -> str:
    params = tuple((name, quote(value)) for name, value in _keyed(p, _EN).items())
    out = SANITIZER.sanitize(request_exchange(query=params))
    return " ".join(value for _, value in out.request.query)


def xml(p: Profile) -> str:
    inner = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in _keyed(p, _PT).items())
    return _request(f"<cliente>{inner}</cliente>", "application/xml")


def csv(p: Profile) -> str:
    keyed = _keyed(p, _EN)
    table = io.StringIO()
    writer = csv_module.writer(table, lineterminator="\n")  # quotes "Rua X, 12"
    writer.writerows((keyed, keyed.values()))
    return _request(table.getvalue(), "text/csv")


def multipart(p: Profile) -> str:
    parts = "".join(
        f'--b0\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in _keyed(p, _EN).items()
    )
    return _request(parts + "--b0--\r\n", "multipart/form-data; boundary=b0")


def ndjson(p: Profile) -> str:
    lines = (json.dumps(_keyed(p, _EN)), json.dumps(_keyed(p, _PT)))
    return _request("\n".join(lines) + "\n", "application/x-ndjson")


def graphql_variables(p: Profile) -> str:
    query_text = "mutation C($input: CustomerInput!) { createCustomer(input: $input) { id } }"
    return _request(json.dumps({"query": query_text, "variables": {"input": _keyed(p, _EN)}}))


def jwt_claims(p: Profile) -> str:
    token = f"{_b64url({'alg': 'HS256', 'typ': 'JWT'})}.{_b64url(_keyed(p, _EN))}.c2lnbmF0dXJl"
    return _decoded(_request(json.dumps({"token": token})), "token")


def base64_json(p: Profile) -> str:
    return _decoded(_request(json.dumps({"payload": _b64url(_keyed(p, _EN))})), "payload")


def html_data_attributes(p: Profile) -> str:
    names = {**_PT, "birth": "nascimento"}
    attributes = " ".join(f'data-{k.lower()}="{escape(v)}"' for k, v in _keyed(p, names).items())
    return _page(f'<div class="cliente" {attributes}></div>')


def _page(body: str) -> str:
    page = f"<html><body>{body}</body></html>"
    out = SANITIZER.sanitize(request_exchange(response_body=page, content_type="text/html"))
    return out.response.body.decode()


def html_form(p: Profile) -> str:
    controls = "".join(
        f'<label>{k}<input type="text" name="{k}" value="{escape(v)}"></label>'
        for k, v in _keyed(p, _PT).items()
    )
    return _page(f'<form method="post" action="/clientes">{controls}</form>')


def html_table(p: Profile) -> str:
    keyed = _keyed(p, _EN)
    head = "".join(f"<th>{k}</th>" for k in keyed)
    row = "".join(f"<td>{escape(v)}</td>" for v in keyed.values())
    return _page(f"<table><tr>{head}</tr><tr>{row}</tr></table>")


SHAPES: tuple[Callable[[Profile], str], ...] = (
    json_pt, json_en_nested, json_answer, form, query, xml, csv, multipart, ndjson,
    graphql_variables, jwt_claims, base64_json, html_data_attributes, html_form, html_table,
)  # fmt: skip


@pytest.mark.parametrize("shape", SHAPES, ids=lambda shape: shape.__name__)
def test_nothing_planted_comes_out(shape: Callable[[Profile], str]) -> None:
    kept = {}
    for seed, profile in enumerate(_profiles(SHAPES.index(shape))):
        if found := leaked(shape(profile), _planted(profile)):
            kept[seed] = found
    assert kept == {}


def test_accounts_written_as_iban_or_bban() -> None:
    document = {"favorecido": {"nome": "Ana Souza", "iban": "BR42 2837 9298 4162 2948 6628 360W X"},
                "pagamento": {"bban": "10550087547517799229836DM", "ibanNumber": "GB95FAAG36877119049958"},
                "bankAccount": "12345-6"}  # fmt: skip
    out = json.loads(_request(json.dumps(document)))
    assert out == {"favorecido": {"nome": "SANITIZED_NAME", "iban": "SANITIZED_ACCOUNT"},
                   "pagamento": {"bban": "SANITIZED_ACCOUNT", "ibanNumber": "SANITIZED_ACCOUNT"},
                   "bankAccount": "SANITIZED_ACCOUNT"}  # fmt: skip
    # Alone in a body: the body probe reads it.
    assert json.loads(_request('{"iban": "BR4228379298416229486628360WX"}')) == {
        "iban": "SANITIZED_ACCOUNT"
    }
    iban = "DE89370400440532013000"
    pseudonym = json.loads(
        PSEUDONYMS.sanitize(request_exchange(body=json.dumps({"iban": iban}))).request.body
    )["iban"]
    assert pseudonym != iban and len(pseudonym) == len(iban)


def test_what_only_says_account_stays() -> None:
    document = {"iban": None, "bankAccount": "SKU12345678", "conta": "premium-2024",
                "ibanRequired": True, "fatura": {"conta": "Conta de luz"}}  # fmt: skip
    assert json.loads(_request(json.dumps(document))) == document


def test_html_data_attributes_by_their_names() -> None:
    page = ('<li data-nome="Ana Souza" data-rg="566842804" data-placa="OTH-1V86" '
            'data-cep="75136-270" data-nascimento="1990-01-02" data-iban="BR4228379298416229486628360WX">'
            "</li>")  # fmt: skip
    out = SANITIZER.sanitize(request_exchange(response_body=page, content_type="text/html"))
    assert out.response.body.decode() == (
        '<li data-nome="SANITIZED_NAME" data-rg="SANITIZED_DOCUMENT" data-placa="SANITIZED_PLATE" '
        'data-cep="SANITIZED_CEP" data-nascimento="SANITIZED_DATE" data-iban="SANITIZED_ACCOUNT">'
        "</li>"
    )


def test_data_attributes_that_name_nothing_personal_stay() -> None:
    page = ('<button data-toggle="modal" data-target="#cliente" data-id="12345678" '
            'data-page="2" data-date="2024-05-01" data-name="Produto Azul">Ver</button>'
            '<div data-nome="Ana Souza" data-codigo="75136270">x</div>')  # fmt: skip
    out = SANITIZER.sanitize(request_exchange(response_body=page, content_type="text/html"))
    assert out.response.body.decode() == page.replace("Ana Souza", "SANITIZED_NAME")


def test_a_cep_in_a_form_or_table_of_people() -> None:
    """A CEP is a person's beside a name and a CPF, as a form-urlencoded body's is; a
    store locator's stays."""
    people = (
        '<form><input name="nome" value="Ana Souza"><div><input name="cpf" value="52998224725">'
        '<input name="cep" value="01310-100"></div></form>'
        "<table><tr><th>Nome</th><th>CPF</th><th>CEP</th></tr>"
        "<tr><td>Ana Souza</td><td>52998224725</td><td>01310-100</td></tr></table>"
    )
    assert _page(people).count("SANITIZED_CEP") == 2 and "01310" not in _page(people)
    stores = (
        '<form action="/lojas"><input name="cep" value="01310-100"><input name="raio" value="5">'
        "</form><table><tr><th>Loja</th><th>CEP</th></tr><tr><td>Paulista</td><td>01310-100</td>"
        "</tr></table>"
    )
    assert _page(stores) == f"<html><body>{stores}</body></html>"


def test_a_point_as_a_pair_of_numbers() -> None:
    """Faker's profile's ``current_location``, Google's ``latLng``: a [lat, lng] pair."""
    fake = seeded_faker(7)
    for _ in range(PROFILES_PER_SHAPE):
        lat, lng = (float(n) for n in fake.local_latlng(country_code="BR")[:2])
        lat, lng = lat + 0.000123, lng - 0.000456  # finer than the list's own values
        document = {"nome": "Ana Souza", "current_location": [lat, lng], "latLng": [lat, lng]}
        out = json.loads(_request(json.dumps(document)))
        coarse = [round(lat, 2), round(lng, 2)]
        assert out == {"nome": "SANITIZED_NAME", "current_location": coarse, "latLng": coarse}
    layout = {"position": [120.125, 45.5], "gps": [-23.561414, -46.655881, 12.5],
              "location": ["-23.561414", "-46.655881"]}  # fmt: skip
    assert json.loads(_request(json.dumps(layout))) == layout


def _sole_trader(p: Profile, fake_cnpj: str) -> dict[str, str]:
    return {"nome": p["name"], "cpf": p["cpf"], "cnpj": fake_cnpj, "cep": p["cep"]}


@pytest.mark.parametrize("shape", ["json", "ndjson", "form", "base64_json"])
def test_a_cpf_beside_a_cnpj_is_a_persons(shape: str) -> None:
    """A sole trader, a company's responsible person: the object holds a person."""
    fake = seeded_faker(21)
    for p in _profiles(21):
        document = _sole_trader(p, fake.cnpj())
        if shape == "json":
            out = _request(json.dumps(document, ensure_ascii=False))
        elif shape == "ndjson":
            out = _request(json.dumps(document) + "\n" + json.dumps(document) + "\n",
                           "application/x-ndjson")  # fmt: skip
        elif shape == "form":
            out = _request(urlencode(document), "application/x-www-form-urlencoded")
        else:
            out = _decoded(_request(json.dumps({"payload": _b64url(document)})), "payload")
        assert leaked(out, [p["name"], p["cep"], p["cpf"]]) == []


def test_a_company_with_its_cnpj_keeps_its_own() -> None:
    company = {"razaoSocial": "Moraes Comércio LTDA", "nome": "Loja Centro",
               "cnpj": "35.002.643/0001-59", "cep": "75136-270"}  # fmt: skip
    out = json.loads(_request(json.dumps(company)))
    assert out == {**company, "cnpj": "SANITIZED_DOCUMENT"}


@pytest.mark.parametrize("content_type", ["application/xml", "text/html"])
def test_every_line_of_a_multi_line_address_in_markup(content_type: str) -> None:
    """Faker's address: street and number, neighbourhood, then CEP, city and state."""
    fake = seeded_faker(22)
    for p in _profiles(22):
        address = fake.address()
        body = (f"<cliente><nome>{escape(p['name'])}</nome><cpf>{p['cpf']}</cpf>"
                f"<endereco>{escape(address)}</endereco></cliente>")  # fmt: skip
        out = _request(body, content_type)
        lines = [line for line in address.splitlines() if line.strip()]
        assert "<endereco>SANITIZED_ADDRESS</endereco>" in out, (address, out)
        assert leaked(out, lines) == []


IDENTITY_NUMBERS = (
    {"identity_number": "542762559"},
    {"nome": "Ana Souza", "identityNumber": "542762559"},
    {"type": "identity_number", "value": "542762559"},
)


@pytest.mark.parametrize("document", IDENTITY_NUMBERS)
def test_an_identity_number_is_an_rg(document: dict[str, str]) -> None:
    assert "542762559" not in _request(json.dumps(document))


def test_a_residence_without_a_number_is_an_address() -> None:
    fake = seeded_faker(23)
    for p in _profiles(23):
        place = fake.bairro()
        document = {"residence": place, "nome": p["name"], "cpf": p["cpf"]}
        assert json.loads(_request(json.dumps(document)))["residence"] == "SANITIZED_ADDRESS"
    # A tax residence is a country; a residence's country and type are no address.
    kept = {"taxResidence": "BR", "country_of_residence": "BR", "residenceType": "owned"}
    assert json.loads(_request(json.dumps(kept))) == kept


def test_a_cpf_under_a_longer_name_makes_its_object_a_persons() -> None:
    """A list whose items differ (a recipient, then a product): the recipient's CEP."""
    for p in _profiles(24):
        items = [{"recipientName": p["name"], "nrCpf": re.sub(r"\D", "", p["cpf"]),
                  "cep": re.sub(r"\D", "", p["cep"])}, {"sku": "A1"}]  # fmt: skip
        out = _request(json.dumps({"items": items}))
        assert leaked(out, [p["name"], p["cpf"], p["cep"]]) == []
    # A company's responsible person's CPF leaves the company's CEP alone.
    company = {"empresa": {"nome": "Loja Centro", "cpfResponsavel": "52998224725",
                           "cep": "01310-100"}}  # fmt: skip
    assert json.loads(_request(json.dumps(company)))["empresa"]["cep"] == "01310-100"


def test_a_cep_in_a_description_list_of_a_person() -> None:
    """<dl> terms are its values' names, as a table's header cells are; a term after
    the value and terms grouped in <div>s count too."""
    people = (
        "<dl><dt>CEP</dt><dd>01310-100</dd><dt>Nome</dt><dd>Ana Souza</dd>"
        "<dt>CPF</dt><dd>529.982.247-25</dd></dl>"
        "<dl><div><dt>Nome</dt><dd>Ana Souza</dd></div><div><dt>CPF</dt>"
        "<dd>52998224725</dd></div><div><dt>CEP</dt><dd>04538-132</dd></div></dl>"
    )
    out = _page(people)
    assert out.count("SANITIZED_CEP") == 2 and "01310" not in out and "04538" not in out
    store = "<dl><dt>Loja</dt><dd>Paulista</dd><dt>CEP</dt><dd>01310-100</dd></dl>"
    assert _page(store) == f"<html><body>{store}</body></html>"
