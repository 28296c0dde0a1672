"""Brazil's municipalities, states and districts as phonenumbers' geocoder names them
(``Paulo Lopes - SC``): many read as a person's name (``Paulo Lopes``, ``Vera Cruz``,
``Bento Gonçalves``), and a run of words that is one stays (free_text_names).

The geocoder's package imports every country's data at once (about 100 MB and half a
second per process), so its generated modules are read as text instead: only the lines
of Brazil's prefixes (``'55…':{'en': …, 'pt': …},``), once, the first time a place is
needed.
"""

from __future__ import annotations

import ast
import functools
import re
from importlib import resources

from ext_proc_server.core.errors import SanitizeError

_PACKAGE = "phonenumbers"
_FOLDER = "geodata"
_LINE_START = "\n '55"
# A Brazilian prefix's line, its Portuguese name's string literal captured (a
# non-ASCII one is written u('S\u00e3o Paulo - SP')).
_BRAZIL_LINE = re.compile(
    r"""^ '55\d*':\{.*'pt': (?:u\()?('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\)?\},$""",
    re.MULTILINE,
)
_STATE = re.compile(r" - [A-Z]{2}$")


@functools.cache
def brazilian_places() -> frozenset[str]:
    """Every place name the geocoder gives a Brazilian prefix, without its state
    (``Paulo Lopes``, ``São Paulo``, ``Minas Gerais``)."""
    literals: set[str] = set()  # each read once: most prefixes repeat a town
    try:
        for entry in resources.files(_PACKAGE).joinpath(_FOLDER).iterdir():
            if not (entry.name.startswith("data") and entry.name.endswith(".py")):
                continue
            text = entry.read_text(encoding="utf-8")
            if _LINE_START not in text:
                continue
            literals.update(
                line.group(1) for line in _BRAZIL_LINE.finditer(text, text.index(_LINE_START))
            )
        names = {_STATE.sub("", _decoded(literal)) for literal in literals}
    except (ImportError, OSError, ValueError, SyntaxError, TypeError) as exc:
        raise SanitizeError(f"Brazilian places unreadable ({_PACKAGE}/{_FOLDER})") from exc
    if not names:  # a new layout: no place would be told from a name
        raise SanitizeError(f"no Brazilian places in {_PACKAGE}/{_FOLDER}")
    return frozenset(names)


def _decoded(literal: str) -> str:
    """A Python string literal's text: most have no escape to read."""
    return ast.literal_eval(literal) if "\\" in literal else literal[1:-1]
