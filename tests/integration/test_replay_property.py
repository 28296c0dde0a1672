"""A mock never answers wrong, checked by generation against a live WireMock 3.13.2.

Each example is a raw request and its response as a capture sees them (varied status,
bodies in many charsets and forms, odd headers, odd paths and queries). It goes through
the pipeline's own steps (``default_stages``: sanitize, dedup, build the mapping, the
queue entry) and then either:

* gets no stub, with a named skip reason; or
* its stub, imported into WireMock, answers the recorded request with exactly the
  sanitized response (status, body bytes, every header the stub keeps and no other),
  and a request that differs in a part the stub matches exactly (the method, the path,
  a literal character of a path pattern, an exact query value or form field, a byte
  that is not UTF-8, how often a value repeats, an exact body or JSON value) is not
  matched by it.

Loaded together, the stubs of one endpoint each answer their own recording. Recorded
bodies are never response templates: ``{{`` and ``$`` are served as they are.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from hypothesis import HealthCheck, given, settings
from prometheus_client import REGISTRY

from ext_proc_server.capture.assembler import query_pairs
from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import HttpResponse
from ext_proc_server.core.metrics import STUB_SKIP_REASONS
from ext_proc_server.core.queue_entries import decode_entry
from ext_proc_server.core.redis_keys import RedisKeys
from ext_proc_server.loader.wiremock_client import WireMockClient
from ext_proc_server.mapping.noise import java_regex_escape
from ext_proc_server.misses.matching import split_path_pattern
from ext_proc_server.pipeline import Prepared, Skipped, default_stages, prepare
from ext_proc_server.sanitize import Sanitizer, media
from tests.integration.replay_exchanges import (
    HOST,
    Recorded,
    neighbours,
    recording,
    recordings,
)

pytestmark = pytest.mark.integration

MATCHED_STUB = "matched-stub-id"
# Response headers a stub leaves out (WireMock writes its own framing and date; per-hop
# and per-request values belong to the recorded hop, not to a replay).
NOT_KEPT = frozenset(
    {"connection", "keep-alive", "transfer-encoding", "content-length", "content-encoding",
     "date", "te", "trailer", "upgrade", "proxy-authenticate", "proxy-connection",
     "x-request-id", "traceparent"}
)  # fmt: skip
WIREMOCK_FRAMING = frozenset({MATCHED_STUB, "transfer-encoding", "content-length"})
HEAD_KEPT = frozenset({"content-length"})
LENGTH_STABLE = frozenset({media.BINARY, media.STRUCTURED})
ANY_BYTES = frozenset({"application/octet-stream"})


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


def _kept_headers(response: HttpResponse, *, head: bool) -> dict[str, list[str]]:
    """The headers a stub serves; to HEAD (but a 204, a compressed body, or one its GET's
    stub may serve at another length) also the length of the GET's body."""
    kept: dict[str, list[str]] = {}
    for name, value in response.headers:
        lower = name.lower()
        if lower not in NOT_KEPT or (head and lower in HEAD_KEPT):
            values = kept.setdefault(lower, [])
            if not (values and lower == "content-length"):  # one length
                values.append(value)
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
    coding = clean.response.header("content-encoding")
    # A length only of a body its GET's stub serves unchanged or not at all: not text,
    # not an image, not bytes of any kind (application/octet-stream, no type).
    media_type = clean.response.content_type
    stable = media.media_kind(media_type) in LENGTH_STABLE and media_type not in ANY_BYTES
    head = recorded.method == "HEAD" and clean.response.status != 204 and not coding and stable
    kept = _kept_headers(clean.response, head=head)
    for name, values in kept.items():
        # The bytes the capture read as UTF-8 (http.client reads them as ISO-8859-1).
        served_bytes = [value.encode("latin-1") for value in served.values(name)]
        assert served_bytes == [value.encode() for value in values], name
    # And nothing else but WireMock's framing and its stub id.
    added = {name.lower() for name, _ in served.headers} - set(kept) - WIREMOCK_FRAMING
    assert not added, f"headers not recorded: {added}"

    for method, target, body in _other_requests(recorded, mapping):
        other = _send(port, method, target, recorded.headers, body)
        assert not other.matched, f"{method} {target} {body!r} matched {recorded.target}"


def _replayed(examples: int) -> Any:
    """Hypothesis settings of a replay property: ``examples`` fixed ones (derandomized, as
    CI reruns them), each against the module's WireMock."""
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


@_replayed(200)
@given(recorded=recordings())
def test_a_stub_replays_its_recording_exactly_or_is_not_written(
    recorded: Recorded, pipeline: Any, wm: Any
) -> None:
    check_replay(recorded, pipeline, wm.port, wm.url)


@_replayed(100)
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
