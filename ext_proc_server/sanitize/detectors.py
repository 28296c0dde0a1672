"""Find sensitive values in one string: by context (field names) and by validated shape.

Every pattern is compiled once in :class:`Scanner`. Cheap literal checks ("@", "eyJ",
a long digit run, a keyword followed by a separator) gate each detector, and a
real validator (Luhn, CPF/CNPJ check digits, phonenumbers, JWT header) decides.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re
from collections.abc import Iterable
from itertools import pairwise
from typing import NamedTuple

import re2

from ext_proc_server.sanitize import validators as v

# Lower number wins when two findings overlap: the user's patterns, then context
# (a field named password), then shapes from the most to the least specific.
PRIORITY = {
    "custom": 0,
    "password": 1,
    "api_key": 1,
    "cookie": 1,
    "jwt": 2,
    "email": 3,
    "cnpj": 4,
    "cpf": 5,
    "card": 6,
    "phone": 7,
}


class Hit(NamedTuple):
    start: int
    end: int
    cls: str
    # The user's replacement for custom patterns; None for built-in classes.
    fixed: str | None = None


# -- field names -----------------------------------------------------------------

_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|[0-9]+")
_PASSWORD_WORDS = frozenset(
    {"password", "passwords", "passwd", "pwd", "pass", "senha", "senhas", "passphrase",
     "passcode", "cvv", "cvc", "cvv2", "cvc2"}
)  # fmt: skip
_PASSWORD_PARTS = ("password", "passwd", "senha", "passphrase")
# A card or account PIN; but "pincode"/"pin_code" is India's postal code.
_PIN_WORDS = frozenset({"pin", "pins"})
_SECRET_WORDS = frozenset(
    {"secret", "secrets", "token", "tokens", "apikey", "apikeys", "credential", "credentials",
     "auth", "authorization", "bearer", "signature", "sig", "session", "sessionid",
     "jsessionid", "phpsessid", "sessid", "sid", "otp", "jwt", "cookie", "cookies", "hmac"}
)  # fmt: skip
# "key" alone is usually harmless (cacheKey, sortKey): only these qualifiers make it secret.
_KEY_QUALIFIERS = frozenset(
    {"api", "access", "private", "secret", "client", "signing", "encryption", "auth",
     "license", "master", "subscription", "session", "app", "consumer", "account",
     "service", "shared", "hmac", "x"}
)  # fmt: skip
_SECRET_SUFFIXES = (
    "token", "tokens", "secret", "apikey", "accesskey", "privatekey", "secretkey",
    "sessionid", "sessid",
)  # fmt: skip
# A trailing word that makes the field describe a secret rather than hold it.
_META_SUFFIXES = frozenset(
    {"type", "types", "at", "in", "on", "date", "time", "expires", "expiry", "expiration",
     "exp", "ttl", "length", "len", "size", "count", "url", "uri", "endpoint", "path", "hint",
     "policy", "policies", "rule", "rules", "strength", "required", "enabled", "changed",
     "updated", "created", "reset", "method", "methods", "mode", "scheme", "provider",
     "status", "name", "format", "version", "algorithm", "alg", "kind", "label", "valid",
     "validity", "lifetime", "age", "set", "mask"}
)  # fmt: skip
# Pagination cursors are opaque but must survive for mocks to page correctly.
_PAGINATION_WORDS = frozenset(
    {"page", "next", "prev", "previous", "continuation", "cursor", "sync"}
)
_PAGINATION_PARTS = ("pagetoken", "nexttoken", "cursor", "continuation", "synctoken")


@functools.lru_cache(maxsize=8192)
def classify_key(name: str) -> str | None:
    """'password' / 'api_key' when a field of this name holds a secret, else None."""
    words = [w.lower() for w in _WORD.findall(name)]
    if not words:
        return None
    compact = "".join(words)
    if _PAGINATION_WORDS.intersection(words) or any(p in compact for p in _PAGINATION_PARTS):
        return None
    if len(words) > 1 and words[-1] in _META_SUFFIXES:
        return None
    if _PASSWORD_WORDS.intersection(words) or any(p in compact for p in _PASSWORD_PARTS):
        return "password"
    if _PIN_WORDS.intersection(words) and "pincode" not in compact:
        return "password"
    if _SECRET_WORDS.intersection(words) or compact.endswith(_SECRET_SUFFIXES):
        return "api_key"
    for i, word in enumerate(words):
        if word in ("key", "keys") and i > 0 and words[i - 1] in _KEY_QUALIFIERS:
            return "api_key"
    return None


@functools.lru_cache(maxsize=1024)
def header_class(lower_name: str) -> str | None:
    """Header rule of the spec: a name containing key, token, secret or auth is secret."""
    if lower_name in ("cookie", "set-cookie"):
        return "cookie"
    if any(part in lower_name for part in ("key", "token", "secret", "auth")):
        return "api_key"
    return classify_key(lower_name)


# -- patterns --------------------------------------------------------------------

_B = "0-9A-Za-z_"  # word characters, ASCII only
_JWT = re.compile(r"eyJ[A-Za-z0-9_-]{2,}(?:\.[A-Za-z0-9_-]*){2,4}")
_JWT_EDGE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_EMAIL_DOMAIN = re.compile(
    r"@([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24})"
    r"(?![A-Za-z0-9-]|\.[A-Za-z0-9])"
)
# logo@2x.png is an asset name, not an address.
_FILE_EXTENSIONS = frozenset(
    {"png", "jpg", "jpeg", "gif", "svg", "webp", "ico", "bmp", "tif", "tiff", "avif", "heic",
     "css", "js", "mjs", "map", "json", "pdf", "woff", "woff2", "ttf", "mp4", "webm"}
)  # fmt: skip
# A label that is a scale factor (2x, 3x): labels hold no dots, so "1.5x" spans two.
_SCALE_LABEL = re.compile(r"(?:^|\.)[0-9]+x(?:\.|$)")
_LOCAL_REVERSED = re.compile(r"[A-Za-z0-9._%+-]*")
_USERINFO = re.compile(r"//([^\s/@:\"'<>?#]*):([^\s/@\"'<>?#]+)@")
_USER_ONLY = re.compile(r"//([^\s/@:\"'<>?#]{8,})@(?=[A-Za-z0-9.-]+(?:[:/?#]|$))")

# Any run of at least 11 digits/separators: every numeric class needs one.
_NUM_RUN = re.compile(r"[0-9][0-9 .()/-]{9,}[0-9]")
_CPF = re.compile(
    rf"(?<![{_B}.])[0-9]{{3}}(?P<cpf_dot>\.?)[0-9]{{3}}(?P=cpf_dot)[0-9]{{3}}-?[0-9]{{2}}"
    rf"(?![{_B}]|\.[0-9])"
)
_CNPJ = re.compile(
    rf"(?<![{_B}.])[0-9]{{2}}(?P<cnpj_dot>\.?)[0-9]{{3}}(?P=cnpj_dot)[0-9]{{3}}/?[0-9]{{4}}-?[0-9]{{2}}"
    rf"(?![{_B}]|\.[0-9])"
)
_ALNUM_TABLE = bytes.maketrans(
    b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_",
    b"A" * 36 + b"a" * 27,
)
_ALNUM_SHAPES = (b"A" * 14, b"AA.AAA.AAA/AAAA-AA", b"AAAAAAAA/AAAA-AA")
_ALNUM_BEFORE = frozenset(b"Aa.-")
_ALNUM_AFTER = frozenset(b"Aa")
_CARD_BARE = re.compile(rf"(?<![{_B}.])[0-9]{{13,19}}(?![{_B}]|\.[0-9])")
_CARD_GROUPED = re.compile(
    rf"(?<![{_B}.-])[0-9]{{4,6}}(?P<sep>[ -])[0-9]{{2,6}}(?:(?P=sep)[0-9]{{2,6}}){{1,3}}"
    rf"(?![{_B}-]|\.[0-9])"
)
_PHONE_BR = re.compile(
    rf"(?<![{_B}+])(?:\+55[ .-]?|55[ .-]?)?(?:\([1-9][0-9]\)|[1-9][0-9])[ .-]?"
    rf"(?:9[ .-]?[0-9]{{4}}|[2-5][0-9]{{3}})[ .-]?[0-9]{{4}}(?![{_B}])"
)
# All window shapes in one pass, in priority order; each still needs its validator.
_WINDOW = re.compile(
    "|".join(
        f"(?P<{name}>{pattern.pattern})"
        for name, pattern in (
            ("cnpj", _CNPJ),
            ("cpf", _CPF),
            ("card", _CARD_BARE),
            ("grouped", _CARD_GROUPED),
            ("phone", _PHONE_BR),
        )
    )
)
_PHONE_INTL = re.compile(
    rf"(?<![{_B}+])\+[1-9][0-9]{{0,3}}[ .-]?(?:\([0-9]{{1,4}}\)[ .-]?)?[0-9][0-9 .-]{{5,16}}[0-9]"
    rf"(?![{_B}])"
)

# Lower-cased text: a secret-ish word, the rest of the name, then ":" or "=". A trie,
# because sre scans a shared-prefix alternation much faster than a flat one.
_WORDS_TRIE = (
    r"(?:p(?:ass|wd|in)|s(?:enha|ecret|ess|i[gd])|token|key|auth|bearer"
    r"|c(?:redential|v[vc]|ookie)|jwt|otp|hmac)"
)
_KV_PRE = re.compile(_WORDS_TRIE + r"[a-z0-9_.-]*[\"']?[ \t]*[:=]")
# XML start tags with such a name: <password>, <wsse:Password Type="...">.
_XML_PRE = re.compile(r"<(?:[a-z0-9_.-]+:)?[a-z0-9_.-]*?" + _WORDS_TRIE)


def _dfa(pattern: bytes) -> re2._Regexp:
    """RE2 for whole-body scans: its DFA reads the text once, where sre tries the word
    trie at every byte (several times slower). Only for patterns without lookaround or
    backreferences, where RE2's leftmost-first matching gives sre's spans."""
    options = re2.Options()
    options.never_capture = True
    options.encoding = re2.Options.Encoding.LATIN1  # probes are bytes, one per character
    return re2.compile(pattern, options)


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
_SHORT_PROBES = _Probes(
    re.compile(_WORDS_TRIE_BYTES),
    re.compile(rb"(?:" + _WORDS_TRIE_BYTES + rb")[^\"\n:=&]*+[\"']?\s*[:=]"),
    re.compile(_XML_PROBE),
    re.compile(_KV_PRE_BYTES),
    re.compile(_XML_PRE_BYTES),
)
_LONG_PROBES = _Probes(
    _dfa(_WORDS_TRIE_BYTES),
    # The same match starts as sre's possessive "*+" (which only spares sre backtracking);
    # "\s" spelled out, as RE2's lacks "\v".
    _dfa(rb"(?:" + _WORDS_TRIE_BYTES + rb")[^\"\n:=&]*[\"']?[ \t\n\r\f\v]*[:=]"),
    _dfa(_XML_PROBE),
    _dfa(_KV_PRE_BYTES),
    _dfa(_XML_PRE_BYTES),
)
LONG_TEXT_CHARS = 256
# One match per form field ("&"-separated) holding a secret-ish word.
FIELD_WITH_WORD_DFA = _dfa(rb"[^&]*?(?:" + _WORDS_TRIE_BYTES + rb")[^&]*")
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
_NOT_VALUES = frozenset({"", "true", "false", "null", "none", "undefined"})
_TOKEN_PREFIX = "SANITIZED_"  # noqa: S105 - our own replacement tokens
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


def _resolve(hits: list[Hit]) -> list[Hit]:
    """Drop findings that overlap a higher-priority one; return the rest by position."""
    if len(hits) < 2:
        return hits
    ordered = sorted(hits)
    if all(a.end <= b.start for a, b in pairwise(ordered)):
        return ordered  # the usual case, no overlap: skip the quadratic pass
    # Ties keep the detectors' order (a stable sort of the list as found).
    hits.sort(key=lambda h: (PRIORITY[h.cls], h.start))
    kept: list[Hit] = []
    for hit in hits:
        if all(hit.end <= k.start or hit.start >= k.end for k in kept):
            kept.append(hit)
    kept.sort()
    return kept


_CLEAN_CACHE_MAX_CHARS = 256
_CLEAN_CACHE_SIZE = 4096


class Scanner:
    """Every detector, compiled once. ``find`` is pure and thread-safe."""

    def __init__(self, *, custom: Iterable[tuple[re.Pattern[str], str]] = ()) -> None:
        self._custom = tuple(custom)
        v.prepare()  # phonenumbers metadata compiled now, not inside the first request
        # Short strings found clean (header values, path segments, field names) recur
        # on every request: remember them. Findings are never cached, so no secret is.
        # Texts are keys as they are; other kinds of value are tuples (never equal to a
        # text, so a text cannot vouch for a path that reads differently).
        self._clean: dict[str | tuple[str, ...], None] = {}

    @property
    def has_custom(self) -> bool:
        return bool(self._custom)

    def find(self, text: str) -> list[Hit]:
        return self.find_with_keys(text)[0]

    def find_with_keys(self, text: str) -> tuple[list[Hit], bool]:
        """The findings, and whether a secret-named key may be present (even without a value).

        The flag is a cheap over-approximation: callers use it to decide whether to
        classify every field name, so it may say yes when no key is secret.
        """
        short = len(text) <= _CLEAN_CACHE_MAX_CHARS  # don't hash whole bodies
        if short and text in self._clean:
            return [], False
        hits, key_seen = self._scan(text)
        if short and not hits and not key_seen:
            self.remember_clean(text)
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

    def _scan(self, text: str) -> tuple[list[Hit], bool]:
        hits: list[Hit] = []
        for pattern, replacement in self._custom:
            hits.extend(
                Hit(m.start(), m.end(), "custom", replacement)
                for m in pattern.finditer(text)
                if m.end() > m.start()
            )
        if "@" in text:
            self._emails(text, hits)
            if "//" in text:
                self._userinfo(text, hits)
        if "eyJ" in text:
            self._jwts(text, hits)
        # One byte per character (non-ASCII becomes "?"), so offsets match ``text``;
        # byte-level translate/find/lower run at C speed, far faster than sre scans.
        raw = text.encode("ascii", "replace")
        self._numbers(text, raw, hits)
        self._alnum_cnpjs(text, raw, hits)
        key_seen = self._context(text, raw, hits)
        return _resolve(hits), key_seen

    def _context(self, text: str, raw: bytes, hits: list[Hit]) -> bool:
        """Secret-named keys and auth schemes; True when a secret-ish key may be present."""
        ascii_only = text.isascii()
        probe = raw.lower() if ascii_only else text.lower().encode("ascii", "replace")
        probes = _LONG_PROBES if len(probe) >= LONG_TEXT_CHARS else _SHORT_PROBES
        word = probes.words.search(probe)
        # Where the exact key scans may start: no match of theirs lies before the first
        # match of the looser probe (None: there is none).
        kv_from = xml_from = None
        if word is not None:
            first = word.start()
            kv = probes.kv_probe.search(probe, first)
            kv_from = None if kv is None else kv.start()
            if b"<" in probe:
                tag = probe.rfind(b"<", 0, first + 1)  # a tag may open before the word
                xml = probes.xml_probe.search(probe, first if tag < 0 else tag)
                xml_from = None if xml is None else xml.start()
            if not ascii_only:  # offsets in the probe may not be offsets in the text
                kv_from = None if kv_from is None else 0
                xml_from = None if xml_from is None else 0
        key_seen = kv_from is not None or xml_from is not None
        # "bearer" and "token" are secret-ish words; "basic" is not.
        auth = b"basic" in probe or (word is not None and (b"bearer" in probe or b"token" in probe))
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

    # -- shapes --------------------------------------------------------------------

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
        for m in _EMAIL_DOMAIN.finditer(text):
            at = m.start()
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
    def _numbers(text: str, raw: bytes, hits: list[Hit]) -> None:
        size = len(text)
        # Maximal runs of digits and separators long enough to hold a _NUM_RUN match,
        # found with bytes.find in a class-mapped copy instead of trying the regex at
        # every digit. Most are ids and epoch timestamps, dropped before any regex.
        mapped = raw.translate(_RUN_TABLE)
        find = mapped.find
        region_start = find(_RUN_MIN)
        while region_start >= 0:
            region_end = find(b"x", region_start)
            if region_end < 0:
                region_end = size
            next_start = find(_RUN_MIN, region_end)
            region = text[region_start:region_end]
            if not region.isdigit():
                region = region.strip(_RUN_SEPARATORS)
            if region.isdigit() and (
                (len(region), region[0]) in _IMPLAUSIBLE_BARE or not _bare_plausible(region)
            ):
                region_start = next_start
                continue
            for run in _NUM_RUN.finditer(text, region_start, region_end):
                start, end = run.start(), run.end()
                value = run.group()
                if value.isdigit():
                    # Most runs are bare numbers (ids, timestamps): decide without regexes.
                    if (start and text[start - 1] in _BARE_BEFORE) or (
                        end < size
                        and (
                            text[end] in _WORD_CHARS
                            or (
                                text.startswith(".", end)
                                and end + 1 < size
                                and text[end + 1].isdigit()
                            )
                        )
                    ):
                        continue
                    cls = _bare_number_class(value)
                    if cls is not None:
                        hits.append(Hit(start, end, cls))
                    continue
                if start and text[start - 1] in "+(":
                    start -= 1
                _numbers_in_window(text, start, min(size, end + 2), hits)
            region_start = next_start

    @staticmethod
    def _alnum_cnpjs(text: str, raw: bytes, hits: list[Hit]) -> None:
        """Alphanumeric CNPJs (12ABC34501DE35), found as literals in a class-mapped copy:
        every [0-9A-Z] becomes "A", so the shapes are plain substring searches."""
        mapped = raw.translate(_ALNUM_TABLE)  # 1:1 with text
        size = len(mapped)
        # The separated shapes all contain "/": skip their searches when there is none.
        shapes = _ALNUM_SHAPES if b"/" in raw else _ALNUM_SHAPES[:1]
        for shape in shapes:
            i = mapped.find(shape)
            while i >= 0:
                end = i + len(shape)
                if (i and mapped[i - 1] in _ALNUM_BEFORE) or (
                    end < size and mapped[end] in _ALNUM_AFTER
                ):
                    i = mapped.find(shape, i + 1)
                    continue
                value = text[i:end]
                compact = value.replace(".", "").replace("/", "").replace("-", "")
                # Numeric CNPJs are found with the other digit runs.
                if not compact.isdigit() and compact[-2:].isdigit() and v.cnpj_valid(compact):
                    hits.append(Hit(i, end, "cnpj"))
                i = mapped.find(shape, end)

    # -- context ---------------------------------------------------------------------

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
            if xml_from is not None and b"<" in probe:
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
            if value.lower() in _NOT_VALUES or value.startswith(_TOKEN_PREFIX):
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


_WORD_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_BARE_BEFORE = _WORD_CHARS | {"."}


_RUN_SEPARATORS = " .()/-"
# Characters _NUM_RUN spans become "0", everything else "x": runs are then found with
# bytes.find instead of trying the regex at every digit.
_RUN_TABLE = bytes(0x30 if chr(b) in "0123456789" + _RUN_SEPARATORS else 0x78 for b in range(256))
_RUN_MIN = b"0" * 11  # _NUM_RUN's shortest match
# (length, first digit) of bare runs no class can take, whatever follows: epoch
# milliseconds (13 digits from "1"), snowflake ids (18-19 from "1"), 12 digits...
_IMPLAUSIBLE_BARE = frozenset(
    [(12, c) for c in "0123456789"]
    + [(13, c) for c in "01236789"]
    + [(15, c) for c in "0456789"]
    + [(size, c) for size in range(16, 20) for c in "01789"]
)


def _bare_plausible(digits: str) -> bool:
    """Whether _bare_number_class could return a class for a bare run (length, prefix)."""
    size = len(digits)
    if size in (11, 14):
        return True
    first = digits[0]
    if size == 13:
        return first == "4" or (digits.startswith("55") and digits[4] == "9")
    if size == 15:
        return first in "13" or digits.startswith("2131")
    return 16 <= size <= 19 and first in "23456"


def _bare_number_class(digits: str) -> str | None:
    """The class of a bare digit run, with the same rules as the window regexes."""
    size = len(digits)
    if size == 11:
        if v.cpf_valid(digits):
            return "cpf"
        return "phone" if digits[2] == "9" and _br_phone_valid(digits) else None
    if size == 14 and v.cnpj_valid(digits):
        return "cnpj"
    if 13 <= size <= 19 and v.card_valid(digits):
        return "card"
    if size == 13 and digits.startswith("55") and digits[4] == "9" and _br_phone_valid(digits):
        return "phone"
    return None


def _numbers_in_window(text: str, start: int, stop: int, hits: list[Hit]) -> None:
    for m in _WINDOW.finditer(text, start, stop):
        kind = m.lastgroup
        value = m.group()
        if kind == "cnpj":
            ok = v.cnpj_valid(v.only_digits(value))
        elif kind == "cpf":
            ok = v.cpf_valid(v.only_digits(value))
        elif kind == "card":
            ok = v.card_valid(value)
        elif kind == "grouped":
            ok = _grouped_card(m.start(), value, m.group("sep"), hits)
            kind = None
        else:
            ok = _br_phone_valid(value)
        if not ok:
            # The first shape was a decoy: try every shape on its own, one by one
            # (a grouped card already found invalid is not tried again).
            decoy = (m.start(), value) if m.lastgroup == "grouped" else None
            _numbers_each_pattern(text, start, stop, hits, grouped_decoy=decoy)
            return
        if kind is not None:
            hits.append(Hit(m.start(), m.end(), kind))
    if text[start] == "+":
        for m in _PHONE_INTL.finditer(text, start, stop):
            if not m.group().startswith("+55") and v.phone_valid(m.group(), region=None):
                hits.append(Hit(m.start(), m.end(), "phone"))


def _numbers_each_pattern(
    text: str, start: int, stop: int, hits: list[Hit], *, grouped_decoy: tuple[int, str] | None
) -> None:
    for m in _CNPJ.finditer(text, start, stop):
        if v.cnpj_valid(v.only_digits(m.group())):
            hits.append(Hit(m.start(), m.end(), "cnpj"))
    for m in _CPF.finditer(text, start, stop):
        if v.cpf_valid(v.only_digits(m.group())):
            hits.append(Hit(m.start(), m.end(), "cpf"))
    for m in _CARD_BARE.finditer(text, start, stop):
        if v.card_valid(m.group()):
            hits.append(Hit(m.start(), m.end(), "card"))
    for m in _CARD_GROUPED.finditer(text, start, stop):
        if (m.start(), m.group()) != grouped_decoy:
            _grouped_card(m.start(), m.group(), m.group("sep"), hits)
    for m in _PHONE_BR.finditer(text, start, stop):
        if _br_phone_valid(m.group()):
            hits.append(Hit(m.start(), m.end(), "phone"))


def _grouped_card(start: int, value: str, sep: str, hits: list[Hit]) -> bool:
    """Try every contiguous run of groups: a date or id may sit next to the card."""
    groups = value.split(sep)
    offsets = []
    pos = start
    for group in groups:
        offsets.append(pos)
        pos += len(group) + 1
    for length in range(len(groups), 2, -1):
        for first in range(len(groups) - length + 1):
            digits = "".join(groups[first : first + length])
            if v.card_valid(digits):
                last = first + length - 1
                hits.append(Hit(offsets[first], offsets[last] + len(groups[last]), "card"))
                return True
    return False


def _br_phone_valid(candidate: str) -> bool:
    digits = v.only_digits(candidate)
    formatted = len(digits) != len(candidate)
    if not formatted:
        # Bare: only a mobile (DDD + 9 + 8) or +55 without the plus. Bare 10 digits are
        # epoch seconds far more often than landlines.
        if len(digits) == 11:
            if digits[2] != "9":
                return False
        elif not (len(digits) == 13 and digits.startswith("55") and digits[4] == "9"):
            return False
    if len(digits) in (12, 13) and digits.startswith("55"):
        digits = digits[2:]
    if len(digits) not in (10, 11):
        return False
    return v.br_phone_valid(digits)
