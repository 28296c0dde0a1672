"""The request pattern of a stub: what a canary's request must match."""

from __future__ import annotations

import base64
import re
from typing import Any

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.exchange import HttpResponse
from ext_proc_server.mapping import JsonWalk
from ext_proc_server.mapping.matchers import array_lengths_schema
from ext_proc_server.mapping.noise import (
    HOLE_ANY,
    HOLE_NUMBER,
    HOLE_STRING,
    Hole,
    Template,
    java_regex_escape,
)
from tests.unit.mapping.json_strategies import KEYS, LEAVES
from tests.unit.mapping.mapping_helpers import (
    ANY_OR_ABSENT,
    JSON,
    UUID,
    build,
    json_post,
    make_exchange,
)


def test_no_host_matcher_without_authority() -> None:
    mapping = build(make_exchange(authority=""))
    assert mapping is not None
    assert "host" not in mapping["request"]


def test_tracing_headers_are_never_matched_nor_the_credentials_value() -> None:
    mapping = build(make_exchange(headers=(("traceparent", "00-x"), ("cookie", "sid=x"))))
    assert mapping is not None
    assert "headers" not in mapping["request"]
    mapping = build(
        make_exchange(headers=(("authorization", "Bearer SANITIZED_JWT"), ("traceparent", "00-x")))
    )
    assert mapping is not None
    assert mapping["request"]["headers"] == {"authorization": {"matches": ".*"}}


def test_dynamic_path_segments_use_a_pattern() -> None:
    mapping = build(
        make_exchange(
            path=f"/users/u.1/orders/{UUID}/file-{UUID}.pdf",
            redactions=frozenset({"request.path.1"}),
        )
    )
    assert mapping is not None
    assert "urlPath" not in mapping["request"]
    assert mapping["request"]["urlPathPattern"] == r"/users/[^/]+/orders/[^/]+/file\-[^/]+\.pdf"


def test_query_noise_and_sanitized_values_are_absent_tolerant() -> None:
    mapping = build(
        make_exchange(
            query=(
                ("q", "shoes"),
                ("cb", "99"),
                ("api_key", "SANITIZED_API_KEY"),
                ("ref", f"x-{UUID}"),
            ),
        )
    )
    assert mapping is not None
    assert mapping["request"]["queryParameters"] == {
        "api_key": ANY_OR_ABSENT,
        "cb": ANY_OR_ABSENT,
        "q": {"hasExactly": [{"equalTo": "shoes"}]},
        "ref": {"hasExactly": [{"matches": r"x\-.+"}]},
    }


def test_repeated_query_names_need_exactly_those_values() -> None:
    mapping = build(make_exchange(query=(("tag", "b"), ("tag", "a"))))
    assert mapping is not None
    assert mapping["request"]["queryParameters"]["tag"] == {
        "hasExactly": [{"equalTo": "a"}, {"equalTo": "b"}]
    }


def test_json_body_matcher_with_numbers_arrays_nested_and_placeholders() -> None:
    payload = {
        "qty": 2,
        "price": 10.25,
        "big": 12345678901234567890,
        "ok": False,
        "tags": ["a", "b"],
        "lines": [{"sku": "A", "updated_at": 1700000000}],
        "nonce": "n-1",
        "id": UUID,
        "card": "SANITIZED_CARD",
        "note": f"ref-{UUID}",
        "literal": "${json-unit.any-string}",
    }
    mapping = build(json_post(payload))
    assert mapping is not None
    matcher, lengths = mapping["request"]["bodyPatterns"]
    assert matcher["ignoreExtraElements"] is True
    # Items in order, each array at its recorded length.
    assert "ignoreArrayOrder" not in matcher
    assert lengths == {
        "matchesJsonSchema": {
            "properties": {
                "tags": {"minItems": 2, "maxItems": 2},
                "lines": {"minItems": 1, "maxItems": 1},
            }
        },
        "schemaVersion": "V202012",
    }
    assert matcher["equalToJson"] == {
        "qty": 2,
        "price": 10.25,
        "big": 12345678901234567890,
        "ok": False,
        "tags": ["a", "b"],
        "lines": [{"sku": "A", "updated_at": "${json-unit.any-number}"}],
        "nonce": "${json-unit.ignore}",
        "id": "${json-unit.any-string}",
        "card": "${json-unit.ignore}",
        "note": "${json-unit.regex}ref\\-.+",
        "literal": "${json-unit.regex}\\$\\{json\\-unit\\.any\\-string\\}",
    }
    assert "enablePlaceholders" not in matcher


