"""A company's legal name that is a person's: a sole trader's (an MEI's or an EI's),
which Brazil registers as the holder's civil name, often followed by their CPF
(``"razaoSocial": "Marcelo Rossi 12345678909"``), or the name alone. It went out unless
the same name stood under ``nome`` too.

In a record whose own document is a CPF (fields.Place.cpf: a ``<Cpf>``, or a member
naming either document that holds one), the legal name is the person's name whatever it
reads as (an NFS-e's tomador: "Dott. Livio Gremese"); beside a CNPJ it is the company's.
Elsewhere it is read from the value alone, wherever the key stands: the name's words
are capitalised words of letters (particles between), a CPF whose check digits hold may
follow; without one, the first word is a known first name and every
other a known name's (``Ana Paula Souza``), or a Spanish one's as Faker's es_ES and
es_MX people are named (``Eloísa Alberto``, ``Jesús de la Cruz``), so a firm named after its owners
(``Souza Oliveira``, ``João Pereira Ltda.``, ``Padaria João Pereira``) stays.
"""

from __future__ import annotations

import functools
import importlib
import re
from collections.abc import Iterable

from ext_proc_server.sanitize.field_names import key_words
from ext_proc_server.sanitize.place_words import NOT_PERSON, opens_place_name
from ext_proc_server.sanitize.validators import cpf_valid, only_digits
from ext_proc_server.sanitize.wordlists import fold, word_lists

# Keys of a company's registered name (compacted, lower case).
LEGAL_NAME_KEYS = frozenset({"razaosocial", "nomeempresarial"})
LEGAL_NAME_WORDS = frozenset({"razao", "empresarial"})  # for the body probe


def names_legal_name(words: Iterable[str], roles: frozenset[str] = frozenset()) -> bool:
    """Whether a key's words name a company's registered name, its ``roles``' words
    aside (``RazaoSocialTomador`` with a person's roles)."""
    return "".join(w for w in words if w not in roles) in LEGAL_NAME_KEYS


def held(keys: Iterable[str]) -> bool:
    """Whether one of an object's keys names its registered name: a person's record
    (a "tomador" by its name alone) holding one is read by its document (record_kinds)."""
    return any(names_legal_name(key_words(key)) for key in keys)


_UP = "A-ZÀ-ÖØ-Þ"
_LO = "a-zß-öø-ÿ"
_WORD = rf"(?:[{_UP}][{_LO}]+|[{_UP}]{{2,}})(?:['\u2019-][{_UP}]?[{_LO}]+)*"
_PARTICLE = r"(?:d[aeo]s?|D[AEO]S?|e|E|di|del|la|las|los|van|von)"
_HOLDER = re.compile(
    rf"[ \t]*(?P<name>{_WORD}(?:[ \t]+(?:{_PARTICLE}[ \t]+){{0,2}}{_WORD}){{1,7}})"
    rf"(?:[ \t]*[-\u2013]?[ \t]*(?P<cpf>\d{{3}}\.?\d{{3}}\.?\d{{3}}-?\d{{2}}))?[ \t]*"
)
_PARTICLES = frozenset(
    {"da", "de", "do", "das", "dos", "e", "di", "del", "la", "las", "los", "van", "von"}
)  # fmt: skip
_SPANISH_LOCALES = ("es_ES", "es_MX")


def reads_as_holders_name(value: str) -> bool:
    """Whether a legal name ``value`` is a person's, by the rules above."""
    m = _HOLDER.fullmatch(value)
    if m is None:
        return False
    words = [fold(w) for w in m.group("name").split()]
    if opens_place_name(words[0]):
        return False  # "Padaria João Pereira", "Hotel Souza"
    if m.group("cpf") is not None:
        return cpf_valid(only_digits(m.group("cpf")))
    lists = word_lists()
    if any(w in NOT_PERSON and w not in lists.place_last_folded for w in words):
        return False  # "João Pereira Comércio"; "Maria Câmara" is a person's
    surnames = lists.last_words_folded  # "da Paz", "Rios"
    return (
        words[0] in lists.prose_first_folded
        and words[-1] in surnames
        and all(
            w in _PARTICLES or w in lists.prose_first_folded or w in surnames for w in words[1:]
        )
    ) or (
        # "Pastor da Costa", "Cirino da Luz": Brazilian surnames alone name a firm
        not all(w in surnames or w in _PARTICLES for w in words) and _spanish_name(words)
    )


def _spanish_name(words: list[str]) -> bool:
    """Whether folded ``words`` are a Spanish first name, then Spanish first or last
    names and particles, then a last name ("Eloísa Alberto", "Jesús de la Cruz")."""
    first, last = _spanish_names()
    return (
        words[0] in first
        and words[-1] in last
        and all(w in _PARTICLES or w in first or w in last for w in words[1:])
    )


@functools.cache
def _spanish_names() -> tuple[frozenset[str], frozenset[str]]:
    """Every capitalised word of Faker's es_ES and es_MX first and last names, folded."""
    first: set[str] = set()
    last: set[str] = set()
    for locale in _SPANISH_LOCALES:
        person = importlib.import_module(f"faker.providers.person.{locale}").Provider
        first.update(fold(w) for n in person.first_names for w in n.split() if w[0].isupper())
        last.update(fold(w) for n in person.last_names for w in n.split() if w[0].isupper())
    return frozenset(first), frozenset(last)
