"""Runs of surnames that say a person in prose though their words may be words too:
two or more of Faker's it_IT, es_ES and pt_BR surnames after a known first name
(``Narcisa Verdugo Campoy``), or one alone that is a word, last in the run (``Bruno
Durante``); a first name of Faker's it_IT, es_ES and pt_PT lists that is also a word
or has three letters (``Benigno``, ``Noa``) before surnames no word spells (``Noa
Sousa``, ``Benigno Casals Godoy``); surnames and first names joined by a hyphen
(``Coelho-Barros``, ``Mia-Patrícia``). Read by free_text_names.
"""

from __future__ import annotations

import functools

from ext_proc_server.sanitize.place_words import NOT_PERSON, PLACE_OPENERS, STATES, TITLES
from ext_proc_server.sanitize.surnames import (
    BUILDING_SURNAMES,
    FOREIGN_FIRST_NAME_WORDS,
    FOREIGN_SURNAME_WORDS,
    WORD_FIRST_NAMES,
    WORD_SURNAMES,
    foreign_first_names,
    foreign_surnames,
)
from ext_proc_server.sanitize.wordlists import fold, word_lists

_PARTICLES = frozenset({"da", "de", "do", "das", "dos", "e", "di", "del", "van", "von"})
_WORD_SURNAMES = frozenset(map(fold, WORD_SURNAMES))
# Surnames that are a building's or a street's word (``Hall``, ``Vila``), folded: they
# end a name only as free_text_names' and acting_names' rules allow.
BUILDING_LAST = frozenset(map(fold, BUILDING_SURNAMES))


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
def _lone_word_surnames() -> frozenset[str]:
    from faker.providers.address.pt_BR import Provider as Address

    # Faker's towns are a first name and a suffix: "Jesus Alegre", "Vitória Verde".
    town_words = {fold(w) for suffix in Address.city_suffixes for w in suffix.split()}
    return (
        FOREIGN_SURNAME_WORDS
        - town_words
        - NOT_PERSON
        - PLACE_OPENERS
        - TITLES
        - STATES
        - _PARTICLES
        - word_lists().prose_first_folded
    )


def lone_word_surname_end(folded: list[str], first: int) -> int | None:
    """The index of a surname of Faker's it_IT or es_ES lists that is also a word
    (``Durante``, ``Vento``, ``Volta``, ``Mesa``), alone after a known first name that
    is no word itself, ending the run: ``Bruno Durante``, ``Alondra Mesa``. Not after
    other capitalised words (``Sabor Maria Mesa``), but a title (``Padre Bruno
    Durante``), nor before more (``Bruno Durante Ligou``), nor a first name
    (``Daria Bruno``), a place's or a title's word (``Maria Serra``, ``Ana Dona``)."""
    if first + 2 != len(folded) or folded[first + 1] not in _lone_word_surnames():
        return None
    if first > 0 and folded[first - 1] not in TITLES:
        return None
    name = folded[first]
    if name not in word_lists().prose_first_folded or name in FOREIGN_FIRST_NAME_WORDS:
        return None
    return first + 1


@functools.cache
def word_first_names() -> frozenset[str]:
    """Every word of Faker's it_IT and es_ES first names, folded, those that are words
    too (``Benigno``, ``Rosario``, ``Esperanza``, ``Rolando``): a name only before the
    surnames ``word_first_name`` asks for. Not places' or titles' words, nor names of
    three letters (``Sol``, ``Noa``, ``Che``: the surnames after them say a person as
    well), but not of two, nor particles (``Del``), nor words of a last name (Faker's
    companies are ``Cirino Camargo S.A.``), but ``WORD_FIRST_NAMES``."""
    words = frozenset(map(fold, foreign_first_names())) - word_lists().last_words_folded
    words = frozenset(w for w in words if len(w) > 2) - _PARTICLES
    words |= frozenset(map(fold, WORD_FIRST_NAMES))  # "Hope Smith", "Luz Sanguineti"
    return words - NOT_PERSON - PLACE_OPENERS - TITLES


