"""The charset a text body is written in, and how to read and write it back byte for byte.

A body is read in its declared charset, found the way browsers and XML parsers find it:
a byte order mark first, then the ``charset=`` of Content-Type, then the XML declaration
(``<?xml ... encoding="ISO-8859-1"?>``), then an HTML ``<meta charset>`` in the first
1024 bytes. Nothing declared means UTF-8; a body that is not UTF-8 and declares nothing
is not guessed at. The sanitized text is written back in the same charset, so only the
replaced values change; a replacement the charset cannot hold is transliterated
(accents dropped) rather than written as bytes the reader would misread.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

UNDECLARED = "charset_undeclared"
UNSUPPORTED = "charset_unsupported"
MISMATCH = "charset_mismatch"

# Byte order marks, longest first (UTF-32LE starts like UTF-16LE).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_BOM_FIRST_BYTES = frozenset(bom[0] for bom, _ in _BOMS)

# Python codec names this module reads and writes. Stateful encodings (ISO-2022-*,
# UTF-7) are left out: a replacement can change the shift state of what follows it.
_SINGLE_BYTE = frozenset(
    {f"iso8859-{n}" for n in (*range(1, 12), *range(13, 17))}
    | {f"cp{n}" for n in range(1250, 1259)}
    | {"ascii", "koi8-r", "koi8-u", "mac-roman", "cp437", "cp850", "cp866", "cp874", "tis-620"}
)
_MULTI_BYTE = frozenset(
    {"shift_jis", "cp932", "euc_jp", "gb2312", "gbk", "gb18030", "big5", "big5hkscs", "euc_kr"}
    | {"cp949"}
)
# UTF-16 and UTF-32 need a byte order: a BOM, or a label that names it.
_UNICODE = frozenset({"utf-8", "utf-16-le", "utf-16-be", "utf-32-le", "utf-32-be"})
# WHATWG labels Python does not know.
_ALIASES = {
    "windows-31j": "cp932",
    "x-sjis": "cp932",
    "windows-874": "cp874",
    "x-mac-roman": "mac-roman",
    "latin-9": "iso8859-15",
    "x-gbk": "gbk",
}
# Browsers read these labels as windows-1252 (WHATWG Encoding), and servers that send them
# often mean it: read as windows-1252 when the bytes are valid in it, else as the label says.
_READ_AS_1252 = frozenset({"iso8859-1", "ascii"})

_HEADER_CHARSET = re.compile(r";\s*charset\s*=\s*[\"']?\s*([^\"';\s]+)", re.IGNORECASE)
_XML_DECLARATION = re.compile(
    rb"<\?xml\s[^>]{0,200}?encoding\s*=\s*[\"']([A-Za-z][A-Za-z0-9._:-]{0,40})[\"']"
)
_HTML_META = re.compile(
    rb"<meta\s[^>]{0,500}?charset\s*=\s*[\"']?\s*([A-Za-z0-9._:-]{1,40})", re.IGNORECASE
)
_HTML_PRESCAN_BYTES = 1024


@dataclass(frozen=True, slots=True)
class Charset:
    """How one body's bytes become text and back.

    ``codec`` reads and writes the bytes; ``label`` is the charset a reader of the body
    expects (they differ only for ISO-8859-1 and US-ASCII read as windows-1252).
    """

    codec: str
    label: str
    bom: bytes = b""

    @property
    def is_utf8(self) -> bool:
        return self.codec == "utf-8"

    def decode(self, body: bytes, *, truncated: bool = False) -> str:
        """Strict; a truncated body may end inside a character, which is left out."""
        data = body[len(self.bom) :]
        if truncated:
            return codecs.getincrementaldecoder(self.codec)().decode(data, final=False)
        return data.decode(self.codec)

    def encode(self, text: str) -> bytes:
        return self.bom + text.encode(self.codec)

    def fit(self, value: str) -> str:
        """``value`` with every character the body cannot hold transliterated."""
        if value.isascii() or self.codec.startswith("utf-"):
            return value
        return "".join(_fitted(ch, self.codec, self.label) for ch in value)


# A body read as text: (text, charset, ""), or (None, None, why it could not be). A plain
# tuple: a NamedTuple costs more than the UTF-8 decode of a typical body.
Reading = tuple[str | None, Charset | None, str]

UTF8 = Charset("utf-8", "utf-8")


def read_text(
    body: bytes, content_type_header: str, media_type: str, *, truncated: bool = False
) -> Reading:
    """Decode a text body in its charset; ``reason`` says why not (one of UNDECLARED,
    UNSUPPORTED, MISMATCH)."""
    charset = _bom_charset(body) if body and body[0] in _BOM_FIRST_BYTES else None
    if charset is None:
        label = _header_label(content_type_header) if content_type_header else None
        if label is None and (body[:5] == b"<?xml" or "html" in media_type):
            label = _document_label(body, media_type)
        if label is not None:
            charset = charset_for(label)
            if charset is None:
                return None, None, UNSUPPORTED
    if charset is None or charset is UTF8:
        # The usual case: UTF-8, declared or not, without a BOM.
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return _read_cut(body, charset or UTF8, truncated, declared=charset is not None)
        if "\x00" in text:
            return None, None, UNDECLARED if charset is None else MISMATCH
        return text, UTF8, ""
    try:
        text = charset.decode(body, truncated=truncated)
    except UnicodeDecodeError:
        if charset.codec != "cp1252" or charset.label == "cp1252":
            return None, None, MISMATCH
        charset = Charset(charset.label, charset.label)
        try:
            text = charset.decode(body, truncated=truncated)
        except UnicodeDecodeError:
            return None, None, MISMATCH
    if "\x00" in text or not _round_trips(charset, text, body, truncated=truncated):
        # NULs in text mean another charset (UTF-16 read as one byte per character):
        # every detector would miss what it holds.
        return None, None, MISMATCH
    return text, charset, ""


def _read_cut(body: bytes, charset: Charset, truncated: bool, *, declared: bool) -> Reading:
    """UTF-8 that did not decode: a body cut inside a character, or not UTF-8 at all."""
    failed: Reading = (None, None, MISMATCH if declared else UNDECLARED)
    if not truncated:
        return failed
    try:
        text = charset.decode(body, truncated=True)
    except UnicodeDecodeError:
        return failed
    return failed if "\x00" in text else (text, charset, "")


def _round_trips(charset: Charset, text: str, body: bytes, *, truncated: bool) -> bool:
    """Whether the text writes back to the same bytes (single-byte codecs always do)."""
    if charset.codec in _SINGLE_BYTE:
        return True
    encoded = charset.encode(text)
    return encoded == body or (truncated and body.startswith(encoded))


def declared_label(body: bytes, content_type_header: str, media_type: str) -> str | None:
    """The charset label the body declares (Content-Type, XML declaration, HTML meta)."""
    label = _header_label(content_type_header) if content_type_header else None
    return label if label is not None else _document_label(body, media_type)


def _document_label(body: bytes, media_type: str) -> str | None:
    if body.startswith(b"<?xml"):
        found = _XML_DECLARATION.match(body)
        if found:
            return found.group(1).decode("ascii")
    if "html" in media_type:
        found = _HTML_META.search(body, 0, _HTML_PRESCAN_BYTES)
        if found:
            return found.group(1).decode("ascii")
    return None


@lru_cache(maxsize=256)
def _header_label(content_type_header: str) -> str | None:
    found = _HEADER_CHARSET.search(content_type_header)
    return found.group(1) if found else None


@lru_cache(maxsize=256)
def charset_for(label: str) -> Charset | None:
    """The Charset of a declared label, or None when it is not one mockado writes back."""
    name = label.strip().lower()
    name = _ALIASES.get(name, name)
    try:
        codec = codecs.lookup(name).name
    except LookupError:
        return None
    if codec == "utf-8":
        return UTF8
    if codec in _READ_AS_1252:
        return Charset("cp1252", codec)
    if codec in _SINGLE_BYTE or codec in _MULTI_BYTE or codec in _UNICODE:
        return Charset(codec, codec)
    return None


def _bom_charset(body: bytes) -> Charset | None:
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return Charset(codec, codec, bom)
    return None


@lru_cache(maxsize=4096)
def _fitted(ch: str, codec: str, label: str) -> str:
    if _holds(ch, codec, label):
        return ch
    plain = "".join(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
    if plain and all(_holds(c, codec, label) for c in plain):
        return plain
    return "?"


def _holds(ch: str, codec: str, label: str) -> bool:
    """Whether ``ch`` is written the same by the codec and by the label's own charset."""
    try:
        written = ch.encode(codec)
        return codec == label or written == ch.encode(label)
    except UnicodeEncodeError:
        return False
