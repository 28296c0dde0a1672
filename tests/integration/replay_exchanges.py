"""Exchanges as a capture records them, for the replay property
(test_replay_property.py): raw requests (odd paths, queries in every encoding, JSON,
form and text bodies) and responses (every status kind, bodies in many charsets and
forms, odd headers), each with the ``Exchange`` the capture makes of it."""

from __future__ import annotations

import gzip
import json
import random
import struct
import zlib
from dataclasses import dataclass
from urllib.parse import quote, quote_plus

import brotli
from hypothesis import strategies as st

from ext_proc_server.capture.assembler import query_pairs
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse

HOST = "shop.svc"
EMPTY_BODY_STATUSES = frozenset({204, 304})


def _png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    pixels = chunk(b"IDAT", zlib.compress(b"\x00\x7f"))
    return b"\x89PNG\r\n\x1a\n" + header + pixels + chunk(b"IEND", b"")


# -- responses ---------------------------------------------------------------------------

TEXTS = [
    "plain words",
    "Observação: entregar às 18h — portão 2",
    "Preços “especial” 10€ • até",
    "{{now}} {{request.path}} ${user} $1 }} {{",
    "line one\r\nline two\r\n\r\n",
    "nul\x00inside\x00",
    "x" * 5000 + "\n" + "y" * 3000,
    "back\\slash \\u0000 \\n",
    "Contato: maria.silva@example.com, CPF 529.982.247-25, até amanhã",
]
JSON_BODIES = [
    {"ok": True, "n": 1},
    {"template": "{{request.body}}", "price": "$10", "money": "${amount}"},
    {"nul": "a\u0000b", "crlf": "a\r\nb", "quote": "\"'"},
    {"name": "São Paulo", "emoji": "\U0001f600", "items": [1, 2.5, None]},
    [{"id": 1}, {"id": 2}],
    {"long": "z" * 4000},
    {"email": "maria.silva@example.com", "card": "4111 1111 1111 1111", "nota": "ação"},
]
CHARSETS = [
    "utf-8", "UTF-8", '"utf-8"', "'utf-8'", "utf8", "iso-8859-1", '"ISO-8859-1"', "latin1",
    "windows-1252", "utf-16", "UTF-16LE", "us-ascii",
]  # fmt: skip


@dataclass(frozen=True)
class Body:
    content_type: str | None
    data: bytes
    content_encoding: str | None = None


@st.composite
def response_bodies(draw: st.DrawFn) -> Body:
    kind = draw(
        st.sampled_from(
            ["empty", "json", "json_bom", "text", "binary", "png", "encoded", "html", "multipart"]
        )
    )
    if kind == "empty":
        return Body(draw(st.sampled_from([None, "application/json", "text/plain"])), b"")
    if kind in ("json", "json_bom"):
        value = draw(st.sampled_from(JSON_BODIES))
        text = json.dumps(value, ensure_ascii=draw(st.booleans()))
        charset = draw(
            st.sampled_from(["", "; charset=utf-8", "; Charset=UTF-8", '; charset="utf-8"'])
        )
        data = text.encode("utf-8")
        if kind == "json_bom":
            data = b"\xef\xbb\xbf" + data
        return Body(
            draw(st.sampled_from(["application/json", "application/problem+json"])) + charset, data
        )
    if kind in ("text", "html"):
        text = draw(st.sampled_from(TEXTS))
        if kind == "html":
            text = f"<html><body><p>{text}</p></body></html>"
        charset = draw(st.sampled_from(CHARSETS))
        try:
            data = text.encode(charset.strip('"'))
        except UnicodeEncodeError:
            charset, data = "utf-8", text.encode("utf-8")
        media = "text/html" if kind == "html" else "text/plain"
        declared = draw(st.booleans()) or not charset.lower().strip('"').startswith("utf-8")
        return Body(f"{media}; charset={charset}" if declared else media, data)
    if kind == "png":
        return Body("image/png", _png())
    if kind == "multipart":
        part = draw(st.sampled_from(TEXTS[:5]))
        data = f"--b1\r\ncontent-type: text/plain\r\n\r\n{part}\r\n--b1--\r\n".encode()
        return Body('multipart/mixed; boundary="b1"', data)
    if kind == "encoded":
        plain = json.dumps(draw(st.sampled_from(JSON_BODIES))).encode()
        coding = draw(st.sampled_from(["gzip", "br"]))
        data = gzip.compress(plain, mtime=0) if coding == "gzip" else brotli.compress(plain)
        return Body("application/json", data, coding)
    seed = draw(st.integers(0, 2**16))
    data = random.Random(seed).randbytes(draw(st.integers(1, 300)))
    return Body(draw(st.sampled_from(["application/octet-stream", None])), data)


