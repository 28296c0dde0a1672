"""pt_BR word lists for personal data, read from Faker's maintained pt_BR providers (and
its pt_PT surnames, en_US names), and Brazil's census first names (census_names).

Faker is a runtime dependency (pure Python, no dependencies of its own); only its two
data modules are imported, once, the first time a list is needed. The lists serve two
jobs: telling a person's name from a product's in an ambiguous ``name`` field, and
drawing realistic pseudonyms (from Faker's names only: they are written with accents).
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Iterable
from typing import NamedTuple

from ext_proc_server.sanitize.census_names import read_census_names
from ext_proc_server.sanitize.place_words import NOT_PERSON, PLACE_OPENERS
from ext_proc_server.sanitize.surnames import (
    BRAZILIAN_SURNAMES,
    FOREIGN_FIRST_NAME_WORDS,
    FOREIGN_SURNAME_WORDS,
    PLACE_SURNAMES,
    WORD_SURNAMES,
    foreign_first_names,
    foreign_surnames,
)


@functools.lru_cache(maxsize=16384)
def fold(text: str) -> str:
    """Lower case without accents: "Conceição" and "CONCEICAO" read alike."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class WordLists(NamedTuple):
    female_first: tuple[str, ...]
    male_first: tuple[str, ...]
    last: tuple[str, ...]
    street_prefixes: tuple[str, ...]
    neighbourhoods: tuple[str, ...]
    # Folded, for lookups.
    first_folded: frozenset[str]
    female_folded: frozenset[str]
    last_folded: frozenset[str]
    # Every word of a last name ("da Rosa" gives "rosa"), particles left out.
    last_words_folded: frozenset[str]
    # Census first names that are also last names' words ("rosa", "aparecida",
    # "nelson"): first names in prose only before a known name ("Rosa Souza").
    first_or_last_folded: frozenset[str]
    # Whole last names a name in prose or a URL can end with: last_folded, Portugal's
    # common surnames (Faker's pt_PT list), Brazil's that neither list has, those that
    # are also words or places' words, Italy's and Spain's (surnames).
    prose_last_folded: frozenset[str]
    # First names a name in prose or a URL can open with: first_folded, and Italy's and
    # Spain's (surnames).
    prose_first_folded: frozenset[str]
    # Surnames that are place words ("Serra", "Vale"): a person's only last in a run.
    place_last_folded: frozenset[str]
    states: frozenset[str]  # UF codes, upper case
    street_prefixes_folded: frozenset[str]


def _single_words(names: tuple[str, ...]) -> tuple[str, ...]:
    # "Anthony Gabriel" is two names: pseudonyms are built word by word.
    return tuple(dict.fromkeys(n for n in names if " " not in n))


def _prose_surnames(
    portugal: Iterable[str], first_words: frozenset[str], last_words: frozenset[str]
) -> frozenset[str]:
    """Last names in prose and URLs only, folded (see ``WordLists.prose_last_folded``).

    Portugal's common surnames are Brazil's too, and Faker's pt_BR list misses many
    (Soares, Batista, Coelho): last names in prose and URLs, after a first name, but
    not in an ambiguous name field, where a last name alone decides and some are
    words ("Vinho Branco", "Creme de Leite"); pseudonyms draw pt_BR's. Census first
    names stay first names ("Vicente", "Matias"). So are Brazil's common surnames
    neither Faker list has (Bezerra, Queiroz; "Xavier" stays a first name), those that
    are words (Chaves, Prado: surnames.py) and Italy's and Spain's that are no
    Portuguese word, no first name here and no word of a pt_BR last name ("Grande",
    "Cruz", "Paz": only "da Paz" is one).
    """
    foreign = frozenset(map(fold, foreign_surnames())) - FOREIGN_SURNAME_WORDS - first_words
    portuguese = frozenset(map(fold, (*portugal, *BRAZILIAN_SURNAMES, *WORD_SURNAMES)))
    return (portuguese | (foreign - last_words)) - NOT_PERSON - PLACE_OPENERS


