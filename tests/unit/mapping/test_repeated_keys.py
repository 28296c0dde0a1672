"""A JSON request body that gives one key twice is matched as its text: servers read it
apart (Go and Python take the last value, some the first, serde and gson refuse it), and
WireMock's JSON matcher reads the last, so ``{"a": 1, "a": 2}`` would answer ``{"a": 2}``."""

from __future__ import annotations

import json

import pytest

from ext_proc_server.mapping.json_tree import repeats_a_key
from tests.unit.mapping.mapping_helpers import build, json_post, make_exchange


def _members(node: object) -> int:
    if isinstance(node, dict):
        return len(node) + sum(_members(v) for v in node.values())
    if isinstance(node, list):
        return sum(_members(v) for v in node)
    return 0


@pytest.mark.parametrize(
    ("text", "repeats"),
    [
        ('{"a":1,"a":2}', True),
        ('{"a" : 1, "a" : 2}', True),
        ('{\n  "o": {"b": 1, "b": 1}\n}', True),
        ('[{"a":1},{"a":2}]', False),  # one key per object
        ('{"a":{"a":{"a":1}}}', False),
        ('{"doc":"{\\"a\\":1,\\"a\\":2}","a":1}', False),  # JSON inside a string
        ('{"doc":"{\\"a\\":1}","a":1,"a":2}', True),
        ('{"t":"10:30","url":"http://x/\\":"}', False),
        ('{"a" :1, "b": "\\" :"}', False),
    ],
)
def test_a_repeated_key_is_found_wherever_it_sits(text: str, repeats: bool) -> None:
    assert repeats_a_key(text, _members(json.loads(text))) is repeats


def test_a_request_repeating_a_key_is_matched_as_its_exact_text() -> None:
    text = b'{"amount":100,"amount":1,"to":"acct-9"}'
    mapping = build(
        make_exchange(method="POST", headers=(("content-type", "application/json"),), body=text)
    )
    assert mapping is not None
    assert mapping["request"]["bodyPatterns"] == [{"equalTo": text.decode()}]
    # A body that gives each key once keeps its JSON matcher.
    plain = build(json_post({"amount": 1, "to": "acct-9"}))
    assert plain is not None
    assert "equalToJson" in plain["request"]["bodyPatterns"][0]
