"""Stubs written by earlier versions: narrowed to today's matchers on import, or retired."""

from __future__ import annotations

import copy
import json
import re

from hypothesis import given
from hypothesis import strategies as st

from ext_proc_server.mapping import (
    encoded_on_current_format,
    old_stubs,
    on_current_format,
)
from ext_proc_server.mapping.catch_all import catch_all_mapping, passthrough_mapping
from ext_proc_server.mapping.java_regex import java_regex_escape
from ext_proc_server.mapping.priority import PRIORITY_SCALE, SCALE_KEY, stub_priority
from ext_proc_server.mapping.stub_format import (
    RETIRED_BODY_UNKNOWN,
    on_old_format,
    one_value_wildcards,
)
from tests.unit.mapping.json_strategies import DOCUMENTS
from tests.unit.mapping.mapping_helpers import build, json_post, make_exchange

NEW_WILDCARD = r'[^\r\n<>"]+?'
SCHEMA_VERSION = "V202012"


def old_stub(request: dict, *, priority: int = 60, stub_id: str = "old-1") -> dict:
    """A stub as earlier versions wrote it: no priority_scale in its metadata."""
    return {
        "id": stub_id,
        "uuid": stub_id,
        "priority": priority,
        "request": request,
        "response": {"status": 200, "body": "recorded"},
        "metadata": {"mockado": {"namespace": "shop", "hash": "h", "first_seen": 1.0}},
    }


def json_body(expected: object, **flags: bool) -> dict:
    return {
        "method": "POST",
        "urlPath": "/orders",
        "bodyPatterns": [{"equalToJson": expected, "ignoreExtraElements": True, **flags}],
    }


def upgraded(stub: dict) -> dict:
    out, reason = on_current_format(stub)
    assert reason == ""
    assert out is not None
    return out


def test_json_arrays_are_matched_in_order_and_at_their_recorded_length() -> None:
    patch = [{"op": "remove", "path": "/a"}, {"op": "add", "path": "/a", "value": 1}]
    stub = old_stub(json_body({"patch": patch, "ids": [101]}, ignoreArrayOrder=True))
    patterns = upgraded(stub)["request"]["bodyPatterns"]
    assert patterns == [
        {"equalToJson": {"patch": patch, "ids": [101]}, "ignoreExtraElements": True},
        {
            "matchesJsonSchema": {
                "properties": {
                    "patch": {"minItems": 2, "maxItems": 2},
                    "ids": {"minItems": 1, "maxItems": 1},
                }
            },
            "schemaVersion": SCHEMA_VERSION,
        },
    ]


def test_a_json_body_without_arrays_gets_no_schema() -> None:
    stub = old_stub(json_body({"amount": 10}, ignoreArrayOrder=True))
    assert upgraded(stub)["request"]["bodyPatterns"] == [
        {"equalToJson": {"amount": 10}, "ignoreExtraElements": True}
    ]


def test_a_length_schema_already_there_is_not_added_twice() -> None:
    request = json_body({"ids": [1, 2]})
    request["bodyPatterns"].append(
        {"matchesJsonSchema": {"properties": {"ids": {"minItems": 2, "maxItems": 2}}},
         "schemaVersion": SCHEMA_VERSION}
    )  # fmt: skip
    assert upgraded(old_stub(request))["request"]["bodyPatterns"] == request["bodyPatterns"]


def test_an_ignored_json_field_must_be_sent() -> None:
    expected = {
        "card": "${json-unit.ignore-element}",
        "items": [{"sku": "${json-unit.ignore-element}"}],
    }
    patterns = upgraded(old_stub(json_body(expected)))["request"]["bodyPatterns"]
    assert patterns[0]["equalToJson"] == {
        "card": "${json-unit.ignore}",
        "items": [{"sku": "${json-unit.ignore}"}],
    }
    assert patterns[1]["matchesJsonSchema"] == {
        "properties": {"items": {"minItems": 1, "maxItems": 1}}
    }


def test_equal_to_json_written_as_text_is_read() -> None:
    stub = old_stub(json_body('{"ids": [1, 2]}', ignoreArrayOrder=True))
    patterns = upgraded(stub)["request"]["bodyPatterns"]
    assert patterns[0] == {"equalToJson": {"ids": [1, 2]}, "ignoreExtraElements": True}
    assert patterns[1]["matchesJsonSchema"] == {
        "properties": {"ids": {"minItems": 2, "maxItems": 2}}
    }


