"""Whether a person's name is written only in words that are also common words or
places' words: Spain's and Portugal's people are named so ("Nieves Redondo Verdugo",
"Belén Iván Río", "Duarte Fonseca-Marques", "Cruz del Gual"), and an ambiguous ``name``
field deciding by a known Brazilian or English first or last name, or prose needing a
surname that is no word, let them out.

Every word must then be a name of Faker's person providers (es_ES, pt_PT, pt_BR, it_IT,
en_US, each word of each name, words included): a first name opening, a last name
closing, first or last names and particles between, all capitalised; no known place
("Campo Alegre", "Santa Cruz") and no place's or business's opener ("Rua", "Hotel");
not a first name and a last name alone that are both words ("Rosa Real", "Paz Real").
A product's, a category's or a firm's name holds a word that names no one ("Mesa
Redonda", "Cruz Vermelha", "Casas Bahia"). English honorifics and suffixes around a
name ("Mr. Seth Yoder Jr.", "Mrs. Gina Erickson MD", as Faker's en_US writes them) are
read past (``bare_name``)."""

from __future__ import annotations

import functools
from typing import NamedTuple

from ext_proc_server.sanitize.named_places import names_a_place
from ext_proc_server.sanitize.place_words import NOT_PERSON, PLACE_OPENERS, opens_place_name
from ext_proc_server.sanitize.surnames import (
    BUILDING_SURNAMES,
    FOREIGN_FIRST_NAME_WORDS,
    FOREIGN_SURNAME_WORDS,
    PLACE_SURNAMES,
    WORD_FIRST_NAMES,
    WORD_SURNAMES,
)
from ext_proc_server.sanitize.wordlists import fold

# No "e": "Paz e Amor", "Maria e José" are two people's or a phrase, not one name.
_PARTICLES = frozenset({"da", "de", "do", "das", "dos", "di", "del", "van", "von"})
# Before and after a name, as en_US writes them; folded, without their ".".
_HONORIFICS = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr"})
_SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "md", "phd", "dds", "dvm"})
_LOCALES = ("es_ES", "pt_PT", "pt_BR", "it_IT", "en_US")


def bare_name(words: list[str]) -> list[str]:
    """``words`` without an honorific before them and suffixes after them ("Mr. Seth
    Yoder Jr." reads "Seth Yoder"); ``words`` as they are unless two words stay."""
    start, end = 0, len(words)
    if end and fold(words[0]).rstrip(".") in _HONORIFICS:
        start = 1
    while end > start and fold(words[end - 1]).rstrip(".,") in _SUFFIXES:
        end -= 1
    return words[start:end] if end - start >= 2 else words


class _PersonWords(NamedTuple):
    first: frozenset[str]  # first names, no word that never names a person ("santa")
    last: frozenset[str]  # last names, those that are places' words too ("vila", "serra")
    any: frozenset[str]  # either
    # Spain's surnames written with an accent Portuguese never gives the place's word
    # they fold to ("Río"; "Rio" stays a place's).
    accented_last: frozenset[str]


@functools.cache
def _person_words() -> _PersonWords:
    """Every capitalised word of Faker's first names and of its last names, folded."""
    import importlib

    first: set[str] = set()
    written_last: dict[str, set[str]] = {}
    for locale in _LOCALES:
        person = importlib.import_module(f"faker.providers.person.{locale}").Provider
        first.update(fold(w) for n in person.first_names for w in n.split() if w[0].isupper())
        written_last[locale] = {w for n in person.last_names for w in n.split() if w[0].isupper()}
    last = {fold(w) for words in written_last.values() for w in words}
    surnamed_places = {fold(w) for w in (*PLACE_SURNAMES, *BUILDING_SURNAMES)}
    last_kept = frozenset(last - (NOT_PERSON - surnamed_places))
    first_kept = frozenset(first - NOT_PERSON - PLACE_OPENERS)
    portuguese = written_last["pt_BR"] | written_last["pt_PT"]
    accented = frozenset(
        w
        for w in written_last["es_ES"] - portuguese
        if not w.isascii() and fold(w) in NOT_PERSON and fold(w) not in last_kept
    )
    return _PersonWords(first_kept, last_kept, first_kept | last_kept, accented)


