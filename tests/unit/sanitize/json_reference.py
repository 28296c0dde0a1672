"""The JSON walker as it was before its shortcuts (skipped subtrees, cached object
plans, quote offsets found only as far as needed): the oracle that
test_json_equivalence holds ext_proc_server.sanitize.json_body to, byte for byte.

Frozen on purpose: change it only together with a deliberate change of output (so
far two: every number an object ends with is counted in its gap, so a phone after it
in a list is found; a free-text field's names are replaced, free_text_names).
"""

from __future__ import annotations

import json
import operator
import re
from typing import Any

from ext_proc_server.sanitize import fields
from ext_proc_server.sanitize.free_text_names import find_names
from ext_proc_server.sanitize.hits import Hit, resolve
from ext_proc_server.sanitize.run import Run, is_token, positions, quoted_json

_KEY = operator.itemgetter(0)
# A string that may hide a value behind an escape: JSON "\", "%XX" or an "&...;" entity.
_MAYBE_ENCODED = re.compile(r"[\\%&]")

# -- JSON ------------------------------------------------------------------------------


class _Members(list):  # type: ignore[type-arg]
    """A JSON object as its (key, value) pairs in document order: duplicates are kept."""

    __slots__ = ()


# One decoder for every body: json.loads with a hook builds a new one (and its
# scanner) per call, which cost as much as decoding a 2 KiB body.
_DECODER = json.JSONDecoder(object_pairs_hook=_Members)
# Same-length mask for escapes, so every '"' left in the copy delimits a string.
_ESCAPED_CHAR = re.compile(r"\\.")
# Numbers and literals: all a gap between two strings can hold besides punctuation.
_GAP_SCALAR = re.compile(r"-?[0-9][0-9.eE+-]*|true|false|null|NaN|-?Infinity")


def sanitize_json(run: Run, text: str, where: str) -> str | None:
    """Edit a JSON document at each sensitive value's span; None if it is not JSON."""
    # With a finding the document is parsed and every key read anyway: the probe for
    # personal keys would change nothing.
    hits, key_seen = run.scanner.find_with_keys(text, unless_found=True)
    # Three memchr scans: a regex character class over the whole text costs 100x more.
    encoded = "\\" in text or "%" in text or "&" in text
    if not hits and not key_seen and not encoded:
        return text
    try:
        document = _DECODER.decode(text)
    except ValueError:
        return None
    edits = _JsonEditor(run, text, where, hits, encoded=encoded).edits(document)
    if not edits:
        return text
    out = []
    last = 0
    for start, end, fresh in sorted(edits):
        out.append(text[last:start])
        out.append(fresh)
        last = end
    out.append(text[last:])
    return "".join(out)


