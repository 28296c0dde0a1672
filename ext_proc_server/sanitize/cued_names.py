"""Names a word before them says are a person's, though alone they read as words or
first names only: a greeting (``Olá, Rosa``, ``Dear Hope``), a sign-off
(``Atenciosamente, Carlos Eduardo``, ``Regards, Gregory Hall``), an honorific
(``Mrs. Hope Smith``, ``Sra. Pérola``) or a word naming a client or a patient
(``Paciente Dolores``, ``cliente Amparo Gomes``). Read by free_text_names.

The word after the cue must be a first name of any list (surname_runs'
``any_first_names``; after an honorific a known surname too: ``Mr. Turner``); the
name runs on over capitalised words that are first or last names, particles between.
"Olá, Mundo", "Dear Customer", "Cliente Ouro" and "Atenciosamente, Equipe" stay.
"""

from __future__ import annotations

import re

from ext_proc_server.sanitize.named_places import firm_suffix_at
from ext_proc_server.sanitize.place_words import NOT_PERSON
from ext_proc_server.sanitize.surname_runs import any_first_names, faker_surnames
from ext_proc_server.sanitize.wordlists import fold, word_lists

# Greetings and sign-offs (a "," or ":" may follow), honorifics abbreviated (a "." may
# follow; "Nossa Senhora Aparecida" is a saint) and words naming the person served, in
# Portuguese, Spanish and English.
_GREETINGS = (
    r"ol[aá]|oi|prezad[ao]|querid[ao]|car[ao]|bom dia|boa tarde|boa noite|hola|"
    r"estimad[ao]|dear|hi|hello|hey|"
    r"atenciosamente|cordialmente|abra[cç]os|obrigad[ao]|saludos|regards|"
    r"best regards|kind regards|sincerely|thanks|cheers"
)
_HONORIFICS = r"sr|sra|srta|mr|mrs|ms|miss"
_PEOPLE = r"cliente|paciente|client|customer|patient"
_UP = "A-ZÀ-ÖØ-Þ"
_LO = "a-zß-öø-ÿ"
_NAME_WORD = rf"[{_UP}][{_LO}]+(?:['\u2019-][{_UP}]?[{_LO}]+)*"
_PARTICLE = r"(?:d[aeo]s?|di|del|de la|van|von)"
_CUED = re.compile(
    rf"(?<![\w.])(?:(?i:(?P<greeting>{_GREETINGS}))[ ]*[,:]?|"
    rf"(?i:(?P<honorific>{_HONORIFICS}))\.?|(?i:{_PEOPLE}))[ ]+"
    rf"(?P<name>{_NAME_WORD}(?:[ ]+(?:{_PARTICLE}[ ]+)?{_NAME_WORD})*)(?![\w@-])"
)
_WORD = re.compile(rf"{_PARTICLE}[ ]+{_NAME_WORD}|{_NAME_WORD}")


def cued_names(text: str) -> list[tuple[int, int]]:
    """Where names a cue word says are a person's stand in ``text`` (start, end)."""
    found = []
    for m in _CUED.finditer(text):
        words = list(_WORD.finditer(m["name"]))
        if not opens_cued_name(fold(words[0].group()), honorific=m["honorific"] is not None):
            continue
        last = words[0]
        for word in words[1:]:
            if not is_name_word(fold(word.group().split()[-1])):
                break
            last = word
        end = m.start("name") + last.end()
        if not firm_suffix_at(text, end):  # "cliente Aarón Abate - ME": a firm
            found.append((m.start("name"), end))
    return found


def opens_cued_name(word: str, *, honorific: bool) -> bool:
    """Whether ``word`` (folded) can open a name a cue says: a first name of any list,
    or after an honorific a known surname."""
    if word in any_first_names():
        return True
    lists = word_lists()
    return honorific and word in lists.prose_last_folded and word not in NOT_PERSON


def is_name_word(word: str) -> bool:
    """Whether ``word`` (folded) can go on a cued name: a first or last name of any list."""
    lists = word_lists()
    return (
        word in any_first_names()
        or word in lists.prose_last_folded
        or word in lists.last_words_folded
        or word in faker_surnames()
    )
