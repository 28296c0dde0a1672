"""A JSON body with raw control characters in its strings, sanitized: read (leniently)
it has the structure it was sent with, and every byte but a replaced value's is as sent,
the raw characters included."""

from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize import json_body
from ext_proc_server.sanitize.detectors import Scanner
from ext_proc_server.sanitize.pseudonym import Replacer
from ext_proc_server.sanitize.run import Run, is_token

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SCANNER = Scanner()
REPLACER = Replacer(key=None)
# A string literal, raw control characters included.
LITERAL = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
CONTROLS = "\t\n\r\x01\x1f"
SECRETS = ["Maria Souza", "ana@x.com", "529.982.247-25", "(11) 91234-5678", "Café Pilão"]
KEYS = st.sampled_from(["nome", "email", "obs", "notes", "cpf", "produto", "id", "a"])
WORDS = st.one_of(
    st.sampled_from([*SECRETS, "linha", "Campinas", "ok", 'q"t', "b\\s", "é"]),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=6),
)


@st.composite
def _strings(draw: st.DrawFn) -> str:
    """Words joined by spaces or raw control characters; never a placeholder."""
    words = draw(st.lists(WORDS, min_size=1, max_size=4))
    out = words[0]
    for word in words[1:]:
        out += draw(st.sampled_from([" ", *CONTROLS])) + word
    return "x" if is_token(out) else out


def _literal(value: str, *, raw: bool) -> str:
    if not raw:
        return json.dumps(value, ensure_ascii=False)
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@st.composite
def _bodies(draw: st.DrawFn, depth: int = 0) -> str:
    """A JSON text whose strings keep control characters raw (some strings escaped)."""
    choice = draw(st.integers(0, 9)) if depth < 3 else 0
    if choice <= 4:
        if draw(st.integers(0, 4)) == 0:
            # No numbers: one under a personal key is replaced by a quoted token.
            return draw(st.sampled_from(["true", "false", "null"]))
        return _literal(draw(_strings()), raw=draw(st.integers(0, 3)) > 0)
    if choice <= 6:
        return "[" + ", ".join(draw(st.lists(_bodies(depth + 1), max_size=3))) + "]"
    members = draw(st.lists(st.tuples(KEYS, _bodies(depth + 1)), max_size=4, unique_by=_key))
    return "{" + ", ".join(f'"{key}": {value}' for key, value in members) + "}"


def _key(member: tuple[str, str]) -> str:
    return member[0]


def _sanitized(text: str) -> str | None:
    return json_body.sanitize_json(Run(SCANNER, REPLACER), text, "request.body")


def _replaced(literal: str) -> bool:
    """A literal holding a replacement (a token, or a document with one)."""
    return (
        "SANITIZED_" in literal
        or "[REDACTED" in literal
        or is_token(json.loads(literal, strict=False))
    )


@SETTINGS
@given(text=_bodies())
@example(text='{"nome": "Maria Souza", "obs": "linha1\nlinha2"}')
@example(text='{"obs": "Ligar para Maria Souza\tamanhã\r\nok"}')
@example(text='["x\\n \n y \\"q\\" ana@x.com"]')
def test_every_byte_but_a_replaced_value_is_as_sent(text: str) -> None:
    fresh = _sanitized(text)
    assert fresh is not None  # read as JSON
    sent = json.loads(text, strict=False)
    got = json.loads(fresh, strict=False)
    assert _shape(got) == _shape(sent)
    # Between the strings, nothing changes; a string changes only where it holds a value.
    assert LITERAL.split(fresh) == LITERAL.split(text)
    for before, after in zip(LITERAL.findall(text), LITERAL.findall(fresh), strict=True):
        if after != before:
            assert _replaced(after), (before, after)
            for control in set(before) & set(CONTROLS):
                escaped = json.dumps(control)[1:-1]
                if escaped not in before:  # sent raw only: written raw only
                    assert escaped not in after, (before, after)


def _shape(node: object) -> object:
    if isinstance(node, dict):
        return {key: _shape(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_shape(value) for value in node]
    return type(node).__name__ if not isinstance(node, str) else "str"
