"""A name the exchange already replaced, repeated in a body's prose: a validation error
that echoes the request (``"detail": "O CPF … de Maria Aparecida Souza não confere"``,
ASP.NET's ``"'Maria Aparecida Souza' is too long"``) names the person with no cue a
text detector could trust. The field that held it did: each name replaced under a
person's key, or after a cue, is looked for in the rest of the exchange's bodies.
"""

from __future__ import annotations

import json
import re
from json.encoder import encode_basestring_ascii

from ext_proc_server.sanitize.run import Run

# Only whole names of two or more words of letters: "Maria Souza", not "Maria" (a word
# that alone may be a city's or a product's).
_WORD = r"[^\W\d_]+(?:['\u2019.-][^\W\d_]+)*"
_WRITTEN_NAME = re.compile(rf"{_WORD}(?:[ ]+{_WORD})+")
_MIN_CHARS = 6


def replace_echoed(run: Run, text: str) -> str:
    """``text`` with each name of ``run.names_seen`` replaced where it stands as whole
    words (any casing), as the name itself was."""
    # Most exchanges replaced no name; a whole name holds a space, and a compact JSON
    # body holds none (memchr, where the lowered copy below reads and writes every byte).
    if not run.names_seen or " " not in text:
        return text
    names = [
        name.strip()
        for name in run.names_seen
        if len(name.strip()) >= _MIN_CHARS and _WRITTEN_NAME.fullmatch(name.strip())
    ]
    if not names:
        return text
    if "\\u" in text:  # JSON written in ASCII: "Jo\u00e3o Silva"
        names += [_ascii_json(name) for name in names if not name.isascii()]
    lowered = text.lower()
    present = [name for name in names if name.lower() in lowered]
    if not present:
        return text
    present.sort(key=len, reverse=True)  # "Maria Aparecida Souza" before "Maria Souza"
    pattern = re.compile(
        r"(?<!\w)(?:" + "|".join(map(re.escape, present)) + r")(?!\w)", re.IGNORECASE
    )
    fresh = pattern.sub(lambda m: _replaced(run, m.group()), text)
    return text if fresh == text else fresh


def _ascii_json(name: str) -> str:
    return encode_basestring_ascii(name)[1:-1]


def _replaced(run: Run, written: str) -> str:
    """The replacement of the name as read (an escaped one decoded), written in ASCII
    where the name was."""
    if "\\" not in written:
        return run.replace("name", written)
    return _ascii_json(run.replace("name", json.loads(f'"{written}"')))
