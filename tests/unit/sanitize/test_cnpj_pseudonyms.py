"""A CNPJ's pseudonym is a CNPJ a client's validator accepts: 14 characters, the
original's punctuation, valid check digits, and letters where the original had them.
From July 2026 (IN RFB 2.229/2024) a CNPJ's first twelve characters may be letters
(``12.ABC.345/01DE-35``); its pseudonym used to be a numeric CNPJ, which a validator of
the new layout (or a column typed for it) tells apart from the value it stood for."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.validators import cnpj_valid
from tests.unit.sanitize.sanitize_helpers import fmt_cnpj, make_cnpj, request_exchange, sanitizer

TOKENS = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-cnpj-pseudonyms")
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
numeric = st.text(alphabet="0123456789", min_size=12, max_size=12)
alphanumeric = st.text(alphabet=_ALNUM, min_size=12, max_size=12).filter(
    lambda base: not base.isdigit()
)
cnpjs = (
    st.one_of(numeric, alphanumeric)
    .filter(lambda base: len(set(base)) > 1)
    .map(make_cnpj)
    .flatmap(lambda c: st.sampled_from([c, fmt_cnpj(c)]))
)


def _layout(value: str) -> str:
    """Where a value has a letter (L), a digit (9) or punctuation (itself)."""
    return "".join("L" if c.isalpha() else "9" if c.isdigit() else c for c in value)


def _sanitized(sanitize, cnpj: str) -> dict[str, str]:
    body = {"cnpj": cnpj, "fornecedor": {"documento": cnpj}, "obs": f"emitente {cnpj} ok"}
    return json.loads(sanitize.sanitize(request_exchange(body=json.dumps(body))).request.body)


@SETTINGS
@given(cnpjs)
def test_a_pseudonym_keeps_the_cnpjs_own_layout(cnpj: str) -> None:
    assert cnpj_valid(cnpj.replace(".", "").replace("/", "").replace("-", ""))
    out = _sanitized(PSEUDONYMS, cnpj)
    fresh = out["cnpj"]
    assert fresh != cnpj and len(fresh) == len(cnpj)
    assert _layout(fresh) == _layout(cnpj)
    assert cnpj_valid(fresh.replace(".", "").replace("/", "").replace("-", ""))
    # One value, one pseudonym, wherever it stands.
    assert out["fornecedor"]["documento"] == fresh
    assert out["obs"] == f"emitente {fresh} ok"


@SETTINGS
@given(cnpjs)
def test_every_valid_cnpj_is_found(cnpj: str) -> None:
    """Bare or punctuated, numeric or alphanumeric: found in a field and in text."""
    out = _sanitized(TOKENS, cnpj)
    assert out == {
        "cnpj": "SANITIZED_DOCUMENT",
        "fornecedor": {"documento": "SANITIZED_DOCUMENT"},
        "obs": "emitente SANITIZED_DOCUMENT ok",
    }


def test_the_new_layouts_example() -> None:
    """The Receita's own example, punctuated and bare."""
    for cnpj in ("12.ABC.345/01DE-35", "12ABC34501DE35"):
        fresh = _sanitized(PSEUDONYMS, cnpj)["cnpj"]
        assert _layout(fresh) == _layout(cnpj) and fresh != cnpj, fresh
