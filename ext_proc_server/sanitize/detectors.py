"""Find sensitive values in one string: by context (field names) and by validated shape.

Every pattern is compiled once in :class:`Scanner`. Cheap literal checks ("@", "eyJ",
a long digit run, a keyword followed by a separator) gate each detector, and a
real validator (Luhn, CPF/CNPJ check digits, phonenumbers, JWT header) decides.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from typing import NamedTuple

import re2

from ext_proc_server.sanitize import brcode, card_holders, field_probe, personal_text
from ext_proc_server.sanitize import validators as v
from ext_proc_server.sanitize.dfa import WordGate, compile_dfa
from ext_proc_server.sanitize.field_probe import FieldProbe
from ext_proc_server.sanitize.fields import FieldRules
from ext_proc_server.sanitize.hits import Hit, resolve
from ext_proc_server.sanitize.national_phones import find_national_phones
from ext_proc_server.sanitize.numbers import (
    INTERNATIONAL_PROBE,
    RUN_PROBE,
    find_alnum_cnpjs,
    find_numbers,
)
from ext_proc_server.sanitize.secret_keys import classify_key, is_no_secret_by_shape

# -- patterns --------------------------------------------------------------------

_B = "0-9A-Za-z_"  # word characters, ASCII only
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{2,}(?:\.[A-Za-z0-9_-]*){2,4}")
_JWT_EDGE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
# Labels in any script (IDN: "müller.de", "café.com.br") under a top-level domain in one
# script (ASCII, or none of it); else an ASCII domain that a non-ASCII letter may end
# (text read as latin-1: "x.com" then "\xed\xa0").
_ASCII_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_LABEL = r"[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?"
_TOP_LABEL = r"(?:[A-Za-z]{2,24}|(?:(?![A-Za-z])[^\W\d_]){2,24})"
_EMAIL_DOMAIN = re.compile(
    rf"@({_LABEL}(?:\.{_LABEL})*\.{_TOP_LABEL}(?![^\W_]|-|\.[^\W_])"
    rf"|{_ASCII_LABEL}(?:\.{_ASCII_LABEL})*\.[A-Za-z]{{2,24}}(?![A-Za-z0-9-]|\.[A-Za-z0-9]))"
)
# logo@2x.png is an asset name, not an address.
_FILE_EXTENSIONS = frozenset(
    {"png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "tif", "tiff", "avif", "heic",
     "css", "js", "mjs", "map", "json", "pdf", "woff", "woff2", "ttf", "mp4", "webm"}
)  # fmt: skip
# A label that is a scale factor (2x, 3x): labels hold no dots, so "1.5x" spans two.
_SCALE_LABEL = re.compile(r"(?:^|\.)[0-9]+x(?:\.|$)")
# The local part: letters and digits in any script ("joão", "conceição"), "_", ".",
# "%", "+" and "-".
_LOCAL_REVERSED = re.compile(r"[\w.%+-]*")
_USERINFO = re.compile(r"//([^\s/@:\"'<>?#]*):([^\s/@\"'<>?#]+)@")
_USER_ONLY = re.compile(r"//([^\s/@:\"'<>?#]{8,})@(?=[A-Za-z0-9.-]+(?:[:/?#]|$))")

# because sre scans a shared-prefix alternation much faster than a flat one.
_WORDS_TRIE = (
    r"(?:p(?:ass|wd|in)|s(?:enha|ecret|ess|i[gd])|token|key|auth|bearer"
    r"|c(?:redential|v[vc]|ookie)|jwt|otp|hmac)"
)
_KV_PRE = re.compile(_WORDS_TRIE + r"[a-z0-9_.-]*[\"']?[ \t]*[:=]")
# XML start tags with such a name: <password>, <wsse:Password Type="...">.
_XML_PRE = re.compile(r"<(?:[a-z0-9_.-]+:)?[a-z0-9_.-]*?" + _WORDS_TRIE)


class _Probes(NamedTuple):
    """Cheap over-approximations of the context detectors, on ASCII-lowered bytes ("?"
    stands for non-ASCII). Every one needs a secret-ish word, so one search for the
    words gates them all; then a word followed by ":"/"=" (the name may run on to the
    end of the line or field), or an XML tag naming one. ``kv``/``xml`` are _KV_PRE and
    _XML_PRE for an ASCII text's lowered bytes (same offsets)."""

    words: re.Pattern[bytes] | re2._Regexp
    kv_probe: re.Pattern[bytes] | re2._Regexp
    xml_probe: re.Pattern[bytes] | re2._Regexp
    kv: re.Pattern[bytes] | re2._Regexp
    xml: re.Pattern[bytes] | re2._Regexp


