"""pt_BR word lists for personal data, read from Faker's maintained pt_BR providers.

Faker is a runtime dependency (pure Python, no dependencies of its own); only its two
data modules are imported, once, the first time a list is needed. The lists serve two
jobs: telling a person's name from a product's in an ambiguous ``name`` field, and
drawing realistic pseudonyms.
"""

from __future__ import annotations

import functools
import unicodedata
from typing import NamedTuple


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
    states: frozenset[str]  # UF codes, upper case
    street_prefixes_folded: frozenset[str]


def _single_words(names: tuple[str, ...]) -> tuple[str, ...]:
    # "Anthony Gabriel" is two names: pseudonyms are built word by word.
    return tuple(dict.fromkeys(n for n in names if " " not in n))


@functools.cache
def word_lists() -> WordLists:
    from faker.providers.address.en_US import Provider as EnglishAddress
    from faker.providers.address.pt_BR import Provider as Address
    from faker.providers.person.en_US import Provider as EnglishPerson
    from faker.providers.person.pt_BR import Provider as Person

    female = _single_words(tuple(Person.first_names_female))
    male = _single_words(tuple(Person.first_names_male))
    # English first and last names too: APIs in English carry them (detection only).
    english_first = {fold(n) for n in EnglishPerson.first_names}
    english_last = {fold(n) for n in EnglishPerson.last_names}
    prefixes = tuple(p for p in Address.street_prefixes if " " not in p)
    return WordLists(
        female_first=female,
        male_first=male,
        last=_single_words(tuple(Person.last_names)),
        street_prefixes=prefixes,
        neighbourhoods=tuple(Address.bairros),
        first_folded=frozenset(fold(w) for n in Person.first_names for w in n.split())
        | english_first,
        female_folded=frozenset(fold(n) for n in female),
        last_folded=frozenset(fold(n) for n in Person.last_names) | english_last,
        last_words_folded=frozenset(
            fold(w) for n in Person.last_names for w in n.split() if not w[0].islower()
        )
        | english_last,
        states=frozenset(code for code, _ in Address.estados)
        | frozenset(EnglishAddress.states_abbr),
        street_prefixes_folded=frozenset(fold(p) for p in prefixes),
    )