def test_json_without_arrays_has_no_length_schema() -> None:
    mapping = build(json_post({"a": {"b": 1}}))
    assert mapping is not None
    assert mapping["request"]["bodyPatterns"] == [
        {"equalToJson": {"a": {"b": 1}}, "ignoreExtraElements": True}
    ]


@pytest.mark.parametrize(
    ("value", "schema"),
    [
        ({"a": 1}, True),
        ([], {"minItems": 0, "maxItems": 0}),
        ([1, {"x": [2, 3]}], {"minItems": 2, "maxItems": 2,
                              "prefixItems": [True, {"properties": {"x": {"minItems": 2, "maxItems": 2}}}]}),
        ({"a": {"b": []}, "c": {"d": 1}}, {"properties": {"a": {"properties": {"b": {"minItems": 0, "maxItems": 0}}}}}),
        ([[[1]]], {"minItems": 1, "maxItems": 1,
                   "prefixItems": [{"minItems": 1, "maxItems": 1, "prefixItems": [{"minItems": 1, "maxItems": 1}]}]}),
    ],
)  # fmt: skip
def test_array_lengths_schema_holds_each_array_and_nothing_else(value: Any, schema: Any) -> None:
    assert array_lengths_schema(value) == schema


@pytest.mark.parametrize(
    ("recorded", "accepted", "refused"),
    [
        ({"ids": [1]}, {"ids": [1], "extra": True}, {"ids": [1, 2]}),
        ([[1, 2], [3]], [[1, 2], [3]], [[1, 2], [3, 4]]),
        ([[1, 2], [3]], [[2, 1], [3]], [[1, 2], [3], []]),
        ({"o": {"l": []}}, {"o": {"l": [], "m": [1]}}, {"o": {"l": [0]}}),
    ],
)
def test_array_lengths_schema_against_a_json_schema_validator(
    recorded: Any, accepted: Any, refused: Any
) -> None:
    """Checked with an independent JSON Schema 2020-12 validator (WireMock's own is checked
    in tests/integration/test_replay_request_bodies.py). Values are equalToJson's part."""
    validator = jsonschema.Draft202012Validator(array_lengths_schema(recorded))
    assert validator.is_valid(accepted)
    assert not validator.is_valid(refused)


def test_a_request_without_a_body_matches_only_requests_without_one() -> None:
    mapping = build(make_exchange(method="POST", path="/search"))
    assert mapping is not None
    assert mapping["request"]["bodyPatterns"] == [{"absent": True}]
    assert "headers" not in mapping["request"]


@pytest.mark.parametrize(
    ("headers", "matcher"),
    [
        ((("Content-Type", "application/json"),), {"equalTo": "application/json", "caseInsensitive": True}),
        ((), {"absent": True}),
    ],
)  # fmt: skip
def test_a_body_is_matched_under_its_content_type(headers: tuple, matcher: dict) -> None:
    mapping = build(make_exchange(method="POST", headers=headers, body=b'{"a":1}'))
    assert mapping is not None
    assert mapping["request"]["headers"] == {"Content-Type": matcher}


def test_a_varied_content_type_is_matched_once() -> None:
    response = HttpResponse(status=200, headers=(*JSON, ("vary", "Content-Type")), body=b"{}")
    mapping = build(make_exchange(method="POST", headers=JSON, body=b'{"a":1}', response=response))
    assert mapping is not None
    assert mapping["request"]["headers"] == {"content-type": {"equalTo": "application/json"}}


MULTIPART_BODY = (
    b'--XyZ\r\nContent-Disposition: form-data; name="note"\r\n\r\nfrom SANITIZED_EMAIL\r\n'
    b"--XyZ--\r\n"
)


@pytest.mark.parametrize(
    ("body", "matches"),
    [
        (MULTIPART_BODY.replace(b"XyZ", b"----other-7f"), True),
        (MULTIPART_BODY.replace(b"SANITIZED_EMAIL", b"ana@example.com"), True),
        (MULTIPART_BODY.replace(b"from", b"to"), False),
        # The boundaries must be one.
        (MULTIPART_BODY.replace(b"--XyZ--", b"--AbC--"), False),
        # A dynamic value stays on its line: it cannot take in another part.
        (MULTIPART_BODY.replace(b"SANITIZED_EMAIL\r\n", b"x\r\n--XyZ\r\n\r\nmore\r\n"), False),
    ],
)
def test_a_multipart_body_is_matched_under_any_boundary(body: bytes, matches: bool) -> None:
    header = ("content-type", "multipart/form-data; boundary=XyZ")
    mapping = build(make_exchange(method="POST", headers=(header,), body=MULTIPART_BODY))
    assert mapping is not None
    [pattern] = mapping["request"]["bodyPatterns"]
    # Java and Python read these regexes alike (escapes, \\1, a lazy class).
    assert bool(re.fullmatch(pattern["matches"], body.decode())) is matches
    content_type = mapping["request"]["headers"]["Content-Type"]["matches"]
    assert re.fullmatch(content_type, "multipart/form-data; boundary=----other-7f")
    assert not re.fullmatch(content_type, "multipart/mixed; boundary=XyZ")