_WORDS_TRIE_BYTES = _WORDS_TRIE.encode()
_KV_PRE_BYTES = _KV_PRE.pattern.encode()
_XML_PRE_BYTES = _XML_PRE.pattern.encode()
_XML_PROBE = rb"<[a-z0-9_.:?-]*?(?:" + _WORDS_TRIE_BYTES + rb")"
# Short texts (header values, fields) with sre: RE2's per-call cost outweighs its scan.
SHORT_PROBES = _Probes(
    re.compile(_WORDS_TRIE_BYTES),
    re.compile(rb"(?:" + _WORDS_TRIE_BYTES + rb")[^\"\n:=&]*+[\"']?\s*[:=]"),
    re.compile(_XML_PROBE),
    re.compile(_KV_PRE_BYTES),
    re.compile(_XML_PRE_BYTES),
)
LONG_PROBES = _Probes(
    compile_dfa(_WORDS_TRIE_BYTES),
    # The same match starts as sre's possessive "*+" (which only spares sre backtracking);
    # "\s" spelled out, as RE2's lacks "\v".
    compile_dfa(rb"(?:" + _WORDS_TRIE_BYTES + rb")[^\"\n:=&]*[\"']?[ \t\n\r\f\v]*[:=]"),
    compile_dfa(_XML_PROBE),
    compile_dfa(_KV_PRE_BYTES),
    compile_dfa(_XML_PRE_BYTES),
)
LONG_TEXT_CHARS = 256
# One pass tells which word families a text holds (secret-ish words, personal cues in
# free text, personal field names): most texts need only one or two of the detectors
# they gate, or none.
# The same pass answers the literal checks a long text would otherwise scan for one by
# one ("//", "eyJ", "basic": ~1k instructions per KiB each) and gates the digit-run search.
(
    _SECRET_WORDS,
    _PERSONAL_CUES,
    _FIELD_WORDS,
    _OTHER_FIELD_WORDS,
    _SLASHES,
    _JWT_START,
    _BASIC,
    _NUMBER_RUN,
    _INTERNATIONAL,
) = range(9)
GATE_PATTERNS = (
    _WORDS_TRIE_BYTES,
    personal_text.ANY_CUE,
    field_probe.WORDS,
    field_probe.OTHER_KEY_WORDS,
    b"//",
    b"eyj",  # lowered "eyJ"
    b"basic",
    RUN_PROBE,
    INTERNATIONAL_PROBE,
)
_GATE = WordGate(GATE_PATTERNS)
# One match per form field ("&"-separated) holding a secret-ish word.
FIELD_WITH_WORD_DFA = compile_dfa(rb"[^&]*?(?:" + _WORDS_TRIE_BYTES + rb")[^&]*")
_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
_KEY_REST = re.compile(r"[A-Za-z0-9_.-]*")
_DQ_VALUE = re.compile(r'"((?:[^"\\\r\n]|\\.)*)"')
_SQ_VALUE = re.compile(r"'([^'\r\n]*)'")
_BARE_VALUE = re.compile(r"[^\s&;,\"'<>(){}\[\]]+")
_XML_NS_OPEN = re.compile(r"<[A-Za-z_][A-Za-z0-9_.-]*:\Z")
_SCHEME_PREFIX = re.compile(
    r"(?i)(?:bearer|basic|digest|token|negotiate|ntlm|hoba|mutual|dpop|aws4-hmac-sha256)[ \t]+"
)
_AUTH_AT = re.compile(r"(?i:bearer|basic|token)[ \t]+([A-Za-z0-9._~+/=-]{8,})")
# "=" and "==": base64 padding after a run that reads as a key ("...PinQ=="), not a value.
_NOT_VALUES = frozenset({"", "=", "==", "true", "false", "null", "none", "undefined"})
_TOKEN_PREFIX = "SANITIZED_"  # noqa: S105 - our own replacement tokens
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


