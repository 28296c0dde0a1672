"""One exchange being sanitized (:class:`Run`), and the text helpers every walker shares.

Each walker decodes before matching (percent-encoding, "+", JSON escapes, XML
entities), replaces only the sensitive value in place and leaves every other byte
as it was. ``Run`` collects per-exchange counts and redaction locations.
"""

from __future__ import annotations

import html
import json
import operator
import re
from collections.abc import Callable
from itertools import accumulate
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus, unquote

from ext_proc_server.sanitize import brcode
from ext_proc_server.sanitize.detectors import Scanner, is_jwt, scheme_prefix_end
from ext_proc_server.sanitize.hits import Hit
from ext_proc_server.sanitize.pseudonym import TOKEN_VALUES, Replacer

if TYPE_CHECKING:
    from ext_proc_server.sanitize.charsets import Charset

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
_NEEDS_JSON_ESCAPE = re.compile(r'["\\\x00-\x1f]')
SURROGATE = re.compile("[\ud800-\udfff]")


class Run:
    """One exchange (or one body) being sanitized: replacements, counts, locations.

    ``charset`` is the body's when it is not UTF-8: replacements are fitted to it.
    """

    __slots__ = (
        "body_bytes",
        "charset",
        "counts",
        "locations",
        "names_seen",
        "replacer",
        "scanner",
    )

    def __init__(
        self,
        scanner: Scanner,
        replacer: Replacer,
        charset: Charset | None = None,
        names_seen: set[str] | None = None,
    ) -> None:
        self.scanner = scanner
        self.replacer = replacer
        self.charset = charset
        # The names replaced so far in this exchange (shared with its child runs): a
        # body that repeats one in prose has it replaced too (echoed_names).
        self.names_seen: set[str] = set() if names_seen is None else names_seen
        # A plain dict: Counter's Python-level __init__/update cost shows per request.
        self.counts: dict[str, int] = {}
        self.locations: set[str] = set()
        # Body bytes read, added to their metric once per exchange (not once per body).
        self.body_bytes = 0

    def child(self, charset: Charset | None = None) -> Run:
        return Run(self.scanner, self.replacer, charset, self.names_seen)

    def merge(self, other: Run) -> None:
        self.add_counts(other.counts)
        self.locations.update(other.locations)

    def add_counts(self, counts: dict[str, int]) -> None:
        for cls, count in counts.items():
            self.counts[cls] = self.counts.get(cls, 0) + count

    def replace(self, cls: str, value: str, fixed: str | None = None) -> str:
        if cls == brcode.CLASS:  # counted as the classes replaced inside it
            return brcode.rewrite(self, value)
        self.counts[cls] = self.counts.get(cls, 0) + 1
        if cls == "name" and " " in value:
            self.names_seen.add(value)
        fresh = self.replacer(cls, value, fixed)
        return fresh if self.charset is None else self.charset.fit(fresh)

    def apply(self, text: str, hits: list[Hit]) -> str:
        out = []
        last = 0
        for hit in hits:
            out.append(text[last : hit.start])
            if hit.escaped:
                value = html.unescape(text[hit.start : hit.end])
                out.append(html.escape(self.replace(hit.cls, value, hit.fixed)))
            else:
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

    def scrub(self, text: str, hits: list[Hit] | None = None) -> str:
        """Free text: every detector (or the given findings), then every encoded word
        decoded and checked again."""
        if hits is None:
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
        references: dict[str, str] = {}
        if has_entity:
            decoded = _html_unescape(decoded, references)
        escaped = decoded
        if has_percent:
            # Bytes that are not UTF-8 stay themselves (as surrogate escapes), so they are
            # written back as they came.
            decoded = unquote(decoded, errors="surrogateescape")
        fresh = decoded
        hits = self.scanner.find(fresh)
        if hits:
            fresh = self.apply(fresh, hits)
        if has_percent and "+" in fresh:  # form encoding: "+" was a space, "%2B" a "+"
            spaced = (
                unquote(escaped.replace("+", " "), errors="surrogateescape")
                if fresh is decoded
                else fresh.replace("+", " ")
            )
            hits = self.scanner.find(spaced)
            if hits:
                fresh = self.apply(spaced, hits)
        if fresh == decoded:
            return word
        if has_percent:
            fresh = _quote_word(fresh)
        if has_entity:
            fresh = fresh.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            if references:  # each half pair as its reference was written
                fresh = SURROGATE.sub(lambda m: references.get(m.group(), m.group()), fresh)
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
                fresh[i] = _requote(raws[i], cleaned, keep, quote)
            if plus and "+" in fresh[i]:
                again.append(i)
        if again:
            spaced = [_unquote_lenient(fresh[i].replace("+", " ")) for i in again]
            for i, before, cleaned in zip(again, spaced, self.scrub_many(spaced), strict=True):
                if cleaned != before:
                    fresh[i] = _requote(raws[i], cleaned, safe, quote_plus)
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


