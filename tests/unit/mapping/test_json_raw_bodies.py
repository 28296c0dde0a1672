"""A JSON request body with raw control characters in a string (a tab, a line break
typed into a note): WireMock's JSON matcher reads JSON strictly (Jackson refuses an
unescaped control character), so an ``equalToJson`` stub would never answer it. Such a
body is matched as its text, placeholders and all, and that text matches the body as
it was sent."""

from __future__ import annotations

import json
import re

import pytest

from tests.unit.mapping.mapping_helpers import build, make_exchange
from tests.unit.sanitize.raw_control_corpus import Case, cases
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

CASES = cases()[::7]
SANITIZER = sanitizer()


def _matches(pattern: dict, text: str) -> bool:
    """WireMock's reading of one body pattern (the kinds a text body is given)."""
    if "equalTo" in pattern:
        return pattern["equalTo"] == text
    # Java's and Python's regex read the escapes the stub writes alike.
    return re.fullmatch(pattern["matches"], text) is not None


@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_a_sanitized_raw_control_body_is_matched_as_its_text(case: Case) -> None:
    sanitized = SANITIZER.sanitize(request_exchange(body=case.raw.encode(), path="/api"))
    mapping = build(sanitized)
    assert mapping is not None
    patterns = mapping["request"]["bodyPatterns"]
    assert len(patterns) == 1
    (pattern,) = patterns
    assert "equalToJson" not in pattern and "matchesJsonPath" not in pattern
    assert set(pattern) <= {"equalTo", "matches"}
    body = sanitized.request.body.decode()
    assert _matches(pattern, body)
    # The request as the client sends it again: its personal values where the holes are.
    assert _matches(pattern, case.raw)
    # Another body is not answered.
    assert not _matches(pattern, case.raw + " ")


def test_a_strict_body_keeps_its_json_matcher() -> None:
    """The same document written as strict JSON is matched as JSON: only the raw
    characters send a body to its text."""
    case = CASES[0]
    strict = SANITIZER.sanitize(request_exchange(body=case.strict.encode(), path="/api"))
    mapping = build(strict)
    assert mapping is not None
    assert "equalToJson" in mapping["request"]["bodyPatterns"][0]


def test_an_unsanitized_raw_control_body_is_matched_exactly() -> None:
    text = b'{"sku":"SKU-1","obs":"linha1\nlinha2\tfim"}'
    mapping = build(
        make_exchange(method="POST", headers=(("content-type", "application/json"),), body=text)
    )
    assert mapping is not None
    (pattern,) = mapping["request"]["bodyPatterns"]
    assert "equalToJson" not in pattern
    assert _matches(pattern, text.decode())
    assert not _matches(pattern, json.dumps(json.loads(text, strict=False)))
