"""JSON bodies holding raw control characters in a string (a tab, a line break typed into
a note): strict JSON refuses them, but clients send them and servers read them. Such a
body is read as JSON, so its keys name its values, and it keeps every byte that is not a
replaced value, the raw characters included."""

from __future__ import annotations

import json

import pytest

from tests.unit.sanitize.people import leaked
from tests.unit.sanitize.raw_control_corpus import cases
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

CASES = cases()
SANITIZER = sanitizer()


def _sanitized(body: str, content_type: str = "application/json") -> str:
    exchange = request_exchange(body=body.encode(), content_type=content_type)
    return SANITIZER.sanitize(exchange).request.body.decode()


def test_the_corpus_plants_raw_controls_strict_json_refuses() -> None:
    assert len(CASES) >= 100
    for case in CASES:
        with pytest.raises(ValueError):
            json.loads(case.raw)
        assert json.loads(case.raw, strict=False) == json.loads(case.strict)
        assert all(value in case.raw for value in case.planted), case.name


def test_a_raw_control_leaks_nothing_its_strict_body_hides() -> None:
    """What the sanitizer hides in the strict body, it hides in the body as sent."""
    left = {}
    for case in CASES:
        hidden = set(case.planted) - set(leaked(_sanitized(case.strict), list(case.planted)))
        kept = set(leaked(_sanitized(case.raw), list(hidden)))
        if kept:
            left[case.name] = sorted(kept)
    assert left == {}


def test_a_raw_control_body_keeps_every_byte_but_the_replaced_values() -> None:
    """The output reads (with the same leniency) as the strict body's output does, and
    its raw control characters are where they were sent."""
    for case in CASES:
        fresh = _sanitized(case.raw)
        assert json.loads(fresh, strict=False) == json.loads(_sanitized(case.strict)), case.name
        controls = [c for c in case.raw if c in "\t\n\r"]
        assert [c for c in fresh if c in "\t\n\r"] == controls, case.name


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"nome": "Maria Souza", "obs": "linha1\nlinha2"}', "application/json"),
        ('{"name": "John Smith", "notes": "call\tback"}', "text/plain"),
        ('\ufeff{"nome": "Maria Souza", "obs": "a\tb"}', "application/json"),
        ('{"nome":"Maria Souza","obs":"a\tb"}\n{"nome":"Ana Lima","obs":"x\ty"}\n', "application/x-ndjson"),
        ('{"obs": "Ligar para Maria Souza\namanhã"}', "application/json"),
    ],
)  # fmt: skip
def test_a_name_is_replaced_beside_a_raw_control(body: str, content_type: str) -> None:
    fresh = _sanitized(body, content_type)
    assert leaked(fresh, ["Maria Souza", "John Smith", "Ana Lima"]) == []
    assert [c for c in fresh if c < " "] == [c for c in body if c < " "]


def test_a_form_field_holding_json_with_raw_line_breaks_is_read_as_json() -> None:
    value = '{"nome": "Maria Souza", "obs": "linha1\nlinha2"}'
    from urllib.parse import parse_qs, quote

    body = f"pedido=42&dados={quote(value)}"
    fresh = _sanitized(body, "application/x-www-form-urlencoded")
    dados = parse_qs(fresh)["dados"][0]
    assert "Maria Souza" not in dados
    assert json.loads(dados, strict=False)["obs"] == "linha1\nlinha2"


MUST_STAY = [
    # Product names, towns, companies and codes beside raw controls.
    '{"produto": "Café Pilão\t500g", "cidade": "Campinas", "empresa": "Magazine Luiza S.A."}',
    '{"sku": "SKU-12345", "descricao": "Caixa com 12 unidades\nCor: azul", "loja": "Recife"}',
    '{"product": "Apple iPhone 15\tPro", "store": "Springfield", "company": "Acme Corp"}',
    # Not JSON for any reader (a trailing comma, an unquoted key): read as text, as before.
    '{"produto": "Café\tPilão",}',
    "{produto: Café\tPilão}",
]


@pytest.mark.parametrize("body", MUST_STAY)
def test_values_that_are_not_personal_stay_as_sent(body: str) -> None:
    assert _sanitized(body) == body


def test_coordinates_beside_a_raw_control_are_coarsened() -> None:
    from faker import Faker

    fake = Faker("pt_BR")
    fake.seed_instance(3)
    for _ in range(5):
        lat, lng, *_ = fake.local_latlng(country_code="BR")
        body = f'{{"cliente": "c-1", "lat": {lat}, "lng": {lng}, "obs": "portão azul\ttocar"}}'
        fresh = json.loads(_sanitized(body), strict=False)
        assert fresh["obs"] == "portão azul\ttocar"
        for key, sent in (("lat", lat), ("lng", lng)):
            assert abs(fresh[key] - float(sent)) < 0.01
            # A point given to more than two decimals (about 1 km) is cut to two.
            assert len(str(fresh[key]).partition(".")[2]) <= 2
            assert fresh[key] != float(sent) or len(sent.partition(".")[2]) <= 2
