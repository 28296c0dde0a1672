"""Structure-aware walkers: JSON, form, multipart, text/XML, query, path, headers.

Each walker decodes before matching (percent-encoding, "+", JSON escapes, XML
entities), replaces only the sensitive value in place and leaves every other byte
as it was. ``Run`` collects per-exchange counts and redaction locations.
"""

from __future__ import annotations

import html
import json
import operator
import re
from bisect import bisect_left
from itertools import accumulate
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from ext_proc_server.sanitize.detectors import (
    FIELD_WITH_WORD_DFA,
    Hit,
    Scanner,
    classify_key,
    header_class,
    is_jwt,
    scheme_prefix_end,
)
from ext_proc_server.sanitize.pseudonym import TOKEN_VALUES, Replacer

_ESCAPE = re.compile(
    r"%[0-9A-Fa-f]{2}|&(?!(?:amp|lt|gt|quot|apos);)"
    r"(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
    r"|\\u[0-9A-Fa-f]{4}|\\/"
)
# Decoding these cannot reveal anything the raw text did not already show.
_HARMLESS_ESCAPES = frozenset({"&amp;", "&lt;", "&gt;", "&quot;", "&apos;"})
_JSON_ESCAPE_SEEN = re.compile(r"\\u[0-9A-Fa-f]{4}|\\/")
_ENTITY_SEEN = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});")
_PERCENT_SEEN = re.compile(r"%[0-9A-Fa-f]{2}")
_JSON_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})|\\(.)")
_JSON_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f"}
_WORD_DELIMITERS = " \t\r\n\"'<>"
_URL_SAFE = "/:?&=@;,+!$'()*~#[]"
_PATH_SAFE = "!$&'()*+,;=:@~"
_NEEDS_JSON_ESCAPE = re.compile(r'["\\\x00-\x1f]')
# Everything classify_key ignores in a name (kept: "&" between form fields, "=").
_NOT_NAME_BYTES = bytes(
    b for b in range(256) if chr(b) not in "abcdefghijklmnopqrstuvwxyz0123456789&="
)
_SURROGATE = re.compile("[\ud800-\udfff]")
# A string that may hide a value behind an escape: JSON "\", "%XX" or an "&...;" entity.
_MAYBE_ENCODED = re.compile(r"[\\%&]")