_CLEAN_CACHE_MAX_CHARS = 256
_CLEAN_CACHE_SIZE = 4096


class Scanner:
    """Every detector, compiled once. ``find`` is pure and thread-safe."""

    def __init__(
        self,
        *,
        custom: Iterable[tuple[re.Pattern[str], str]] = (),
        field_rules: FieldRules | None = None,
        long_text_chars: int = LONG_TEXT_CHARS,
    ) -> None:
        self._custom = tuple(custom)
        # From this length on, texts are probed with RE2 (LONG_PROBES), below with sre.
        self._long_text_chars = long_text_chars
        self.field_rules = field_rules or FieldRules(())
        # Personal fields in a body: a probe of its keys (and the user's field rules).
        self._fields = FieldProbe(self.field_rules.probe_pattern())
        v.prepare()  # phonenumbers metadata compiled now, not inside the first request
        # Short strings found clean (header values, path segments, field names) recur
        # on every request: remember them. Findings are never cached, so no secret is.
        # Texts are keys as they are; other kinds of value are tuples (never equal to a
        # text, so a text cannot vouch for a path that reads differently).
        self._clean: dict[str | tuple[str, ...], None] = {}
        # Headers (name, value) found clean: apart, so no other kind of value can vouch
        # for one. Read it directly (a lookup per header); add with remember_clean_header.
        self.clean_headers: dict[tuple[str, str], None] = {}

    @property
    def has_custom(self) -> bool:
        return bool(self._custom)

    def find(self, text: str) -> list[Hit]:
        """The findings in a text (a value, free text)."""
        short = len(text) <= _CLEAN_CACHE_MAX_CHARS  # don't hash whole bodies
        if short and text in self._clean:
            return []
        hits = self._scan(text, keys=False)[0]
        if short and not hits:
            self.remember_clean(text)
        return hits

    def find_with_keys(self, text: str, *, unless_found: bool = False) -> tuple[list[Hit], bool]:
        """The findings, and whether a secret or personal field may be present (even
        without a value).

        The flag is a cheap over-approximation: callers use it to decide whether to
        classify every field name, so it may say yes when no field is sensitive. With
        ``unless_found`` (a caller that reads every field once anything is found), the
        personal-field probe is skipped when there are findings.
        """
        short = len(text) <= _CLEAN_CACHE_MAX_CHARS
        memo = ("keys", text)  # apart from find()'s: a clean value may still name a key
        if short and memo in self._clean:
            return [], False
        hits, key_seen = self._scan(text, keys=True, unless_found=unless_found)
        if short and not hits and not key_seen:
            self.remember_clean(memo)
        return hits, key_seen

    def known_clean(self, key: str | tuple[str, ...]) -> bool:
        """Whether a text (or a tuple naming another kind of value: a path...) was clean."""
        return key in self._clean

    def remember_clean(self, key: str | tuple[str, ...]) -> None:
        # The last item is the value: only short ones, the kind that recurs.
        if len(key if isinstance(key, str) else key[-1]) > _CLEAN_CACHE_MAX_CHARS:
            return
        if len(self._clean) >= _CLEAN_CACHE_SIZE:
            self._clean.clear()  # crude but bounded; refills with what recurs
        self._clean[key] = None

    def remember_clean_header(self, pair: tuple[str, str]) -> None:
        if len(pair[1]) > _CLEAN_CACHE_MAX_CHARS:
            return
        if len(self.clean_headers) >= _CLEAN_CACHE_SIZE:
            self.clean_headers.clear()
        self.clean_headers[pair] = None

    # Long because every detector is run from here, each gated by the one word-gate pass.
    def _scan(self, text: str, *, keys: bool, unless_found: bool = False) -> tuple[list[Hit], bool]:
        hits: list[Hit] = []
        for pattern, replacement in self._custom:
            hits.extend(
                Hit(m.start(), m.end(), "custom", replacement)
                for m in pattern.finditer(text)
                if m.end() > m.start()
            )
        # One byte per character (non-ASCII becomes "?"), so offsets match ``text``;
        # byte-level translate/find/lower run at C speed, far faster than sre scans.
        raw = text.encode("ascii", "replace")
        ascii_only = text.isascii()
        # The gate ignores ASCII case: what it finds in the raw bytes is what it would
        # find in their lowered copy, which is made below only for a detector that reads it.
        present = _GATE.present(raw)
        words_seen = _SECRET_WORDS in present
        cues_seen = _PERSONAL_CUES in present
        fields_seen = _FIELD_WORDS in present
        probe = _lowered(raw) if words_seen or cues_seen else b""
        if "@" in text:
            self._emails(text, hits)
            if _SLASHES in present:
                self._userinfo(text, hits)
        if _JWT_START in present and "eyJ" in text:
            self._jwts(text, hits)
        find_numbers(
            text,
            raw,
            hits,
            runs=_NUMBER_RUN in present,
            international=_INTERNATIONAL in present,
        )
        if _NUMBER_RUN in present:  # every national layout read is a run of 11 or more
            find_national_phones(text, raw, hits)
        if "\n" in text and any(h.cls == "card" for h in hits):
            hits.extend(card_holders.holder_hits(text, hits))  # "Maestro\nAna Lima\n6759…"
        find_alnum_cnpjs(text, raw, hits)
        # A PIX code opens with 12 digits or more ("000201" and the next field's tag,
        # length and first digits): only a text with a digit run can hold one.
        if _NUMBER_RUN in present and brcode.START in text:
            hits.extend(brcode.find_codes(text))
        key_seen = self._context(
            text,
            probe,
            hits,
            ascii_only=ascii_only,
            words_seen=words_seen,
            basic_seen=_BASIC in present,
        )
        if cues_seen:
            hits.extend(Hit(*found) for found in personal_text.find_cued_personal(text, probe))
        if keys and not key_seen and not (unless_found and hits):
            if not probe and (fields_seen or self._fields.reads_any_body):
                probe = _lowered(raw)
            key_seen = self._fields.may_hold(
                text,
                probe,
                words_seen=fields_seen,
                others_seen=_OTHER_FIELD_WORDS in present,
            )
        return resolve(hits), key_seen

    def _context(
        self,
        text: str,
        probe: bytes,
        hits: list[Hit],
        *,
        ascii_only: bool,
        words_seen: bool,
        basic_seen: bool,
    ) -> bool:
        """Secret-named keys and auth schemes; True when a secret-ish key may be present.
        ``probe``: the lowered bytes, read only when ``words_seen`` (else empty)."""
        probes = LONG_PROBES if len(text) >= self._long_text_chars else SHORT_PROBES
        word = probes.words.search(probe) if words_seen else None
        # Where the exact key scans may start: no match of theirs lies before the first
        # match of the looser probe (None: there is none).
        kv_from = xml_from = None
        if word is not None:
            first = word.start()
            kv = probes.kv_probe.search(probe, first)
            kv_from = None if kv is None else kv.start()
            if "<" in text:
                tag = probe.rfind(b"<", 0, first + 1)  # a tag may open before the word
                xml = probes.xml_probe.search(probe, first if tag < 0 else tag)
                xml_from = None if xml is None else xml.start()
            if not ascii_only:  # offsets in the probe may not be offsets in the text
                kv_from = None if kv_from is None else 0
                xml_from = None if xml_from is None else 0
        key_seen = kv_from is not None or xml_from is not None
        # "bearer" and "token" are secret-ish words; "basic" is not.
        # (Substrings of bytes by find: "in" costs an exception first, ~500 instructions.)
        auth = basic_seen or (
            word is not None and (probe.find(b"bearer") >= 0 or probe.find(b"token") >= 0)
        )
        if key_seen or auth:
            lowered = text.lower()
            if len(lowered) != len(text):  # a few non-ASCII letters change length when lowered
                lowered = text.translate(_ASCII_LOWER)
            if key_seen:
                self._key_values(
                    text,
                    lowered,
                    hits,
                    kv_from=kv_from,
                    xml_from=xml_from,
                    ascii_probes=(probe, probes) if ascii_only else None,
                )
            if auth:
                self._auth_schemes(text, lowered, hits)
        return key_seen

    # -- shapes ----------------------------------------------------------------------

    @staticmethod
    def _jwts(text: str, hits: list[Hit]) -> None:
        for m in _JWT.finditer(text):
            start = m.start()
            if start and text[start - 1] in _JWT_EDGE:
                continue
            if v.jwt_valid(m.group()):
                hits.append(Hit(start, m.end(), "jwt"))

    @staticmethod
    def _emails(text: str, hits: list[Hit]) -> None:
        # Every match starts at an "@": found by str.find (memchr), where sre's own
        # search steps through the text a character at a time. Same matches as finditer.
        match, find = _EMAIL_DOMAIN.match, text.find
        next_at = find("@")
        while next_at >= 0:
            at = next_at
            m = match(text, at)
            if m is None:
                next_at = find("@", at + 1)
                continue
            next_at = find("@", m.end())
            # The local part: up to 64 address characters back from "@", read as a
            # match on the reversed slice (a C loop), minus leading dots.
            low = at - 64
            behind = text[at - 1 : low - 1 : -1] if low > 0 else text[at - 1 :: -1] if at else ""
            local = _LOCAL_REVERSED.match(behind).group().rstrip(".")
            if not local:
                continue
            start = at - len(local)
            domain = m.group(1).lower()
            if domain.rpartition(".")[2] in _FILE_EXTENSIONS or _SCALE_LABEL.search(domain):
                continue
            hits.append(Hit(start, m.end(), "email"))

    @staticmethod
    def _userinfo(text: str, hits: list[Hit]) -> None:
        for m in _USERINFO.finditer(text):
            hits.append(Hit(m.start(2), m.end(2), "password"))
        for m in _USER_ONLY.finditer(text):
            hits.append(Hit(m.start(1), m.end(1), "api_key"))

    @staticmethod
    def _key_values(
        text: str,
        lowered: str,
        hits: list[Hit],
        *,
        kv_from: int | None,
        xml_from: int | None,
        ascii_probes: tuple[bytes, _Probes] | None,
    ) -> bool:
        """``ascii_probes``: an ASCII text's lowered bytes (same offsets), and the probes."""
        key_seen = False
        if ascii_probes is not None:
            probe, probes = ascii_probes
            starts = (
                [] if kv_from is None else [m.start() for m in probes.kv.finditer(probe, kv_from)]
            )
            if xml_from is not None and "<" in text:
                starts.extend(m.end() - 1 for m in probes.xml.finditer(probe, xml_from))
        else:
            starts = (
                [] if kv_from is None else [m.start() for m in _KV_PRE.finditer(lowered, kv_from)]
            )
            if xml_from is not None and "<" in lowered:
                starts.extend(m.end() - 1 for m in _XML_PRE.finditer(lowered, xml_from))
        for word_at in starts:
            key_start = word_at
            floor = max(0, key_start - 64)
            while key_start > floor and text[key_start - 1] in _KEY_CHARS:
                key_start -= 1
            key_end = _KEY_REST.match(text, word_at).end()
            cls = classify_key(text[key_start:key_end])
            if cls is None:
                continue
            key_seen = True
            span = _value_span(text, key_start, key_end)
            if span is None:
                continue
            start, end = span
            value = text[start:end]
            if (
                value.lower() in _NOT_VALUES
                or value.startswith(_TOKEN_PREFIX)
                or is_no_secret_by_shape(cls, value)
            ):
                continue
            cut = scheme_prefix_end(value)
            if cut:
                start += cut  # keep "Bearer ", replace the credentials
                value = value[cut:]
            hits.append(Hit(start, end, "jwt" if is_jwt(value) else cls))
        return key_seen

    @staticmethod
    def _auth_schemes(text: str, lowered: str, hits: list[Hit]) -> None:
        for scheme in ("bearer", "basic", "token"):
            at = lowered.find(scheme)
            while at >= 0:
                m = None if at and lowered[at - 1] in _KEY_CHARS else _AUTH_AT.match(text, at)
                at = lowered.find(scheme, at + 1)
                if m is None:
                    continue
                credentials = m.group(1)
                if scheme == "basic":  # base64 of user:pass
                    try:
                        decoded = base64.b64decode(credentials, validate=True)
                    except (binascii.Error, ValueError):
                        continue
                    if b":" not in decoded:
                        continue
                elif is_jwt(credentials):
                    continue  # the JWT detector owns it
                elif len(credentials) < 16 or credentials.isalpha():
                    continue  # prose: "Bearer authentication", "token expired"
                hits.append(Hit(m.start(1), m.end(1), "api_key"))


