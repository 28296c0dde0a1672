"""JSON strings that hold raw control characters (a tab, a line break typed into a note).

Strict JSON refuses them, but hand-built bodies (shell scripts, templates, string
concatenation, log shippers) send them and many servers read them (Python's
``json.loads(strict=False)``, Jackson's ALLOW_UNQUOTED_CONTROL_CHARS): such a body is
read as JSON all the same. A string edited in it is written back with those characters
raw, as they were sent, so the body's bytes change only where a value was replaced and
a stub answers the request that was recorded. A value replaced whole loses its raw
characters: the edit is then marked (:data:`RAW_CONTROLS_SENT`), so the mapping matches
the body as its text, as it was sent, not as the strict JSON it has become.
"""

from __future__ import annotations

import json
import re

from ext_proc_server.core.exchange import RAW_CONTROLS_SENT
from ext_proc_server.sanitize.run import quoted_json

_CONTROL = re.compile(r"[\x00-\x1f]")
# The escapes json.dumps writes: a control character's, a quote's, a backslash's.
_WRITTEN_ESCAPE = re.compile(r'\\(?:u00[01][0-9a-fA-F]|[bfnrt"\\])')
# Reads a string literal whatever control characters it holds raw.
LENIENT_DECODER = json.JSONDecoder(strict=False)


def note_raw_controls(locations: set[str], where: str, text: str, start: int, end: int) -> None:
    """Add ``<where>.raw_controls`` to ``locations`` when the string literal edited at
    ``text[start:end]`` holds a control character raw (every one inside a literal is:
    a written one is an escape): replaced whole, it may have lost them all."""
    if _CONTROL.search(text, start, end) is not None:
        locations.add(f"{where}.{RAW_CONTROLS_SENT}")


def read_string(token: str) -> str:
    """The value of the JSON string literal ``token`` (quotes included)."""
    return LENIENT_DECODER.decode(token)


def quoted_as_sent(token: str, fresh: str) -> str:
    """``fresh`` as a JSON string literal, each control character the literal ``token``
    held raw written raw again (the others escaped, as :func:`quoted_json` writes them)."""
    quoted = quoted_json(fresh)
    raw = set(_CONTROL.findall(token))
    if not raw:
        return quoted

    def written(m: re.Match[str]) -> str:
        char = json.loads(f'"{m.group()}"')
        return char if char in raw else m.group()

    return '"' + _WRITTEN_ESCAPE.sub(written, quoted[1:-1]) + '"'