class Run:
    """One exchange (or one body) being sanitized: replacements, counts, locations."""

    __slots__ = ("counts", "locations", "replacer", "scanner")

    def __init__(self, scanner: Scanner, replacer: Replacer) -> None:
        self.scanner = scanner
        self.replacer = replacer
        # A plain dict: Counter's Python-level __init__/update cost shows per request.
        self.counts: dict[str, int] = {}
        self.locations: set[str] = set()

    def child(self) -> Run:
        return Run(self.scanner, self.replacer)

    def merge(self, other: Run) -> None:
        self.add_counts(other.counts)
        self.locations.update(other.locations)

    def add_counts(self, counts: dict[str, int]) -> None:
        for cls, count in counts.items():
            self.counts[cls] = self.counts.get(cls, 0) + count

    def replace(self, cls: str, value: str, fixed: str | None = None) -> str:
        self.counts[cls] = self.counts.get(cls, 0) + 1
        return self.replacer(cls, value, fixed)

    def apply(self, text: str, hits: list[Hit]) -> str:
        out = []
        last = 0
        for hit in hits:
            out.append(text[last : hit.start])
            out.append(self.replace(hit.cls, text[hit.start : hit.end], hit.fixed))
            last = hit.end
        out.append(text[last:])
        return "".join(out)

    def whole(self, cls: str, value: str) -> str:
        """Replace a whole value known to be secret; keep an auth scheme ("Bearer ")."""
        cut = scheme_prefix_end(value)
        if cut:
            head, value = value[:cut], value[cut:]
            return head + self.replace("jwt" if is_jwt(value) else cls, value)
        return self.replace("jwt" if is_jwt(value) else cls, value)

    def scrub(self, text: str) -> str:
        """Free text: every detector, then every encoded word decoded and checked again."""
        hits = self.scanner.find(text)
        if hits:
            text = self.apply(text, hits)
        if "%" in text or "&" in text or "\\" in text:
            text = self._scrub_encoded_words(text)
        return text

    def _scrub_encoded_words(self, text: str) -> str:
        if "%" not in text and "\\" not in text and _only_harmless_entities(text):
            return text  # XML's "&amp;" and the like: nothing to decode (C counts, no sre)
        out = []
        last = 0
        for m in _ESCAPE.finditer(text):
            if m.start() < last or m.group() in _HARMLESS_ESCAPES:
                continue
            start = max(text.rfind(c, last, m.start()) for c in _WORD_DELIMITERS) + 1
            start = max(start, last)
            end = len(text)
            for c in _WORD_DELIMITERS:
                found = text.find(c, m.end())
                if 0 <= found < end:
                    end = found
            word = text[start:end]
            fresh = self._scrub_encoded(word)
            if fresh != word:
                out.append(text[last:start])
                out.append(fresh)
                last = end
        if not out:
            return text
        out.append(text[last:])
        return "".join(out)

    def _scrub_encoded(self, word: str) -> str:
        has_json = _JSON_ESCAPE_SEEN.search(word) is not None
        has_entity = _ENTITY_SEEN.search(word) is not None
        has_percent = _PERCENT_SEEN.search(word) is not None
        decoded = word
        if has_json:
            decoded = _json_unescape(decoded)
        if has_entity:
            decoded = html.unescape(decoded)
        if has_percent:
            decoded = unquote(decoded, errors="replace")
        fresh = decoded
        hits = self.scanner.find(fresh)
        if hits:
            fresh = self.apply(fresh, hits)
        if has_percent and "+" in fresh:  # form encoding: "+" was a space
            spaced = fresh.replace("+", " ")
            hits = self.scanner.find(spaced)
            if hits:
                fresh = self.apply(spaced, hits)
        if fresh == decoded:
            return word
        if has_percent:
            fresh = quote(fresh, safe=_URL_SAFE)
        if has_entity:
            fresh = fresh.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        if has_json:
            fresh = json.dumps(fresh)[1:-1]
        return fresh

    # -- url-encoded values (form fields, query parameters, path segments) ------------

    def scrub_url_value(self, raw: str, *, plus: bool, safe: str = "") -> str:
        """A value that may be percent-encoded: check it decoded, re-encode only if changed.

        With ``plus`` (forms, queries) "+" is a space, but clients that forget to encode a
        literal "+" (ana+news@x.com) are common, so that reading is checked too.
        """
        return self.scrub_url_values([raw], plus=plus, safe=safe)[0]

    def scrub_url_values(self, raws: list[str], *, plus: bool, safe: str = "") -> list[str]:
        """``scrub_url_value`` for many values, with one scan per reading for all of them."""
        encoded = [i for i, raw in enumerate(raws) if "%" in raw or (plus and "+" in raw)]
        readings = list(raws)
        for i, reading in zip(encoded, _unquote_many([raws[i] for i in encoded]), strict=True):
            readings[i] = reading
        fresh = self.scrub_many(readings)
        keep = safe + ("+" if plus else "")
        again = []
        for i in encoded:
            cleaned = fresh[i]
            if cleaned == readings[i]:
                fresh[i] = raws[i]
            elif not _URL_PLAIN.fullmatch(cleaned):  # tokens come back from quote() as is
                fresh[i] = quote(cleaned, safe=keep)
            if plus and "+" in fresh[i]:
                again.append(i)
        if again:
            spaced = [unquote_plus(fresh[i]) for i in again]
            for i, before, cleaned in zip(again, spaced, self.scrub_many(spaced), strict=True):
                if cleaned != before:
                    fresh[i] = quote_plus(cleaned, safe=safe)
        return fresh

    def scrub_many(self, texts: list[str]) -> list[str]:
        """``[self.scrub(t) for t in texts]``, scanning the plain ones as one text.

        Joined by a blank line, texts stay apart for every built-in detector: none
        matches across a line break or treats one as part of a word, number or value.
        Texts that could still interact are scrubbed one by one: with a line break
        (the separator must split the result back apart), with escapes (decoded
        word by word), "<" (XML content runs to the next tag), "//" (userinfo looks
        for the end of the text), non-ASCII (lowering may change lengths), or any
        text at all when the user configured patterns (a regex may match anything).
        """
        if len(texts) < 2 or self.scanner.has_custom:
            return [self.scrub(t) for t in texts]
        out = list(texts)
        joined = _BATCH_SEPARATOR.join(texts)
        # The usual case, all are joinable, checked on the joined text in a few C calls
        # (exactly the separators' line breaks, then none of the rest).
        if joined.count("\n") == 2 * len(texts) - 2 and _joinable(
            joined.replace(_BATCH_SEPARATOR, " ")
        ):
            batch = list(range(len(texts)))
        else:
            batch = [i for i, t in enumerate(texts) if _joinable(t)]
            joined = _BATCH_SEPARATOR.join(texts[i] for i in batch)
        if len(batch) < 2:
            batch = []
        for i in set(range(len(texts))).difference(batch):
            out[i] = self.scrub(texts[i])
        if not batch:
            return out
        hits = self.scanner.find(joined)
        if not hits:
            return out
        if any(joined.find("\n", hit.start, hit.end) >= 0 for hit in hits):
            pieces = [self.scrub(texts[i]) for i in batch]  # a finding spans two: unheard of
        else:
            # Replacements hold no line break, so the edited text splits back apart.
            pieces = self.apply(joined, hits).split(_BATCH_SEPARATOR)
        for i, piece in zip(batch, pieces, strict=True):
            out[i] = piece
        return out


