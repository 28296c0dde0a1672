"""java_regex_escape character by character, and the response headers a stub replays."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.exchange import HttpResponse
from ext_proc_server.mapping.noise import java_regex_escape
from ext_proc_server.mapping.stubs import TRUNCATED_HEADER, response_definition

DROPPED = {"date", "content-length", "transfer-encoding", "x-request-id", "traceparent"}


def escaped_char(ch: str) -> str:
    if ch.isascii() and ch.isalnum():
        return ch
    if ord(ch) < 0x20 or ord(ch) == 0x7F:
        return f"\\x{ord(ch):02x}"
    return "\\" + ch if ch.isascii() else ch


def test_every_character_is_escaped_as_java_regex_reads_it() -> None:
    for code in range(0x3000):
        ch = chr(code)
        if not 0xD800 <= code < 0xE000:
            assert java_regex_escape(ch) == escaped_char(ch)
    assert java_regex_escape("a.b(1)\x00é\ud800") == "a\\.b\\(1\\)\\x00é\ud800"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=20))
def test_a_text_is_escaped_character_by_character(text: str) -> None:
    assert java_regex_escape(text) == "".join(escaped_char(ch) for ch in text)


def expected_headers(pairs: list[tuple[str, str]], truncated: bool) -> dict[str, object]:
    """Each kept name under its first casing, one value as is, several as a list."""
    values: dict[str, list[str]] = {}
    first: dict[str, str] = {}
    for name, value in pairs:
        lower = name.lower()
        if lower in DROPPED or lower.startswith((":", "x-envoy-")):
            continue
        values.setdefault(first.setdefault(lower, name), []).append(value)
    if truncated:
        values[TRUNCATED_HEADER] = ["true"]
    return {name: v[0] if len(v) == 1 else v for name, v in values.items()}


NAMES = st.sampled_from(
    ["", "Vary", "vary", "VARY", "Set-Cookie", "set-cookie", "X-Envoy-Upstream", ":status",
     "Date", "x-mockado-truncated", "X-Mockado-Truncated", "Etag", "Content-Length"]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(NAMES, st.sampled_from(["1", "", "a b"])), max_size=8), st.booleans())
def test_replayed_headers_keep_each_names_first_casing_and_every_value(
    pairs: list[tuple[str, str]], truncated: bool
) -> None:
    response = HttpResponse(status=200, headers=tuple(pairs), body=b"", body_truncated=truncated)
    headers = response_definition(response).get("headers", {})
    expected = expected_headers(pairs, truncated)
    assert headers == expected
    assert list(headers) == list(expected)
