"""The street types' alternation written as a tree of shared prefixes (word_trie) must
match exactly the words it was built from: Faker pt_BR's street prefixes and Correios'
types Faker lacks, and any list of words, none a prefix's stray match ("Vi", "Viad",
"Vilas").
"""

from __future__ import annotations

import re

from faker.providers.address.pt_BR import Provider as Address
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.street_words import BRAZIL_STREET_TYPES
from ext_proc_server.sanitize.word_trie import trie_pattern

_TYPES = [*Address.street_prefixes, *BRAZIL_STREET_TYPES]


def test_the_street_types_tree_matches_each_type_and_no_prefix_or_extension() -> None:
    tree = re.compile(trie_pattern(_TYPES))
    assert all(tree.fullmatch(word) for word in _TYPES)
    near = {word[:cut] for word in _TYPES for cut in range(1, len(word))} | {
        w + "s" for w in _TYPES
    }
    assert {word for word in near if tree.fullmatch(word)} == near & set(_TYPES)


_WORD = st.text(alphabet="abcãçé-", min_size=1, max_size=6)


@settings(max_examples=300, deadline=None)
@given(st.lists(_WORD, min_size=1, max_size=12), _WORD)
@example(["via", "viaduto", "viela", "vila"], "vi")
def test_any_word_list_tree_matches_exactly_its_words(words: list[str], probe: str) -> None:
    tree = re.compile(trie_pattern(words))
    for word in [*words, probe]:
        assert (tree.fullmatch(word) is not None) == (word in words)