_BATCH_SEPARATOR = "\n\n"
# Characters quote() never escapes (whatever ``safe`` adds).
_URL_PLAIN = re.compile(r"[A-Za-z0-9_.~-]*")


def _only_harmless_entities(text: str) -> bool:
    """Whether every "&" starts one of _HARMLESS_ESCAPES (each is counted once: two of
    them never start at the same "&")."""
    return text.count("&") == sum(map(text.count, _HARMLESS_ESCAPES))


def _joinable(text: str) -> bool:
    return (
        text.isascii()
        and "\n" not in text
        and "%" not in text
        and "&" not in text
        and "\\" not in text
        and "<" not in text
        and "//" not in text
    )


def _quote_plus_lazy(text: str) -> str:
    """quote_plus, skipped for what it would return as is (our tokens)."""
    return text if _URL_PLAIN.fullmatch(text) else quote_plus(text)


def _unquote_many(raws: list[str]) -> list[str]:
    """``[_unquote_lenient(r) for r in raws]``, decoding them joined when that is the same.

    Joined by "&" (not in any of them), escapes stay apart, and UTF-8 never spans an
    ASCII byte: the joined text decodes strictly exactly when every part does, to the
    parts' decodings joined, unless one decodes to a "&" ("%26"), which the count catches.
    """
    if len(raws) > 1:
        joined = "&".join(raws)
        if joined.count("&") == len(raws) - 1:
            try:
                decoded = unquote(joined, errors="strict")
            except UnicodeDecodeError:
                decoded = None
            if decoded is not None and decoded.count("&") == len(raws) - 1:
                return decoded.split("&")
    return [_unquote_lenient(raw) for raw in raws]


def _unquote_lenient(raw: str) -> str:
    try:
        return unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return unquote(raw, encoding="latin-1")