@st.composite
def responses(draw: st.DrawFn, method: str) -> HttpResponse:
    status = draw(st.sampled_from([200, 201, 204, 206, 301, 302, 304, 400, 404, 418, 500, 503]))
    body = draw(response_bodies())
    data = b"" if status in EMPTY_BODY_STATUSES or method == "HEAD" else body.data
    headers: list[tuple[str, str]] = []
    if body.content_type is not None:
        headers.append((draw(st.sampled_from(["content-type", "Content-Type"])), body.content_type))
    if body.content_encoding and data:
        headers.append(("content-encoding", body.content_encoding))
    if status in (301, 302):
        headers.append(("location", draw(st.sampled_from(["/next?x=1", "https://shop.svc/a%2Fb"]))))
    if status == 206:
        headers.append(("content-range", f"bytes 0-{max(len(data), 1) - 1}/99999"))
    extras = draw(
        st.lists(
            st.sampled_from(
                [
                    ("set-cookie", "theme=dark; Path=/"),
                    ("Set-Cookie", "lang=pt; Path=/; HttpOnly"),
                    ("vary", "Accept-Encoding"),
                    ("Vary", "Origin"),
                    ("content-length", "12345"),
                    ("transfer-encoding", "chunked"),
                    ("cache-control", "no-store"),
                    ("x-total-count", "42"),
                    ("x-request-id", "r-1"),
                    ("date", "Mon, 01 Jan 2024 00:00:00 GMT"),
                    ("etag", '"abc"'),
                    ("content-disposition", 'attachment; filename="a b.txt"'),
                    ("x-note", "café {{now}} $1"),
                    ("link", '</a?b=1>; rel="next", </c>; rel="last"'),
                ]
            ),
            max_size=5,
        )
    )
    headers.extend(extras)
    return HttpResponse(status=status, headers=tuple(headers), body=data)


# -- requests ----------------------------------------------------------------------------

SEGMENTS = [
    "api", "v1", "items", "42", "3f2b8c1e-1111-4222-8333-444455556666", "a;b=1", "..", ".",
    "", "a.b", ".*", "a+b", "(x)", "$", "%2F", "%20", "a%2Fb", "%C3%A9t%C3%A9", "%5B%5D",
    "%7B%7D", "%7C", "%5E", "%5C", "a*b", "x?y".replace("?", "%3F"), "~user", "name@host",
]  # fmt: skip
REQUEST_JSON = [
    {"q": ".*", "n": [3, 1]},
    {"q": "${json-unit.any-string}", "r": "${json-unit.ignore}"},
    {"a(b)": "[x]", "t": "{{request.body}}", "ok": False},
    {"nested": {"deep": {"v": 1.5}}, "list": [{"x": 1}, {"x": 2}]},
]
# Jetty answers these 400 whatever the stubs: drawn less often.
REFUSED_SEGMENTS = ["%00", "50%", "%zz"]
QUERY_NAMES = ["q", "tag", "a b", "x/y", "é", "page", "sort"]
QUERY_VALUES = [
    "maria.silva@example.com",
    "1",
    "red",
    "a b",
    "a+b",
    "x/y",
    "é",
    "",
    "1,2",
    "$x",
    "{{now}}",
    ".*",
    "50%",
]