@pytest.mark.parametrize(
    ("headers", "redactions"),
    [
        ((("content-type", "multipart/form-data"),), frozenset()),  # no boundary
        ((("content-type", "text/plain"),), frozenset({"request.body"})),  # redacted blind
    ],
)
def test_a_body_no_matcher_can_describe_gets_no_stub(headers: tuple, redactions: frozenset) -> None:
    exchange = make_exchange(
        method="POST", headers=headers, body=b"<p>x1 y2</p>", redactions=redactions
    )
    assert build(exchange) is None


def test_form_body_uses_form_parameters() -> None:
    mapping = build(
        make_exchange(
            method="POST",
            headers=(("content-type", "application/x-www-form-urlencoded"),),
            body=b"user=bob&password=SANITIZED_PASSWORD&_csrf=tok",
        )
    )
    assert mapping is not None
    assert mapping["request"]["formParameters"] == {
        "_csrf": ANY_OR_ABSENT,
        "password": ANY_OR_ABSENT,
        "user": {"hasExactly": [{"equalTo": "bob"}]},
    }
    assert "bodyPatterns" not in mapping["request"]


def test_text_body_equal_or_pattern() -> None:
    plain = build(
        make_exchange(method="POST", headers=(("content-type", "text/plain"),), body=b"hi")
    )
    assert plain is not None
    assert plain["request"]["bodyPatterns"] == [{"equalTo": "hi"}]
    xml = build(
        make_exchange(
            method="POST",
            headers=(("content-type", "application/xml"),),
            body=f"<r id='{UUID}'>x</r>".encode(),
        )
    )
    assert xml is not None
    assert xml["request"]["bodyPatterns"] == [
        {"matches": "(?s)\\<r\\ id\\=\\'[^\\r\\n<>\"]+?\\'\\>x\\<\\/r\\>"}
    ]


@pytest.mark.parametrize("flags", [{"body_truncated": True}, {"body_dropped": True}])
def test_truncated_or_dropped_request_body_gives_no_stub(flags: dict[str, bool]) -> None:
    # Its matcher could not tell the recorded request from a different one.
    with pytest.raises(ValueError, match="would not replay"):
        build(json_post({"a": 1}, **flags))


def test_binary_request_body_matches_only_its_bytes() -> None:
    body = b"\x00\x01\xfe binary \xff"
    mapping = build(
        make_exchange(
            method="POST", headers=(("content-type", "application/octet-stream"),), body=body
        )
    )
    assert mapping is not None
    assert mapping["request"]["bodyPatterns"] == [
        {"binaryEqualTo": base64.b64encode(body).decode("ascii")}
    ]


# Independent references for the one-pass walk: expected value, leaf weights, arrays.
PLACEHOLDERS = {
    "any": "${json-unit.ignore}",
    "string": "${json-unit.any-string}",
    "number": "${json-unit.any-number}",
}


def expected_json(node: Any) -> Any:
    if isinstance(node, dict):
        return {k: expected_json(v) for k, v in node.items()}
    if isinstance(node, list):
        return [expected_json(v) for v in node]
    if isinstance(node, Hole):
        return PLACEHOLDERS[node.kind]
    if isinstance(node, Template):
        return "${json-unit.regex}" + node.regex(hole=".+")
    if isinstance(node, str) and node.startswith("${json-unit."):
        return "${json-unit.regex}" + java_regex_escape(node)
    return node


def leaves(node: Any) -> list[Any]:
    if isinstance(node, dict):
        return [leaf for value in node.values() for leaf in leaves(value)]
    if isinstance(node, list):
        return [leaf for value in node for leaf in leaves(value)]
    return [node]


def leaf_weight(leaf: Any) -> int:
    return 1 if isinstance(leaf, Hole | Template) else 2


def holds_array(node: Any) -> bool:
    if isinstance(node, list):
        return True
    return isinstance(node, dict) and any(holds_array(v) for v in node.values())


