"""Whether a field's value reads as a person's name: a few capitalised words of letters,
one of them a known first or last name."""

from __future__ import annotations

import re

from ext_proc_server.sanitize import free_text_names
from ext_proc_server.sanitize.place_words import TITLES, opens_place_name
from ext_proc_server.sanitize.wordlists import fold, word_lists

_NAME_WORD = r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*\.?"
# Two to eight words of letters, one regex call (most values fail on a digit at once).
_NAME_VALUE = re.compile(rf"[ \t]*{_NAME_WORD}(?:[ \t]+{_NAME_WORD}){{1,7}}[ \t]*")
_PARTICLES = frozenset({"da", "de", "do", "das", "dos", "e", "di", "du", "del", "van", "von"})


def reads_as_name(value: str, *, known: bool) -> bool:
    """Two to eight words of letters; with ``known``, the first word a known first
    name or the last a known last name (Faker's pt_BR and en_US lists), or a census
    first name that also writes a last name before a known or pt_PT surname; a title
    opening three words or more is passed over ("Padre Marcelo Rossi")."""
    words = value.split()
    if not 2 <= len(words) <= 8:  # what _NAME_VALUE allows, told without a regex
        return False
    if known:
        # Most values fail here (product names, codes): before the regex, which tests
        # every character's Unicode category.
        lists = word_lists()
        first, last = fold(words[0]), fold(words[-1])
        if opens_place_name(first):
            return False  # "Hotel Torres", "Farmácia Bezerra": a last name alone decides
        if first.rstrip(".") in TITLES and len(words) > 2:
            first = fold(words[1])  # "Padre Marcelo Rossi": the title says a person
        # Or "Rosa Soares": a first name that also writes a last name, then a surname.
        if (
            first not in lists.first_folded
            and last not in lists.last_folded
            and not (first in lists.first_or_last_folded and last in lists.prose_last_folded)
            and not free_text_names.titled_surnames_only(words)  # "Padre Rossi"
            and not _whole_prose_name(value)  # "Luz Amor Soria", "Telmo Vera"
        ):
            return False
    if not _NAME_VALUE.fullmatch(value):
        return False
    if not known:
        return True
    # People's names are capitalised (or all in capitals); particles stay lower case.
    return all(w[0].isupper() or fold(w) in _PARTICLES for w in words)


def _whole_prose_name(value: str) -> bool:
    """Whether prose would read ``value`` whole as a person's name: first names that are
    words or surnames that are first names, with the surnames after them that say a
    person (free_text_names), a product's words around them none."""
    value = value.strip(" \t")
    return free_text_names.find_names(value) == [(0, len(value))]
