"""Requests WireMock 3.13 cannot tell from others get no stub, counted; an empty value
among repeated ones gets a matcher WireMock pairs with it."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from ext_proc_server.core.metrics import STUB_SKIP_REASONS
from ext_proc_server.mapping import skip_reason
from tests.unit.mapping.mapping_helpers import build, make_exchange

FORM = (("content-type", "application/x-www-form-urlencoded"),)


def _skipped(reason: str) -> float:
    return REGISTRY.get_sample_value("collector_stubs_skipped_total", {"reason": reason}) or 0.0


def test_an_empty_value_among_repeats_is_matched_as_an_empty_regex() -> None:
    mapping = build(make_exchange(query=(("q", "1"), ("q", ""))))
    assert mapping is not None
    assert mapping["request"]["queryParameters"]["q"] == {
        "hasExactly": [{"matches": "^$"}, {"equalTo": "1"}]
    }
    form = build(make_exchange(method="POST", headers=FORM, body=b"a=&a=1&b="))
    assert form is not None
    assert form["request"]["formParameters"] == {
        "a": {"hasExactly": [{"matches": "^$"}, {"equalTo": "1"}]},
        "b": {"hasExactly": [{"matches": "^$"}]},  # alone too: one empty value
    }


@pytest.mark.parametrize(
    ("exchange", "reason"),
    [
        (make_exchange(query=(("q", "1"), ("q", "1"), ("q", "2"))), "request_query_repeats"),
        (make_exchange(query=(("q", "1"), ("q", "1"))), "request_query_repeats"),
        (make_exchange(query=(("q", ""), ("q", "1"), ("q", ""))), "request_query_repeats"),
        (
            make_exchange(method="POST", headers=FORM, body=b"t=x&t=y&t=x"),
            "request_form_repeats",
        ),
        # The capture reads q=caf%E9 (ISO-8859-1) as WireMock does: "caf\ufffd".
        (make_exchange(query=(("q", "caf\ufffd"),)), "request_query_undecodable"),
        (make_exchange(query=(("\ufffd", "1"), ("p", "2"))), "request_query_undecodable"),
        (
            make_exchange(method="POST", headers=FORM, body=b"q=caf%E9&n=1"),
            "request_form_undecodable",
        ),
    ],
)
def test_a_request_no_matcher_tells_apart_gets_no_stub_and_is_counted(exchange, reason) -> None:
    assert reason in STUB_SKIP_REASONS
    before = _skipped(reason)
    assert build(exchange) is None
    assert _skipped(reason) == before + 1


@pytest.mark.parametrize(
    "query",
    [
        (("q", "1"), ("q", "2")),
        (("q", "1"), ("q", "2"), ("q", "")),
        (("q", "1"), ("r", "1")),
    ],
)
def test_distinct_repeated_values_still_get_a_stub(query) -> None:
    assert build(make_exchange(query=query)) is not None


@pytest.mark.parametrize(
    "path",
    [
        "/..", "/a/../..", "/a/../../b", "/%2e%2E", "/.%2e/a", "/..;x/a", "/a/b/../../../c",
        "/a%00b", "/a%2", "/a%zz", "/50%", "/%%41",
    ],
)  # fmt: skip
def test_a_path_jetty_refuses_gets_no_stub(path) -> None:
    exchange = make_exchange(path=path)
    assert skip_reason(exchange) == "request_path_refused"
    assert "request_path_refused" in STUB_SKIP_REASONS
    with pytest.raises(ValueError, match="request_path_refused"):
        build(exchange)


@pytest.mark.parametrize(
    "path",
    [
        "/a/..", "/a/../b", "//..", "/a//../..", "/a/./b", "/.", "/a/.../b", "/a/..a", "/",
        "/a%2Fb", "/a%2fb", "/%C3%A9", "/a%25", "/a%0Ab", "/%2F%2E%2E",
    ],
)  # fmt: skip
def test_a_path_jetty_serves_is_kept(path) -> None:
    exchange = make_exchange(path=path)
    assert skip_reason(exchange) == ""
    assert build(exchange) is not None


# As WireMock 3.13.2 answered each (tests/integration/test_replay_sqs_sends.py sends one): a
# form whose "%" is not followed by two hex digits gets Jetty's 500, before any stub.
@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"a=50%"),
        ("application/x-www-form-urlencoded; charset=utf-8", b"a=%zz&b=1"),
        ("Application/X-WWW-Form-Urlencoded", b"a=%+5"),
        ("application/x-www-form-urlencoded-x", b"a=%u0041"),
    ],
)
def test_a_form_jetty_cannot_decode_gets_no_stub(content_type, body) -> None:
    exchange = make_exchange(method="POST", headers=(("content-type", content_type),), body=body)
    assert skip_reason(exchange) == "request_form_undecodable"
    assert "request_form_undecodable" in STUB_SKIP_REASONS
    # Before sanitizing, the body is kept: the reason is the sanitized body's.
    assert skip_reason(exchange.replace(sanitized=False)) == ""


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", b"a=50%25&b=%00&c=%C3%A9"),
        ("text/plain", b"a=50%"),
        ("application/json", b'{"a": "50%"}'),
    ],
)
def test_a_form_jetty_decodes_and_a_bare_percent_elsewhere_keep_their_stub(
    content_type, body
) -> None:
    exchange = make_exchange(method="POST", headers=(("content-type", content_type),), body=body)
    assert skip_reason(exchange) == ""
