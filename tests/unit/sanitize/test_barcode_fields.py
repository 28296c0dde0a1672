"""A product's barcode under its own key is kept byte for byte, though its digits pass
as a card, a CNPJ, a CPF or a phone: an EAN-13 from "4" may pass Luhn (a 13-digit Visa),
a GTIN-14 be a valid CNPJ. The keys are real ones: NF-e's <cEAN> and <cEANTrib> (inside
<det><prod>), schema.org Product's gtin13 and gtin14, stores' ean, gtin, upc, barcode and
codigoBarras. GTINs are built with python-stdnum (stdnum.ean), in JSON, NF-e XML, form,
query, multipart and GraphQL (variables and literal arguments) shapes. A value that is no
valid GTIN under those keys, and the same digits under any other key, are still replaced.

A phone whose digits are also a valid GTIN (GTIN-8, -12, -13 and -14 have the lengths of
national numbers and of numbers with their country code) is a barcode under a barcode's
key: the key says so, and one number in ten has a right GS1 check digit by chance. Written
as a phone (with "+") it is still replaced there, and under a phone's key always."""

from __future__ import annotations

import json
import random
from urllib.parse import urlencode

import phonenumbers
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stdnum import ean, luhn
from stdnum.br import cnpj

from ext_proc_server.sanitize import validators as v
from ext_proc_server.sanitize.identifier_names import gtin_valid
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer
from tests.unit.sanitize.world_ids import personal_reading

SANITIZER = sanitizer()
BARCODE_KEYS = (
    "ean", "gtin", "upc", "barcode", "codigoBarras", "codigo_barras", "cEAN", "cEANTrib",
    "gtin13", "gtin14", "ean13",
)  # fmt: skip
# Keys whose value a card or a CNPJ under them is: replaced whatever its digits.
OTHER_KEYS = ("cardNumber", "numeroCartao", "documento", "id", "codigo", "sku")
SHAPES = (
    "json", "json_number", "xml", "form", "query", "multipart", "graphql_variables",
    "graphql_literal",
)  # fmt: skip
_BOUNDARY = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
GTIN_LENGTHS = (8, 12, 13, 14)


def _gtin(rng: random.Random, length: int) -> str:
    body = "".join(rng.choice("0123456789") for _ in range(length - 1))
    return body + ean.calc_check_digit(body)


def _corpus() -> tuple[list[str], list[str]]:
    """2,000 GTINs of every length, and every one among 40,000 that reads as personal."""
    rng = random.Random(20261207)
    plain = [_gtin(rng, GTIN_LENGTHS[i % 4]) for i in range(2000)]
    ambiguous = [
        g for g in (_gtin(rng, (13, 14)[i % 2]) for i in range(40000)) if personal_reading(g)
    ]
    return plain, ambiguous


PLAIN, AMBIGUOUS = _corpus()


def _decoys() -> list[str]:
    """Cards and CNPJs of a barcode's lengths (13 and 14) whose GS1 check digit is wrong."""
    rng = random.Random(7)
    out: list[str] = []
    while len(out) < 400:
        body = "4" + "".join(rng.choice("0123456789") for _ in range(11))
        card = body + luhn.calc_check_digit(body)
        base = "".join(rng.choice("0123456789") for _ in range(12))
        company = base + cnpj.calc_check_digits(base)
        out += [d for d in (card, company) if personal_reading(d) and not ean.is_valid(d)]
    return out


DECOYS = _decoys()


def _xml(key: str, values: list[str]) -> str:
    items = "".join(
        f'<det nItem="{i}"><prod><cProd>{i}</cProd><{key}>{value}</{key}>'
        f"<xProd>CAFE TORRADO 500G</xProd><NCM>09012100</NCM></prod></det>"
        for i, value in enumerate(values, 1)
    )
    return f'<nfeProc xmlns="http://www.portalfiscal.inf.br/nfe"><NFe><infNFe>{items}</infNFe></NFe></nfeProc>'


_JSON = "application/json"