def _json_unescape(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return chr(int(m.group(1), 16))
        return _JSON_SIMPLE.get(m.group(2), m.group(2))

    return _JSON_ESCAPE.sub(one, text)


def _quoted_json(text: str) -> str:
    if not _NEEDS_JSON_ESCAPE.search(text):
        return f'"{text}"'
    ascii_only = bool(_SURROGATE.search(text))  # lone surrogates cannot be UTF-8 encoded
    return json.dumps(text, ensure_ascii=ascii_only)


def _is_token(value: str) -> bool:
    return value in TOKEN_VALUES or value.startswith("SANITIZED_")


# -- JSON ------------------------------------------------------------------------------


class _Members(list):  # type: ignore[type-arg]
    """A JSON object as its (key, value) pairs in document order: duplicates are kept."""

    __slots__ = ()


# Same-length mask for escapes, so every '"' left in the copy delimits a string.
_ESCAPED_CHAR = re.compile(r"\\.")
# Numbers and literals: all a gap between two strings can hold besides punctuation.
_GAP_SCALAR = re.compile(r"-?[0-9][0-9.eE+-]*|true|false|null|NaN|-?Infinity")


def sanitize_json(run: Run, text: str, where: str) -> str | None:
    """Edit a JSON document at each sensitive value's span; None if it is not JSON."""
    hits, key_seen = run.scanner.find_with_keys(text)
    # Three memchr scans: a regex character class over the whole text costs 100x more.
    encoded = "\\" in text or "%" in text or "&" in text
    if not hits and not key_seen and not encoded:
        return text
    try:
        document = json.loads(text, object_pairs_hook=_Members)
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


def _positions(text: str, char: str) -> list[int]:
    """Offsets of every ``char`` in ``text``, computed from split lengths (no Python loop)."""
    parts = text.split(char)
    return list(map(operator.add, accumulate(map(len, parts[:-1])), range(len(parts) - 1)))


class _JsonEditor:
    """Edits for one parsed document.

    The parsed tree gives the structure (JSON pointers, the key a value belongs to);
    the text gives the spans: in document order, string number k lies between the
    2k-th and (2k+1)-th unescaped quote, and numbers lie in the gaps between strings.
    Walking the tree is far cheaper than tokenizing the text with a regex in Python.
    """

    def __init__(self, run: Run, text: str, where: str, hits: list[Hit], *, encoded: bool) -> None:
        self.run = run
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
            self.quotes = _positions(self.plain, '"')
        return self.quotes

    def edits(self, document: object) -> list[tuple[int, int, str]]:
        kind = type(document)
        if kind is _Members:
            self._object(document)  # type: ignore[arg-type]
        elif kind is list:
            self._array(document, None)  # type: ignore[arg-type]
        elif kind is str:
            self.k = 1
            if 0 in self.todo:
                self._string(0, document, None)  # type: ignore[arg-type]
        else:
            self._scalar(document, None)
        return self.out

    # -- the walk (inlined fast paths: most nodes need nothing) ----------------------

    def _object(self, members: _Members) -> None:
        path = self.path
        path.append("")
        todo = self.todo
        for key, value in members:
            path[-1] = key
            k = self.k
            if k in todo:
                self._key(k)
            cls = classify_key(key)
            kind = type(value)
            if kind is str:
                self.k = k + 2
                if cls is not None or k + 1 in todo:
                    self._string(k + 1, value, cls)
                continue
            self.k = k + 1
            if kind is _Members:
                self._object(value)
            elif kind is list:
                self._array(value, cls)  # items inherit the name: "tokens": ["a", "b"]
            else:
                self._scalar(value, cls)
        path.pop()

    def _array(self, items: list[Any], cls: str | None) -> None:
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
                self._object(item)
            elif kind is list:
                self._array(item, cls)
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
        start, end = self._span(k)
        token = self.text[start:end]
        if cls is not None:
            if not value or _is_token(value):
                return
            fresh = _quoted_json(self.run.whole(cls, value))
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
        return _quoted_json("".join(out))

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
        if cls is not None:
            fresh = _quoted_json(self.run.replace(cls, token))
        else:
            if not any(h.start < end and h.end > start for h in self.gap_hits[k]):
                return
            found = self.run.scanner.find(token)
            if not found:
                return
            # A sensitive number becomes a quoted token: never a float round trip.
            fresh = _quoted_json(self.run.replace(found[0].cls, token, found[0].fixed))
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
    return _quoted_json(fresh)


# -- form, multipart, text -----------------------------------------------------------


def sanitize_form(run: Run, text: str, where: str) -> str:
    hits, key_seen = run.scanner.find_with_keys(text)
    if not hits and not key_seen and "%" not in text and "+" not in text:
        return text
    fields = text.split("&")
    todo, overlapped = _form_fields_to_check(text, hits, key_seen=key_seen)
    plan = []
    for i in sorted(todo):
        raw_name, eq, raw_value = fields[i].partition("=")
        cls = None
        if "%" in raw_name or "+" in raw_name:
            cls = classify_key(unquote_plus(raw_name))
        elif key_seen:
            cls = classify_key(raw_name)
        if cls is None and i not in overlapped and "%" not in fields[i] and "+" not in fields[i]:
            continue
        plan.append((i, raw_name, eq, raw_value, cls))
    # Every name, and every value not replaced whole, in one batch (one scan per reading).
    checked = run.scrub_url_values(
        [p[1] for p in plan] + [p[3] for p in plan if p[4] is None], plus=True
    )
    fresh_values = iter(checked[len(plan) :])
    changed = False
    for (i, raw_name, eq, raw_value, cls), fresh_name in zip(plan, checked, strict=False):
        if cls is None:
            fresh = next(fresh_values)
        elif (value := unquote_plus(raw_value)) and not _is_token(value):
            fresh = _quote_plus_lazy(run.whole(cls, value))
        else:
            fresh = raw_value
        if fresh != raw_value or fresh_name != raw_name:
            fields[i] = fresh_name + eq + fresh
            changed = True
            run.locations.add(f"{where}.form.{_form_name(fresh_name)}")
    return "&".join(fields) if changed else text


def _form_name(raw: str) -> str:
    return unquote_plus(raw) if "%" in raw or "+" in raw else raw


def _form_fields_to_check(
    text: str, hits: list[Hit], *, key_seen: bool
) -> tuple[set[int], set[int]]:
    """Indexes of the fields that may change (every other one is left untouched), and
    of those a finding overlaps.

    Those are the fields with an encoded byte ("%", "+"), those a finding overlaps,
    and, when a secret-ish key may be present, those whose name may classify.
    """
    ampersands = _positions(text, "&")
    overlapped: set[int] = set()
    for hit in hits:
        first = bisect_left(ampersands, hit.start)
        overlapped.update(range(first, bisect_left(ampersands, hit.end - 1) + 1))
    todo = set(overlapped)
    for marker in "%+":
        at = text.find(marker)
        while at >= 0:
            field = bisect_left(ampersands, at)
            todo.add(field)
            at = -1 if field == len(ampersands) else text.find(marker, ampersands[field])
    if key_seen:
        # classify_key reads a name as its ASCII letters and digits, so a secret name
        # shows one of the secret-ish words once everything else is deleted ("&" kept
        # to tell fields apart).
        compact = text.encode("ascii", "replace").lower().translate(None, _NOT_NAME_BYTES)
        field = counted_to = 0
        for match in FIELD_WITH_WORD_DFA.finditer(compact):
            field += compact.count(b"&", counted_to, match.start())
            counted_to = match.start()
            todo.add(field)
    return todo, overlapped


_BOUNDARY = re.compile(r'boundary="?([^";]+)"?', re.IGNORECASE)
_PART_NAME = re.compile(r'\bname="([^"]*)"', re.IGNORECASE)
_PART_TYPE = re.compile(r"^content-type:\s*([^;\r\n]+)", re.IGNORECASE | re.MULTILINE)


def sanitize_multipart(run: Run, text: str, content_type_header: str, where: str) -> str | None:
    """Each part by its own name and type; None when the boundary is missing."""
    found = _BOUNDARY.search(content_type_header)
    if not found:
        return None
    delimiter = "--" + found.group(1).strip()
    pieces = text.split(delimiter)
    if len(pieces) < 3:
        return None
    out = [run.scrub(pieces[0])]
    for piece in pieces[1:]:
        if piece.startswith("--"):  # the closing delimiter and the epilogue
            out.append(run.scrub(piece))
            continue
        split_at = piece.find("\r\n\r\n")
        gap = 4
        if split_at < 0:
            split_at, gap = piece.find("\n\n"), 2
        if split_at < 0:
            out.append(run.scrub(piece))
            continue
        head, content = piece[:split_at], piece[split_at + gap :]
        body, tail = (content[:-2], "\r\n") if content.endswith("\r\n") else (content, "")
        name_match = _PART_NAME.search(head)
        cls = classify_key(name_match.group(1)) if name_match else None
        part_type = _PART_TYPE.search(head)
        if cls is not None and body and not _is_token(body):
            fresh = run.whole(cls, body)
        elif part_type and _is_json_type(part_type.group(1).strip().lower()):
            part_run = run.child()  # its JSON pointers are relative to the part: not kept
            fresh = sanitize_json(part_run, body, where)
            if fresh is None:
                fresh = run.scrub(body)
            else:
                run.add_counts(part_run.counts)
        else:
            fresh = run.scrub(body)
        out.append(run.scrub(head) + piece[split_at : split_at + gap] + fresh + tail)
    result = delimiter.join(out)
    if result != text:
        run.locations.add(where)
    return result


def _is_json_type(content_type: str) -> bool:
    return content_type.endswith(("/json", "+json")) or content_type == "application/x-ndjson"


# -- request line and headers --------------------------------------------------------


def sanitize_path(run: Run, path: str, where: str) -> str:
    if run.scanner.known_clean(("path", path)):
        return path
    leading = path.startswith("/")
    segments = (path[1:] if leading else path).split("/")
    changed = False
    for i, segment in enumerate(segments):
        if not segment:
            continue
        if _SURROGATE.search(segment):
            fresh = run.replace("api_key", segment)
        else:
            fresh = run.scrub_url_value(segment, plus=False, safe=_PATH_SAFE)
        if fresh != segment:
            segments[i] = fresh
            changed = True
            run.locations.add(f"{where}.path.{i}")
    if not changed:
        run.scanner.remember_clean(("path", path))
        return path
    return ("/" if leading else "") + "/".join(segments)


def sanitize_query(
    run: Run, pairs: tuple[tuple[str, str], ...], where: str
) -> tuple[tuple[str, str], ...]:
    out = []
    changed = False
    for name, value in pairs:
        cls = classify_key(unquote_plus(name))
        if _SURROGATE.search(value):
            fresh = run.replace("api_key", value)
        elif cls is not None:
            decoded = unquote_plus(value)
            fresh = run.whole(cls, decoded) if decoded and not _is_token(decoded) else value
        else:
            fresh = run.scrub_url_value(value, plus=True)
        if fresh != value:
            changed = True
            run.locations.add(f"{where}.query.{name}")
        out.append((name, fresh))
    return tuple(out) if changed else pairs


def sanitize_query_string(run: Run, query: str, where: str) -> str:
    if not query:
        return query
    parts = query.split("&")
    pairs = tuple((name, value) for name, _, value in (p.partition("=") for p in parts))
    fresh = sanitize_query(run, pairs, where)
    if fresh is pairs:
        return query
    return "&".join(
        name + ("=" if "=" in part else "") + value
        for (name, value), part in zip(fresh, parts, strict=True)
    )


def sanitize_authority(run: Run, authority: str) -> str:
    """Only userinfo ("user:pass@host") is sensitive in an authority."""
    if "@" not in authority:
        return authority
    userinfo, _, host = authority.rpartition("@")
    if ":" in userinfo:
        user, _, password = userinfo.partition(":")
        return f"{run.scrub_url_value(user, plus=False)}:{run.replace('password', password)}@{host}"
    return f"{run.replace('api_key', userinfo)}@{host}"


def sanitize_headers(
    run: Run, headers: tuple[tuple[str, str], ...], where: str | None
) -> tuple[tuple[str, str], ...]:
    out = []
    changed = False
    for name, value in headers:
        lower = name.lower()
        memo = ("header", lower, value)
        if run.scanner.known_clean(memo):
            out.append((name, value))
            continue
        fresh = _header_value(run, lower, value, where)
        if fresh == value:
            run.scanner.remember_clean(memo)
        else:
            changed = True
            if where is not None:
                run.locations.add(f"{where}.header.{name.lower()}")
        out.append((name, fresh))
    return tuple(out) if changed else headers


def _header_value(run: Run, lower: str, value: str, where: str | None) -> str:
    if not value:
        return value
    if _SURROGATE.search(value):
        # Non-UTF-8 bytes: cannot be checked with certainty.
        return run.replace("api_key", value)
    if lower.startswith(":"):
        if lower == ":authority":
            return sanitize_authority(run, value)
        if lower == ":path":
            path, sep, query = value.partition("?")
            base = where or "request"
            return sanitize_path(run, path, base) + sep + sanitize_query_string(run, query, base)
        return run.scrub(value)
    if lower == "cookie":
        return ";".join(_cookie_pair(run, pair) for pair in value.split(";"))
    if lower == "set-cookie":
        first, sep, attributes = value.partition(";")
        return _cookie_pair(run, first) + sep + run.scrub(attributes)
    cls = header_class(lower)
    if cls is not None:
        return value if _is_token(value) else run.whole(cls, value)
    return run.scrub(value)


def _cookie_pair(run: Run, pair: str) -> str:
    name, eq, value = pair.partition("=")
    if not eq:
        # A nameless cookie ("Cookie: abc123"): the whole pair is the value.
        stripped = pair.strip()
        if not stripped or _is_token(stripped):
            return pair
        lead = pair[: len(pair) - len(pair.lstrip())]
        return lead + run.replace("jwt" if is_jwt(stripped) else "cookie", stripped)
    stripped = value.strip().strip('"')
    if not stripped or _is_token(stripped):
        return pair
    cls = "jwt" if is_jwt(stripped) else "cookie"
    return f"{name}={run.replace(cls, stripped)}"
