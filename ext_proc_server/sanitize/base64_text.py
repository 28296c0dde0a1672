"""Text written in base64 inside a body, sanitized and written back: a Kubernetes
Secret's ``data`` (``"cpf": "NTI5Ljk4Mi4yNDctMjU="``), an uploaded CSV in a JSON field,
a MIME part (``Content-Transfer-Encoding: base64``, lines of 76 characters), GitHub's
contents API (lines of 60, joined by ``\\n`` escapes), a document that opens with a
byte order mark. ``base64_json`` reads base64 of a JSON document that opens as services
write one; this module reads the rest of what decodes to text.

Which tokens are decoded: runs of 12 characters and more ending in padding (most
encoders pad), and unpadded runs of 16 and more in a text that says ``base64`` (a MIME
part, a data URI, GitHub's contents), is a Kubernetes Secret or holds a byte order
mark's ``77u/``; never a run that is all lower case, all upper case or all digits (hex
ids, words, numbers). A token whose bytes are not UTF-8 text (a hash, a signature, an
image) is left as it is, as is one whose text holds nothing to replace; one whose text
changed is written back with its padding, line width and line breaks.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import re
import zlib

from ext_proc_server.core.errors import DecodedTooLarge
from ext_proc_server.sanitize import base64_codec, base64_json, delimited, fields
from ext_proc_server.sanitize.form_text import form_text_hits
from ext_proc_server.sanitize.json_body import nested_json
from ext_proc_server.sanitize.json_markup import xml_hits
from ext_proc_server.sanitize.run import Run
from ext_proc_server.sanitize.urls import with_url_fields
from ext_proc_server.sanitize.xml_structure import outside_structure, scrub_keeping_structure

_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
_BOM = "\ufeff"
_BOM_BASE64 = "77u/"  # a byte order mark's three bytes, in base64
# gzip's magic and method (1f 8b 08) in base64: SEFAZ's distribution web services answer
# each NF-e, CT-e or event as a gzipped XML in base64 (``<docZip>H4sIAAAA...</docZip>``).
_GZIP_BASE64 = "H4sI"
_GZIP_MAGIC = b"\x1f\x8b\x08"
# Each byte as its class: a base64 character "a", padding "=", anything else " ", so C
# substring searches find the runs (a regex over the text cost several times more).
_CLASSES = bytes(
    ord("a") if chr(b) in _ALPHABET else ord("=") if b == ord("=") else ord(" ") for b in range(256)
)
_UNPADDED_RUN = b"a" * 16  # unpadded, where base64 is declared: 16 characters and more
_CASE_PREFIX_CHARS = 64  # base64 of text mixes cases and digits well before this
_PADDED_RUN = b"a" * 12 + b"="  # padded: 12 and more, then "=" or "=="
# Any token, its lines joined by line breaks (raw, or escaped in a JSON string).
_WRAPPED = re.compile(r"[A-Za-z0-9+/]{12,}(?:(?:\r?\n|\\r\\n|\\n)[A-Za-z0-9+/]+)*={0,2}")
_MIN_CHARS = 16
_LINE_BEFORE = re.compile(r"[A-Za-z0-9+/]{4,}\Z")
_MAX_LINE_CHARS = 200
# What may not sit right before or after a token: it would be part of a longer word.
_EDGE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-%.")
_BREAKS = re.compile(r"\r\n|\n|\\r\\n|\\n")
_KEY_BEFORE = re.compile(r"[\"']?([A-Za-z_][\w.-]{0,63})[\"']?[ \t]*[:=][ \t]*[\"']?\Z")
# Text: no control character but tab and line breaks.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def rewrap(run: Run, text: str) -> str:
    """``text`` with every base64 text in it sanitized; the same object when none changed."""
    # C searches rule most texts out before a byte is mapped: padding needs "=" (memchr);
    # unpadded runs are read where the text says base64 ("base64", "Base64": a MIME
    # part, a data URI, GitHub's contents), is a Kubernetes Secret (every data value is
    # base64) or holds base64 of a byte order mark.
    padded = "=" in text
    unpadded = says_base64(text)
    if len(text) < _MIN_CHARS or not (padded or unpadded):
        return text
    raw = text.encode("ascii", "replace")  # one byte per character: the same offsets
    classes = raw.translate(_CLASSES)
    patterns = [_UNPADDED_RUN] if unpadded and _UNPADDED_RUN in classes else []
    if padded and b"a=" in classes and _PADDED_RUN in classes:  # "a=": a short search
        patterns.append(_PADDED_RUN)
    if not patterns:
        return text
    spans = _candidates(text, raw, classes, tuple(patterns))
    if not spans:
        return text
    edits: list[tuple[int, int, str]] = []
    last = 0
    for start, end in spans:
        if start < last:
            continue  # inside a token read already (its first line's span came first)
        fresh = _rewritten(run, text, start, end)
        if fresh is not None:
            edits.append((start, end, fresh))
            last = end
    if not edits:
        return text
    pieces = []
    last = 0
    for start, end, fresh in edits:
        pieces += (text[last:start], fresh)
        last = end
    return "".join([*pieces, text[last:]])


# The words that open a text's unpadded runs to decoding.
UNPADDED_WORDS = ("ase64", "Secret", _BOM_BASE64, _GZIP_BASE64)


def says_base64(text: str) -> bool:
    """Whether ``text`` holds one of the words (``base64``, ``Secret``, base64 of a byte
    order mark or of gzip's magic). Each word is searched for only in a text holding its
    rarer character: one character is a memchr, several times cheaper than the search
    for a word, which reads every byte."""
    return (
        ("6" in text and "ase64" in text)
        or ("S" in text and "Secret" in text)
        or ("/" in text and _BOM_BASE64 in text)
        or ("H" in text and _GZIP_BASE64 in text)
    )


def _candidates(
    text: str, raw: bytes, classes: bytes, patterns: tuple[bytes, ...]
) -> list[tuple[int, int]]:
    """Where tokens worth decoding are, in order: each run long enough, padded or of
    mixed case (hex ids, numbers and words are not base64), from the first line of a
    wrapped token it may end (and alone: a line of text before it fails to decode)."""
    spans: list[tuple[int, int]] = []
    for pattern in patterns:
        at = classes.find(pattern)
        while at >= 0:
            end = classes.find(b" ", at)
            end = len(classes) if end < 0 else end
            pad = classes.find(b"=", at, end)
            end = end if pad < 0 else pad
            start = max(classes.rfind(b" ", 0, at), classes.rfind(b"=", 0, at)) + 1
            found = raw[start : min(end, start + _CASE_PREFIX_CHARS)]
            if pad >= 0 or not (found.islower() or found.isupper() or found.isdigit()):
                for first in {start, _wrapped_start(text, start)}:
                    m = _WRAPPED.match(text, first)
                    if m is not None:
                        spans.append(_even_lines(text, *m.span()))
            at = classes.find(pattern, end)
    spans = sorted(set(spans))
    return [(s, e) for s, e in spans if _bounded(text, s, e) and e - s >= _MIN_CHARS]


def _wrapped_start(text: str, start: int) -> int:
    """The first line of a wrapped token whose line starts at ``start``."""
    while True:
        for brk in ("\r\n", "\n", "\\r\\n", "\\n"):
            if text.endswith(brk, 0, start):
                line_end = start - len(brk)
                m = _LINE_BEFORE.search(text, max(0, line_end - _MAX_LINE_CHARS), line_end)
                if m is not None:
                    start = start - len(brk) - len(m.group())
                    break
        else:
            return start


def _even_lines(text: str, start: int, end: int) -> tuple[int, int]:
    """A wrapped token's span: its lines are as wide as the first but the last (a word
    on the next line is not part of it)."""
    breaks = list(_BREAKS.finditer(text, start, end))
    if not breaks:
        return start, end
    width = breaks[0].start() - start
    line_start = breaks[0].end()
    for brk in breaks[1:]:
        if brk.start() - line_start != width:
            return start, brk.start()
        line_start = brk.end()
    if end - line_start > width or (end - start - sum(len(b.group()) for b in breaks)) % 4:
        return start, breaks[-1].start()  # the last "line" is a word after the token
    return start, end


def _bounded(text: str, start: int, end: int) -> bool:
    return (not start or text[start - 1] not in _EDGE) and (
        end >= len(text) or text[end] not in _EDGE
    )


def _rewritten(run: Run, text: str, start: int, end: int) -> str | None:
    """The token with its text sanitized, written as it was; None when it is not
    base64 of text or nothing in it changed."""
    token = text[start:end]
    clean_key = ("base64_text", token)
    if run.scanner.known_clean(clean_key):
        return None
    breaks = _BREAKS.findall(token)
    joined = _BREAKS.sub("", token)
    try:
        data = base64.b64decode(joined, validate=True)
        gzipped = data.startswith(_GZIP_MAGIC)
        decoded = (_gunzipped(data) if gzipped else data).decode("utf-8")
    except (binascii.Error, ValueError, zlib.error):
        run.scanner.remember_clean(clean_key)
        return None
    bom = decoded.startswith(_BOM)
    document = decoded[1:] if bom else decoded
    if not document.strip() or _CONTROL.search(document):
        run.scanner.remember_clean(clean_key)
        return None
    fresh = _sanitized(run, document, _key_before(text, start))
    if fresh == document:
        run.scanner.remember_clean(clean_key)
        return None
    fresh_data = ((_BOM if bom else "") + fresh).encode("utf-8")
    if gzipped:  # no timestamp: the same document is written the same way each time
        fresh_data = gzip.compress(fresh_data, mtime=0)
    encoded = base64.b64encode(fresh_data).decode("ascii")
    if len(joined) % 4:  # written without its padding
        encoded = encoded.rstrip("=")
    return _wrapped(encoded, token, breaks)


def _sanitized(run: Run, document: str, key: str | None) -> str:
    """The decoded text sanitized as what it is: a JSON document, a table with a
    header row, ``name=value`` pairs, the value of a field its key names, or text."""
    if key is not None:
        cls = fields.builtin_verdict(fields.ROOT, key)
        if cls is not None and (
            type(cls) is not fields.Verdict or fields.value_fits(cls, document)
        ):
            return run.whole(fields.resolved(cls), document)
    opening = document.lstrip()[:1]
    if opening in ("{", "["):
        fresh = nested_json(run, document)
        if fresh is not None:
            return fresh
    if opening == "<":  # a SAML assertion, a SOAP message: elements read by name
        hits, _ = run.scanner.find_with_keys(document)
        kept = outside_structure(document, xml_hits(run, document, hits))
        return scrub_keeping_structure(run, document, kept)
    if delimited.reads_as_table(document):
        table = delimited.sanitize_delimited(run, document)
        if table is not None:
            return table
    in_pairs = form_text_hits(run, document)  # "nome=Maria Souza&cpf=...": read by name
    if in_pairs:
        return run.scrub(document, with_url_fields(run.scanner.find(document), in_pairs))
    return run.scrub(document)


def _key_before(text: str, start: int) -> str | None:
    """The key naming a token that is a field's whole value (``"cpf": "NTI5..."``,
    ``cpf: NTI5...``), or None."""
    m = _KEY_BEFORE.search(text, max(0, start - 80), start)
    return m.group(1) if m is not None else None


def _wrapped(encoded: str, token: str, breaks: list[str]) -> str:
    """``encoded`` in lines as wide as ``token``'s, with its line breaks."""
    if not breaks:
        return encoded
    width = len(_BREAKS.split(token, 1)[0])
    lines = [encoded[i : i + width] for i in range(0, len(encoded), width)]
    brk = breaks[0]
    return brk.join(lines)