def test_a_text_wildcard_stands_for_one_value() -> None:
    regex = (
        "(?s)"
        + java_regex_escape("<getOrders><customer>")
        + ".+?"
        + java_regex_escape("</customer></getOrders>")
    )
    stub = old_stub({"method": "POST", "urlPath": "/soap", "bodyPatterns": [{"matches": regex}]})
    narrowed = upgraded(stub)["request"]["bodyPatterns"][0]["matches"]
    assert narrowed == regex.replace(".+?", NEW_WILDCARD)
    two = "<getOrders><customer>a@x</customer><customer>b@x</customer></getOrders>"
    assert re.fullmatch(regex, two)
    assert not re.fullmatch(narrowed, two)


def test_escaped_text_that_reads_like_a_wildcard_is_kept() -> None:
    literal = java_regex_escape("a.+?b\\") + ".+?" + java_regex_escape("\\.+?")
    assert one_value_wildcards("(?s)" + literal) == "(?s)" + java_regex_escape(
        "a.+?b\\"
    ) + NEW_WILDCARD + java_regex_escape("\\.+?")


def test_a_multipart_line_wildcard_stands_for_one_value() -> None:
    regex = r"(?s)\-\-(x)\r\nname\=[^\r\n]+?\r\n"
    assert one_value_wildcards(regex) == r"(?s)\-\-(x)\r\nname\=" + NEW_WILDCARD + r"\r\n"


def test_a_get_without_a_body_matcher_matches_only_requests_without_a_body() -> None:
    stub = old_stub({"method": "GET", "urlPath": "/items"})
    assert upgraded(stub)["request"]["bodyPatterns"] == [{"absent": True}]


def test_a_post_without_a_body_matcher_is_retired() -> None:
    # An old multipart upload and a POST without a body look the same: neither is kept.
    for method in ("POST", "PUT", "PATCH", "ANY"):
        stub = old_stub({"method": method, "urlPath": "/upload"})
        assert on_current_format(stub) == (None, RETIRED_BODY_UNKNOWN)


def test_a_form_without_fields_is_kept_as_today_writes_it() -> None:
    form = (("content-type", "application/x-www-form-urlencoded"),)
    today = build(make_exchange(method="POST", body=b"&", headers=form))
    assert today is not None and "bodyPatterns" not in today["request"]
    # Written between the Content-Type matcher and the priority scale: no scale yet.
    stub = old_stub(today["request"])
    assert upgraded(stub)["request"] == today["request"]


def test_a_content_type_a_response_varied_on_says_nothing_of_the_body() -> None:
    vary = {"Content-Type": {"equalTo": "application/json"}}
    get = old_stub({"method": "GET", "urlPath": "/items", "headers": vary})
    assert upgraded(get)["request"]["bodyPatterns"] == [{"absent": True}]
    post = old_stub({"method": "POST", "urlPath": "/items", "headers": vary})
    assert on_current_format(post) == (None, RETIRED_BODY_UNKNOWN)


def test_form_and_binary_bodies_keep_their_matchers() -> None:
    form = {
        "method": "POST",
        "urlPath": "/f",
        "formParameters": {"a": {"hasExactly": [{"equalTo": "1"}]}},
    }
    binary = {"method": "POST", "urlPath": "/b", "bodyPatterns": [{"binaryEqualTo": "AAE="}]}
    for request in (form, binary):
        assert upgraded(old_stub(request))["request"] == request


