"""A mock never answers wrong, checked by generation against a live WireMock 3.13.2.

Each example is a raw request and its response as a capture sees them (varied status,
bodies in many charsets and forms, odd headers, odd paths and queries). It goes through
the pipeline's own steps (``default_stages``: sanitize, dedup, build the mapping, the
queue entry) and then either:

* gets no stub, with a named skip reason; or
* its stub, imported into WireMock, answers the recorded request with exactly the
  sanitized response (status, body bytes, every header the stub keeps), and a request
  that differs in a part the stub matches exactly (method, path, an exact query
  value) is not matched by it.
"""

from __future__ import annotations

import asyncio
import gzip
import http.client
import json
import random
import re
import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus, urlencode

import brotli
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import REGISTRY

from ext_proc_server.capture.assembler import query_pairs
from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.core.metrics import STUB_SKIP_REASONS
from ext_proc_server.core.queue_entries import decode_entry
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader.wiremock_client import WireMockClient
from ext_proc_server.mapping.noise import java_regex_escape
from ext_proc_server.misses.matching import split_path_pattern
from ext_proc_server.pipeline import Prepared, Skipped, default_stages, prepare
from ext_proc_server.sanitize import Sanitizer

pytestmark = pytest.mark.integration

HOST = "shop.svc"
MATCHED_STUB = "matched-stub-id"
# Response headers a stub leaves out (WireMock writes its own framing and date; per-hop
# and per-request values belong to the recorded hop, not to a replay).
NOT_KEPT = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding",
     "date", "te", "trailer", "upgrade", "proxy-authenticate", "proxy-connection",
     "x-request-id", "traceparent"}
)  # fmt: skip
EMPTY_BODY_STATUSES = frozenset({204, 304})
WIREMOCK_FRAMING = frozenset({MATCHED_STUB, "transfer-encoding", "content-length"})


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
        authority=f"{HOST}:8080",
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


# -- the pipeline and WireMock -----------------------------------------------------------


@pytest.fixture(scope="module")
def pipeline() -> Any:
    config = CollectorConfig()
    return config, default_stages(config, redis=None, keys=RedisKeys(queue="replay"))


@pytest.fixture(scope="module")
def wm(wiremock: Any) -> Iterator[Any]:
    wiremock.reset()
    yield wiremock
    wiremock.reset()


@dataclass(frozen=True)
class Served:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def values(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name]

    @property
    def matched(self) -> bool:
        return bool(self.values(MATCHED_STUB))


