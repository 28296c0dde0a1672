"""Structure-aware walkers: JSON, form, multipart, text/XML, query, path, headers.

Each walker decodes before matching (percent-encoding, "+", JSON escapes, XML
entities), replaces only the sensitive value in place and leaves every other byte
as it was. ``Run`` collects per-exchange counts and redaction locations.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from typing import Any
from urllib.parse import quote, quote_plus, unquote, unquote_plus

from ext_proc_server.sanitize.detectors import (
    Hit,
    Scanner,
    classify_key,
    header_class,
    is_jwt,
    scheme_prefix_end,
)
from ext_proc_server.sanitize.pseudonym import TOKEN_VALUES, Replacer

_ESCAPE = re.compile(
    r"%[0-9A-Fa-f]{2}|&(?:#[0-9]{1,7}|#[xX][0-9A-Fa-f]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});"
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
_JSON_STRING = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_JSON_SCALAR = rf"({_JSON_STRING})|(-?[0-9][0-9.eE+-]*)|(true|false|null)|([\[{{])"
# One match per object member ("key": value) or array item: groups 1-5 a member (key,
# string, number, literal, opener), 6-9 an item, 10 a closer.
_JSON_TOKEN = re.compile(
    rf'"([^"\\]*(?:\\.[^"\\]*)*)"\s*:\s*(?:{_JSON_SCALAR})|{_JSON_SCALAR}|([\]}}])'
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
        self.counts: Counter[str] = Counter()
        self.locations: set[str] = set()

    def child(self) -> Run:
        return Run(self.scanner, self.replacer)

    def merge(self, other: Run) -> None:
        self.counts.update(other.counts)
        self.locations.update(other.locations)

    def replace(self, cls: str, value: str, fixed: str | None = None) -> str:
        self.counts[cls] += 1
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
        if "%" not in raw and not (plus and "+" in raw):
            return self.scrub(raw)
        fresh = raw
        if "%" in raw or "+" in raw:
            try:
                decoded = unquote(raw, errors="strict")
            except UnicodeDecodeError:
                decoded = unquote(raw, encoding="latin-1")
            cleaned = self.scrub(decoded)
            if cleaned != decoded:
                fresh = quote(cleaned, safe=safe + ("+" if plus else ""))
        if plus and "+" in fresh:
            decoded = unquote_plus(fresh)
            cleaned = self.scrub(decoded)
            if cleaned != decoded:
                fresh = quote_plus(cleaned, safe=safe)
        return fresh


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


def _pointer(stack: list[list[Any]]) -> str:
    parts = []
    for frame in stack:
        part = str(frame[1]) if frame[0] else _json_text(frame[1])
        parts.append(part.replace("~", "~0").replace("/", "~1"))
    return "/" + "/".join(parts) if parts else ""


def sanitize_json(run: Run, text: str, where: str) -> str | None:
    """Edit a JSON document at each sensitive value's span; None if it is not JSON."""
    hits, key_seen = run.scanner.find_with_keys(text)
    encoded = _MAYBE_ENCODED.search(text) is not None
    if not hits and not key_seen and not encoded:
        return text
    try:
        json.loads(text)
    except ValueError:
        return None
    edits: list[tuple[int, int, str]] = []
    # Frames: [is_array, current raw key or index, class inherited by array items].
    stack: list[list[Any]] = []
    hit_index = 0
    hit_count = len(hits)
    for m in _JSON_TOKEN.finditer(text):
        kind = m.lastindex
        if kind == 10:  # ] or }
            stack.pop()
            continue
        cls: str | None = None
        if kind <= 5:  # "key": value
            frame = stack[-1]
            raw_key = m.group(1)
            frame[1] = raw_key
            if key_seen or "\\" in raw_key:
                cls = classify_key(_json_text(raw_key))
            if encoded or (hit_index < hit_count and hits[hit_index].start < m.end(1)):
                _json_key(run, m, hits, hit_index, edits, stack, where)
        elif stack:
            frame = stack[-1]
            frame[1] += 1
            cls = frame[2]
        if kind == 5 or kind == 9:  # opens a container
            stack.append([True, -1, cls] if m.group(kind) == "[" else [False, None, None])
            continue
        if kind == 4 or kind == 8:  # true, false, null
            continue
        start, end = m.span(kind)
        while hit_index < hit_count and hits[hit_index].end <= start:
            hit_index += 1
        overlaps = hit_index < hit_count and hits[hit_index].start < end
        if cls is None and not overlaps and not encoded:
            continue
        token = m.group(kind)
        fresh = token
        if kind == 2 or kind == 6:  # a string
            if cls is not None:
                value = _json_text(token[1:-1])
                if value and not _is_token(value):
                    fresh = _quoted_json(run.whole(cls, value))
            elif encoded and _MAYBE_ENCODED.search(token):
                fresh = _scrub_json_string(run, token)
            elif overlaps:
                fresh = _apply_inside(run, text, start, end, hits, hit_index)
        elif cls is not None:  # a number under a secret name
            fresh = _quoted_json(run.replace(cls, token))
        elif overlaps:
            found = run.scanner.find(token)
            if found:
                # A sensitive number becomes a quoted token: never a float round trip.
                fresh = _quoted_json(run.replace(found[0].cls, token, found[0].fixed))
        if fresh != token:
            edits.append((start, end, fresh))
            run.locations.add(f"{where}.json:{_pointer(stack)}")
    if not edits:
        return text
    edits.sort()
    out = []
    last = 0
    for start, end, fresh in edits:
        out.append(text[last:start])
        out.append(fresh)
        last = end
    out.append(text[last:])
    return "".join(out)


