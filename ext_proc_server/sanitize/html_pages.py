"""People's names and labelled values in an HTML page's text (a ``text/html`` body).

A server-rendered page says whom it shows in its prose and beside its labels, not in
element names: an account page greets "Olá, Maria Souza", a Rails scaffold writes
``<strong>Nome:</strong> Maria Souza``, Django's admin ``<label>Birth date:</label>
<div class="readonly">…</div>``, a receipt ``<span class="label">Comprador</span>
<span class="value">…</span>``, a signature ``Abraço,<br>Maria Souza``. Only shapes
(e-mail, CPF, phone) were found there. Here a page's text runs are read by
``free_text_names`` as a note's are (``markup_prose``), and a run that is a label
(ending in ":", inside ``<label>``, or of an element classed "label") names the value
after it, in its own run or the next one, as a field's name does. Tags, attributes,
script and style content are never read here (``html_scripts`` reads scripts' JSON).
"""

from __future__ import annotations

import html
import math
import re
from bisect import bisect_right

from ext_proc_server.sanitize import fields
from ext_proc_server.sanitize.forms import checked
from ext_proc_server.sanitize.hits import Hit
from ext_proc_server.sanitize.markup_prose import is_html, text_name_hits
from ext_proc_server.sanitize.run import Run

# Content that is no text of the page: code, styles, comments.
_SKIPPED = re.compile(r"<(script|style)\b[^>]*>.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL)
# Tags inside a sentence ("Olá <strong>Maria</strong>"): read as spaces, so a greeting
# still cues the name after it.
_INLINE_TAG = re.compile(r"</?(?:a|b|strong|em|i|u|span|font|small|mark)\b[^<>]*>", re.IGNORECASE)
_EMPHASIS = frozenset({"strong", "b", "em", "i", "span"})
_SEGMENT = re.compile(r"[^<>]+")
# A text run, and the tag that opens right before it (if one does).
_RUN = re.compile(r"(?:<([A-Za-z][\w-]*)([^<>]*)>|>)([^<]+)")
_LABEL_CLASS = re.compile(r"""\bclass\s*=\s*["']?[^"'>]*\blabel\b""", re.IGNORECASE)
# "Telefone: (11) 91234-5678" in one run: a label of up to 39 characters, then a value.
_INLINE = re.compile(r"^\s*([^\W\d][^:\n]{0,38}):[ \t\xa0]*(\S[^\n]{0,78}?)\s*$")
# A control between a label and the text after it: the label is the control's.
_CONTROL = re.compile(r"<(?:input|select|textarea)\b", re.IGNORECASE)


def page_hits(run: Run, text: str) -> list[Hit]:
    """The names in an HTML page's text and the values its labels name, as findings;
    [] for text that is no HTML (C searches first)."""
    if "<" not in text or not is_html(text):
        return []
    skipped = [m.span() for m in _SKIPPED.finditer(text)] if _may_skip(text) else []
    hits = _prose_hits(text, skipped)
    runs = [m for m in _RUN.finditer(text) if not m.group(3).isspace()]
    if skipped:
        runs = [m for m in runs if not _within(skipped, m.start(3))]
    rules = run.scanner.field_rules
    for i, m in enumerate(runs):
        hit = _labelled_value(rules, text, m, runs[i + 1] if i + 1 < len(runs) else None)
        if hit is not None:
            hits.append(hit)
    return [*hits, *_repeated(text, hits, runs)] if hits else hits


def _repeated(text: str, hits: list[Hit], runs: list[re.Match[str]]) -> list[Hit]:
    """The names found once, again in the page's other text runs: "Olá <strong>Ana
    </strong> (não é <strong>Ana</strong>?)", where the second has no greeting. A name
    of one word only as an emphasised run of its own: "Hi <b>Hope</b>" is no "Hope you
    enjoy it", and a greeted "Rosa" no menu's ``<a>Rosa</a>``."""
    names = {text[hit.start : hit.end] for hit in hits if hit.cls == "name"}
    names = {name for name in names if len(name) > 2 and "<" not in name}
    if not names:
        return []
    pattern = re.compile(
        r"(?<!\w)(?:" + "|".join(map(re.escape, sorted(names, key=len, reverse=True))) + r")(?!\w)"
    )
    return [
        Hit(*found.span(), "name", escaped="&" in found[0])
        for m in runs
        for found in pattern.finditer(text, m.start(3), m.end(3))
        if " " in found[0] or (found[0] == m.group(3).strip() and _emphasised(m))
    ]


def _emphasised(m: re.Match[str]) -> bool:
    """Whether a run opens an emphasis element (``<strong>Ana</strong>``): a name set
    apart in a sentence, not a menu's link or a list's item."""
    tag = m.group(1)
    return tag is not None and tag.lower() in _EMPHASIS


def _prose_hits(text: str, skipped: list[tuple[int, int]]) -> list[Hit]:
    """The names in the page's text, its inline tags read as spaces; one that spans
    such a tag is found in each run of text it covers (never in a tag)."""
    masked = _INLINE_TAG.sub(_blank, text) if "<" in text else text
    hits = []
    for hit in text_name_hits(masked):
        if _within(skipped, hit.start):
            continue
        if masked is text or "<" not in text[hit.start : hit.end]:
            hits.append(hit)
            continue
        for piece in _SEGMENT.finditer(text, hit.start, hit.end):
            start, end = piece.span()
            words = piece[0]
            start += len(words) - len(words.lstrip())
            end -= len(words) - len(words.rstrip())
            if start < end:
                hits.append(hit._replace(start=start, end=end, escaped="&" in text[start:end]))
    return hits


def _blank(m: re.Match[str]) -> str:
    return " " * len(m[0])


def _may_skip(text: str) -> bool:
    """Whether the page may hold a script, a style or a comment (C searches first)."""
    return "<s" in text or "<S" in text or "<!--" in text


def _within(spans: list[tuple[int, int]], at: int) -> bool:
    """Whether ``at`` lies in one of ``spans`` (in order, apart)."""
    i = bisect_right(spans, (at, math.inf)) - 1  # the last that starts at or before it
    return i >= 0 and spans[i][0] <= at < spans[i][1]


def _labelled_value(
    rules: fields.FieldRules, text: str, m: re.Match[str], after: re.Match[str] | None
) -> Hit | None:
    """The value a label run names: the rest of its run ("Telefone: …"), or the next
    run (``<strong>Nome:</strong> …``, ``<label>…</label><div>…</div>``)."""
    words = m.group(3)
    if ":" in words:
        inline = _INLINE.match(words)
        if inline is not None:
            found = _hit(
                rules, text, inline[1], m.start(3) + inline.start(2), m.start(3) + inline.end(2)
            )
            if found is not None:
                return found
    stripped = words.strip()
    tag = (m.group(1) or "").lower()
    is_label = (
        stripped.endswith(":")
        or tag == "label"
        or (m.group(2) is not None and _LABEL_CLASS.search(m.group(2)) is not None)
    )
    if not is_label or after is None or len(stripped) > 40:
        return None
    between = text[m.end(3) : after.start(3)]
    if _CONTROL.search(between) or ":" in after.group(3).rstrip()[-1:]:
        return None  # the label's value is a control's (read by its name), or a label
    value = after.group(3)
    start = after.start(3) + len(value) - len(value.lstrip())
    return _hit(rules, text, stripped, start, start + len(value.strip()))


def _hit(rules: fields.FieldRules, text: str, label: str, start: int, end: int) -> Hit | None:
    label = html.unescape(label).strip().rstrip(":*").strip()
    if not label or start >= end:
        return None
    raw = text[start:end]
    escaped = "&" in raw
    value = html.unescape(raw) if escaped else raw
    if value.startswith("SANITIZED_"):
        return None
    cls = checked(fields.field_verdict(rules, fields.ROOT, label, []), value)
    if cls is None or cls is fields.PROSE:
        return None
    return Hit(start, end, fields.resolved(cls), escaped=escaped)
