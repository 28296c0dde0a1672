"""The JSON body matcher built from what the normalizer saw while building the tree
(``NormalizedBody.facts``) is the one a full walk of the tree builds."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.config.collector import NoiseRule
from ext_proc_server.core.exchange import Exchange
from ext_proc_server.mapping import NoiseNormalizer, request_pattern
from ext_proc_server.mapping.noise import java_regex_escape
from tests.unit.mapping.json_strategies import json_texts
from tests.unit.mapping.mapping_helpers import JSON, UUID, make_exchange

POINTERS = ["", "/id", "/a", "/b", "/0", "/1", "/a/0", "/0/id", "/a/b", "/t~0", "/a~1b"]


def _both(exchange: Exchange, **config: Any) -> tuple[str, str, bool]:
    """((pattern, specificity) from the facts, the same from a full walk, whether there were facts), each
    as JSON text: 1, 1.0 and True differ there."""
    normalized = NoiseNormalizer(CollectorConfig(**config)).normalize_request(exchange)
    walked = normalized._replace(body=dataclasses.replace(normalized.body, facts=None))
    return (
        json.dumps(request_pattern(normalized)),
        json.dumps(request_pattern(walked)),
        normalized.body.facts is not None,
    )


def _post(text: str, pointers: frozenset[str] = frozenset()) -> Exchange:
    return make_exchange(
        method="POST",
        headers=JSON,
        body=text.encode("utf-8", "surrogatepass"),
        redactions=frozenset(f"request.body.json:{p}" for p in pointers),
    )


@settings(max_examples=400, deadline=None)
@given(json_texts(), st.sets(st.sampled_from(POINTERS), max_size=3), st.booleans())
def test_the_matcher_from_the_facts_is_the_full_walks(
    text: str, pointers: set[str], noise_rule: bool
) -> None:
    rules = [NoiseRule(path_prefix="/", fields=["a", "id"])] if noise_rule else []
    fast, walked, _ = _both(_post(text, frozenset(pointers)), noise_rules=rules)
    assert fast == walked


@pytest.mark.parametrize(
    "document",
    [
        {"id": 7, "items": [{"sku": "A-1", "qty": 2, "price": 1.5}] * 3, "note": "x"},
        {"requestId": UUID, "at": "2024-01-02T03:04:05Z", "list": [UUID, 1, None, True]},
        {"file": f"order-{UUID}.pdf", "created_at": 1700000000, "updated": [1700000000123]},
        {"deep": {"er": {"est": [[], {}, [{"ts": "1700000000"}]]}}},
        [UUID, {"a": "SANITIZED_EMAIL"}, 2.5e-7],
        {},
    ],
)
def test_documents_with_holes_at_every_depth_give_the_full_walks_matcher(document: Any) -> None:
    fast, walked, had_facts = _both(_post(json.dumps(document), frozenset({"/deep/er"})))
    assert had_facts
    assert fast == walked


@pytest.mark.parametrize(
    "text",
    [
        '{"a": "${json-unit.any-string}"}',
        '{"a": "\\u0024{json-unit.any-string}"}',
        '{"a": "$\\u007bjson-unit.any-string}"}',
    ],
)
def test_a_string_that_may_start_with_a_placeholder_is_walked_and_escaped(text: str) -> None:
    fast, walked, had_facts = _both(_post(text))
    assert not had_facts
    assert fast == walked
    pattern, _ = json.loads(fast)
    expected = pattern["bodyPatterns"][0]["equalToJson"]
    assert expected == {"a": "${json-unit.regex}" + java_regex_escape("${json-unit.any-string}")}


def test_a_dollar_or_an_escape_elsewhere_keeps_the_facts() -> None:
    for text in ('{"price": "$ 10"}', '{"quote": "say \\"hi\\"", "name": "Jo\\u00e3o"}'):
        fast, walked, had_facts = _both(_post(text))
        assert had_facts
        assert fast == walked