def _send(port: int, method: str, target: str, headers: tuple, body: bytes) -> Served:
    """One request as given, byte for byte (no client normalizes the path)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.putrequest(method, target, skip_host=True, skip_accept_encoding=True)
        conn.putheader("Host", HOST)
        for name, value in headers:
            conn.putheader(name, value)
        conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body or None)
        resp = conn.getresponse()
        data = resp.read()
        return Served(resp.status, resp.getheaders(), data)
    finally:
        conn.close()


def _load(url: str, *mappings: dict[str, Any]) -> None:
    async def load() -> None:
        async with WireMockClient(url) as client:
            await client.reset()
            await client.import_mappings(list(mappings))

    asyncio.run(load())


def _kept_headers(response: HttpResponse) -> dict[str, list[str]]:
    kept: dict[str, list[str]] = {}
    for name, value in response.headers:
        lower = name.lower()
        if lower not in NOT_KEPT:
            kept.setdefault(lower, []).append(value)
    return kept


def _skips_counted() -> dict[str, float]:
    return {
        reason: REGISTRY.get_sample_value("collector_stubs_skipped_total", {"reason": reason})
        or 0.0
        for reason in STUB_SKIP_REASONS
    }


def _mapping_of(prepared: Prepared) -> dict[str, Any]:
    assert prepared.entry is not None
    mapping, _host = decode_entry(prepared.entry)
    return mapping


def _other_requests(
    recorded: Recorded, mapping: dict[str, Any]
) -> Iterator[tuple[str, str, bytes]]:
    """Requests differing from the recorded one in a part the stub matches exactly: the
    method, the path, an exact query value, how often a repeated value is repeated."""
    body = recorded.body
    yield ("PUT" if recorded.method != "PUT" else "POST"), recorded.target, body
    path, _, query = recorded.target.partition("?")
    other_path = path.rstrip("/") + "/mockado-other"
    yield recorded.method, other_path + ("?" + query if query else ""), body
    other_path = _other_literal(path, mapping["request"].get("urlPathPattern"))
    if other_path is not None:
        yield recorded.method, other_path + ("?" + query if query else ""), body
    pairs = list(query_pairs(query)) if query else []
    for name, matcher in sorted(mapping["request"].get("queryParameters", {}).items()):
        at = [i for i, (n, _) in enumerate(pairs) if n == name]
        values = [pairs[i][1] for i in at]
        changed = None
        if set(matcher) == {"equalTo"}:
            changed = {at[0]: "mockado-other"}
        elif set(matcher) == {"hasExactly"} and all(
            set(m) == {"equalTo"} or m == {"matches": "^$"} for m in matcher["hasExactly"]
        ):
            repeated = [v for v in values if values.count(v) > 1]
            others = [v for v in values if repeated and v != repeated[0]]
            if repeated and others:  # the same values, one repeated more often
                changed = {at[values.index(repeated[0])]: others[0]}
        if changed:
            fresh = [(n, changed.get(i, v)) for i, (n, v) in enumerate(pairs)]
            yield recorded.method, f"{path}?{urlencode(fresh, quote_via=quote)}", body
    flipped = _other_bytes(query, mapping["request"].get("queryParameters") or {})
    if flipped is not None:
        yield recorded.method, f"{path}?{flipped}", body
    yield from _other_bodies(recorded, mapping)


def _other_literal(path: str, pattern: str | None) -> str | None:
    """``path`` with a regex metacharacter of a segment the pattern holds literally
    changed (None: there is none): escaping it is what keeps it literal."""
    if pattern is None:
        return None
    segments = path.removeprefix("/").split("/")
    for at, (segment, part) in enumerate(zip(segments, split_path_pattern(pattern), strict=True)):
        found = next((c for c in segment if c in ".*+()$"), None)
        if found and part == java_regex_escape(segment):
            segments[at] = segment.replace(found, "x", 1)
            return "/" + "/".join(segments)
    return None


def _other_json(
    recorded: Recorded, value: dict[str, Any], expected: dict[str, Any]
) -> Iterator[tuple[str, str, bytes]]:
    """JSON bodies with one top-level value the stub expects as recorded changed."""
    if expected:
        yield recorded.method, recorded.target, json.dumps({"mockado": "other"}).encode()
    for key, leaf in value.items():
        wanted = expected.get(key)
        literal = wanted == leaf or (
            isinstance(leaf, str) and wanted == "${json-unit.regex}" + java_regex_escape(leaf)
        )
        if literal and isinstance(leaf, str | int | float | bool):
            other = "mockado-other" if isinstance(leaf, str) else [leaf]
            body = json.dumps({**value, key: other}).encode()
            yield recorded.method, recorded.target, body


_HIGH_ESCAPE = re.compile(r"%([89A-Fa-f][0-9A-Fa-f])")


def _other_bytes(encoded: str, matchers: dict[str, Any]) -> str | None:
    """``encoded`` (a query or form) with one byte past ASCII changed in a part the stub
    matches exactly (None: there is none)."""
    parts = encoded.split("&")
    for at, part in enumerate(parts):
        name = query_pairs(part)[0][0] if query_pairs(part) else ""
        found = _HIGH_ESCAPE.search(part)
        if found and set(matchers.get(name, {})) & {"equalTo", "hasExactly"}:
            other = f"%{int(found.group(1), 16) ^ 1:02X}"
            parts[at] = part[: found.start()] + other + part[found.end() :]
            return "&".join(parts)
    return None


def _other_bodies(recorded: Recorded, mapping: dict[str, Any]) -> Iterator[tuple[str, str, bytes]]:
    """Bodies differing from the recorded one where the stub matches it exactly."""
    patterns = mapping["request"].get("bodyPatterns") or []
    body = recorded.body
    for pattern in patterns:
        if "equalTo" in pattern or "binaryEqualTo" in pattern:
            yield recorded.method, recorded.target, body + b"x"
        elif "equalToJson" in pattern and isinstance(json.loads(body), dict):
            yield from _other_json(recorded, json.loads(body), pattern["equalToJson"])
    form = mapping["request"].get("formParameters") or {}
    flipped = _other_bytes(body.decode(), form) if form else None
    if flipped is not None:
        yield recorded.method, recorded.target, flipped.encode()
    pairs = query_pairs(body.decode()) if form else ()
    for name, matcher in sorted(form.items()):
        if set(matcher) == {"equalTo"}:
            at = next(i for i, (n, _) in enumerate(pairs) if n == name)
            fresh = [(n, "mockado-other" if i == at else v) for i, (n, v) in enumerate(pairs)]
            yield recorded.method, recorded.target, urlencode(fresh, quote_via=quote).encode()


def check_replay(recorded: Recorded, pipeline: Any, port: int, url: str) -> None:
    config, stages = pipeline
    before = _skips_counted()
    result = prepare(recorded.exchange, stages, dedup_enabled=False)
    if isinstance(result, Skipped):
        assert result.reason in STUB_SKIP_REASONS
        assert _skips_counted() == {**before, result.reason: before[result.reason] + 1}
        return
    if result is None:  # the mapping step skipped it: counted under a named reason
        counted = _skips_counted()
        assert sum(counted.values()) == sum(before.values()) + 1, "dropped, no reason counted"
        return
    assert isinstance(result, Prepared)
    mapping = _mapping_of(result)
    assert "transformers" not in mapping["response"], "recorded bodies are never templates"
    clean = Sanitizer(config).sanitize(recorded.exchange)
    assert clean.response is not None
    _load(url, mapping)

    served = _send(port, recorded.method, recorded.target, recorded.headers, recorded.body)
    assert served.matched, (
        f"the recorded request is not matched: {served.status} {mapping['request']}"
    )
    assert served.status == clean.response.status
    expected_body = b"" if recorded.method == "HEAD" else clean.response.body
    assert served.body == expected_body
    kept = _kept_headers(clean.response)
    for name, values in kept.items():
        assert served.values(name) == values, name
    # And nothing else but WireMock's framing and its stub id.
    added = {name.lower() for name, _ in served.headers} - set(kept) - WIREMOCK_FRAMING
    assert not added, f"headers not recorded: {added}"

    for method, target, body in _other_requests(recorded, mapping):
        other = _send(port, method, target, recorded.headers, body)
        assert not other.matched, f"{method} {target} {body!r} matched {recorded.target}"


@settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(recorded=recordings())
def test_a_stub_replays_its_recording_exactly_or_is_not_written(
    recorded: Recorded, pipeline: Any, wm: Any
) -> None:
    check_replay(recorded, pipeline, wm.port, wm.url)


@st.composite
def neighbours(draw: st.DrawFn) -> list[Recorded]:
    """Recordings of one method and path, with other queries and bodies."""
    method = draw(st.sampled_from(METHODS))
    path = draw(paths())
    return draw(st.lists(recordings(method, path), min_size=2, max_size=4))


@settings(
    max_examples=100,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(recorded=neighbours())
def test_among_its_neighbours_a_recording_is_answered_by_its_own_stub(
    recorded: list[Recorded], pipeline: Any, wm: Any
) -> None:
    """Stubs of one endpoint overlap (extra query values and JSON fields are accepted);
    priorities must still give each recorded request its own stub."""
    _config, stages = pipeline
    stubs: dict[str, tuple[Recorded, dict[str, Any]]] = {}
    for each in recorded:
        result = prepare(each.exchange, stages, dedup_enabled=False)
        if isinstance(result, Prepared):
            mapping = _mapping_of(result)
            stubs[mapping["id"]] = (each, mapping)  # the same key: the last one is kept
    if not stubs:
        return
    _load(wm.url, *(mapping for _, mapping in stubs.values()))
    for stub_id, (each, _mapping) in stubs.items():
        served = _send(wm.port, each.method, each.target, each.headers, each.body)
        assert served.values(MATCHED_STUB) == [stub_id], each.target


# -- the cases found by the test above, each alone -----------------------------------------

JSON_REPLY = (("content-type", "application/json"),)


def _reply(tag: str) -> HttpResponse:
    return HttpResponse(status=200, headers=JSON_REPLY, body=json.dumps({"recorded": tag}).encode())


@pytest.mark.parametrize(
    ("method", "target", "headers", "body"),
    [
        ("GET", "/search?q=1&q=", (), b""),
        ("GET", "/search?q=&q=1&page=2", (), b""),
        ("POST", "/login", (("content-type", "application/x-www-form-urlencoded"),), b"a=&a=1"),
    ],
)
def test_an_empty_value_among_repeated_ones_matches_its_own_stub(
    method: str, target: str, headers: tuple, body: bytes, pipeline: Any, wm: Any
) -> None:
    recorded = recording(method, target, _reply("empty"), headers=headers, body=body)
    check_replay(recorded, pipeline, wm.port, wm.url)


@pytest.mark.parametrize(
    ("target", "other"),
    [
        ("/tags?t=a&t=a&t=b", "/tags?t=a&t=b&t=b"),
        ("/tags?t=a&t=a", "/tags?t=a&t=x"),
        ("/search?q=caf%E9", "/search?q=caf%E8"),  # ISO-8859-1 bytes, not UTF-8
        ("/search?q=%FF%FE&page=2", "/search?q=%C3&page=2"),
    ],
)
def test_a_request_wiremock_cannot_tell_from_another_gets_no_stub(
    target: str, other: str, pipeline: Any, wm: Any
) -> None:
    """``hasExactly`` does not count repeats, and WireMock reads every byte that is not
    UTF-8 as U+FFFD: a stub for ``target`` would answer ``other``."""
    recorded = recording("GET", target, _reply("recorded"))
    _config, stages = pipeline
    result = prepare(recorded.exchange, stages, dedup_enabled=False)
    if isinstance(result, Prepared):
        _load(wm.url, _mapping_of(result))
        served = _send(wm.port, "GET", other, (), b"")
        assert not served.matched, f"{other} answered with the recording of {target}"
    check_replay(recorded, pipeline, wm.port, wm.url)
    form = recording(
        "POST",
        "/login",
        _reply("form"),
        headers=(("content-type", "application/x-www-form-urlencoded"),),
        body=target.partition("?")[2].encode(),
    )
    check_replay(form, pipeline, wm.port, wm.url)


@pytest.mark.parametrize("target", ["/a/../../b", "/.%2E", "/a%00b", "/files/50%"])
def test_a_path_jetty_refuses_gets_a_counted_skip_not_a_stub(
    target: str, pipeline: Any, wm: Any
) -> None:
    recorded = recording("GET", target, _reply("refused"))
    _config, stages = pipeline
    result = prepare(recorded.exchange, stages, dedup_enabled=False)
    assert isinstance(result, Skipped) and result.reason == "request_path_refused"
    # Why: Jetty refuses the path before any stub is looked at.
    assert _send(wm.port, "GET", recorded.target, (), b"").status == 400
