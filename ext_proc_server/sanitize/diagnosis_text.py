"""Diagnoses written in a person's free text: "Paciente com CID F32.1", "diagnóstico:
diabetes tipo 2; segue dieta".

Only what a cue announces is found: an ICD-10 code after "CID", "CID-10", "ICD" or
"ICD-10" (the code, not the cue), and the rest of the clause after "diagnóstico:",
"diagnosis:" or "hipótese diagnóstica:". A code-shaped word without its cue ("sala
F32", a product's "B20") is kept: the shape alone is too common to tell.
"""

from __future__ import annotations

import codecs
import re

from ext_proc_server.sanitize import fields, sensitive_names
from ext_proc_server.sanitize.hits import Hit

# An ICD-10 code: a letter, two digits and an optional subcategory ("F32", "F32.1",
# "F321", "S72.001A" in ICD-10-CM).
_CODE = r"[A-Z][0-9]{2}(?:\.?[0-9]{1,3}[A-Z]?)?"
# The cue, then one code or a list of them ("CID F32.1 e F41.1", "ICD-10: E11.9, I10").
_CUED_CODES = re.compile(
    r"\b(?:CID|ICD)(?:[ -]?(?:10|9)(?:[ -]?CM)?)?\b[ \t]*(?:[:=#-][ \t]*|n[º°o]\.?[ \t]*)?"
    r"(" + _CODE + r"(?:[ \t]*(?:,|/|;|\be\b|\band\b|\bou\b|\bor\b)[ \t]*" + _CODE + r")*)\b",
    re.IGNORECASE,
)
_ONE_CODE = re.compile(_CODE, re.IGNORECASE)
# "diagnóstico: ...", "Diagnosis - ...", "hipótese diagnóstica: ..." up to the
# end of the clause: a semicolon, a line break, or a full stop, "!" or "?" before a space
# (the stop inside "F32.1" or "2.5 mg" is not one).
_CUED_TEXT = re.compile(
    r"\b(?:diagn[oó]stic[oa]s?|diagnos[ie]s|hip[oó]tese diagn[oó]stica)"
    r"(?:[ \t]+(?:principal|secund[aá]ri[oa]|final|inicial|provisório|provisorio))?"
    r"[ \t]*[:=-][ \t]*([^;\n]+?)[ \t]*(?=[.!?](?:\s|$)|[;\n]|$)",
    re.IGNORECASE,
)


def find_diagnoses(text: str) -> list[tuple[int, int]]:
    """Spans of the diagnoses a cue announces in ``text``, by position."""
    lowered = text.lower()
    if "cid" not in lowered and "icd" not in lowered and "diagn" not in lowered:
        return []
    spans = [
        (code.start() + m.start(1), code.end() + m.start(1))
        for m in _CUED_CODES.finditer(text)
        for code in _ONE_CODE.finditer(m.group(1))
    ]
    spans.extend(m.span(1) for m in _CUED_TEXT.finditer(text) if m.group(1).strip())
    return _merged(spans)


def person_diagnoses(
    place: fields.Place, text: str, start: int = 0, *, escaped: bool = False
) -> list[Hit]:
    """Findings for the diagnoses in free text sitting in ``place`` at ``start``: only a
    person's record's (or a clinical one's) text names someone's diagnosis."""
    if place.owner != fields.PERSON and place.sensitive is None:
        return []
    cls = str(sensitive_names.SENSITIVE)
    return [Hit(start + a, start + b, cls, escaped=escaped) for a, b in find_diagnoses(text)]


def encoded_diagnoses(place: fields.Place, raw: str, start: int = 0) -> list[Hit]:
    """``person_diagnoses`` for a form's value as sent (``Paciente+com+CID+F32.1``,
    ``diagn%C3%B3stico%3A+asma``): read decoded, each span where it stands encoded."""
    if "%" not in raw and "+" not in raw:
        return person_diagnoses(place, raw, start)
    if place.owner != fields.PERSON and place.sensitive is None:
        return []
    decoded, at = _decoded(raw)
    cls = str(sensitive_names.SENSITIVE)
    return [Hit(start + at[a], start + at[b], cls) for a, b in find_diagnoses(decoded)]


def _decoded(raw: str) -> tuple[str, list[int]]:
    """``unquote_plus(raw)``, and where each of its characters starts in ``raw`` (one
    entry more: the end)."""
    chars: list[str] = []
    at: list[int] = []
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    pending = -1  # where the bytes of a character still being decoded start
    i = 0
    while i < len(raw):
        escape = raw[i] == "%" and _HEX.fullmatch(raw, i + 1, i + 3) is not None
        if not escape and pending >= 0:  # a character cut short
            _put(chars, at, decoder.decode(b"", final=True), pending)
            decoder.reset()
            pending = -1
        if escape:
            pending = i if pending < 0 else pending
            out = decoder.decode(bytes([int(raw[i + 1 : i + 3], 16)]))
            if out:
                _put(chars, at, out, pending)
                pending = -1
            i += 3
            continue
        _put(chars, at, " " if raw[i] == "+" else raw[i], i)
        i += 1
    if pending >= 0:
        _put(chars, at, decoder.decode(b"", final=True), pending)
    at.append(len(raw))
    return "".join(chars), at


_HEX = re.compile(r"[0-9A-Fa-f]{2}")


def _put(chars: list[str], at: list[int], out: str, where: int) -> None:
    for char in out:
        chars.append(char)
        at.append(where)


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out
