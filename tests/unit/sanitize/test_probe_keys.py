"""A body whose only personal field is named in camelCase, with a symbol or at length.

Before a body is walked for personal fields, a probe reads its keys. It used to read
them from the lowered copy of the body ("mobilePhone" became "mobilephone", which names
nothing) and only keys of up to 64 characters from a short alphabet, so a body with no
other finding went out as it came in. The walker itself reads such keys right: these
bodies hold nothing else, so only the probe can send them to it.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
PHONE = 912345678


def _sanitized(body: str, content_type: str = "application/json") -> str:
    clean = SANITIZER.sanitize(request_exchange(body=body, content_type=content_type))
    return clean.request.body.decode()


@pytest.mark.parametrize(
    "body",
    [
        {"mobilePhone": PHONE},
        {"homePhone": "91234-5678"},
        {"deliveryAddress": {"zip": "01452000", "number": 12}},
        {"billingAddress": {"zipCode": "01452-000"}},
        {"contato/telefone": PHONE},
        {"$phone": PHONE},
        {"phone#1": PHONE},
        {"telefoneCelularDoClientePrincipalParaContatoEmCasoDeEmergenciaNoturna": PHONE},
        {"firstName": "Joana"},
    ],
)
def test_json_keys_the_lowered_copy_hid(body):
    text = json.dumps(body, separators=(",", ":"))
    out = _sanitized(text)
    assert out != text
    for secret in ("912345678", "91234-5678", "01452", "Joana"):
        assert secret not in out


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/xml", f"<r><mobilePhone>{PHONE}</mobilePhone></r>"),
        ("application/x-www-form-urlencoded", f"a=1&mobilePhone={PHONE}"),
        ("application/x-www-form-urlencoded", f"a=1&contato/telefone={PHONE}"),
    ],
)
def test_xml_and_form_keys_too(content_type, body):
    assert str(PHONE) not in _sanitized(body, content_type)


def test_a_product_name_is_still_left_alone():
    text = '{"productName":"Camiseta azul"}'
    assert _sanitized(text) == text


WORDS = st.sampled_from(["phone", "Phone", "PHONE", "telefone", "Telefone", "celular", "Celular"])
PREFIXES = st.sampled_from(["", "mobile", "home", "work", "contato", "cliente", "x" * 70])
JOINERS = st.sampled_from(["", "_", "-", ".", "/", "$", "#", " ", ":"])


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=PREFIXES, joiner=JOINERS, word=WORDS, suffix=st.sampled_from(["", "1", "#2"]))
def test_any_spelling_of_a_phone_key_alone_in_a_body(prefix, joiner, word, suffix):
    if prefix and joiner == "" and word.islower():
        word = word.capitalize()  # "mobilephone" is one word; "mobilePhone" is two
    key = f"{prefix}{joiner}{word}{suffix}"
    text = json.dumps({key: PHONE}, separators=(",", ":"))
    assert str(PHONE) not in _sanitized(text), key
