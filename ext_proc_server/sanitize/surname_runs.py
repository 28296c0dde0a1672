"""Runs of surnames that say a person in prose though their words may be words too:
two or more of Faker's it_IT, es_ES and pt_BR surnames after a known first name
(``Narcisa Verdugo Campoy``), and a first name of Faker's it_IT and es_ES lists that
is also a word (``Benigno``, ``Rosario``) before surnames no word spells
(``Rosario Sanguineti``, ``Benigno Casals Godoy``). Read by free_text_names.
"""

from __future__ import annotations

import functools

from ext_proc_server.sanitize.place_words import NOT_PERSON, PLACE_OPENERS, TITLES
from ext_proc_server.sanitize.surnames import (
    WORD_SURNAMES,
    foreign_first_names,
    foreign_surnames,
)
from ext_proc_server.sanitize.wordlists import fold, word_lists

_PARTICLES = frozenset({"da", "de", "do", "das", "dos", "e", "di", "del", "van", "von"})
_WORD_SURNAMES = frozenset(map(fold, WORD_SURNAMES))


@functools.cache
def faker_surnames() -> frozenset[str]:
    """Every word of Faker's it_IT, es_ES and pt_BR last names, folded, words of the
    dictionary among them (``Mesa``, ``Vento``, ``Prado``)."""
    from faker.providers.person.pt_BR import Provider as Person

    brazilian = (w for n in Person.last_names for w in n.split() if w[0].isupper())
    return frozenset(map(fold, (*foreign_surnames(), *brazilian))) - _PARTICLES


def surnames_end(folded: list[str], first: int) -> int | None:
    """The index of a name's last word when two surnames or more of Faker's it_IT,
    es_ES and pt_BR lists follow a known first name, though some are words ("Narcisa
    Verdugo Campoy", "Rafa Martín Casas", "Manola Folch-Vargas": a hyphenated word is
    two), none of them a place's word or a first name. Two such words after a first
    name are a name in prose: one alone ("Maria Mesa") is not read."""
    surnames, last, count = faker_surnames(), None, 0
    for i in range(first + 1, len(folded)):
        word = folded[i]
        if word in _PARTICLES and last is not None:
            continue
        parts = word.split("-")
        if not all(p in surnames and p not in NOT_PERSON for p in parts):
            break
        last, count = i, count + len(parts)
    return last if count >= 2 and folded[last] not in _PARTICLES else None


@functools.cache
def word_first_names() -> frozenset[str]:
    """Every word of Faker's it_IT and es_ES first names, folded, those that are words
    too (``Benigno``, ``Rosario``, ``Esperanza``, ``Rolando``): a name only before the
    surnames ``word_first_name`` asks for. Not places' or titles' words, nor names of
    three letters or fewer (``Sol``, ``Mar``, ``Luz``), nor words of a last name (Faker's
    companies are ``Cirino Camargo S.A.``)."""
    words = frozenset(map(fold, foreign_first_names())) - word_lists().last_words_folded
    return frozenset(w for w in words if len(w) > 3) - NOT_PERSON - PLACE_OPENERS - TITLES


def word_first_name(folded: list[str]) -> tuple[int, int] | None:
    """A first name of Faker's it_IT or es_ES lists that is also a word, other first
    names after it, then surnames that make the run a person's: one known surname that
    is no word nor first name (``Rosario Sanguineti``, ``Benigno Régulo Escolano``), or
    two of Faker's lists, one of them such (``Simón Cobos Carranza``); the surnames
    after a known first name that ``surnames_end`` reads. Their first and last index."""
    firsts, lists = word_first_names(), word_lists()
    for i, word in enumerate(folded):
        if word not in firsts and word not in lists.prose_first_folded:
            continue
        at = i + 1
        while at < len(folded) and (folded[at] in firsts or folded[at] in lists.prose_first_folded):
            at += 1  # "Clarisa Leonor", "Edelmiro Régulo"
        if at == len(folded):
            return None
        end = surnames_end(folded, at - 1)
        if end is not None and any(map(_plain_surname, folded[at : end + 1])):
            return i, end
        if _plain_surname(folded[at]):
            return i, at
        return None
    return None


def _plain_surname(word: str) -> bool:
    """A known surname that is no first name, no word and no place's word: alone after
    a first name it is a person's whatever the first name is (``Rosario Solari``)."""
    lists = word_lists()
    return (
        word in lists.prose_last_folded
        and word not in lists.prose_first_folded
        and word not in word_first_names()
        and word not in lists.place_last_folded
        and word not in _WORD_SURNAMES
        and word not in NOT_PERSON
    )
