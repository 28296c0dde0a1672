"""The scanner's gate reads a text's ASCII bytes as they are, ignoring case: for every
one of its patterns it must answer as that pattern does on the lowered copy (the probe)
the detectors behind it read."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.detectors import GATE_PATTERNS
from ext_proc_server.sanitize.dfa import WordGate, compile_dfa

SETTINGS = settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
_CORPUS = Path(__file__).resolve().parent / "sanitize_corpus"

_GATE = WordGate(GATE_PATTERNS)
_EACH = [compile_dfa(pattern) for pattern in GATE_PATTERNS]  # case-sensitive, one each
# The words the patterns name, to be written in every case.
_WORDS = sorted({w.decode() for p in GATE_PATTERNS for w in re.findall(rb"[a-z]{2,}", p)})
_CASES = (str.lower, str.upper, str.title, str.swapcase, lambda w: w[:1] + w[1:].upper())
_PIECES = st.one_of(
    st.builds(lambda word, case: case(word), st.sampled_from(_WORDS), st.sampled_from(_CASES)),
    st.text(alphabet="0123456789", min_size=1, max_size=16),
    st.text(alphabet=" \t\n_.-:=\"'<>/&?+%[](),;@\\éÇ€ßKk", max_size=4),
    st.sampled_from(["+55", "//", "eyJ", "EYJ", "Basic ", "wa_id", "WA-ID", '"Nome":']),
)
_TEXTS = st.lists(_PIECES, max_size=12).map("".join)


def _raw(text: str) -> bytes:
    return text.encode("ascii", "replace")


def _on_the_probe(text: str) -> set[int]:
    probe = _raw(text).lower()
    return {index for index, pattern in enumerate(_EACH) if pattern.search(probe) is not None}


@SETTINGS
@given(_TEXTS)
@example("Cliente: Maria, RUA das Flores 12, Tel 11 91234-5678")
@example('{"Password": "x", "NOME_MAE": "Ana", "Wa_Id": 1}')
@example("Authorization: BASIC dXNlcjpwYXNz; EYJhbGciOi")
def test_the_gate_reads_raw_bytes_as_their_lowered_copy(text: str) -> None:
    assert set(_GATE.present(_raw(text))) == _on_the_probe(text)


def test_the_gate_reads_the_corpora_as_their_lowered_copies() -> None:
    texts = []
    for name in ("corpus.json", "personal.json"):
        for case in json.loads((_CORPUS / name).read_text(encoding="utf-8")):
            texts.append(case["body"])
            texts.extend(value for _, value in case.get("headers", []))
    assert texts
    for text in texts:
        assert set(_GATE.present(_raw(text))) == _on_the_probe(text)


def test_a_pattern_with_upper_case_is_refused() -> None:
    # Case is ignored, so an upper-case letter (or escape: \S) would read differently.
    with pytest.raises(ValueError, match="lowered"):
        WordGate([rb"\S+@"])
    with pytest.raises(ValueError, match="lowered"):
        WordGate([b"eyJ"])
