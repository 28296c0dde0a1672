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
they are: a slug rarely starts with a first name and ends with a surname.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, unquote_plus

from ext_proc_server.sanitize.run import Run, encode_query_value
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
# Brazilian names run long: "Maria Aparecida da Silva dos Santos Oliveira" is seven.
MAX_NAME_WORDS = 10


def reads_as_written_name(text: str) -> bool:
    """Whether ``text`` (decoded) is a person's name written as a slug or a search."""
    if "_" in text and text.isupper():  # an enum constant: DIAMOND_SMALL
        return False
    words = _SEPARATORS.split(text.strip(" \t-._+"))
    if not 2 <= len(words) <= MAX_NAME_WORDS:
        return False
    lists = word_lists()
    first, last = fold(words[0]), fold(words[-1])
    if len(first) < 2 or len(last) < 2:
        return False
    # A census first name that also writes a last name opens one before a whole last
    # name ("rosa-souza"), not a word of one: Faker's towns are "Oliveira Grande".
    opens = first in lists.first_folded or (
        first in lists.first_or_last_folded and last in lists.prose_last_folded
    )
    if not opens or last not in lists.last_words_folded:
        return False
    if not all(map(str.isalpha, words)):
        return False
    for word in words[1:-1]:
        folded = fold(word)
        if not (
            len(folded) == 1
            or folded in _PARTICLES
            or folded in lists.first_folded
            or folded in lists.last_words_folded
        ):
            return False
    return True


def replace_written_name(run: Run, raw: str, *, plus: bool) -> str | None:
    """``raw`` (a path segment, or a query value when ``plus``) with the name it holds
    replaced and encoded as it came; None when it holds none."""
    if not may_join_words(raw):
        return None
    try:
        text = unquote_plus(raw, errors="strict") if plus else unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return None
    if not reads_as_written_name(text):
        return None
    fresh = run.replace("name", text)
    if plus:
        return encode_query_value(raw, fresh)
    return fresh if fresh.isascii() and "%" not in raw else quote(fresh, safe=_PATH_SAFE)