@pytest.mark.parametrize(
    "tree",
    [
        {"a": 1, "b": "x", "c": None, "d": True, "e": 1.5},
        {"a": [HOLE_ANY, HOLE_STRING, HOLE_NUMBER], "t": Template(("o-", HOLE_ANY))},
        {"lit": "${json-unit.any-string}", "nested": {"deep": [{"k": []}], "empty": {}}},
        [1, "two", {"three": HOLE_NUMBER}],
        {},
    ],
)
def test_json_walk_gives_the_expected_value_weight_and_arrays_in_one_pass(tree: Any) -> None:
    walk = JsonWalk()
    assert walk.expected(tree) == expected_json(tree)
    assert walk.weight == sum(leaf_weight(leaf) for leaf in leaves(tree))
    assert walk.has_array == holds_array(tree)


def test_an_ipv6_host_is_matched_in_brackets() -> None:
    mapping = build(make_exchange(authority="[fe80::1]:9000"))
    assert mapping is not None
    assert mapping["request"]["host"] == {"equalTo": "[fe80::1]", "caseInsensitive": True}
    assert mapping["request"]["port"] == 9000


@pytest.mark.parametrize(
    ("authority", "port"),
    [("shop.svc:8080", 8080), ("shop.svc", 80), ("shop.svc:80", 80), ("api.example:9443", 9443)],
)
def test_the_port_called_is_matched(authority: str, port: int) -> None:
    """WireMock reads the port from Host (none: 80): each port of a Service answers its
    own calls. It adds no specificity, so priorities stay as they were."""
    mapping = build(make_exchange(authority=authority))
    assert mapping is not None
    assert mapping["request"]["port"] == port
    without = build(make_exchange(authority="localhost:10000"))
    assert without is not None
    assert mapping["priority"] == without["priority"]


@pytest.mark.parametrize("authority", ["localhost:10000", "127.0.0.1:3000", "[::1]:80", ""])
def test_a_loopback_host_matches_any_port(authority: str) -> None:
    """The local stack records through its proxy's port and is served on WireMock's."""
    mapping = build(make_exchange(authority=authority))
    assert mapping is not None
    assert "port" not in mapping["request"]


def test_a_cors_answer_matches_the_origin_and_the_preflight_it_answered() -> None:
    cors = HttpResponse(status=204, headers=(("Access-Control-Allow-Origin", "https://a.example"),))
    preflight = (("origin", "https://a.example"), ("access-control-request-method", "POST"))
    mapping = build(make_exchange(method="OPTIONS", headers=preflight, response=cors))
    assert mapping is not None
    assert mapping["request"]["headers"] == {
        "access-control-request-headers": {"absent": True},
        "access-control-request-method": {"equalTo": "POST"},
        "origin": {"equalTo": "https://a.example"},
    }
    plain = build(make_exchange(headers=(("origin", "https://a.example"),)))
    assert plain is not None
    assert "headers" not in plain["request"]


@settings(max_examples=300, deadline=None)
@given(
    st.recursive(
        st.one_of(LEAVES, st.sampled_from([HOLE_ANY, HOLE_STRING, HOLE_NUMBER, Template(("o-", HOLE_ANY))])),
        lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(KEYS, inner, max_size=5)),
        max_leaves=30,
    )
)  # fmt: skip
def test_json_walk_agrees_with_the_references_on_any_tree(tree: Any) -> None:
    walk = JsonWalk()
    assert walk.expected(tree) == expected_json(tree)
    assert walk.weight == sum(leaf_weight(leaf) for leaf in leaves(tree))
    assert walk.has_array == holds_array(tree)


@pytest.mark.parametrize(
    ("content_type", "boundary"),
    [
        ("multipart/form-data; boundary=form", "form"),  # also a word of the type
        ('multipart/form-data; BOUNDARY="b"; charset=utf-8', "b"),  # quoted, one letter
    ],
)
def test_a_boundary_is_free_only_where_it_stands(content_type: str, boundary: str) -> None:
    body = f'--{boundary}\r\nContent-Disposition: form-data; name="about"\r\n\r\nbob\r\n--{boundary}--\r\n'
    mapping = build(
        make_exchange(method="POST", headers=(("content-type", content_type),), body=body.encode())
    )
    assert mapping is not None
    [pattern] = mapping["request"]["bodyPatterns"]
    fresh = "----7d2a90c1"
    assert re.fullmatch(pattern["matches"], body.replace(f"--{boundary}", f"--{fresh}"))
    assert not re.fullmatch(pattern["matches"], body.replace("bob", "eve"))
    header = mapping["request"]["headers"]["Content-Type"]["matches"]
    assert re.fullmatch(
        header,
        content_type.replace(f"={boundary}", f"={fresh}", 1).replace(f'"{boundary}"', f'"{fresh}"'),
    )
    assert not re.fullmatch(header, content_type.replace("form-data", "mixed"))