def _multipart(key: str, values: list[str]) -> str:
    parts = [("sku", "12"), *((key, value) for value in values), ("qtd", "1")]
    return (
        "".join(
            f'--{_BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
            for name, value in parts
        )
        + f"--{_BOUNDARY}--\r\n"
    )


def _survivors(shape: str, key: str, values: list[str]) -> list[str]:
    """The values left byte for byte in their place after sanitizing, in one exchange."""
    if shape == "query":
        exchange = request_exchange(query=tuple((key, value) for value in values))
        out = SANITIZER.sanitize(exchange).request.query
        return [
            value
            for (_, value), (_, fresh) in zip(exchange.request.query, out, strict=True)
            if fresh == value
        ]
    if shape == "xml":
        body, content_type = _xml(key, values), "application/xml"
        written = [f"<{key}>{value}</{key}>" for value in values]
    elif shape == "form":
        body = urlencode([("sku", "12"), *((key, value) for value in values), ("qtd", "1")])
        content_type = "application/x-www-form-urlencoded"
        written = [f"{key}={value}&" for value in values]
    elif shape == "multipart":
        body, content_type = _multipart(key, values), f"multipart/form-data; boundary={_BOUNDARY}"
        written = [f'name="{key}"\r\n\r\n{value}\r\n' for value in values]
    elif shape == "graphql_variables":
        variables = {"produtos": [{"sku": "12", key: value} for value in values]}
        query = "mutation($produtos: [ProdutoInput!]!) { cadastrar(produtos: $produtos) { id } }"
        body, content_type = json.dumps({"query": query, "variables": variables}), _JSON
        written = [json.dumps({key: value})[1:-1] for value in values]
    elif shape == "graphql_literal":
        calls = " ".join(
            f'p{i}: cadastrar(sku: "12", {key}: "{value}") {{ id }}'
            for i, value in enumerate(values)
        )
        body, content_type = json.dumps({"query": f"mutation {{ {calls} }}"}), _JSON
        written = [f'{key}: \\"{value}\\"' for value in values]
    else:
        number = shape == "json_number"
        items = [{"sku": "12", key: int(value) if number else value} for value in values]
        body, content_type = json.dumps({"produtos": items}), "application/json"
        written = [json.dumps({key: int(value) if number else value})[1:-1] for value in values]
    out = SANITIZER.sanitize(
        request_exchange(body=body, content_type=content_type)
    ).request.body.decode()
    return [
        value
        for value, text in zip(values, written, strict=True)
        if out.count(text) == body.count(text)
    ]


def _written_as(shape: str, values: list[str]) -> list[str]:
    """A JSON number has no leading zero: those values are left to the string shape."""
    return [value for value in values if shape != "json_number" or value[0] != "0"]


def test_the_corpus_holds_every_length_and_the_ambiguous_barcodes() -> None:
    assert {len(g) for g in PLAIN} == set(GTIN_LENGTHS)
    assert all(ean.is_valid(g) and gtin_valid(g) for g in PLAIN + AMBIGUOUS)
    assert len(AMBIGUOUS) > 500
    assert any(v.card_valid(g) for g in AMBIGUOUS) and any(v.cnpj_valid(g) for g in AMBIGUOUS)
    assert DECOYS and not any(ean.is_valid(d) for d in DECOYS)


def test_gtin_check_digit_agrees_with_stdnum() -> None:
    rng = random.Random(3)
    for length in (*GTIN_LENGTHS, 9, 11, 15):
        for _ in range(500):
            digits = "".join(rng.choice("0123456789") for _ in range(length))
            assert gtin_valid(digits) == (length in GTIN_LENGTHS and ean.is_valid(digits))


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("key", BARCODE_KEYS)
def test_barcodes_under_their_key_are_kept(key: str, shape: str) -> None:
    values = _written_as(shape, PLAIN + AMBIGUOUS)
    kept = _survivors(shape, key, values)
    lost = sorted(set(values) - set(kept))
    assert not lost, f"{len(lost)} of {len(values)} replaced, e.g. {lost[:5]}"


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("key", OTHER_KEYS)
def test_the_same_digits_under_other_keys_are_replaced(key: str, shape: str) -> None:
    values = _written_as(shape, [g for g in AMBIGUOUS if v.card_valid(g) or v.cnpj_valid(g)][:200])
    assert values
    assert _survivors(shape, key, values) == []


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("key", BARCODE_KEYS)
def test_cards_and_cnpjs_with_a_wrong_gs1_check_digit_are_replaced(key: str, shape: str) -> None:
    values = _written_as(shape, DECOYS)
    assert _survivors(shape, key, values) == []


