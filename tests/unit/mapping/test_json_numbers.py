"""A JSON request number a double does not hold is matched as the body's text: WireMock
compares JSON numbers by their decimal value, and the double's would answer another."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import HttpRequest
from ext_proc_server.mapping import NoiseNormalizer
from ext_proc_server.mapping.json_tree import InexactNumber, check_request_text
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