def _encode(value: str, style: str) -> str:
    if style == "plus":
        return quote_plus(value)
    if style == "pct":
        return quote(value, safe="")
    return quote(value, safe="/,$")


@st.composite
def raw_queries(draw: st.DrawFn) -> str:
    pairs = draw(
        st.lists(st.tuples(st.sampled_from(QUERY_NAMES), st.sampled_from(QUERY_VALUES)), max_size=4)
    )
    if pairs and draw(st.booleans()):
        pairs.append(pairs[0])  # a repeated parameter, same or other value
        pairs[-1] = (pairs[0][0], draw(st.sampled_from(QUERY_VALUES)))
    style = draw(st.sampled_from(["plus", "pct", "lax"]))
    parts = [f"{_encode(n, style)}={_encode(v, style)}" for n, v in pairs]
    # Now and then bytes that are not UTF-8, as ISO-8859-1 forms send them.
    latin = draw(st.sampled_from([""] * 12 + ["q=caf%E9", "tag=%FF%FE", "%E9t%E9=1"]))
    return "&".join([*parts, latin] if latin else parts)


@st.composite
def request_bodies(draw: st.DrawFn, method: str) -> tuple[tuple[tuple[str, str], ...], bytes]:
    if method not in ("POST", "PUT", "PATCH"):
        return (), b""
    kind = draw(st.sampled_from(["none", "json", "form", "text"]))
    if kind == "json":
        value = draw(st.sampled_from([*JSON_BODIES[:4], *REQUEST_JSON]))
        return (("content-type", "application/json"),), json.dumps(value).encode()
    if kind == "form":
        query = draw(raw_queries())
        return (("content-type", "application/x-www-form-urlencoded"),), query.encode()
    if kind == "text":
        text = draw(st.sampled_from(TEXTS[:5]))
        return (("content-type", "text/plain; charset=utf-8"),), text.encode()
    return (), b""


@dataclass(frozen=True)
class Recorded:
    """One request as the capture saw it on the wire, and its exchange."""

    method: str
    target: str  # path and raw query
    headers: tuple[tuple[str, str], ...]
    body: bytes
    exchange: Exchange


def recording(
    method: str,
    target: str,
    response: HttpResponse,
    *,
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
) -> Recorded:
    """A request as sent (``target``: the path and raw query) and the exchange the
    capture makes of it."""
    path, _, query = target.partition("?")
    request = HttpRequest(
        method=method,
        path=path,
        query=query_pairs(query) if query else (),
        headers=headers,
        body=body,
        authority=HOST,
    )
    exchange = Exchange(id="e", request=request, response=response, namespace="shop")
    return Recorded(method, target, headers, body, exchange)


METHODS = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]


@st.composite
def paths(draw: st.DrawFn) -> str:
    segment = st.sampled_from(SEGMENTS * 4 + REFUSED_SEGMENTS)
    return "/" + "/".join(draw(st.lists(segment, min_size=1, max_size=4)))


@st.composite
def recordings(draw: st.DrawFn, method: str | None = None, path: str | None = None) -> Recorded:
    method = method or draw(st.sampled_from(METHODS))
    path = path or draw(paths())
    query = draw(raw_queries())
    headers, body = draw(request_bodies(method))
    response = draw(responses(method))
    target = f"{path}?{query}" if query else path
    return recording(method, target, response, headers=headers, body=body)


@st.composite
def neighbours(draw: st.DrawFn) -> list[Recorded]:
    """Recordings of one method and path, with other queries and bodies."""
    method = draw(st.sampled_from(METHODS))
    path = draw(paths())
    return draw(st.lists(recordings(method, path), min_size=2, max_size=4))