class _JsonEditor:
    """Edits for one parsed document.

    The parsed tree gives the structure (JSON pointers, the key a value belongs to);
    the text gives the spans: in document order, string number k lies between the
    2k-th and (2k+1)-th unescaped quote, and numbers lie in the gaps between strings.
    Walking the tree is far cheaper than tokenizing the text with a regex in Python.
    """

    def __init__(self, run: Run, text: str, where: str, hits: list[Hit], *, encoded: bool) -> None:
        self.run = run
        rules = run.scanner.field_rules
        self.rules = rules if rules else None  # the user's field rules, when there are any
        self.text = text
        self.where = where
        self.plain = _ESCAPED_CHAR.sub("__", text) if "\\" in text else text
        self.quotes: list[int] | None = None  # every quote offset, only when needed
        self.spans: dict[int, tuple[int, int]] = {}  # string index -> span, when known
        self.gaps: dict[int, tuple[int, int]] = {}  # gap index -> span, when known
        self.inside: dict[int, list[Hit]] = {}  # string index -> findings within it
        self.alone: set[int] = set()  # strings to rescan on their own (escapes, crossings)
        self.gap_hits: dict[int, list[Hit]] = {}  # gap index -> findings outside strings
        self._index_hits(hits)
        if encoded:
            self._index_encoded()
        self.todo = self.alone | self.inside.keys()
        self.out: list[tuple[int, int, str]] = []
        self.path: list[str | int] = []
        self.places: list[fields.Place] = [fields.ROOT]
        self.k = 0  # strings seen so far: the index of the next string and of this gap
        self.j_gap = -1  # the gap self.j counts in
        self.j = 0  # numbers and literals seen so far in that gap
        self.gap_tokens: tuple[int, list[tuple[int, int]]] | None = None

    def _index_hits(self, hits: list[Hit]) -> None:
        """Which string or gap each finding is in: quotes counted before it (C scans)."""
        plain = self.plain
        before = counted_to = 0
        for hit in hits:  # by position
            before += plain.count('"', counted_to, hit.start)
            counted_to = hit.start
            crossed = plain.count('"', hit.start, hit.end)
            if before % 2 and not crossed:
                k = before // 2
                self.inside.setdefault(k, []).append(hit)
                if k not in self.spans:
                    opening = plain.rfind('"', 0, hit.start)
                    self.spans[k] = (opening, plain.find('"', hit.end) + 1)
                continue
            if not before % 2 and before // 2 not in self.gaps:
                closing = plain.find('"', hit.start)
                self.gaps[before // 2] = (
                    plain.rfind('"', 0, hit.start) + 1,
                    len(plain) if closing < 0 else closing,
                )
            # Outside strings or across a quote: rescan each string and number it touches.
            self.alone.update(range(before // 2, (before + crossed + 1) // 2))
            last_gap = (before + plain.count('"', hit.start, hit.end - 1)) // 2
            for gap in range((before + 1) // 2, last_gap + 1):
                self.gap_hits.setdefault(gap, []).append(hit)

    def _index_encoded(self) -> None:
        """Strings that may hide a value behind an escape ("\\", "%XX", "&...;")."""
        plain = self.plain
        before = counted_to = 0
        found = _MAYBE_ENCODED.search(self.text)
        while found:
            at = found.start()
            before += plain.count('"', counted_to, at)
            counted_to = at
            k = before // 2
            self.alone.add(k)
            closing = plain.find('"', at)
            self.spans.setdefault(k, (plain.rfind('"', 0, at), closing + 1))
            found = _MAYBE_ENCODED.search(self.text, closing + 1)

    def _span(self, k: int) -> tuple[int, int]:
        """Where string k is, quotes included."""
        span = self.spans.get(k)
        if span is None:
            quotes = self._quotes()
            span = self.spans[k] = (quotes[2 * k], quotes[2 * k + 1] + 1)
        return span

    def _quotes(self) -> list[int]:
        if self.quotes is None:
            self.quotes = positions(self.plain, '"')
        return self.quotes

    def edits(self, document: object) -> list[tuple[int, int, str]]:
        kind = type(document)
        if kind is _Members:
            self._object(document, "")  # type: ignore[arg-type]
        elif kind is list:
            self._array(document, None, "")  # type: ignore[arg-type]
        elif kind is str:
            self.k = 1
            if 0 in self.todo:
                self._string(0, document, None)  # type: ignore[arg-type]
        else:
            self._scalar(document, None)
        return self.out

    # -- the walk (inlined fast paths: most nodes need nothing) ----------------------

    def _object(self, members: _Members, holder: str) -> None:
        """``holder``: the key holding this object (or the list it is in)."""
        path = self.path
        places = self.places
        place = fields.object_place(places[-1], holder, frozenset(map(_KEY, members)))
        places.append(place)
        path.append("")
        todo = self.todo
        rules = self.rules
        builtin_verdict = fields.builtin_verdict
        for key, value in members:
            path[-1] = key
            k = self.k
            if k in todo:
                self._key(k)
            if rules is not None:
                cls = fields.field_verdict(rules, place, key, self._parents())
            else:
                cls = builtin_verdict(place, key)
            kind = type(value)
            if kind is str:
                self.k = k + 2
                if cls is not None or k + 1 in todo:
                    self._string(k + 1, value, cls)
                continue
            self.k = k + 1
            if kind is _Members:
                self._object(value, key)
            elif kind is list:
                self._array(value, cls, key)  # items inherit the name: "tokens": ["a", "b"]
            else:
                # Counted even when not looked at: a number after this object in the same
                # gap ([{"n": 1}, 912345678]) is found by its count.
                self._scalar(value, cls)
        path.pop()
        places.pop()

    def _parents(self) -> list[str]:
        return [p for p in self.path[:-1] if type(p) is str]

    def _array(self, items: list[Any], cls: str | None, holder: str) -> None:
        path = self.path
        path.append(0)
        todo = self.todo
        for index, item in enumerate(items):
            path[-1] = index
            kind = type(item)
            if kind is str:
                k = self.k
                self.k = k + 1
                if cls is not None or k in todo:
                    self._string(k, item, cls)
            elif kind is _Members:
                self._object(item, holder)
            elif kind is list:
                self._array(item, cls, holder)
            else:
                self._scalar(item, cls)
        path.pop()

    # -- one value ---------------------------------------------------------------------

    def _key(self, k: int) -> None:
        """Object keys can hold data too ({"ana@x.com": 3}): scrub them in place."""
        start, end = self._span(k)
        token = self.text[start:end]
        fresh = _scrub_json_string(self.run, token)
        if fresh != token:
            self._edit(start, end, fresh, self.path[:-1])

    def _string(self, k: int, value: str, cls: str | None) -> None:
        names = find_names(value) if cls is fields.PROSE else []
        if names:
            hits = resolve(self.run.scanner.find(value) + [Hit(a, b, "name") for a, b in names])
            start, end = self._span(k)
            fresh = quoted_json(self.run.scrub(value, hits))
            if fresh != self.text[start:end]:
                self._edit(start, end, fresh, self.path)
            return
        if type(cls) is fields.Verdict and not fields.value_fits(cls, value):
            cls = None  # a phone-named "N/A": left to the shape detectors
            if k not in self.todo:
                return
        start, end = self._span(k)
        token = self.text[start:end]
        if cls is not None:
            if not value or is_token(value):
                return
            fresh = quoted_json(self.run.whole(fields.resolved(cls), value))
        elif k in self.alone:
            fresh = _scrub_json_string(self.run, token)
        else:
            fresh = self._apply_inside(start, end, self.inside[k])
        if fresh != token:
            self._edit(start, end, fresh, self.path)

    def _apply_inside(self, start: int, end: int, hits: list[Hit]) -> str:
        """A plain string (no escapes, else it is rescanned alone): use the findings."""
        text = self.text
        out = []
        last = start + 1
        for hit in hits:
            out.append(text[last : hit.start])
            out.append(self.run.replace(hit.cls, text[hit.start : hit.end], hit.fixed))
            last = hit.end
        out.append(text[last : end - 1])
        return quoted_json("".join(out))

    def _scalar(self, value: object, cls: str | None) -> None:
        k = self.k
        if self.j_gap == k:
            self.j += 1
        else:
            self.j_gap, self.j = k, 0
        if (cls is None and k not in self.gap_hits) or value is None or type(value) is bool:
            return
        start, end = self._gap_token(k, self.j)
        token = self.text[start:end]
        if type(cls) is fields.Verdict and not fields.value_fits(cls, token):
            cls = None
            if k not in self.gap_hits:
                return
        if cls is not None:
            fresh = quoted_json(self.run.replace(fields.resolved(cls), token))
        else:
            if not any(h.start < end and h.end > start for h in self.gap_hits[k]):
                return
            found = self.run.scanner.find(token)
            if not found:
                return
            # A sensitive number becomes a quoted token: never a float round trip.
            fresh = quoted_json(self.run.replace(found[0].cls, token, found[0].fixed))
        self._edit(start, end, fresh, self.path)

    def _gap_token(self, k: int, j: int) -> tuple[int, int]:
        """Span of the j-th number or literal after string k-1 (before string k)."""
        if self.gap_tokens is None or self.gap_tokens[0] != k:
            bounds = self.gaps.get(k)
            if bounds is None:
                quotes = self._quotes()
                low = quotes[2 * k - 1] + 1 if k else 0
                bounds = (low, quotes[2 * k] if 2 * k < len(quotes) else len(self.text))
            spans = [m.span() for m in _GAP_SCALAR.finditer(self.plain, *bounds)]
            self.gap_tokens = (k, spans)
        return self.gap_tokens[1][j]

    def _edit(self, start: int, end: int, fresh: str, path: list[str | int]) -> None:
        self.out.append((start, end, fresh))
        self.run.locations.add(f"{self.where}.json:{_pointer(path)}")


def _pointer(path: list[str | int]) -> str:
    if not path:
        return ""
    joined = "/".join(map(str, path))
    # Escaping only when a key holds "~" or "/" (one more "/" than the separators).
    if "~" not in joined and joined.count("/") == len(path) - 1:
        return "/" + joined
    return "/" + "/".join(str(p).replace("~", "~0").replace("/", "~1") for p in path)


def _scrub_json_string(run: Run, token: str) -> str:
    escaped = "\\" in token
    value = json.loads(token) if escaped else token[1:-1]
    fresh = run.scrub(value)
    if fresh == value:
        return token
    return quoted_json(fresh)
