"""A JSON string holding XML after any run of leading whitespace (a template's
indentation, ``"    <dest>"``) is read as markup (json_markup.may_hold_markup), even
with no shape to find anywhere in the body and no escape in it: only its elements'
names say that ``<xNome>`` holds a person."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.people import leaked, person, seeded_faker
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

_SANITIZER = sanitizer()


def dest(name: str, street: str, number: str, city: str) -> str:
    """A consumer's ``<dest>`` as SEFAZ's NF-e layout writes it: no CPF, no CEP, no
    phone, nothing a shape detector finds."""
    return (
        f"<dest><xNome>{name}</xNome><enderDest><xLgr>{street}</xLgr><nro>{number}</nro>"
        f"<xMun>{city}</xMun><UF>SP</UF></enderDest><indIEDest>9</indIEDest></dest>"
    )


def consumer(seed: int) -> tuple[str, list[str]]:
    """Faker pt_BR's person ``seed`` as a ``<dest>``, and the values planted in it."""
    p = person(seeded_faker(seed))
    return dest(p.name, p.street, p.number, p.city), [p.name, p.street]


def sanitized_body(body: str) -> str:
    exchange = request_exchange(body=body, path="/v2/nfe/ref-1")
    return _SANITIZER.sanitize(exchange).request.body.decode()


@pytest.mark.parametrize("spaces", [2, 3, 4, 8, 16])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_xml_after_spaces_in_an_unescaped_body_is_read_by_element(spaces: int, seed: int) -> None:
    xml, planted = consumer(seed)
    body = '{"id": 7, "xml": "' + " " * spaces + xml + '"}'
    assert "\\" not in body and "%" not in body and "&" not in body
    fresh = json.loads(sanitized_body(body))
    assert leaked(fresh["xml"], planted) == []
    assert fresh["xml"].startswith(" " * spaces + "<dest><xNome>")
    assert fresh["id"] == 7
    assert "<UF>SP</UF>" in fresh["xml"]


@pytest.mark.parametrize("text", ["  <b>Promoção</b> de Natal", "    <3 obrigado Maria"])
def test_text_after_spaces_that_is_no_document_stays(text: str) -> None:
    """Must stay: a string opening with spaces and "<" that closes no tag is not XML."""
    body = '{"id": 7, "titulo": "' + text + '"}'
    assert json.loads(sanitized_body(body))["titulo"] == text


# Spaces as written, then JSON's escaped whitespace ("\n", "\t"), then spaces again.
_OPENING = st.tuples(
    st.integers(0, 40),
    st.lists(st.sampled_from(["\n", "\t", "\r\n"]), max_size=3),
    st.integers(0, 8),
).map(lambda parts: " " * parts[0] + "".join(parts[1]) + " " * parts[2])


@settings(max_examples=40, deadline=None)
@given(_OPENING, st.integers(0, 10_000), st.sampled_from(["xml", "xmlNfe", "documento"]))
def test_generated_openings_are_read_by_element(opening: str, seed: int, key: str) -> None:
    xml, planted = consumer(seed)
    assert not any(is_token(value) for value in planted)
    body = json.dumps({"id": 7, key: opening + xml}, ensure_ascii=False)
    fresh = json.loads(sanitized_body(body))[key]
    assert leaked(fresh, planted) == []
    assert fresh.startswith(opening + "<dest><xNome>")
