"""A person's name written into a URL, where no field name tells it: a path segment
(``/clientes/joao-da-silva``, ``/users/maria.souza/orders``) or a query value
(``?q=Maria%20Souza``, ``?search=ana+paula+costa``).

Only its words can tell it: two to ten words of letters, joined by ``-``, ``.``,
``_``, ``+`` or spaces, whose first word is a known first name (or a census first
name that also writes a last name: ``rosa-souza``) and whose last word a
known last name or a word of one ("rosa" of "da Rosa"; Faker's pt_BR and en_US
lists), each word between them a first name, a last name, a particle (``da``,
``dos``) or an initial; not an enum constant (``DIAMOND_SMALL``). Requiring both ends
keeps route and product slugs (``order-items``, ``red-shoes``, ``grace-period``) as
they are: a slug rarely starts with a first name and ends with a surname. A title
before a known first name (``padre-marcelo-rossi``, ``?q=Sargento+João+Torres``, as in
prose: ``place_words.TITLES``) says a person whatever word ends the name; the title
stays. A title that is also a word in lower case (``seu``, ``dom``, ``cabo``) counts only
capitalised; written in lower case the name after it needs both ends known. ``irma``
without its tilde is a first name, as in prose: replaced with the name after it.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, unquote_plus

from ext_proc_server.sanitize.free_text_names import titled_surnames_only
from ext_proc_server.sanitize.named_places import names_a_place
from ext_proc_server.sanitize.place_words import (
    FIRST_NAME_TITLES,
    LOWER_CASE_WORDS,
    NOT_PERSON,
    PLACE_OPENERS,
    SURNAME_TITLES,
    TITLES,
)
from ext_proc_server.sanitize.run import Run, encode_query_value
from ext_proc_server.sanitize.surname_runs import first_names_end
from ext_proc_server.sanitize.wordlists import fold, word_lists

# Two words joined (a letter or an escaped byte on each side): the cheap test that
# rules out most segments and values before any decoding. Latin letters spelled out:
# the name lists hold no others, and a Unicode category check costs sre far more per
# character than a range.
_LETTER = "[A-Za-z\u00c0-\u024f]"
_JOINED_WORDS = re.compile(
    rf"(?:{_LETTER}|%[0-9A-Fa-f]{{2}})(?:[-._+ ]|%20)(?:{_LETTER}|%[0-9A-Fa-f]{{2}})"
)


def may_join_words(text: str) -> bool:
    """_JOINED_WORDS.search, told by C finds first when no separator is there at all
    (/api/v1/orders/123, page=2: most paths and values)."""
    if "-" in text or "." in text or "_" in text or "+" in text or " " in text or "%" in text:
        return _JOINED_WORDS.search(text) is not None
    return False


_SEPARATORS = re.compile(r"[-._+ \t]+")
_PARTICLES = frozenset({"da", "de", "do", "das", "dos", "e", "di", "du", "del", "van", "von"})
_PATH_SAFE = "!$&'()*+,;=:@~"
# Titles that open surnames alone in a slug after a segment naming people: "cabo" and
# "dom" too, which elsewhere name places and works as often (``cabo-frio``,
# ``dom-casmurro``: ``SURNAME_TITLES``); not "general" nor "mestre" (``general-motors``,
# ``mestre-cuca``: brands a customer's slug may be).
_PEOPLE_TITLES = SURNAME_TITLES | {"cabo", "dom"}
# Path segments naming people: the segment after one is a person's (``/clientes/…``).
PEOPLE_SEGMENTS = frozenset(
    {"clientes", "cliente", "customers", "customer", "users", "user", "usuarios",
     "usuario", "pessoas", "people", "persons", "pacientes", "patients", "alunos",
     "students", "contatos", "contacts", "membros", "members", "funcionarios",
     "employees", "colaboradores", "socios", "titulares", "perfil", "profiles",
     "autores", "authors", "motoristas", "drivers", "passageiros", "hospedes", "guests"}
)  # fmt: skip
# Brazilian names run long: "Maria Aparecida da Silva dos Santos Oliveira" is seven.
MAX_NAME_WORDS = 10


def reads_as_written_name(text: str) -> bool:
    """Whether ``text`` (decoded) is a person's name written as a slug or a search."""
    return written_name_start(text) is not None


# A title and the separators after it ("padre-", "Dra. ").
_TITLE_HEAD = re.compile(r"[-._+ \t]*[^-._+ \t]+[-._+ \t]+")


