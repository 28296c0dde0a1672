"""Names a verb after them says are a person's, though their words are words or places'
words too: only a person is born, dies, signs or phones (``Cruz Miranda nasceu em
1980``, ``Trinidad Serra assinou o contrato``, ``Paz Vega was born in Madrid``, ``Sol
Cerro signed``). Read by free_text_names.

Two words at least, the first a first name of any list (surname_runs'
``any_first_names``), the others first or last names (cued_names' ``is_name_word``),
none a place's or a business's word but a surname's last (``Trinidad Serra``); the
longest such run ending at the verb ("Ontem Cruz Miranda ligou" reads "Cruz Miranda"),
and one before it joined by "e", "and" or "y" (``Paz Vega e Sol Cerro assinaram``). A
known place (``Cruz Alta assinou o convênio``), a run after a place's or a business's
word (``Prefeitura de Cruz Alta``) and a first name alone (``Maria ligou``) stay.
"""

from __future__ import annotations

import re

from ext_proc_server.sanitize.cued_names import is_name_word, opens_cued_name
from ext_proc_server.sanitize.named_places import firm_suffix_at, names_a_place
from ext_proc_server.sanitize.place_words import NOT_PERSON, PLACE_OPENERS
from ext_proc_server.sanitize.surname_runs import BUILDING_LAST
from ext_proc_server.sanitize.wordlists import fold, word_lists

# Verbs only a person does, in Portuguese, Spanish and English, as a note writes them
# after the subject: born, died, signed, phoned (and their plurals).
_VERBS = re.compile(
    r"(?<=[ ])(?:nasceu|nasceram|faleceu|faleceram|morreu|morreram|assinou|assinaram|"
    r"ligou|ligaram|telefonou|telefonaram|compareceu|compareceram|"
    r"naci[oó]|falleci[oó]|muri[oó]|firm[oó]|firmaron|llam[oó]|llamaron|"
    r"was born|were born|died|passed away|signed|phoned|called)(?!\w)"
)
_UP = "A-ZÀ-ÖØ-Þ"
_LO = "a-zß-öø-ÿ"
_NAME_WORD = rf"[{_UP}][{_LO}]+(?:['\u2019-][{_UP}]?[{_LO}]+)*"
_PARTICLE = r"(?:d[aeo]s?|di|del|de la|van|von)"
_RUN = rf"{_NAME_WORD}(?:[ ]+(?:{_PARTICLE}[ ]+)?{_NAME_WORD})+"
# The run just before a verb, or before " e " and a run before a verb; a window of
# the text before it is searched, so the longest run ending there is found.
_RUN_BEFORE = re.compile(rf"(?<![\w.@-])(?:{_RUN})[ ]+$")
_JOINED_BEFORE = re.compile(rf"(?<![\w.@-])(?:{_RUN})[ ]+(?:e|and|y)[ ]+$")
_WORD = re.compile(rf"{_PARTICLE}[ ]+{_NAME_WORD}|{_NAME_WORD}")
_WINDOW = 120  # characters before the verb: eight long names and more
_PARTICLES = frozenset({"da", "de", "do", "das", "dos", "di", "del", "la", "van", "von"})


def acting_names(text: str) -> list[tuple[int, int]]:
    """Where names a person's verb after them says are stand in ``text`` (start, end)."""
    found = []
    for verb in _VERBS.finditer(text):
        at = verb.start()
        span = _name_before(text, at, _RUN_BEFORE)
        if span is None:
            continue
        found.append(span)
        joined = _name_before(text, span[0], _JOINED_BEFORE)
        if joined is not None:
            found.append(joined)
    return found


def _name_before(text: str, at: int, pattern: re.Pattern[str]) -> tuple[int, int] | None:
    """The name in the run ``pattern`` finds right before ``at``, if it reads as one."""
    start = max(0, at - _WINDOW)
    m = pattern.search(text, start, at)
    if m is None:
        return None
    run = m.group().rstrip(" ")
    run = run.rsplit(" ", 1)[0] if pattern is _JOINED_BEFORE else run
    # Each word's start past a particle joined to it ("de Cruz" opens at "Cruz").
    words = [(w.end() - len(w.group().split()[-1]), w.end()) for w in _WORD.finditer(run)]
    folded = [fold(run[a:b]) for a, b in words]
    for i in range(len(words) - 1):
        if _reads_as_name(folded, i) and not _place_before(text, m.start() + words[i][0]):
            end = m.start() + words[-1][1]
            if firm_suffix_at(text, end):
                return None  # "Sol Cerro S.L. firmó": a firm
            return m.start() + words[i][0], end
    return None


def _reads_as_name(folded: list[str], first: int) -> bool:
    """Whether the run's words from ``first`` on are a person's name by the rules above."""
    rest = folded[first:]
    if not opens_cued_name(rest[0], honorific=False) or names_a_place(rest):
        return False
    place_last = word_lists().place_last_folded | BUILDING_LAST
    return all(
        is_name_word(w) and (w not in NOT_PERSON or (w in place_last and i == len(rest) - 1))
        for i, w in enumerate(rest)
    )


def _place_before(text: str, at: int) -> bool:
    """Whether a place's or a business's word stands right before ``at``, particles
    passed over ("Prefeitura de Cruz Alta", "Rua Sol Cerro")."""
    words = text[max(0, at - 40) : at].split()
    while words and fold(words[-1]) in _PARTICLES:
        words.pop()
    if not words:
        return False
    before = fold(words[-1].rstrip(".,:;"))
    return before in NOT_PERSON or before in PLACE_OPENERS