def _lowered(raw: bytes) -> bytes:
    """The probe: the text lowered, one byte per character ("?" for non-ASCII), so
    offsets match; ``raw`` is the text as ASCII bytes (encoded with "replace").

    Lowering those bytes is lowering the text's ASCII letters first (the "?" stand for
    the same characters either way): one C pass, where ``str.translate`` looks up every
    character of a non-ASCII text."""
    return raw.lower()


def scheme_prefix_end(value: str) -> int:
    """Length of a leading auth scheme ("Bearer ") followed by credentials, else 0."""
    m = _SCHEME_PREFIX.match(value)
    return m.end() if m and m.end() < len(value) else 0


def is_jwt(value: str) -> bool:
    return value.startswith("eyJ") and value.count(".") >= 2 and v.jwt_valid(value)


def _value_span(text: str, key_start: int, key_end: int) -> tuple[int, int] | None:
    """Where the value of ``key`` is: after ":"/"=", or the content of an XML element."""
    pos = key_end
    quoted_key = False
    if pos < len(text) and text[pos] in "\"'" and key_start and text[key_start - 1] == text[pos]:
        quoted_key = True
        pos += 1
    while pos < len(text) and text[pos] in " \t":
        pos += 1
    if pos >= len(text):
        return None
    sep = text[pos]
    if sep in ":=":
        pos += 1
        while pos < len(text) and text[pos] in " \t":
            pos += 1
        if pos >= len(text):
            return None
        first = text[pos]
        if first == '"':
            m = _DQ_VALUE.match(text, pos)
            return (m.start(1), m.end(1)) if m else None
        if first == "'":
            m = _SQ_VALUE.match(text, pos)
            return (m.start(1), m.end(1)) if m else None
        if sep == ":" and not quoted_key:
            # "password: x" only at the start of a line (YAML, header dumps), never in prose.
            line_start = text.rfind("\n", 0, key_start) + 1
            if text[line_start:key_start].strip(" \t-") != "":
                return None
            end = text.find("\n", pos)
            end = len(text) if end < 0 else end
            value = text[pos:end].rstrip(" \t\r,;")
            return (pos, pos + len(value)) if value else None
        m = _BARE_VALUE.match(text, pos)
        return (m.start(), m.end()) if m else None
    # XML element: <password>, <ns:Password attr="...">
    before = text[max(0, key_start - 40) : key_start]
    if not (before.endswith("<") or _XML_NS_OPEN.search(before)):
        return None
    tag_end = text.find(">", key_end)
    if tag_end < 0 or text[tag_end - 1] == "/":
        return None
    start = tag_end + 1
    if text.startswith("<![CDATA[", start):
        start += 9
        end = text.find("]]>", start)
    else:
        end = text.find("<", start)
    end = len(text) if end < 0 else end
    if not text[start:end].strip():
        return None
    return start, end
