"""JSON documents written in base64 or base64url inside text, sanitized and written back.

Services hand JSON around base64-encoded: OAuth ``state``, Google's ESP
``X-Apigateway-Api-Userinfo``, Azure's ``x-ms-client-principal``, Pub/Sub push
``message.data``, Kafka REST ``value``, pagination cursors. No detector reads through
the encoding, so a CPF or an e-mail inside went out as it came. Each such token is
decoded, edited as a JSON document (``json_body.nested_json``: its keys name its
values) and encoded again in the same alphabet, padding and escapes, so it still
decodes and parses to a document of the same shape. A token that does not decode to a
JSON document is left as it is (an id, a hash, a signature).

The gate is the first two characters: base64 of ``{`` is ``e`` then one of
``w-z0-9+/_-``, of ``[`` it is ``W`` then the same set. A text is searched only when
it holds one of the pairs real documents start with (``{"``, ``{ "``, ``{`` and a line
break, ``[{``, ``["``, ``[`` and a space or a line break, ``[`` and a digit: ``ey``,
``ew``, ``W3``, ``Wy``, ``Ww``, ``Wz``), and a token is decoded only when it starts so.
"""

from __future__ import annotations

import base64
import re

from ext_proc_server.sanitize import base64_codec
from ext_proc_server.sanitize.json_body import nested_json
from ext_proc_server.sanitize.run import Run

# Pairs that open base64 of a JSON document as services write one (see above).
OPENINGS = ("ey", "ew", "W3", "Wy", "Ww", "Wz")
# A token: either alphabet, "/" escaped in JSON ("\\/", as PHP writes it) or any of
# "+", "/", "=" percent-encoded (a query or form value): one character class, a C loop,
# and the escapes checked once a token is found. 16 characters at least: 12 bytes, a
# document too short to hold a value worth finding.
_MIN_CHARS = 16
_TOKEN = re.compile(r"[eW][w-z0-9+/_-][A-Za-z0-9+/_%\\-]{14,}={0,2}")
# Where a token written with escapes ends: an escape other than those above.
_FOREIGN_ESCAPE = re.compile(r"%(?!2[BbFf]|3[Dd])|\\(?!/)")
# Characters that cannot sit just before a token (it would be the middle of a word
# or of a longer base64 run), unless they end a percent escape ("%22eyJ...").
_WORD = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-\\")
_MAX_DEPTH = 4  # a document inside a document inside ...: deeper ones are not decoded
_PERCENT = (("%2B", "+"), ("%2b", "+"), ("%2F", "/"), ("%2f", "/"), ("%3D", "="), ("%3d", "="))


def may_hold(text: str) -> bool:
    """Whether ``text`` may hold a token: C substring scans, no regex. A pair is searched
    for only in a text holding its rarer letter: one letter alone is a memchr, several
    times cheaper than the search for a pair, which reads every byte ("W", "y" and "w"
    are rarer in text than "e")."""
    if ("y" in text and "ey" in text) or ("w" in text and "ew" in text):
        return True
    return "W" in text and ("W3" in text or "Wy" in text or "Ww" in text or "Wz" in text)


def rewrap(run: Run, text: str, depth: int = 0) -> str:
    """``text`` with every base64 JSON document in it sanitized; the same string object
    when none changed."""
    if not may_hold(text):
        return text
    starts = _token_starts(text)
    if not starts:
        return text
    out: list[str] = []
    last = 0
    seen = 0  # the end of the last token read
    for start in starts:
        if start < seen:
            continue  # inside the token before
        m = _TOKEN.match(text, start)
        if m is None:
            continue
        token = _FOREIGN_ESCAPE.split(m.group(), 1)[0]  # "...fQ%3D%3D%22": up to "%22"
        seen = start + len(token)
        if len(token) < _MIN_CHARS:
            continue
        fresh = _rewrapped(run, token, depth)
        if fresh is not None and fresh != token:
            out.append(text[last:start])
            out.append(fresh)
            last = seen
    if not out:
        return text
    out.append(text[last:])
    return "".join(out)


def _token_starts(text: str) -> list[int]:
    """Where a token may start: each opening found by C searches (a regex over the
    whole text cost more: docs/sanitizer.md), where it does not continue a word or a
    longer base64 run, unless that run ends a percent escape ("%22eyJ...")."""
    starts = []
    for opening in OPENINGS if "W" in text else OPENINGS[:2]:
        at = text.find(opening)
        while at >= 0:
            if not at or text[at - 1] not in _WORD or text[at - 3 : at - 2] == "%":
                starts.append(at)
            at = text.find(opening, at + 2)
    return sorted(starts)


def _rewrapped(run: Run, token: str, depth: int) -> str | None:
    """The token with its document sanitized, written as it was; None if it is not
    base64 of a JSON document."""
    clean_key = ("base64_json", token)
    if run.scanner.known_clean(clean_key):
        return token  # a cursor that recurs ({"offset": 10}), an id: decoded once
    raw = token.replace("\\/", "/")
    percent = "%" in raw
    if percent:
        for escape, char in _PERCENT:
            raw = raw.replace(escape, char)
    body = raw.rstrip("=")
    url = "-" in body or "_" in body
    if url and ("+" in body or "/" in body):
        return None  # two alphabets: not one token
    data = base64_codec.decoded(body, url=url)
    try:
        document = None if data is None else data.decode("utf-8")
    except UnicodeDecodeError:
        document = None
    if document is None:
        run.scanner.remember_clean(clean_key)
        return None
    inner = run.child()
    fresh = nested_json(inner, document)
    if fresh is None:
        run.scanner.remember_clean(clean_key)
        return None
    if depth < _MAX_DEPTH:
        fresh = rewrap(inner, fresh, depth + 1)
    if fresh == document:
        run.scanner.remember_clean(clean_key)
        return token
    run.add_counts(inner.counts)
    return _encoded(fresh.encode("utf-8"), raw, url=url, percent=percent, slash="\\/" in token)


def _encoded(data: bytes, raw: str, *, url: bool, percent: bool, slash: bool) -> str:
    """``data`` in base64 as ``raw`` was written: its alphabet (standard unless the token
    used ``-``/``_``, or had neither it nor ``+``/``/`` and was unpadded with a length
    only base64url leaves), its padding, and its escapes."""
    body = raw.rstrip("=")
    padded = raw.endswith("=") or len(raw) % 4 == 0
    if not url and "+" not in body and "/" not in body and not padded:
        url = True
    out = (base64.urlsafe_b64encode if url else base64.b64encode)(data).decode("ascii")
    if not padded:
        out = out.rstrip("=")
    if percent:
        out = out.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    if slash:
        out = out.replace("/", "\\/")
    return out
