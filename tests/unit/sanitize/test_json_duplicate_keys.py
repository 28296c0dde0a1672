"""Bodies that the fast JSON parse cannot hold as they are (repeated keys, NaN and
Infinity, integers past 64 bits, lone surrogate escapes, deep nesting): sanitized alike
to the reference walker, which reads every member of an object, repeats included."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize import json_body
from ext_proc_server.sanitize.detectors import Scanner
from ext_proc_server.sanitize.pseudonym import Replacer
from ext_proc_server.sanitize.run import Run
from tests.unit.sanitize import json_reference

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SCANNER = Scanner()
REPLACER = Replacer(key=None)

SECRETS = ["ana@x.com", "joana1@exemplo.com.br", "529.982.247-25", "(11) 91234-5678"]
KEYS = st.sampled_from(
    ["a", "b", "email", "password", "senha", "cpf", "nome", "token", 'quo"te', "back\\slash",
     "é", "\u2028", "sla/sh", "ana@x.com", ""]
)  # fmt: skip
STRINGS = st.one_of(
    st.sampled_from([*SECRETS, "x", "", "\ud800", "a\udc00b", "\ud83d\ude00", 'q"t', "b\\s"]),
    st.text(max_size=6),
)
RAW = st.sampled_from(
    ["1", "-0", "1.5", "1e400", "NaN", "-Infinity", "12345678901234567890123",
     "18446744073709551616", "52998224725", "true", "null", "[]", "{}"]
)  # fmt: skip


@st.composite
def _texts(draw: st.DrawFn, depth: int = 0) -> str:
    """A JSON text whose objects often repeat a key, a secret in either repeat."""
    ascii_only = draw(st.booleans())
    choice = draw(st.integers(0, 9)) if depth < 3 else 0
    if choice <= 3:
        return (
            draw(RAW) if draw(st.booleans()) else json.dumps(draw(STRINGS), ensure_ascii=ascii_only)
        )
    if choice <= 5:
        return "[" + ",".join(draw(st.lists(_texts(depth + 1), max_size=4))) + "]"
    members = draw(st.lists(st.tuples(KEYS, _texts(depth + 1)), max_size=4))
    if members or draw(st.booleans()):
        key = draw(KEYS) if not members else draw(st.sampled_from(members))[0]
        secret = json.dumps(draw(st.sampled_from(SECRETS)), ensure_ascii=ascii_only)
        members.insert(draw(st.integers(0, len(members))), (key, secret))
    return (
        "{" + ",".join(json.dumps(k, ensure_ascii=ascii_only) + ":" + v for k, v in members) + "}"
    )


def _sanitized(module: object, text: str) -> tuple:
    run = Run(SCANNER, REPLACER)
    try:
        out = module.sanitize_json(run, text, "request.body")  # type: ignore[attr-defined]
    except Exception as exc:
        return type(exc), str(exc)
    return out, run.counts, run.locations


@SETTINGS
@given(text=_texts())
@example(text='{"a":"ana@x.com","a":1}')
@example(text='{"a":1,"b":"x","a":"ana@x.com"}')
@example(text='{"x":{"cpf":"52998224725","cpf":"1"}}')
@example(text='[{"k":"ana@x.com"},{"k":"ana@x.com"},{"k":1,"k":"ana@x.com"}]')
@example(text='[NaN,"ana@x.com"]')
@example(text='["\\ud800","ana@x.com"]')
@example(text='{"q\\"k":"ana@x.com","\\\\":"ana@x.com"}')
@example(text="[" * 300 + '"ana@x.com"' + "]" * 300)
def test_same_output_as_the_reference_walker(text: str) -> None:
    expected = _sanitized(json_reference, text)
    assert _sanitized(json_body, text) == expected
    assert _sanitized(json_body, '{"pad":"' + "p" * 1100 + '","doc":' + text + "}") == _sanitized(
        json_reference, '{"pad":"' + "p" * 1100 + '","doc":' + text + "}"
    )


@given(first=st.booleans(), nested=st.booleans())
def test_a_secret_in_a_repeated_key_is_replaced(first: bool, nested: bool) -> None:
    members = ['"email":"ana@x.com"', '"email":"ok"']
    text = "{" + ",".join(members if first else members[::-1]) + "}"
    if nested:
        text = '{"user":' + text + ',"id":1}'
    out = json_body.sanitize_json(Run(SCANNER, REPLACER), text, "request.body")
    assert out is not None
    assert "ana@x.com" not in out
    assert json.loads(out) is not None
