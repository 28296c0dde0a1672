"""A query parameter given different values is held to them in the order sent
(mapping.query_order): WireMock's ``hasExactly`` takes them in any order."""

from __future__ import annotations

import re
from urllib.parse import quote, quote_plus

from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.mapping import Deduplicator, NoiseNormalizer
from tests.unit.mapping.mapping_helpers import build, make_exchange

# U+FFFD is what an undecodable byte reads as: such a value gets no stub, by design.
VALUES = st.text(
    st.characters(exclude_categories=("Cs",), exclude_characters="\ufffd"), min_size=1, max_size=6
)

SORTS = (("sort", "name"), ("sort", "date"))


def _request(query: tuple[tuple[str, str], ...], path: str = "/items") -> dict:
    mapping = build(make_exchange(path=path, query=query))
    assert mapping is not None
    return mapping["request"]


def test_different_values_are_held_to_the_order_sent_beside_has_exactly() -> None:
    request = _request((("page", "2"), *SORTS))
    assert "urlPath" not in request
    regex = re.compile(request["urlPattern"])
    for target in (
        "/items?sort=name&sort=date",
        "/items?page=2&sort=name&x=1&sort=date&y=",
    ):
        assert regex.fullmatch(target), target
    for target in ("/items?sort=date&sort=name", "/items/x?sort=name&sort=date", "/items"):
        assert not regex.fullmatch(target), target
    assert request["queryParameters"]["sort"] == {
        "hasExactly": [{"equalTo": "date"}, {"equalTo": "name"}]
    }


def test_a_dynamic_path_keeps_its_pattern_before_the_query() -> None:
    request = _request(SORTS, path="/users/0f8fad5b-d9cb-469f-a165-70867728950e/items")
    assert "urlPathPattern" not in request
    regex = re.compile(request["urlPattern"])
    assert regex.fullmatch("/users/another/items?sort=name&sort=date")
    assert not regex.fullmatch("/users/a/b/items?sort=name&sort=date")


def test_one_value_the_same_value_or_noise_values_keep_the_plain_matchers() -> None:
    for query in (
        (("sort", "name"),),
        (("sort", "name"), ("page", "2")),
        (("request_id", "a"), ("request_id", "b")),
    ):
        request = _request(query)
        assert "urlPattern" not in request and request["urlPath"] == "/items"


@settings(max_examples=200, deadline=None)
@given(st.lists(VALUES, min_size=2, max_size=3, unique=True))
def test_each_value_matches_in_any_of_its_encodings(values: list[str]) -> None:
    request = _request(tuple(("q", v) for v in values))
    regex = re.compile(request["urlPattern"])
    for encode in (quote_plus, lambda v: quote(v, safe="")):
        target = "/items?" + "&".join(f"q={encode(v)}" for v in values)
        assert regex.fullmatch(target), target
    reversed_target = "/items?" + "&".join(f"q={quote_plus(v)}" for v in reversed(values))
    assert not regex.fullmatch(reversed_target)


def test_only_another_order_than_sorted_joins_the_key() -> None:
    cfg = CollectorConfig()
    dedup = Deduplicator(cfg, normalizer=NoiseNormalizer(cfg))

    def key(query: tuple[tuple[str, str], ...]) -> str:
        return dedup.key_parts(make_exchange(query=query))[1] or ""

    sorted_order, other_order = key((("sort", "date"), ("sort", "name"))), key(SORTS)
    assert sorted_order != other_order
    assert key((("sort", "name"), ("page", "1"), ("sort", "date"))) != key(
        (("page", "1"), *SORTS[::-1])
    )


FORM = (("Content-Type", "application/x-www-form-urlencoded"),)


def _form(body: str) -> tuple[str, dict]:
    """-> (the stub's key, its request) of a form POST of ``body``."""
    cfg = CollectorConfig()
    normalizer = NoiseNormalizer(cfg)
    exchange = make_exchange(method="POST", headers=FORM, body=body.encode())
    mapping = build(exchange)
    assert mapping is not None
    return Deduplicator(cfg, normalizer=normalizer).key_parts(exchange)[1], mapping["request"]


@settings(max_examples=200, deadline=None)
@given(
    st.lists(VALUES, min_size=2, max_size=3, unique=True),
    st.sampled_from(["", "page=2&", "a=&"]),
)
def test_a_form_fields_values_are_held_to_the_order_sent(values: list[str], before: str) -> None:
    sent = before + "&".join(f"tag={quote_plus(v)}" for v in values)
    key, request = _form(sent)
    (pattern,) = request["bodyPatterns"]
    regex = re.compile(pattern["matches"])
    for encode in (quote_plus, lambda v: quote(v, safe="")):
        body = "&".join(f"tag={encode(v)}" for v in values) + "&x=1"
        assert regex.fullmatch(body), body
    reversed_body = before + "&".join(f"tag={quote_plus(v)}" for v in reversed(values))
    assert not regex.fullmatch(reversed_body)
    assert len(request["formParameters"]["tag"]["hasExactly"]) == len(values)
    reversed_key, reversed_request = _form(reversed_body)
    assert reversed_key != key
    assert reversed_request["formParameters"] == request["formParameters"]
