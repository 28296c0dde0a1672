"""A JSON document a page's script hands to ``JSON.parse`` as a string literal
(``window.__STATE__ = JSON.parse('{"cliente": {"nome": "…"}}')``, as Apollo, Vue and
many server renderers write state: parsing a string is faster than a literal). The
literal is decoded, the document read by its keys, and the literal written back with
its quote, so the script is still the same code.
"""

from __future__ import annotations

import re

from ext_proc_server.sanitize.json_body import nested_json
from ext_proc_server.sanitize.run import SURROGATE, Run

_PARSED = re.compile(r"\bJSON\s*\.\s*parse\s*\(\s*(?='|\")")
_LITERAL = re.compile(r"'(?:[^'\\\r\n]|\\(?:\r\n|[\s\S]))*'|\"(?:[^\"\\\r\n]|\\(?:\r\n|[\s\S]))*\"")
_ESCAPE = re.compile(
    r"\\(?:u\{([0-9A-Fa-f]{1,6})\}|u([0-9A-Fa-f]{4})|x([0-9A-Fa-f]{2})|(\r\n|[\s\S]))"
)
_MAX_CODE_POINT = 0x10FFFF
_SIMPLE = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "f": "\f", "v": "\v", "0": "\0"}
_LINE_CONTINUATIONS = frozenset({"\n", "\r", "\r\n", "\u2028", "\u2029"})
# What a literal must escape: its quote, backslashes, line terminators; and "</" (a
# "</script>" in it would end the element) and "<!--".
_NEEDS_ESCAPE = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def parsed_spans(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The string literals handed to ``JSON.parse`` in the script between ``start``
    and ``end``, quotes included."""
    spans = []
    for m in _PARSED.finditer(text, start, end):
        literal = _LITERAL.match(text, m.end(), end)
        if literal is not None:
            spans.append(literal.span())
    return spans


def is_literal(content: str) -> bool:
    return content[:1] in ("'", '"') and _LITERAL.fullmatch(content) is not None


def sanitize_parsed(run: Run, literal: str) -> str | None:
    """The literal with its document sanitized; None when it holds no JSON document."""
    text = _decoded(literal[1:-1])
    fresh = nested_json(run, text)
    if fresh is None:
        return None
    if fresh == text:
        return literal
    return _encoded(fresh, literal[0])


def _decoded(body: str) -> str:
    def one(m: re.Match[str]) -> str:
        code = m.group(1) or m.group(2) or m.group(3)
        if code is not None:
            return chr(int(code, 16)) if int(code, 16) <= _MAX_CODE_POINT else m.group()
        char = m.group(4)
        if char in _LINE_CONTINUATIONS:
            return ""
        return _SIMPLE.get(char, char)

    if "\\" not in body:
        return body
    text = _ESCAPE.sub(one, body)
    if SURROGATE.search(text):  # "\\ud83d\\ude00": one character, as JavaScript reads it
        text = text.encode("utf-16", "surrogatepass").decode("utf-16", "surrogatepass")
    return text


def _encoded(text: str, quote: str) -> str:
    out = "".join(_NEEDS_ESCAPE.get(c, c) for c in text) if _needs_escape(text) else text
    out = out.replace(quote, "\\" + quote).replace("</", "<\\/").replace("<!--", "<\\!--")
    if SURROGATE.search(out):  # half a pair: written as the escape it came as
        out = SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", out)
    return quote + out + quote


def _needs_escape(text: str) -> bool:
    return any(c in text for c in _NEEDS_ESCAPE)