def test_the_upgrade_marks_the_stub_and_moves_its_priority() -> None:
    stub = old_stub({"method": "GET", "urlPath": "/items"}, priority=60)
    out = upgraded(stub)
    assert out["metadata"]["mockado"][SCALE_KEY] == PRIORITY_SCALE
    assert out["metadata"]["mockado"]["namespace"] == "shop"
    assert out["priority"] == stub_priority(49 - (60 - 2) // 2)
    assert not on_old_format(out)
    assert on_current_format(out) == (out, "")
    assert "bodyPatterns" not in stub["request"]  # the old stub is not modified


def test_stubs_written_today_and_fallbacks_are_left_as_they_are() -> None:
    built = [
        build(json_post({"ids": [1, 2]})),
        build(make_exchange()),
        build(make_exchange(method="POST", body=b"", headers=())),
    ]
    fallbacks = [catch_all_mapping(shard="a"), passthrough_mapping(shard="a", host="h")]
    for stub in [*built, *fallbacks]:
        assert stub is not None
        assert on_current_format(stub) == (stub, "")
        text = json.dumps(stub, separators=(",", ":"))
        assert encoded_on_current_format(text) == (text, "")


def test_encoded_old_stubs_are_rewritten_or_left_out() -> None:
    kept = json.dumps(old_stub(json_body({"ids": [1]}, ignoreArrayOrder=True)))
    text, reason = encoded_on_current_format(kept)
    assert reason == "" and text is not None
    assert (
        "ignoreArrayOrder" not in text and json.loads(text)["metadata"]["mockado"][SCALE_KEY] == 2
    )
    retired = json.dumps(old_stub({"method": "POST", "urlPath": "/upload"}))
    assert encoded_on_current_format(retired) == (None, RETIRED_BODY_UNKNOWN)
    assert encoded_on_current_format("not json") == ("not json", "")


def test_old_stubs_a_wiremock_holds_are_sorted_into_batches_and_retired() -> None:
    held = [
        old_stub({"method": "GET", "urlPath": f"/items/{n}"}, stub_id=f"get-{n}") for n in range(5)
    ]
    held.append(old_stub({"method": "POST", "urlPath": "/upload"}, stub_id="upload"))
    held.append(catch_all_mapping(shard="a"))
    held.append(build(make_exchange()))
    found = old_stubs(held, size=2)
    assert [[m["id"] for m in batch] for batch in found.batches] == [
        ["get-0", "get-1"], ["get-2", "get-3"], ["get-4"],
    ]  # fmt: skip
    assert found.retired == [("upload", RETIRED_BODY_UNKNOWN)]


# A text body's parts: literals (with regex metacharacters and the old wildcard's own
# characters) and holes; the values a request puts in the holes.
LITERALS = st.text(alphabet=st.sampled_from(list('ab.+?<>"\r\n\\[]^ -=')), max_size=6)
FILLS = st.text(alphabet=st.sampled_from(list('ab.+?<>"\r\n\\ -=')), min_size=1, max_size=6)


@given(
    parts=st.lists(st.one_of(LITERALS, st.none()), min_size=1, max_size=6),
    fills=st.lists(FILLS, min_size=6, max_size=6),
    tail=st.text(alphabet=st.sampled_from(list('ab<>"\n')), max_size=3),
)
def test_a_narrowed_text_wildcard_never_matches_what_the_old_one_did_not(
    parts: list[str | None], fills: list[str], tail: str
) -> None:
    # WireMock's ``matches`` is a full match; Python reads these escapes as Java does.
    old = "(?s)" + "".join(".+?" if p is None else java_regex_escape(p) for p in parts)
    new = one_value_wildcards(old)
    fill = iter(fills)
    body = "".join(next(fill) if p is None else p for p in parts) + tail
    if re.fullmatch(new, body):
        assert re.fullmatch(old, body)
    # The recorded body with one-value fills still matches.
    plain = "".join("v" if p is None else p for p in parts)
    assert re.fullmatch(new, plain)


# A recorded JSON body is an object or an array (a string there is JSON text).
@given(document=DOCUMENTS.filter(lambda d: isinstance(d, dict | list)))
def test_the_json_matcher_is_kept_and_a_length_schema_added_only_for_arrays(
    document: object,
) -> None:
    stub = old_stub(json_body(copy.deepcopy(document), ignoreArrayOrder=True))
    patterns = upgraded(stub)["request"]["bodyPatterns"]
    first = patterns[0]
    assert first["equalToJson"] == document
    assert "ignoreArrayOrder" not in first and first["ignoreExtraElements"] is True
    assert (len(patterns) == 2) == holds_an_array(document)


def holds_an_array(node: object) -> bool:
    if isinstance(node, list):
        return True
    return isinstance(node, dict) and any(holds_an_array(v) for v in node.values())
