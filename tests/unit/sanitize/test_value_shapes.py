"""A field's value is checked against its class with C calls (no step per character):
the answers must be those of counting its digits one by one."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize import fields, phones

_VALUES = st.text(alphabet="0123456789 +().-/ab\t\u00b2\u0663\uff11", max_size=30)


def _phone_by_characters(value: str) -> bool:
    digits = sum(c.isdigit() for c in value)
    return 8 <= digits <= 15 and re.fullmatch(r"\+?[0-9 ().-]{8,24}", value.strip()) is not None


@given(value=_VALUES)
@settings(max_examples=500, deadline=None)
def test_a_phone_value_is_told_as_by_its_characters(value: str) -> None:
    assert phones.could_be_phone(value) == _phone_by_characters(value)


@given(value=_VALUES)
@settings(max_examples=500, deadline=None)
def test_a_cep_value_is_told_as_by_its_characters(value: str) -> None:
    digits = sum(c.isdigit() for c in value)
    assert fields.value_fits(fields.CEP, value) == (5 <= digits <= 9)


def test_examples() -> None:
    assert phones.could_be_phone(" (11) 91234-5678 ")
    assert not phones.could_be_phone("N/A")
    assert fields.value_fits(fields.CEP, "01452-000")
    assert fields.value_fits(fields.CEP, "\u0660\u0661\u0662\u0663\u0664")  # Arabic-Indic
    assert not fields.value_fits(fields.CEP, "SP")
