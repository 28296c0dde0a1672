"""A JSON request body whose only raw control characters were in a value replaced whole
(a multi-line address, ``"Rua das Flores, 120⏎Apto 31"``): the sanitized body is strict
JSON, but the request a client sends again still holds the raw line break, which
WireMock's JSON matchers refuse. The stub matches the body as its text, each replaced
value any text inside its quotes, line breaks included; a different stable value is
not matched."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

import pytest
from faker import Faker

from tests.unit.mapping.mapping_helpers import build
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
# Faker's street addresses span two lines (street, then city and postcode).
LOCALES = {"pt_BR": "endereco", "en_US": "address"}
DRAWS = 12


@dataclass(frozen=True)
class Body:
    name: str
    raw: str  # as a hand-built client sends it: the address's line break raw
    strict: str  # the same document, every control character escaped
    address: str


def _raw(document: dict) -> str:
    """``document`` as JSON with its line breaks and tabs unescaped."""
    return json.dumps(document, ensure_ascii=False).replace("\\n", "\n").replace("\\t", "\t")


def _bodies() -> list[Body]:
    out = []
    for locale, key in LOCALES.items():
        fake = Faker(locale)
        fake.seed_instance(7)
        for n in range(DRAWS):
            address = fake.address()
            document = {"pedido": f"P-{n}", "itens": 2, key: address}
            out.append(Body(f"{locale}-{n}", _raw(document), json.dumps(document), address))
    return out


BODIES = _bodies()


def _body_pattern(text: str, address: str) -> dict:
    sanitized = SANITIZER.sanitize(request_exchange(body=text.encode(), path="/pedidos"))
    for line in address.splitlines():  # replaced whole
        assert line not in sanitized.request.body.decode()
    mapping = build(sanitized)
    assert mapping is not None
    (pattern,) = mapping["request"]["bodyPatterns"]
    return pattern


def _matches(pattern: dict, text: str) -> bool:
    """WireMock's reading of a text body pattern (Java's and Python's regex read the
    escapes the stub writes alike)."""
    if "equalTo" in pattern:
        return pattern["equalTo"] == text
    return re.fullmatch(pattern["matches"], text) is not None


def test_the_corpus_holds_raw_line_breaks() -> None:
    assert all("\n" in body.address and "\n" in body.raw for body in BODIES)
    with pytest.raises(ValueError):
        json.loads(BODIES[0].raw)


@pytest.mark.parametrize("body", BODIES, ids=lambda body: body.name)
def test_a_raw_value_replaced_whole_is_matched_as_sent(body: Body) -> None:
    pattern = _body_pattern(body.raw, body.address)
    assert "equalToJson" not in pattern and "matches" in pattern
    # The request as the client sends it again: its raw line break where the hole is.
    assert _matches(pattern, body.raw)
    # Another address, raw too: the hole takes it.
    other = BODIES[(BODIES.index(body) + 1) % len(BODIES)]
    assert _matches(pattern, body.raw.replace(body.address, other.address))
    # A different stable value, or a body with more in it, is not matched.
    assert not _matches(pattern, body.raw.replace('"P-', '"Q-'))
    assert not _matches(pattern, body.raw.replace('"itens": 2', '"itens": 3'))
    assert not _matches(pattern, body.raw + " ")


@pytest.mark.parametrize("body", BODIES[:4], ids=lambda body: body.name)
def test_the_same_document_sent_strict_keeps_its_json_matcher(body: Body) -> None:
    assert "equalToJson" in _body_pattern(body.strict, body.address)