def _prose_first_names(taken: frozenset[str]) -> frozenset[str]:
    """First names in prose and URLs only, folded (``WordLists.prose_first_folded``).

    Brazil's Italian and Spanish first names (``Giuseppe``, ``Giacomo``, ``Lorenzo``)
    are in no list, so ``Giuseppe Rossi`` in a note went out: Faker's it_IT and es_ES
    first names open a name there, where a known last name (or a title) must follow,
    but never decide an ambiguous ``name`` field alone (``Salvatore Ferragamo``,
    ``Corona Extra``) nor are drawn as pseudonyms. Not those that are Portuguese or
    English words, census names, or words of a last name (``taken``), nor places'
    words, nor names of three letters or fewer (``Che``, ``Edu``).
    """
    words = frozenset(map(fold, foreign_first_names())) - FOREIGN_FIRST_NAME_WORDS - taken
    return frozenset(w for w in words if len(w) > 3) - NOT_PERSON - PLACE_OPENERS


@functools.cache
def word_lists() -> WordLists:
    from faker.providers.address.en_US import Provider as EnglishAddress
    from faker.providers.address.pt_BR import Provider as Address
    from faker.providers.lorem.en_US import Provider as EnglishWords
    from faker.providers.person.en_US import Provider as EnglishPerson
    from faker.providers.person.pt_BR import Provider as Person
    from faker.providers.person.pt_PT import Provider as PortuguesePerson

    female = _single_words(tuple(Person.first_names_female))
    male = _single_words(tuple(Person.first_names_male))
    # English first and last names too: APIs in English carry them (detection only).
    english_first = {fold(n) for n in EnglishPerson.first_names}
    english_last = {fold(n) for n in EnglishPerson.last_names}
    prefixes = tuple(p for p in Address.street_prefixes if " " not in p)
    faker_first = frozenset(fold(w) for n in Person.first_names for w in n.split())
    last_words = frozenset(
        fold(w) for n in Person.last_names for w in n.split() if not w[0].islower()
    )
    # A census name that is a word of a Faker last name ("Rosa" of "da Rosa") stays a
    # last name only: a pseudonym keeps its role, and prose needs a first name to start.
    # Nor is one that names places ("Santa", "Natal") or a common English word ("Any",
    # "Nice": capitalised in titles) read as a first name.
    last_folded = frozenset(fold(n) for n in Person.last_names) | english_last
    census = read_census_names()
    census_words = (
        frozenset(census.first)
        - NOT_PERSON
        - PLACE_OPENERS
        - {fold(w) for w in EnglishWords.word_list}
    )
    census_first = census_words - last_words - english_last
    first_words = census_first | faker_first | english_first
    portuguese_last = _prose_surnames(PortuguesePerson.last_names, first_words, last_words)
    place_last = frozenset(map(fold, PLACE_SURNAMES))
    first_folded = faker_first | english_first | census_first
    foreign_first = _prose_first_names(
        census_words | last_words | english_last | {fold(w) for w in EnglishWords.word_list}
    )
    female_faker = frozenset(fold(n) for n in female)
    return WordLists(
        female_first=female,
        male_first=male,
        last=_single_words(tuple(Person.last_names)),
        street_prefixes=prefixes,
        neighbourhoods=tuple(Address.bairros),
        first_folded=first_folded,
        prose_first_folded=first_folded | foreign_first,
        # Faker's genders where it knows the name, else the census's majority.
        female_folded=female_faker | (census.female & (census_first - faker_first)),
        last_folded=last_folded,
        last_words_folded=last_words | english_last | portuguese_last | place_last,
        prose_last_folded=last_folded | portuguese_last | place_last,
        place_last_folded=place_last,
        first_or_last_folded=(census_words & (last_words | english_last))
        - faker_first
        - english_first,
        states=frozenset(code for code, _ in Address.estados)
        | frozenset(EnglishAddress.states_abbr),
        street_prefixes_folded=frozenset(fold(p) for p in prefixes),
    )
