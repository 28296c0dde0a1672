"""A JSON request number a double does not hold is matched as the body's text: WireMock
compares JSON numbers by their decimal value, and the double's would answer another."""

from __future__ import annotations

import json
import math
from decimal import Decimal

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import HttpRequest
from ext_proc_server.mapping import NoiseNormalizer
from ext_proc_server.mapping.json_tree import (
    InexactNumber,
    RepeatedKey,
    check_request_text,
    parse_json,
    written_by_orjson,
)
from ext_proc_server.mapping.noise import NormalizedBody
from tests.unit.mapping.mapping_helpers import JSON, build, make_exchange

NUMBERS = st.builds(
    lambda sign, whole, fraction, exponent: sign + whole + fraction + exponent,
    st.sampled_from(["", "-"]),
    st.from_regex(r"\A(0|[1-9][0-9]{0,24})\Z"),
    st.one_of(st.just(""), st.from_regex(r"\A\.[0-9]{1,24}\Z")),
    st.one_of(st.just(""), st.from_regex(r"\A[eE][+-]?[0-9]{1,3}\Z")),
)


def held_by_a_double(number: str) -> bool:
    """Whether the double ``number`` reads as has its decimal value (an integer: exact)."""
    if not any(c in number for c in ".eE"):
        return True
    value = float(number)
    return math.isfinite(value) and Decimal(repr(value)) == Decimal(number)


def normalized(body: str) -> NormalizedBody:
    request = HttpRequest(method="POST", path="/p", headers=JSON, body=body.encode())
    return NoiseNormalizer(CollectorConfig()).normalize_body(request, part="request", path="/p")


@settings(max_examples=500, deadline=None)
@given(NUMBERS, st.sampled_from(["amount", "created_at", "request_id"]))
def test_a_number_is_matched_by_value_only_where_a_double_holds_it(number: str, key: str):
    body = f'{{"{key}": {number}, "to": "acct-9"}}'
    if held_by_a_double(number):
        assert normalized(body).kind == "json"
    elif math.isfinite(float(number)):
        assert normalized(body) == NormalizedBody("text", body)
    else:
        # Past a double (1e400): the text, as before, unless a noise field holds it.
        assert normalized(body).kind == ("json" if key == "request_id" else "text")


@settings(max_examples=500, deadline=None)
@given(NUMBERS, st.sampled_from(["{}", "[{}]", '{{"a": [1, {{"b": {}}}]}}']))
def test_the_second_reading_skips_no_number_a_double_does_not_hold(number: str, where: str) -> None:
    """Only a text with 16 digits in a row or an exponent of 3 digits is read again: a
    number a double does not hold always has one."""
    text = where.format(number)
    if held_by_a_double(number) or not math.isfinite(float(number)):
        check_request_text(text, text.count(":"))
    else:
        with pytest.raises(InexactNumber):
            check_request_text(text, text.count(":"))


def test_the_stub_matches_the_recorded_text_or_the_value() -> None:
    inexact = b'{"amount":10.000000000000000001,"to":"acct-9"}'
    mapping = build(make_exchange(method="POST", headers=JSON, body=inexact))
    assert mapping is not None
    assert mapping["request"]["bodyPatterns"] == [{"equalTo": inexact.decode()}]
    for exact in (b'{"amount":10.5,"to":"acct-9"}', b'{"id":12345678901234567891}'):
        mapping = build(make_exchange(method="POST", headers=JSON, body=exact))
        assert mapping is not None
        assert "equalToJson" in mapping["request"]["bodyPatterns"][0], exact


DOCUMENTS = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**64 - 1),
        st.floats(allow_nan=False, allow_infinity=False),
        st.text(max_size=8),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
).filter(lambda document: isinstance(document, dict | list))


def _members(node: object) -> int:
    if isinstance(node, dict):
        return len(node) + sum(map(_members, node.values()))
    if isinstance(node, list):
        return sum(map(_members, node))
    return 0


