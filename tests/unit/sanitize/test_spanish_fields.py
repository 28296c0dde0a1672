"""Spanish field names (Mercado Pago's, a Mexican address's, Spain's and Argentina's
records), accented and upper-case spellings: people from Faker's es_* locales under
them, their planted values counted in what the sanitizer leaves."""

from __future__ import annotations

import json

import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.field_names import folded_name, key_words
from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

LOCALES = ("es_ES", "es_MX", "es_AR", "es_CO", "es_CL")
# Each country's identity number under the name its APIs give it.
_DOCUMENT_KEYS = {
    "es_ES": "dni",
    "es_MX": "curp",
    "es_AR": "cuil",
    "es_CO": "cedula",
    "es_CL": "rut",
}


def _person(fake: Faker) -> dict[str, str]:
    return {
        "first": fake.first_name(),
        "last": f"{fake.last_name()} {fake.last_name()}",
        "phone": fake.numerify("6########"),
        "street": fake.street_name(),
        "number": fake.building_number(),
        "postcode": fake.postcode(),
        "birth": fake.date_of_birth(minimum_age=18).isoformat(),
        "document": fake.numerify("########"),
        "neighbourhood": f"{fake.last_name()} Norte",
    }


def _records(locale: str, p: dict[str, str]) -> list[dict]:
    """One person in the shapes Spanish-speaking APIs give them."""
    flat = {
        "nombre": p["first"],
        "apellidos": p["last"],
        "email": "persona@example.es",
        "telefono": p["phone"],
        "direccion": f"{p['street']} {p['number']}",
        "codigo_postal": p["postcode"],
        "fecha_nacimiento": p["birth"],
        _DOCUMENT_KEYS[locale]: p["document"],
    }
    accented = {
        "Nombre": p["first"],
        "Primer_Apellido": p["last"].split()[0],
        "Segundo_Apellido": p["last"].split()[1],
        "Teléfono": p["phone"],
        "Dirección": f"{p['street']} {p['number']}",
        "Código_Postal": p["postcode"],
    }
    upper = {
        "NOMBRE_COMPLETO": f"{p['first']} {p['last']}",
        "TELEFONO": p["phone"],
        "DOMICILIO": f"{p['street']} {p['number']}",
        "CP": p["postcode"],
    }
    # Mercado Pago's payer (its names in English) and a Mexican address (calle, colonia).
    payer = {
        "payer": {
            "first_name": p["first"],
            "last_name": p["last"],
            "identification": {"type": "DNI", "number": p["document"]},
        },
        "cliente": {
            "nombres": p["first"],
            "apellido": p["last"],
            "celular": p["phone"],
            "domicilio": {
                "calle": p["street"],
                "numero_exterior": p["number"],
                "colonia": p["neighbourhood"],
                "municipio": "Cuauhtémoc",
                "cp": p["postcode"],
            },
        },
    }
    return [flat, accented, upper, payer]


def _planted(p: dict[str, str]) -> list[str]:
    words = [p["first"], *p["last"].split(), p["street"], p["neighbourhood"]]
    return [*words, p["phone"], p["postcode"], p["birth"], p["document"]]


def _left(body: str, planted: list[str]) -> int:
    return sum(value in body for value in planted)


def _sanitized(record: dict) -> str:
    exchange = request_exchange(body=json.dumps(record, ensure_ascii=False))
    return sanitizer().sanitize(exchange).request.body.decode()


def test_spanish_people_leave_nothing_planted() -> None:
    left = planted = 0
    for i, locale in enumerate(LOCALES):
        fake = Faker(locale)
        fake.seed_instance(i)
        for _ in range(6):
            person = _person(fake)
            values = _planted(person)
            for record in _records(locale, person):
                sent = [v for v in values if v in json.dumps(record, ensure_ascii=False)]
                left += _left(_sanitized(record), sent)
                planted += len(sent)
    assert planted > 500
    assert left == 0, f"{left} of {planted} planted values left"