@pytest.mark.parametrize(
    "text",
    [
        '{"ean": "4111111111111111"}',  # a 16-digit card: no GTIN's length
        '{"ean": "4907167810540 e 11 91234-5678"}',  # a phone beside it in the value
        '{"ean": "12.345.678/0001-95"}',  # a CNPJ written as one
        '{"cardNumber": "4907167810540"}',
        "<cEAN>+55 11 91234-5678</cEAN>",
    ],
)
def test_what_no_barcode_is_still_read(text: str) -> None:
    assert SANITIZER.sanitize_text(text) != text


def _phone_gtins() -> dict[str, str]:
    """phonenumbers' example number of every region and type, in digits (national, and
    with the country code) that are a valid GTIN, to the number in E.164."""
    found = {}
    for region in phonenumbers.SUPPORTED_REGIONS:
        for kind in range(12):  # every PhoneNumberType but UNKNOWN
            example = phonenumbers.example_number_for_type(region, kind)
            if example is None:
                continue
            national = phonenumbers.national_significant_number(example)
            e164 = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
            for digits in (national, e164[1:]):
                if ean.is_valid(digits):
                    found[digits] = e164
    return found


PHONE_GTINS = _phone_gtins()
PHONE_GTIN_DIGITS = sorted(PHONE_GTINS)


def test_the_phones_that_are_gtins_hold_every_gtin_length() -> None:
    assert {len(g) for g in PHONE_GTIN_DIGITS} == set(GTIN_LENGTHS) and len(PHONE_GTINS) > 50


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("key", ["ean", "gtin13", "cEAN", "codigoBarras", "barcode"])
def test_a_phone_that_is_a_valid_gtin_under_a_barcode_key_is_a_barcode(
    key: str, shape: str
) -> None:
    values = _written_as(shape, PHONE_GTIN_DIGITS)
    assert _survivors(shape, key, values) == values


@pytest.mark.parametrize("shape", ["json", "xml", "form", "multipart", "graphql_variables"])
def test_a_phone_that_is_a_gtin_is_still_a_phone_under_a_phone_key(shape: str) -> None:
    values = [g for g in PHONE_GTIN_DIGITS if len(g) >= 10]
    assert values and _survivors(shape, "telefone", values) == []


@pytest.mark.parametrize("key", ["ean", "barcode"])
def test_a_gtin_written_as_an_international_phone_is_replaced(key: str) -> None:
    for written in sorted(set(PHONE_GTINS.values())):
        body = json.dumps({key: written})
        assert SANITIZER.sanitize_text(body) != body, written


SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
gtins = st.builds(
    lambda length, seed: _gtin(random.Random(seed), length),
    st.sampled_from(GTIN_LENGTHS),
    st.integers(0, 2**64),
)


@SETTINGS
@given(gtins, st.sampled_from(BARCODE_KEYS), st.sampled_from(SHAPES))
def test_property_any_gtin_under_a_barcode_key_is_kept(gtin: str, key: str, shape: str) -> None:
    if shape == "json_number" and gtin[0] == "0":
        shape = "json"
    assert _survivors(shape, key, [gtin]) == [gtin]


@SETTINGS
@given(gtins, st.sampled_from(OTHER_KEYS), st.sampled_from(SHAPES))
def test_property_a_gtin_that_reads_as_a_card_or_cnpj_elsewhere_is_replaced(
    gtin: str, key: str, shape: str
) -> None:
    if shape == "json_number" and gtin[0] == "0":
        shape = "json"
    if v.card_valid(gtin) or v.cnpj_valid(gtin):
        assert _survivors(shape, key, [gtin]) == []
    else:
        assert _survivors(shape, key, [gtin]) in ([gtin], [])