def written_name_start(text: str, *, people: bool = False) -> int | None:
    """Where the name starts in ``text`` (decoded): 0, or past a title before it
    (``padre-marcelo-rossi``); None when ``text`` is no name. ``people``: ``text`` is a
    path segment right after one naming people (``/clientes/cabo-giacomelli``)."""
    if "_" in text and text.isupper():  # an enum constant: DIAMOND_SMALL
        return None
    words = _SEPARATORS.split(text.strip(" \t-._+"))
    if not 2 <= len(words) <= MAX_NAME_WORDS or not all(map(str.isalpha, words)):
        return None
    if _reads_as_name(words, titled=False):
        return 0
    if (title := fold(words[0])) not in TITLES:
        return None
    # "irma-agatha-aguado": without its tilde "Irma" is a first name, the name's own.
    bare = words[0].lower() in FIRST_NAME_TITLES
    if _titled_surnames(words, people=people):
        head = _TITLE_HEAD.match(text)
        return 0 if bare else head.end() if head else None
    if len(words) < 3:
        return None
    # "seu-jorge-chaves": a lower-case word that may be a title ("seu", "dom", "cabo")
    # says no person; the name after it needs both ends known, as without one.
    titled = title not in LOWER_CASE_WORDS or not words[0].islower()
    if names_a_place([fold(w) for w in words]) or not _reads_as_name(words[1:], titled=titled):
        return None  # "presidente-tancredo-neves", "dom-pedro-ii": places
    head = _TITLE_HEAD.match(text)
    return 0 if bare else head.end() if head else None


def _titled_surnames(words: list[str], *, people: bool) -> bool:
    """A title and surnames alone: known ones, as in prose (``sargento-torres``); or,
    right after a segment naming people, any words that are no place's, business's or
    title's, after "cabo" and "dom" too (``/clientes/cabo-giacomelli``): places
    (``cabo-frio``, ``dom-pedrito``) and works (``dom-casmurro``) stay."""
    if titled_surnames_only(words, _PEOPLE_TITLES if people else SURNAME_TITLES):
        return True
    folded = [fold(w) for w in words]
    if not people or len(words) > 4 or folded[0] not in _PEOPLE_TITLES:
        return False
    rest = [f for f in folded[1:] if f not in _PARTICLES]
    if not rest or folded[-1] in _PARTICLES or names_a_place(folded):
        return False
    # After "cabo" or "dom" (words too), three letters are an acronym more often than a
    # surname nobody lists (``cabo-usb``, ``cabo-rca``, ``dom-vga``).
    shortest = _WORD_TITLE_SURNAME_MIN if folded[0] in LOWER_CASE_WORDS else 3
    return not any(
        len(f) < shortest or f in NOT_PERSON or f in PLACE_OPENERS or f in TITLES for f in rest
    )


# The fewest letters of an unlisted surname after "cabo" or "dom" in a slug.
_WORD_TITLE_SURNAME_MIN = 4


def _reads_as_name(words: list[str], *, titled: bool) -> bool:
    """A first name, names or particles, and a last name (any word after a title)."""
    lists = word_lists()
    first, last = fold(words[0]), fold(words[-1])
    if len(first) < 2 or len(last) < 2:
        return False
    # A census first name that also writes a last name opens one before a whole last
    # name ("rosa-souza"), not a word of one: Faker's towns are "Oliveira Grande".
    opens = first in lists.prose_first_folded or (
        not titled and first in lists.first_or_last_folded and last in lists.prose_last_folded
    )
    folded = [fold(w) for w in words]
    # A first name last ends one after a surname ("joao-martins-henrique") or when it is
    # a surname too ("telmo-vera", "maria-julia-marcos"), as prose reads it.
    surname_first = last in lists.prose_first_folded and (
        any(f in lists.last_words_folded for f in folded[1:-1])
        or first_names_end(folded, 0) is not None
    )
    if not opens or not (titled or last in lists.last_words_folded or surname_first):
        return False
    for word in words[1:-1]:
        folded = fold(word)
        if not (
            len(folded) == 1
            or folded in _PARTICLES
            or folded in lists.prose_first_folded
            or folded in lists.last_words_folded
        ):
            return False
    return True


def replace_written_name(run: Run, raw: str, *, plus: bool, people: bool = False) -> str | None:
    """``raw`` (a path segment, or a query value when ``plus``) with the name it holds
    replaced and encoded as it came; None when it holds none. ``people``: a path
    segment right after one naming people (``PEOPLE_SEGMENTS``)."""
    if not may_join_words(raw):
        return None
    try:
        text = unquote_plus(raw, errors="strict") if plus else unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return None
    start = written_name_start(text, people=people)
    if start is None:
        return None
    fresh = text[:start] + run.replace("name", text[start:])  # a title stays
    if plus:
        return encode_query_value(raw, fresh)
    return fresh if fresh.isascii() and "%" not in raw else quote(fresh, safe=_PATH_SAFE)
