"""Whether a field's value reads as a person's name: a few capitalised words of letters,
one of them a known first or last name."""

from __future__ import annotations

import re

from ext_proc_server.sanitize import free_text_names
from ext_proc_server.sanitize.all_name_words import all_name_words, bare_name
from ext_proc_server.sanitize.named_places import is_known_place
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
    opening three words or more is passed over ("Padre Marcelo Rossi"), and so are
    English honorifics and suffixes ("Mr. Seth Yoder Jr."); or every word a name of
    Faker's Spanish, Portuguese, Italian or English people (all_name_words: "Nieves
    Redondo Verdugo"). With ``known`` one word alone is a name too when it is a known
    first name (``_lone_first_name``)."""
    words = value.split()
    if len(words) == 1 and known:
        return _lone_first_name(words[0])
    if not 2 <= len(words) <= 8:  # what _NAME_VALUE allows, told without a regex
        return False
    if known:
        # Most values fail here (product names, codes): before the regex, which tests
        # every character's Unicode category.
        lists = word_lists()
        bare = bare_name(words)  # "Mr. Seth Yoder Jr.": the name between
        first, last = fold(bare[0]), fold(bare[-1])
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
            and not all_name_words(bare)  # "Nieves Redondo Verdugo": names only
            and not _whole_prose_name(value)  # "Luz Amor Soria", "Telmo Vera"
        ):
            return False
    if not _NAME_VALUE.fullmatch(value):
        return False
    if not known:
        return True
    # People's names are capitalised (or all in capitals); particles stay lower case.
    return all(w[0].isupper() or fold(w) in _PARTICLES for w in words)


def _lone_first_name(word: str) -> bool:
    """Whether one word alone under a ``name``/``nome`` key whose owner nothing says is
    a person's first name (``{"nome": "Dolores"}``, ``nome=Dolores``): capitalised (in
    capitals it is a brand's or an acronym as often: ``DANA``), a known first name
    (Faker's pt_BR and en_US lists, the census's, and it_IT's, es_ES's and pt_PT's that
    are no word: wordlists' ``prose_first_folded``; no word of a place or a business,
    nor one that writes a last name: ``Rosa``), and no known place (IBGE's ``{"nome":
    "Mariana"}`` is a town). A company's, a product's or a category's record
    (``{"produto": {"nome": "Camiseta"}}``) never asks."""
    if not word.istitle() or not word.isalpha():  # "DANA", "UPI": a brand's, an acronym
        return False
    folded = fold(word)
    return folded in word_lists().prose_first_folded and not is_known_place(word)


def _whole_prose_name(value: str) -> bool:
    """Whether prose would read ``value`` whole as a person's name: first names that are
    words or surnames that are first names, with the surnames after them that say a
    person (free_text_names), a product's words around them none."""
    value = value.strip(" \t")
    return free_text_names.find_names(value) == [(0, len(value))]
