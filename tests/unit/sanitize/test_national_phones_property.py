"""A national phone found in text is never a piece of a longer word, code or number:
its neighbours are no word character, no "." or "-" of a dotted or dashed code, no
"+" of an international number (read elsewhere)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.hits import Hit
from ext_proc_server.sanitize.national_phones import find_national_phones
from ext_proc_server.sanitize.run import is_token

_WORD = set("0123456789abx_")


# Phones joined to every neighbour a code or a word may put beside them.
@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                "(424) 621-9489",
                "447-359-3824",
                "612 34 56 78",
                "07400 123456",
                "x533",
                " ext. 12",
                "1",
                "-",
                ".",
                " ",
                "a",
                "_",
                "+",
                "/",
                "0",
                "99",
            ]
        ),
        min_size=1,
        max_size=8,
    ).map("".join)
)
def test_a_national_phone_is_never_part_of_a_longer_word_or_code(text: str) -> None:
    hits: list[Hit] = []
    find_national_phones(text, text.encode("ascii"), hits)
    for hit in hits:
        found = text[hit.start : hit.end]
        assert not is_token(found)
        assert hit.start == 0 or text[hit.start - 1] not in _WORD | {".", "-", "+"}
        assert hit.end == len(text) or text[hit.end] not in _WORD
        assert sum(c.isdigit() for c in found) >= 9  # Spain's are the shortest read
