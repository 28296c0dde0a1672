"""Whether a body may hold a personal field, without parsing it.

One RE2 pass over the body's lowered bytes finds keys (JSON ``"key":``, XML ``<key``,
form ``key=``) holding a personal word. Only then is the key read: most ``name`` keys
name products, so an ambiguous one counts only if its value reads like a person's
name. A body with no such key is not parsed for personal fields at all.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import unquote_plus

import re2

from ext_proc_server.sanitize import fields

_WORDS = b"|".join(w.encode() for w in fields.PROBE_WORDS)
_KEY = rb"[a-z0-9_.:?\[\]%+-]*"
_PATTERN = (
    rb'"' + _KEY + rb"(?:" + _WORDS + rb")" + _KEY + rb'"[ \t\r\n]*:'
    rb"|<" + _KEY + rb"(?:" + _WORDS + rb")" + _KEY + rb"(?:[ \t\r\n/>])"
    rb"|(?:^|[&?;\n])" + _KEY + rb"(?:" + _WORDS + rb")" + _KEY + rb"="
)
_EDGES = '"<&?;\n\r\t :=/>'
_JSON_STRING = re.compile(r'[ \t\r\n]*"((?:[^"\\]|\\.)*)"')


def _dfa(pattern: bytes) -> re2._Regexp:
    options = re2.Options()
    options.encoding = re2.Options.Encoding.LATIN1
    options.never_capture = True
    return re2.compile(pattern, options)


@functools.lru_cache(maxsize=8192)
def _verdict(key: str) -> str | None:
    """ "yes" if the key holds or announces personal data wherever it is, "value" if
    only a name-like value makes it so, None if it never does."""
    name = re.split(r"[\[\].]", key.rstrip("]"))
    last = next((part for part in reversed(name) if part), "")
    if not last:
        return None
    found = fields.field_class(fields.ROOT, last)
    if found == fields.MAYBE_NAME:
        return "value"
    if found is not None or fields.announces_personal(last):
        return "yes"
    return None


class FieldProbe:
    """Built once per Sanitizer; ``user`` is the user's rules' probe (FieldRules)."""

    def __init__(self, user: bytes | None) -> None:
        pattern = _PATTERN if user is None else _PATTERN + rb"|" + user
        self._dfa = _dfa(pattern)
        self._user = None if user is None else _dfa(user)

    def may_hold(self, text: str, probe: bytes) -> bool:
        """``probe``: ``text`` as lowered ASCII bytes, "?" for other characters."""
        if self._user is not None and self._user.search(probe):
            return True
        for m in self._dfa.finditer(probe):
            start, end = m.start(), m.end()
            key_text = text[start:end].strip(_EDGES)
            opener = text[start] if start < len(text) else ""
            if opener == "<":
                key_text = key_text.rpartition(":")[2]  # namespace prefix
            elif "%" in key_text or "+" in key_text:
                key_text = unquote_plus(key_text)
            verdict = _verdict(key_text)
            if verdict == "yes":
                return True
            if verdict == "value" and fields.reads_as_name(
                _value_after(text, end, opener), known=True
            ):
                return True
        return False


def _value_after(text: str, end: int, opener: str) -> str:
    if opener == '"':
        m = _JSON_STRING.match(text, end)
        return m.group(1) if m else ""
    if opener == "<":
        close = text.find(">", end - 1)
        stop = text.find("<", close + 1)
        return text[close + 1 : stop if stop >= 0 else len(text)]
    stop = text.find("&", end)
    return unquote_plus(text[end : stop if stop >= 0 else len(text)])
