"""Property tests for personal data: a planted value never survives, a decoy never
changes, and JSON never breaks, in both modes."""

from __future__ import annotations

import datetime
import json
import re
from urllib.parse import quote_plus, unquote_plus

import phonenumbers
from faker.providers.address.pt_BR import Provider as Address
from faker.providers.company.pt_BR import Provider as Company
from faker.providers.person.pt_BR import Provider as Person
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

MODES = (sanitizer(), sanitizer(sanitize_mode="pseudonyms", pseudonym_key="prop"))
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])

first = st.sampled_from([n for n in Person.first_names if " " not in n])
last = st.sampled_from([n for n in Person.last_names if " " not in n])
names = st.builds(
    lambda a, particle, b, c: f"{a}{particle} {b}" + (f" {c}" if c else ""),
    first,
    st.sampled_from(["", " da", " de", " dos"]),
    last,
    st.one_of(st.none(), last),
)
dates = st.dates(datetime.date(1920, 1, 1), datetime.date(2007, 12, 31)).flatmap(
    lambda d: st.sampled_from(
        [
            d.isoformat(),
            d.strftime("%d/%m/%Y"),
            d.strftime("%d-%m-%Y"),
            f"{d.isoformat()}T00:00:00Z",
        ]
    )
)
streets = st.builds(
    lambda kind, a, b: f"{kind} {a} {b}",
    st.sampled_from(["Rua", "Avenida", "Av.", "Travessa", "Alameda", "Estrada"]),
    last,
    last,
)
numbers = st.integers(10, 99999).map(str)
phone_types = st.sampled_from(
    [
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.TOLL_FREE,
        phonenumbers.PhoneNumberType.SHARED_COST,
    ]
)


@st.composite
def phones(draw) -> str:
    kind = draw(phone_types)
    example = str(phonenumbers.example_number_for_type("BR", kind).national_number)
    tail = draw(st.text("0123456789", min_size=4, max_size=4))
    number = phonenumbers.PhoneNumber(country_code=55, national_number=int(example[:-4] + tail))
    layout = draw(
        st.sampled_from(
            [phonenumbers.PhoneNumberFormat.E164, phonenumbers.PhoneNumberFormat.INTERNATIONAL,
             phonenumbers.PhoneNumberFormat.NATIONAL]
        )
    )  # fmt: skip
    return phonenumbers.format_number(number, layout)


def _survives(value: str, text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text) is not None


def _all_modes(body: str, content_type: str = "application/json") -> list[str]:
    exchange = request_exchange(body=body, content_type=content_type)
    return [s.sanitize(exchange).request.body.decode() for s in MODES]


@SETTINGS
@given(
    name=names,
    birth=dates,
    street=streets,
    number=numbers,
    phone=phones(),
    name_key=st.sampled_from(["nome", "nomeCompleto", "full_name", "nome_mae", "holderName"]),
    birth_key=st.sampled_from(["dataNascimento", "birth_date", "dtNasc", "dob"]),
    phone_key=st.sampled_from(["telefone", "celular", "phone", "fone", "whatsapp"]),
)
def test_planted_json_values_never_survive(
    name, birth, street, number, phone, name_key, birth_key, phone_key
) -> None:
    body = json.dumps(
        {"cliente": {name_key: name, birth_key: birth, phone_key: phone,
                     "endereco": {"logradouro": street, "numero": number}}, "n": [1, 2.5]},
        ensure_ascii=False,
    )  # fmt: skip
    for out in _all_modes(body):
        document = json.loads(out)
        flat = json.dumps(document, ensure_ascii=False)
        for value in (name, birth, street, phone):
            assert not _survives(value, flat), value
        assert document["cliente"]["endereco"]["numero"] != number


@SETTINGS
@given(name=names, birth=dates, street=streets, number=numbers, phone=phones())
def test_planted_form_xml_and_text_values_never_survive(name, birth, street, number, phone):
    form = (
        f"nome={quote_plus(name)}&data_nascimento={quote_plus(birth)}&telefone={quote_plus(phone)}"
        f"&logradouro={quote_plus(street)}&plano=Basico"
    )
    xml = (
        f"<cliente><nome>{name}</nome><dataNascimento>{birth}</dataNascimento>"
        f"<telefone>{phone}</telefone><endereco><logradouro>{street}</logradouro>"
        f"<numero>{number}</numero></endereco></cliente>"
    )
    text = f"cliente {name}, nascido em {birth}, mora na {street}, {number}. WhatsApp: {phone}."
    for body, content_type in (
        (form, "application/x-www-form-urlencoded"),
        (xml, "application/xml"),
        (text, "text/plain"),
    ):
        for out in _all_modes(body, content_type):
            readable = unquote_plus(out) if "urlencoded" in content_type else out
            for value in (name, birth, street, phone):
                assert not _survives(value, readable), (value, readable)


companies = st.sampled_from(
    [f"{a} {s}" for a in Person.last_names[:30] for s in Company.company_suffixes]
)
cities = st.builds(lambda a, s: f"{a} {s}", last, st.sampled_from(Address.city_suffixes))
products = st.sampled_from(["Camiseta Polo Azul", "Plano Família Premium", "Cafeteira Expresso"])


@SETTINGS
@given(company=companies, city=cities, product=products, street=streets, when=dates)
def test_decoys_never_change(company, city, product, street, when) -> None:
    body = json.dumps(
        {"empresa": {"razaoSocial": company, "nome": company,
                     "endereco": {"logradouro": street, "cidade": city, "cep": "01452-000"}},
         "produto": {"nome": product}, "plano": {"name": product}, "bank_name": company,
         "cidade": city, "created_at": when, "vencimento": when},
        ensure_ascii=False,
    )  # fmt: skip
    for out in _all_modes(body):
        assert out == body
    query = f"cidade={quote_plus(city)}&categoria={quote_plus(product)}&desde={when}"
    for out in _all_modes(query, "application/x-www-form-urlencoded"):
        assert out == query


_KEYS = st.sampled_from(
    ["nome", "name", "cliente", "endereco", "cep", "numero", "telefone", "rg", "dtNasc",
     "produto", "empresa", "items", "bairro", "x", "fullName", "phones", "address"]
)  # fmt: skip
_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
    st.text(max_size=20), names, dates, phones(),
)  # fmt: skip


@SETTINGS
@given(
    st.recursive(
        _LEAVES,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_KEYS, inner, max_size=5),
        max_leaves=14,
    )
)
def test_json_never_breaks(document: object) -> None:
    body = json.dumps(document, ensure_ascii=False)
    for out in _all_modes(body):
        json.loads(out)
