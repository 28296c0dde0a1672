"""JSON documents inside HTML script elements, found so their keys name their values.

Two shapes: a script whose type is JSON (``application/json``, ``application/ld+json``:
Next.js's ``__NEXT_DATA__``, JSON-LD), whose whole content is the document; and a
script that assigns JSON to a variable or a property, as server-rendered pages hand
their state to the client (``window.__INITIAL_STATE__ = {...}``, ``window.__STATE__``,
``var data = {...};``, ``self.__remixContext = {...}``). In the second, each object or
array literal after ``=`` that parses as JSON, as written, is a document; a JavaScript
literal that is no JSON (unquoted keys, single quotes, ``undefined``) stays text. A
script of another type that is no code (Magento's ``text/x-magento-init``) is a
document when its whole content is JSON.
"""

from __future__ import annotations

import json
import re

from ext_proc_server.sanitize import js_literals, js_strings

_SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script\s*>", re.IGNORECASE | re.DOTALL)
_JSON_TYPE = re.compile(r"\btype\s*=\s*[\"']?application/(?:[\w.-]+\+)?json\b", re.IGNORECASE)
# What only runs as code: a script of another type (a template, text/plain) is no JS.
_CODE_TYPE = re.compile(
    r"\btype\s*=\s*[\"']?(?:(?:text|application)/(?:x-)?(?:java|ecma)script|module)\b",
    re.IGNORECASE,
)
_TYPED = re.compile(r"\btype\s*=", re.IGNORECASE)
# An assignment's target, then "=" (not "==", "=>") and an object or array literal.
_NAME = r"[A-Za-z_$][\w$]*"
_ASSIGNED = re.compile(
    rf"(?:\b(?:var|let|const)\s+{_NAME}|{_NAME}(?:\s*\.\s*{_NAME}|\[\s*[\"'][^\"'\n]{{1,80}}[\"']\s*\])*)"
    r"\s*=(?![=>])\s*(?=[\[{(])"
)
_DECODER = json.JSONDecoder()


def json_spans(text: str) -> list[tuple[int, int]]:
    """Where each JSON document of the page's scripts is, in order."""
    spans: list[tuple[int, int]] = []
    for script in _SCRIPT.finditer(text):
        attributes = script.group(1)
        if _JSON_TYPE.search(attributes):
            spans.append(script.span(2))
        elif not _TYPED.search(attributes) or _CODE_TYPE.search(attributes):
            found = _assigned(text, *script.span(2)) if "=" in script.group(2) else []
            if "JSON" in script.group(2):  # JSON.parse('{"cliente": ...}')
                found = _apart([*found, *js_strings.parsed_spans(text, *script.span(2))])
            spans.extend(found)
        elif _is_json(script.group(2)):  # Magento's text/x-magento-init, other islands
            spans.append(script.span(2))
    return spans


def _assigned(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """The JSON literals assigned in the script text between ``start`` and ``end``."""
    spans = []
    script = text[start:end]
    at = 0
    while (m := _ASSIGNED.search(script, at)) is not None:
        literal = m.end()
        try:
            _, literal_end = _DECODER.raw_decode(script, literal)
        except ValueError:  # JavaScript: a literal of its own, Nuxt's state, or code
            found = (
                js_literals.nuxt_end(script, literal, len(script))
                if script.startswith("(", literal)
                else js_literals.literal_end(script, literal, len(script))
            )
            if found is None:
                at = literal + 1
                continue
            literal_end = found
        spans.append((start + literal, start + literal_end))
        at = literal_end
    return spans


def _apart(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """In order, each that does not overlap the one kept before it."""
    out: list[tuple[int, int]] = []
    for span in sorted(spans):
        if not out or span[0] >= out[-1][1]:
            out.append(span)
    return out


def _is_json(content: str) -> bool:
    stripped = content.strip()
    if stripped[:1] not in ("{", "[") or stripped[-1:] not in ("}", "]"):
        return False
    try:
        _DECODER.decode(stripped)
    except ValueError:
        return False
    return True
