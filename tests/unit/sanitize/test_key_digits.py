"""Keys that differ only in a run of two or more digits are classified once (a form
numbering its fields per row: item_123456=). The shortcut must decide as the full
classification of a key whose digits are not folded (a single digit other than the
"1"/"2" that name_1/name_2 read)."""

from __future__ import annotations

import inspect
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize import fields, owner_words, secret_keys
from ext_proc_server.sanitize.field_names import FieldRules, compile_rule
from ext_proc_server.sanitize.fields import flat_classes

_SOURCES = "".join(map(inspect.getsource, (fields, owner_words, secret_keys)))
# Every word the rules compare keys with, read from their source.
_VOCABULARY = sorted(set(re.findall(r'"([a-z][a-z0-9]*)"', _SOURCES)))
_JOINS = ("{w}_{d}", "{d}_{w}", "{w}{d}", "{d}{w}", "x{w}_{d}_nome", "{w}_{d}_password",
          "cliente[{d}][{w}]", "{w}.{d}.numero", "{W}{d}Name")  # fmt: skip
_PLACES = (
    fields.ROOT,
    fields.Place(owner=fields.PERSON),
    fields.Place(owner=fields.OTHER),
    fields.Place(owner=fields.PERSON, address=True),
    fields.Place(phone=True),
)


def _keys(digits: str) -> list[str]:
    return [j.format(w=w, W=w.capitalize(), d=digits) for w in _VOCABULARY for j in _JOINS]


def test_no_rule_names_a_long_digit_run() -> None:
    assert set(re.findall(r'"([0-9]{2,})"', _SOURCES)) == {"00"}  # digits_folded's own
    assert {"password", "cliente", "nome", "1", "2"} <= set(re.findall(r'"([a-z0-9]+)"', _SOURCES))


@pytest.mark.parametrize("digits", ["12", "2024", "123456", "00"])
def test_long_digit_runs_classify_as_a_single_digit(digits: str) -> None:
    differ = []
    for long_key, short_key in zip(_keys(digits), _keys("7"), strict=True):
        if secret_keys.classify_key(long_key) != secret_keys.classify_key(short_key):
            differ.append(("secret", long_key))
        for place in _PLACES:
            if fields.field_class(place, long_key) != fields.field_class(place, short_key):
                differ.append((place, long_key))
    assert differ == []


def test_name_1_and_name_2_are_still_read() -> None:
    assert fields.field_class(fields.ROOT, "name_1") == fields.MAYBE_NAME
    assert fields.field_class(fields.ROOT, "name_12") is None  # like name_7


_NAMES = st.lists(
    st.builds(
        "{}{}{}".format,
        st.sampled_from(["", "cliente[", "item_", "x", "dados."]),
        st.sampled_from(["nome", "cpf", "password", "sku", "logradouro", "name", "token",
                         "dataNascimento", "razaoSocial", "telefone", "qtd", "numero"]),
        st.sampled_from(["", "_7", "_12", "_123456", "99", "]", "_2024_01"]),
    ),
    max_size=12,
)  # fmt: skip


@given(names=_NAMES)
@settings(max_examples=300, deadline=None)
def test_a_form_classifies_as_its_names_one_by_one(names: list[str]) -> None:
    # Without user rules, names are grouped by their folded digits; with a rule that
    # never matches, every name is read as it is: the answers must be the same.
    grouped = flat_classes(names, FieldRules(()))
    one_by_one = flat_classes(names, FieldRules([compile_rule("never_matches_zz", "name")]))
    assert grouped == one_by_one
