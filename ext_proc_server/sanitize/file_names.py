"""A person's name in a file's name: ``Content-Disposition: attachment;
filename="extrato-maria-souza.pdf"`` (a statement, a contract, a CV downloaded or
uploaded), in a response's header or a multipart part's.

The name is found as one in a URL is (url_names: its first word a known first name,
its last a known last name), in the longest run of words of the file's name that
reads as one: ``Contrato Maria Aparecida Souza.pdf`` keeps ``Contrato`` and ``.pdf``.
``filename*`` (RFC 6266, percent-encoded in its charset) is decoded first and
written back encoded.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote

from ext_proc_server.sanitize.run import Run
from ext_proc_server.sanitize.url_names import MAX_NAME_WORDS, reads_as_written_name

_FILE_NAME = re.compile(r'(?i)\bfilename(\*?)[ \t]*=[ \t]*(?:"((?:[^"\\]|\\.)*)"|([^;\s"]+))')
_WORD = re.compile(r"[^\W\d_]+")
_EXTENDED = re.compile(r"(?i)(utf-8|iso-8859-1)'([^']*)'(.*)")


def replace_file_names(run: Run, text: str) -> str:
    """``text`` (a header's value, a part's head) with the names in its file names
    replaced."""
    if "filename" not in text.lower():
        return text
    return _FILE_NAME.sub(lambda m: _file_name(run, m), text)


def _file_name(run: Run, m: re.Match[str]) -> str:
    quoted = m.group(2) is not None
    value = m.group(2) if quoted else m.group(3)
    if m.group(1):  # filename*=UTF-8''Contrato%20Maria%20Souza.pdf
        extended = _EXTENDED.fullmatch(value)
        if extended is None:
            return m.group()
        charset, language, encoded = extended.groups()
        try:
            decoded = unquote(encoded, encoding=charset, errors="strict")
        except (UnicodeDecodeError, LookupError):
            return m.group()
        fresh = _named(run, decoded)
        if fresh == decoded:
            return m.group()
        try:
            written = quote(fresh, safe="!#$&+^`{}|~-._", encoding=charset)
        except UnicodeEncodeError:
            written = quote(fresh, safe="!#$&+^`{}|~-._")
            charset = "UTF-8"
        fresh = f"{charset}'{language}'{written}"
    else:
        fresh = _named(run, value)
        if fresh == value:
            return m.group()
    start, end = m.span(2 if quoted else 3)
    whole = m.group()
    return whole[: start - m.start()] + fresh + whole[end - m.start() :]


def _named(run: Run, text: str) -> str:
    """``text`` with the longest runs of its words that read as a name replaced."""
    words = list(_WORD.finditer(text))
    for size in range(min(len(words), MAX_NAME_WORDS), 1, -1):
        for first in range(len(words) - size + 1):
            start, end = words[first].start(), words[first + size - 1].end()
            if reads_as_written_name(text[start:end]):
                fresh = run.replace("name", text[start:end])
                return _named(run, text[:start]) + fresh + _named(run, text[end:])
    return text
