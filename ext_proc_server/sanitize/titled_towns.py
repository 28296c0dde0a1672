"""Brazil's municipalities named as a title and a first name ("Dona Emma", "Dona Inês",
"Dona Francisca"): prose reads "Dona" and a capitalised word after it as a person's
(personal_text), so a town's own value (IBGE's ``nome``, ViaCEP's ``localidade``, a
``cidade``) went out as "Dona SANITIZED_NAME" and a mock answered no town. A value that
is exactly such a municipality is the town's; the same words in prose ("a Dona Inês
ligou") or beside more text are still a person's.
"""

from __future__ import annotations

import functools
import re

from ext_proc_server.sanitize.municipalities import brazilian_places
from ext_proc_server.sanitize.wordlists import fold


@functools.cache
def _municipalities_folded() -> frozenset[str]:
    return frozenset(fold(place) for place in brazilian_places())


# What opens and closes a value in a body read as text: JSON's and XML's quotes, an
# element's text, a form's value; a line's ends.
_OPENERS = frozenset("\"'>=\n")
_CLOSERS = re.compile(r"[\"'<&\n]|$")


def is_whole_town(text: str, start: int) -> bool:
    """Whether the value that starts at ``start`` in ``text`` (a body read as text: the
    whole of a JSON string, an element's text) is exactly a Brazilian municipality."""
    at = start
    while at > 0 and text[at - 1] in " \t":
        at -= 1
    if at > 0 and text[at - 1] not in _OPENERS:
        return False
    close = _CLOSERS.search(text, start)
    value = text[start : close.start() if close else len(text)].strip(" \t")
    return " " in value and fold(value) in _municipalities_folded()