@settings(max_examples=2000, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_orjson_writes_a_double_as_the_decimal_repr_gives(value: float) -> None:
    """What lets a body orjson wrote skip the number search: each float it holds is the
    decimal value of its double."""
    assert Decimal(orjson.dumps(value).decode()) == Decimal(repr(value))


@settings(max_examples=500, deadline=None)
@given(DOCUMENTS)
def test_a_body_orjson_wrote_passes_the_searches_it_skips(document: dict | list) -> None:
    text = orjson.dumps(document).decode()
    # A string holding '": ' near the start reads as a body written with spaces: searched.
    assert written_by_orjson(text, document) is ('": ' not in text[:128])
    check_request_text(text, _members(document))  # the searches find nothing either
    check_request_text(text, _members(document), document)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('{"a":1,"a":2}', RepeatedKey),
        ('{"a":{"b":1,"b":1}}', RepeatedKey),
        ('{"n":10.000000000000000001}', InexactNumber),
        ("[0.10000000000000000555]", InexactNumber),
    ],
)
def test_a_body_orjson_did_not_write_is_searched(text: str, error: type[Exception]) -> None:
    document = orjson.loads(text)
    assert not written_by_orjson(text, document)
    with pytest.raises(error):
        check_request_text(text, _members(document), document)


def test_a_body_written_with_spaces_is_searched() -> None:
    spaced = '{"a": 1, "a": 2}'
    assert not written_by_orjson(spaced, orjson.loads(spaced))
    with pytest.raises(RepeatedKey):
        check_request_text(spaced, 1, orjson.loads(spaced))
    compact = '{"note":"say \\": \\" twice","n":10.5}'
    assert not written_by_orjson(compact, orjson.loads(compact))
    check_request_text(compact, 2, orjson.loads(compact))


def test_what_orjson_refuses_to_write_is_searched() -> None:
    past_64_bits = json.loads('{"id":123456789012345678901234}')
    assert not written_by_orjson('{"id":123456789012345678901234}', past_64_bits)
    assert not written_by_orjson('["\\ud800"]', ["\ud800"])


@settings(max_examples=500, deadline=None)
@given(DOCUMENTS, st.booleans())
def test_a_body_json_dumps_wrote_passes_the_searches_it_skips(
    document: dict | list, ascii_only: bool
) -> None:
    """json.dumps's separators (", " and ": "), as Python services send a body: when it is
    taken as the tree's own writing, the searches it skips find nothing either."""
    text = json.dumps(document, ensure_ascii=ascii_only)
    tree = parse_json(text)
    if written_by_orjson(text, tree):
        check_request_text(text, _members(tree))
    check_request_text(text, _members(tree), tree)


@settings(max_examples=500, deadline=None)
@given(NUMBERS, st.sampled_from(['{{"amount": {}, "to": "acct-9"}}', '{{"a": [1, {}]}}']))
def test_a_spaced_number_taken_as_written_is_held_by_a_double(number: str, where: str) -> None:
    """Only a number as orjson writes its double is taken: the text the inexact-number
    search would refuse is never skipped."""
    text = where.format(number)
    tree = parse_json(text)
    if written_by_orjson(text, tree):
        assert held_by_a_double(number)
    if not held_by_a_double(number) and math.isfinite(float(number)):
        with pytest.raises(InexactNumber):
            check_request_text(text, _members(tree), tree)


def test_json_dumps_separators_are_taken_as_written() -> None:
    document = {"id": 7, "nome": "São Paulo", "n": [1.5, 10, None], "ok": True, "o": {}}
    text = json.dumps(document, ensure_ascii=False)
    assert written_by_orjson(text, parse_json(text))
    ascii_text = json.dumps({"id": 7, "n": [1.5, 10], "at": "2024-01-15T10:00:00Z"})
    assert written_by_orjson(ascii_text, parse_json(ascii_text))
    # Not the tree as written, so searched: escaped non-ASCII, a string holding ", ",
    # pretty-printed.
    for other in (
        json.dumps(document),
        json.dumps({"rua": "Rua das Flores, 123"}),
        json.dumps(document, indent=2),
    ):
        assert not written_by_orjson(other, parse_json(other)), other


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('{"a": 1, "a": 2}', RepeatedKey),
        ('{"a": {"b": 1, "b": 1}}', RepeatedKey),
        ('{"a": 1, "\\u0061": 1}', RepeatedKey),
        ('{"a": 1, "b, ": 2, "b,": 3}', None),
        ('{"n": 10.000000000000000001}', InexactNumber),
        ('{"n": [0.10000000000000000555]}', InexactNumber),
    ],
)
def test_a_spaced_body_not_written_from_its_tree_is_searched(
    text: str, error: type[Exception] | None
) -> None:
    document = parse_json(text)
    assert not written_by_orjson(text, document)
    if error is None:
        check_request_text(text, _members(document), document)
    else:
        with pytest.raises(error):
            check_request_text(text, _members(document), document)