# A whole header, query or form value: 16 characters at least (12 bytes), as for JSON.
_VALUE_MIN_CHARS = 16
# SAML's HTTP-Redirect binding deflates its message before base64 (SAML Bindings 3.4.4);
# what one may inflate to (a bomb stops there and is left to the other detectors).
_DEFLATED_NAMES = frozenset({"samlrequest", "samlresponse"})
_MAX_INFLATED_BYTES = 1 << 20


def rewrap_value(run: Run, value: str, name: str = "") -> str:
    """A header, query or form value that is base64 or base64url of text (a JSON
    document, an XML assertion, ``name;cpf;e-mail``), sanitized and written back as it
    came (alphabet, padding, percent-escapes); ``value`` itself when it is none or
    nothing in it changed. ``name``: the parameter's, lowered (SAML's deflated ones)."""
    if len(value) < _VALUE_MIN_CHARS or not base64_codec.may_be_token(value):
        return value  # a user agent, a URL, prose: no decoding, nothing remembered
    if value.startswith(base64_json.OPENINGS):
        return value  # base64 of JSON, read by base64_json (a cursor is not decoded twice)
    clean_key = ("base64_value", value)
    if run.scanner.known_clean(clean_key):
        return value
    found = base64_codec.read(value, min_chars=_VALUE_MIN_CHARS)
    deflated = False
    text = None if found is None else base64_codec.text_of(found[0])
    if found is not None and text is None and name in _DEFLATED_NAMES:
        text = _inflated(found[0])
        deflated = text is not None
    if found is None or text is None:
        run.scanner.remember_clean(clean_key)
        return value
    fresh = _sanitized(run, text, None)
    if fresh == text:
        run.scanner.remember_clean(clean_key)
        return value
    data = fresh.encode("utf-8")
    if deflated:
        packer = zlib.compressobj(wbits=-15)
        data = packer.compress(data) + packer.flush()
    return base64_codec.write(data, found[1])


def _gunzipped(data: bytes) -> bytes:
    """A gzip member's bytes; ``zlib.error`` when it is not one whole member,
    ``DecodedTooLarge`` when it inflates past _MAX_INFLATED_BYTES (it may hold anything,
    and what cannot be read is not stored)."""
    unpacker = zlib.decompressobj(wbits=31)
    inflated = unpacker.decompress(data, _MAX_INFLATED_BYTES)
    if unpacker.unconsumed_tail:
        raise DecodedTooLarge(f"a gzipped base64 token inflates past {_MAX_INFLATED_BYTES} bytes")
    if not unpacker.eof:
        raise zlib.error("not one whole gzip member")
    return inflated


def _inflated(data: bytes) -> str | None:
    unpacker = zlib.decompressobj(wbits=-15)
    try:
        inflated = unpacker.decompress(data, _MAX_INFLATED_BYTES)
    except zlib.error:
        return None
    if unpacker.unconsumed_tail or not unpacker.eof:
        return None
    return base64_codec.text_of(inflated)
