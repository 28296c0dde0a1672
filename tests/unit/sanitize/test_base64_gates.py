"""The gates in front of the base64 readers rule a text out by one character (a memchr)
before they search for a word: each must answer as the plain search for its words does,
on any text."""

from __future__ import annotations

from hypothesis import example, given
from hypothesis import strategies as st

from ext_proc_server.sanitize import base64_json, base64_text

# Texts built from the words' own pieces, so that words, near misses and the characters
# the gates test first all occur often.
_NEAR = ("e", "W", "y", "w", "6", "S", "/", "H", "ase6", "Secre", "77u", "H4s", " ", "x", "é")
_PIECES = st.sampled_from((*base64_json.OPENINGS, *base64_text.UNPADDED_WORDS, *_NEAR))
_TEXTS = st.one_of(st.text(max_size=60), st.lists(_PIECES, max_size=12).map("".join))


@given(_TEXTS)
@example("qty:1,xxxx")  # a compact JSON body: "y" without "ey", no "w"
@example('{"data":"ewogICJjcGYiOiAiNTI5In0="}')
def test_the_json_gate_answers_as_a_search_for_each_opening(text: str) -> None:
    assert base64_json.may_hold(text) == any(o in text for o in base64_json.OPENINGS)


@given(_TEXTS)
@example("base64,ab12")
@example("kind: Secret")
@example("H4sIAAAA")
@example("77u/77u/")
def test_the_text_gate_answers_as_a_search_for_each_word(text: str) -> None:
    assert base64_text.says_base64(text) == any(w in text for w in base64_text.UNPADDED_WORDS)