@pytest.mark.parametrize(
    ("record", "key"),
    [
        ({"nombre": "Juana Armas", "email": "a@b.es"}, "nombre"),
        ({"nombre": "María García", "email": "a@b.es"}, "nombre"),
        ({"apellidos": "García López", "email": "a@b.es"}, "apellidos"),
        ({"nombre_completo": "Juana Armas", "email": "a@b.es"}, "nombre_completo"),
        ({"teléfono": "612345678"}, "teléfono"),
        ({"Teléfono": "612345678"}, "Teléfono"),
        ({"TELEFONO": "612345678"}, "TELEFONO"),
        ({"móvil": "612345678"}, "móvil"),
        ({"nombre": "Juana", "apellidos": "Armas", "codigo_postal": "28014"}, "codigo_postal"),
        ({"nombre": "Juana", "apellidos": "Armas", "cp": "28014"}, "cp"),
        ({"curp": "GAPM850101HDFRRR09"}, "curp"),
        ({"cuit": "20-12345678-3"}, "cuit"),
        ({"nombre": "Juana Armas", "nie": "X1234567L"}, "nie"),
    ],
)
def test_spanish_names_are_replaced(record: dict, key: str) -> None:
    assert is_token(json.loads(_sanitized(record))[key])


def test_a_persons_object_by_its_spanish_key() -> None:
    out = json.loads(_sanitized({"persona": {"nombre": "Juana", "nombre_madre": "Rosa Armas"}}))
    assert all(map(is_token, out["persona"].values())), out


def test_an_address_under_a_spanish_name_is_replaced_whole() -> None:
    out = json.loads(_sanitized({"direccion": "Calle de Alcalá 20, 3ºB"}))
    assert out["direccion"] == "SANITIZED_ADDRESS"


@pytest.mark.parametrize(
    "record",
    [
        {"producto": {"nombre": "Camiseta Azul", "precio": 19.9, "sku": "CAM-AZ-42"}},
        {"razon_social": "Distribuidora Ibérica S.A.", "ciudad": "Madrid"},
        {"nombre": "Juana", "apellidos": "Armas", "ciudad": "Madrid", "provincia": "Toledo",
         "pais": "España"},
        {"producto": {"nombre": "Agua de Colonia", "colonia": "Roma"}},
        {"tienda": {"nombre": "Ferretería López", "ciudad": "Madrid"}},
        {"codigo_postal": "28014", "email": "a@b.es"},  # as a lone "zip" or "cep" is
        {"formato_rfc3339": "2024-05-01T10:00:00Z", "cp_ratio": "0.75"},
        {"run_number": "123456", "tcp_port": "54321"},
    ],
)  # fmt: skip
def test_must_stay(record: dict) -> None:
    out = json.loads(_sanitized(record))
    kept = {k: v for k, v in record.items() if k not in ("nombre", "apellidos", "email")}
    assert {k: out[k] for k in kept} == kept


@pytest.mark.parametrize(
    ("spanish", "portuguese"),
    [("nombre", "nome"), ("Teléfono", "telefone"), ("TELEFONO", "telefone"),
     ("razonSocial", "razaoSocial"), ("direccion_entrega", "endereco_entrega"),
     ("primer_apellido", "primeiro_sobrenome"), ("colonia", "bairro")],
)  # fmt: skip
def test_spanish_words_read_as_their_portuguese_peers(spanish: str, portuguese: str) -> None:
    assert key_words(spanish) == key_words(portuguese)


def test_the_users_rules_compare_names_as_written() -> None:
    assert folded_name("nombre") == "nombre"
    assert folded_name("Teléfono") == "telefono"


_SPELLINGS = ("nombre", "apellidos", "telefono", "direccion")
_SEPARATORS = ("", "_", "-", " ")


@st.composite
def _spelled_key(draw: st.DrawFn) -> str:
    """A Spanish person's key spelled as an API may: lower, upper or title case, "é"/"ó"
    where Spanish writes them, a prefix word joined by a separator."""
    word = draw(st.sampled_from(_SPELLINGS))
    word = word.replace("telefono", draw(st.sampled_from(["telefono", "teléfono"])))
    word = word.replace("direccion", draw(st.sampled_from(["direccion", "dirección"])))
    upper = draw(st.booleans())
    word = word.upper() if upper else word.capitalize() if draw(st.booleans()) else word
    prefix = draw(st.sampled_from(["", "cliente", "titular"]))
    separator = draw(st.sampled_from(_SEPARATORS))
    if prefix and not separator:
        word = word[0].upper() + word[1:]  # camelCase: "clienteNombre"
    return f"{prefix}{separator}{word}" if prefix else word


_VALUES = {"nombre": "Juana Armas", "apellidos": "García López", "telefono": "612345678",
           "direccion": "Calle de Alcalá 20"}  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(key=_spelled_key())
def test_any_spelling_of_a_spanish_key_is_replaced(key: str) -> None:
    value = _VALUES[next(w for w in _SPELLINGS if folded_name(key).endswith(w))]
    assert not is_token(value)
    out = json.loads(_sanitized({key: value, "email": "a@b.es"}))
    assert is_token(out[key]), (key, out)