@functools.cache
def any_first_names() -> frozenset[str]:
    """Every first name a run of names may hold, folded: the known ones, Faker's it_IT,
    es_ES and pt_PT (words among them: ``Amparo``, ``Luz``), the census's that write
    last names too (``Rosa``) and ``WORD_FIRST_NAMES``; not particles, titles, places'
    words nor words no name is (``NOT_PERSON``). Alone none says a person: a known
    name beside it or a word before it must (``first_names_end``, cued_names)."""
    lists = word_lists()
    names = lists.prose_first_folded | lists.first_or_last_folded | word_first_names()
    names |= frozenset(map(fold, (*foreign_first_names(), *WORD_FIRST_NAMES)))
    return names - _PARTICLES - NOT_PERSON - PLACE_OPENERS - TITLES


def first_names_end(folded: list[str], first: int) -> int | None:
    """The index of a name's last word when first names follow a known first name and
    the last of them, ending the run, is also one of Faker's surnames or a last name's
    word (``Telmo Vera``, ``Malena Amelia Alonso``, ``Adelaida Patricio Osorio``):
    Spain and Portugal write such surnames, and a run of first names alone (``Maria
    Luiza``) is not read."""
    names, lists = any_first_names(), word_lists()
    if folded[first] not in lists.prose_first_folded or first + 1 == len(folded):
        return None
    if not all(f in names for f in folded[first + 1 :]):
        return None
    last = folded[-1]
    surname = last in faker_surnames() or last in lists.last_words_folded
    return len(folded) - 1 if surname and last not in FOREIGN_SURNAME_WORDS else None


@functools.cache
def foreign_first_or_last() -> frozenset[str]:
    """Faker's it_IT, es_ES and pt_PT first names that are also surnames of those lists
    (``Rosario``, ``Reyes``, ``Román``, ``Simón``), folded: first names in prose only
    before a known first or whole last name, as the census's ``Rosa`` (``Rosario
    Sanguineti``). Not words, places' or titles' words, nor Faker's pt_BR surnames:
    its towns and firms are made of those (``Duarte das Flores``, ``Duarte Rios S/A``)."""
    lists = word_lists()
    names = frozenset(map(fold, foreign_first_names())) & lists.last_words_folded
    names -= FOREIGN_FIRST_NAME_WORDS | NOT_PERSON | PLACE_OPENERS | TITLES | _PARTICLES
    brazilian = {fold(w) for n in lists.last for w in n.split()}
    return frozenset(n for n in names if len(n) > 3) - brazilian - lists.first_folded


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
        if i > 0 and folded[i - 1] in PLACE_OPENERS:
            return None  # a saint's, a town's: "San Pio Delle Camere", "Santa Rosalia"

        at = i + 1
        while at < len(folded) and (folded[at] in firsts or folded[at] in lists.prose_first_folded):
            at += 1  # "Clarisa Leonor", "Edelmiro Régulo"
        while at < len(folded) - 1 and folded[at] in _PARTICLES and folded[at] != "e":
            at += 1  # "Violeta de Gaspar"
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
    if "-" in word:  # "Nicolau-Gordillo": one such part and surnames joined
        return joined_surname(word) and any(map(_plain_surname, word.split("-")))
    lists = word_lists()
    return (
        word in lists.prose_last_folded
        and word not in lists.prose_first_folded
        and word not in word_first_names()
        and word not in lists.place_last_folded
        and word not in _WORD_SURNAMES
        and word not in NOT_PERSON
    )


def joined_surname(word: str) -> bool:
    """Whether a hyphenated word (folded) is surnames joined, as Portugal and Spain write
    a double one (``Coelho-Barros``, ``Vera-Garmendia``): each part one of Faker's or a
    known last name's word, one at least a last name's word that is no dictionary word,
    none a place's or business's word but a surname's (``Criado-Serra``)."""
    parts = word.split("-")
    if len(parts) < 2:
        return False
    lists, surnames = word_lists(), faker_surnames()
    # A place's word that is a surname ends one here too: "Criado-Serra", "Casares-Conde".
    return all(
        (p in lists.last_words_folded or p in surnames)
        and (p not in NOT_PERSON or p in lists.place_last_folded)
        for p in parts
    ) and any(p in lists.last_words_folded for p in parts)


def joined_first_name(word: str) -> bool:
    """Whether a hyphenated word (folded) is known first names joined (``Mia-Patrícia``,
    ``Lorena-Joana``: Faker's pt_PT writes them so)."""
    parts = word.split("-")
    firsts = word_lists().prose_first_folded
    return len(parts) > 1 and all(p in firsts for p in parts)