def all_name_words(words: list[str]) -> bool:
    """Whether ``words`` (as written, two to five) are a first name, then first or last
    names and particles, then a last name, each capitalised, and no known place."""
    if not 2 <= len(words) <= 5:
        return False
    names = _person_words()
    opener = fold(words[0])
    # The cheap test first: most values (products, codes) fail on their first word.
    if not _all_in(opener, names.first) or opens_place_name(opener):
        return False
    if not _all_in(fold(words[-1]), names.last) and words[-1] not in names.accented_last:
        return False
    core = [w for w in words if fold(w) not in _PARTICLES]
    if len(core) == 2 and _both_words(opener, fold(words[-1])):
        return False
    for word in words[1:-1]:
        folded = fold(word)
        if folded in _PARTICLES or word in names.accented_last:
            continue
        if not _all_in(folded, names.any):
            return False
    if not all(
        (w[0].isupper() and w.replace("-", "").isalpha()) or fold(w) in _PARTICLES for w in words
    ):
        return False
    return not names_a_place([fold(w) for w in words])


def _all_in(folded: str, names: frozenset[str]) -> bool:
    """Whether ``folded``, or each part of it ("fonseca-marques"), is in ``names``."""
    if "-" not in folded:
        return folded in names
    return all(part in names for part in folded.split("-"))


def names_only_span(
    written: list[str], skip: int, span: tuple[int, int] | None
) -> tuple[int, tuple[int, int] | None]:
    """A name's span among a run's words (``written``, as written) as prose read it
    (``span``, from word ``skip`` on: a title passed over), widened to the run's end
    where the words from its first on are names only ("María Jesús Real Piña": the
    surnames that are words too were not read), or found where none was: the whole run
    names only ("Pastora Arévalo Vila": a title too), or all of it after a word and a
    particle opening it."""
    if span is not None:
        first = skip + span[0]
        if skip + span[1] < len(written) - 1 and _prose_name(written[first:]):
            return skip, (span[0], len(written) - 1 - skip)
        return skip, span
    if _prose_name(written):
        return 0, (0, len(written) - 1)
    # "Visita de Nieves Redondo Verdugo": a word and a particle open the run.
    opened = len(written) > 3 and fold(written[1]) in _PARTICLES
    if opened and not _names_place(written[0]) and _prose_name(written[2:]):
        return 0, (2, len(written) - 1)
    return skip, None


def _names_place(word: str) -> bool:
    """Whether ``word`` opening a run says a place's or a business's name ("Rua de
    Nieves Redondo", "Hotel de Pastora Campoy")."""
    folded = fold(word)
    return folded in NOT_PERSON or folded in PLACE_OPENERS or opens_place_name(folded)


def _prose_name(words: list[str]) -> bool:
    """all_name_words, and in prose no first name and a word alone ("Entrega em Jesus
    Alegre": a phrase's as often; "Ana Belén Barranco" is a person's)."""
    if not all_name_words(words):
        return False  # most runs, on their first word
    core = [w for w in words if fold(w) not in _PARTICLES]
    return len(core) != 2 or fold(core[-1]) not in _WORD_LAST


_WORD_FIRST = FOREIGN_FIRST_NAME_WORDS | {fold(n) for n in WORD_FIRST_NAMES}
_WORD_LAST = FOREIGN_SURNAME_WORDS | {fold(n) for n in WORD_SURNAMES}


def _both_words(first: str, last: str) -> bool:
    """Whether a first name and a last name alone are both common words ("Rosa Real",
    "Paz Real", "Luz Campo"): a product's or a place's as often as a person's."""
    return first in _WORD_FIRST and last in _WORD_LAST
