"""The body probe's shortcut: a JSON body whose only personal word is "name"/"nome" has
its name keys found by a byte search instead of reading every key. It must decide as
the full read does, for every key the field rules know."""

from __future__ import annotations

import inspect
import json
import re

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize import field_probe, fields, owner_words
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

# Every word the field rules compare keys with, read from their source.
_VOCABULARY = sorted(
    {
        word
        for module in (fields, owner_words)
        for word in re.findall(r'"([a-z][a-z0-9]*)"', inspect.getsource(module))
    }
)
_JOINS = ("{}", "{}_id", "{}_number", "numero_{}", "{}_casa", "dados_{}", "x{}", "{}.nome")
_KEYS = [join.format(word) for word in _VOCABULARY for join in _JOINS] + [
    "wa_id", "waId", "WA-ID", "idCard", "id_card", "registroGeral", "registro_geral",
    "houseNumber", "buildingNumber", "numeroCasa", "numeroImovel", "thoroughfare",
    "vizinhança", "endereço", "nome%5Fmae", "first+name", "cel", "ns:owner",
]  # fmt: skip


def _probe(text: str) -> bytes:
    return text.lower().encode("ascii", "replace")


def _decisions(key: str, value: str) -> tuple[bool, bool]:
    text = json.dumps({"name": "Camiseta Polo Azul", key: value}, ensure_ascii=False)
    probe = field_probe.FieldProbe(None)
    shortcut = probe.may_hold(text, _probe(text))
    full = probe.may_hold(text, _probe(text), others_seen=True)
    return shortcut, full


def test_vocabulary_is_read() -> None:
    assert {"cliente", "owner", "logradouro", "wa", "cel"} <= set(_VOCABULARY)


@pytest.mark.parametrize("value", ["Maria da Silva Souza", "1985-03-14", "42"])
def test_shortcut_decides_as_the_full_read(value: str) -> None:
    differ = [key for key in _KEYS if len(set(_decisions(key, value))) > 1]
    assert differ == []


def test_shortcut_finds_a_person_in_a_name_key() -> None:
    text = '[{"name": "Camiseta Polo"}, {"name" : "Maria da Silva Souza"}]'
    assert field_probe.FieldProbe(None).may_hold(text, _probe(text))
    clean = '[{"name": "Camiseta Polo"}, {"nome": "Notebook 15"}]'
    assert not field_probe.FieldProbe(None).may_hold(clean, _probe(clean))


def test_full_read_is_taken_when_other_words_are_present() -> None:
    text = '{"name": "Camiseta Polo", "owner": "Ana Souza"}'
    assert field_probe.FieldProbe(None).may_hold(text, _probe(text))


# Keys whose only personal word is outside the old probe's list: once, the body was
# not read and these values survived.
@pytest.mark.parametrize(
    ("body", "value"),
    [
        ({"owner": "Maria da Silva Souza"}, "Maria da Silva Souza"),
        ({"idCard": "12.345.678-9"}, "12.345.678-9"),
        ({"registro_geral": "12.345.678-9"}, "12.345.678-9"),
        ({"cel": "1187654321"}, "1187654321"),
        ({"guest": "Ana Paula Ferreira", "total": 3}, "Ana Paula Ferreira"),
    ],
)
def test_keys_outside_the_old_word_list_are_read(body: dict, value: str) -> None:
    out = sanitizer().sanitize(request_exchange(body=json.dumps(body))).request.body
    assert value.encode() not in out
    assert json.loads(out).keys() == body.keys()


def test_bare_name_keys_are_decided_by_their_values() -> None:
    # The bare-key shortcut reads only the values of "name"/"nome" keys.
    assert field_probe.FieldProbe(None).may_hold('{"nome": "Ana Souza"}', b'{"nome": "ana souza"}')
    for key in ("name", "nome"):
        text = json.dumps({key: "Notebook Gamer"})
        assert not field_probe.FieldProbe(None).may_hold(text, _probe(text))


_NAME_VALUES = st.one_of(
    st.sampled_from(
        ["Maria da Silva Souza", "JOÃO PEREIRA", "Ana  Souza", "Ana\tSouza", " José Lima ",
         "Camiseta Polo", "alpha 3", "Maria", "Maria Mole", "Ana O'Neil", "Ana-Paula Souza",
         "Sr. Carlos Souza", "Souza, Ana", "Ana \"Souza\"", "Ana\\nSouza", "Conceição Dias",
         "Ana Souza 2", "", "name", "nome", "Ana name", "Notebook Gamer 15", "PAID",
         "cancelado", "cliente", 'cliente": 1', "wa", "x wa", 'pai":']
    ),
    st.text(alphabet="AaNnMmEeOo SsÃã'-.\t\"\\0", max_size=20),
)  # fmt: skip
_NAME_KEYS = st.sampled_from(
    ["name", "nome", "Name", "NOME", "sku", "title", "nome name", "status", "wa", "nomePai"]
)
_NAME_ITEMS = st.lists(
    st.dictionaries(_NAME_KEYS, st.one_of(_NAME_VALUES, st.integers(0, 99)), max_size=4),
    max_size=5,
)


@given(items=_NAME_ITEMS, ascii_only=st.booleans(), spaced=st.booleans())
@example(items=[{"name": " José Lima "}], ascii_only=False, spaced=False)  # a space first
@example(items=[{"nome": "Dolores"}], ascii_only=False, spaced=False)  # one word
@settings(max_examples=400, deadline=None)
def test_bare_name_shortcut_decides_as_the_full_read(
    items: list[dict], ascii_only: bool, spaced: bool
) -> None:
    text = json.dumps(
        {"items": items}, ensure_ascii=ascii_only, separators=(", ", ": ") if spaced else (",", ":")
    )
    probe = field_probe.FieldProbe(None)
    shortcut = probe.may_hold(text, _probe(text))
    full = probe.may_hold(text, _probe(text), others_seen=True)
    assert shortcut == full


def test_a_personal_word_in_a_value_does_not_call_for_the_full_read() -> None:
    # "PAID" holds "pai" (father): only a word inside a key calls for reading every key.
    paid = '{"status": "PAID", "items": [{"name": "Camiseta Polo"}]}'
    assert re.search(field_probe.OTHER_WORDS, _probe(paid))
    assert not re.search(field_probe.OTHER_KEY_WORDS, _probe(paid))
    assert not field_probe.FieldProbe(None).may_hold(paid, _probe(paid))
    father = '{"status": "PAID", "nome_pai": "Jose Souza"}'
    assert field_probe.FieldProbe(None).may_hold(father, _probe(father))