def _apply_inside(run: Run, text: str, start: int, end: int, hits: list[Hit], index: int) -> str:
    """A plain JSON string (no escapes): use the document's findings inside its quotes."""
    inside = []
    while index < len(hits) and hits[index].start < end:
        hit = hits[index]
        if hit.start <= start or hit.end >= end:  # crosses a quote: look at it alone
            return _scrub_json_string(run, text[start:end])
        inside.append(hit)
        index += 1
    out = ['"']
    last = start + 1
    for hit in inside:
        out.append(text[last : hit.start])
        out.append(run.replace(hit.cls, text[hit.start : hit.end], hit.fixed))
        last = hit.end
    out.append(text[last:end])
    return _quoted_json("".join(out)[1:-1]) if len(out) > 1 else text[start:end]


def _json_text(raw: str) -> str:
    """The decoded content of a JSON string (without its quotes)."""
    return json.loads(f'"{raw}"') if "\\" in raw else raw


def _json_key(
    run: Run,
    m: re.Match[str],
    hits: list[Hit],
    hit_index: int,
    edits: list[tuple[int, int, str]],
    stack: list[list[Any]],
    where: str,
) -> None:
    """Object keys can hold data too ({"ana@x.com": 3}): scrub them in place."""
    start, end = m.start(1) - 1, m.end(1) + 1
    while hit_index < len(hits) and hits[hit_index].end <= start:
        hit_index += 1
    overlaps = hit_index < len(hits) and hits[hit_index].start < end
    token = text_token = m.string[start:end]
    if not overlaps and not _MAYBE_ENCODED.search(text_token):
        return
    fresh = _scrub_json_string(run, token)
    if fresh != token:
        edits.append((start, end, fresh))
        run.locations.add(f"{where}.json:{_pointer(stack[:-1])}")


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
    changed = False
    offset = 0
    hit_index = 0
    for i, field in enumerate(fields):
        start, end = offset, offset + len(field)
        offset = end + 1
        while hit_index < len(hits) and hits[hit_index].end <= start:
            hit_index += 1
        overlaps = hit_index < len(hits) and hits[hit_index].start < end
        raw_name, eq, raw_value = field.partition("=")
        cls = None
        if "%" in raw_name or "+" in raw_name:
            cls = classify_key(unquote_plus(raw_name))
        elif key_seen:
            cls = classify_key(raw_name)
        if cls is None and not overlaps and "%" not in field and "+" not in field:
            continue
        fresh_name = run.scrub_url_value(raw_name, plus=True)
        if cls is not None:
            value = unquote_plus(raw_value)
            if value and not _is_token(value):
                fresh = quote_plus(run.whole(cls, value))
            else:
                fresh = raw_value
        else:
            fresh = run.scrub_url_value(raw_value, plus=True)
        if fresh != raw_value or fresh_name != raw_name:
            fields[i] = fresh_name + eq + fresh
            changed = True
            run.locations.add(f"{where}.form.{unquote_plus(fresh_name)}")
    return "&".join(fields) if changed else text


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
                run.counts.update(part_run.counts)
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
        fresh = _header_value(run, name.lower(), value, where)
        if fresh != value:
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
        return run.scrub(pair)
    stripped = value.strip().strip('"')
    if not stripped or _is_token(stripped):
        return pair
    cls = "jwt" if is_jwt(stripped) else "cookie"
    return f"{name}={run.replace(cls, stripped)}"