def quote_plus_lazy(text: str) -> str:
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


# Characters a query value may hold unescaped (RFC 3986 "pchar" and "?", less the
# separators "&", "=", "+" and "#").
_QUERY_RAW = frozenset("/:@!$'()*,;~?")


def encode_query_value(raw: str, text: str) -> str:
    """``text``, a replacement of the query or form value ``raw``, percent-encoded as
    ``raw`` was: a space as "%20" when ``raw`` wrote one so (else "+"), the characters
    ``raw`` left unescaped left so, latin-1 escapes kept. Our tokens come back as is."""
    if _URL_PLAIN.fullmatch(text):
        return text
    quoting = quote if "%20" in raw and "+" not in raw else quote_plus
    return _requote(raw, text, "".join(_QUERY_RAW.intersection(raw)), quoting)


def _requote(raw: str, text: str, safe: str, quoting: Callable[..., str]) -> str:
    """``text`` percent-encoded as ``raw`` was: a value whose escapes are not UTF-8 was
    read as latin-1 (_unquote_lenient) and is written back so, its other bytes as they
    came (a replacement latin-1 cannot hold is written in UTF-8)."""
    if text.isascii() or _is_utf8_escaped(raw):
        return quoting(text, safe=safe)
    try:
        return quoting(text, safe=safe, encoding="latin-1")
    except UnicodeEncodeError:
        return quoting(text, safe=safe)


def _is_utf8_escaped(raw: str) -> bool:
    try:
        unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return False
    return True


def _unquote_lenient(raw: str) -> str:
    try:
        return unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return unquote(raw, encoding="latin-1")


def _html_unescape(text: str, references: dict[str, str]) -> str:
    """html.unescape, but a reference to half a UTF-16 pair ("&#xD800;") decodes to
    that half, its text kept in ``references`` to be written back as it was
    (html.unescape gives U+FFFD, which would be written back in its place)."""
    if "&#" in text:

        def half(m: re.Match[str]) -> str:
            code = int(m.group(1), 16) if m.group(1) else int(m.group(2))
            if not 0xD800 <= code <= 0xDFFF:
                return m.group()
            references.setdefault(chr(code), m.group())
            return chr(code)

        text = _SURROGATE_REFERENCE.sub(half, text)
    return html.unescape(text)


# Numeric references that may name a surrogate (U+D800 to U+DFFF: 55296 to 57343).
_SURROGATE_REFERENCE = re.compile(r"&#(?:[xX]0*([dD][89a-fA-F][0-9a-fA-F]{2})|0*(5[5-7][0-9]{3}));")
# Surrogates that are not bytes escaped by "surrogateescape" (U+DC80 to U+DCFF).
_HALF_PAIR = re.compile("([\ud800-\udc7f\udd00-\udfff])")


def _quote_word(text: str) -> str:
    """``quote`` for a decoded word: bytes that were not UTF-8 (surrogate escapes) are
    written back as they came, and half a UTF-16 pair from another escape is left for
    that escape's own writing ("\\ud83d" by json.dumps)."""
    if not _HALF_PAIR.search(text):
        return quote(text, safe=_URL_SAFE, errors="surrogateescape")
    return "".join(
        piece if i % 2 else quote(piece, safe=_URL_SAFE, errors="surrogateescape")
        for i, piece in enumerate(_HALF_PAIR.split(text))
    )


def _json_unescape(text: str) -> str:
    def one(m: re.Match[str]) -> str:
        if m.group(1) is not None:
            return chr(int(m.group(1), 16))
        return _JSON_SIMPLE.get(m.group(2), m.group(2))

    return _JSON_ESCAPE.sub(one, text)


def quoted_json(text: str) -> str:
    """A JSON string literal; non-ASCII is written as it is, but a lone surrogate (half
    of a UTF-16 pair, from a "\\ud83d" escape) cannot be: it is escaped as it came."""
    if _NEEDS_JSON_ESCAPE.search(text):
        text = json.dumps(text, ensure_ascii=False)[1:-1]
    if not text.isascii() and SURROGATE.search(text):
        text = SURROGATE.sub(_json_escape, text)
    return f'"{text}"'


def _json_escape(m: re.Match[str]) -> str:
    return f"\\u{ord(m.group()):04x}"


def is_token(value: str) -> bool:
    return value in TOKEN_VALUES or value.startswith("SANITIZED_")


def positions(text: str, char: str, most: int = -1, start: int = 0) -> list[int]:
    """Offsets of every ``char`` in ``text`` from ``start`` on (the first ``most`` when
    that is not -1), computed from split lengths (no Python loop)."""
    parts = (text[start:] if start else text).split(char, most)
    count = len(parts) - 1
    return list(map(operator.add, accumulate(map(len, parts[:count])), range(start, start + count)))
