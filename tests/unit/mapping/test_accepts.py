"""A response chosen by Accept without Vary: the stub matches an Accept that lists the
recorded media type (mapping.accepts)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.exchange import HttpResponse
from tests.unit.mapping.mapping_helpers import build, make_exchange

XML = HttpResponse(
    status=200, headers=(("Content-Type", "application/xml;charset=UTF-8"),), body=b"<a/>"
)


def _accept_matcher(accept: str | None, response: HttpResponse = XML) -> dict | None:
    headers = (("Accept", accept),) if accept is not None else ()
    mapping = build(make_exchange(headers=headers, response=response))
    assert mapping is not None
    return mapping["request"].get("headers", {}).get("accept")


def test_an_accept_listing_the_answers_type_is_matched_by_that_type() -> None:
    matcher = _accept_matcher("text/html, application/xml;q=0.9, */*;q=0.8")
    assert matcher is not None
    regex = re.compile(matcher["matches"])
    for listed in (
        "application/xml",
        "APPLICATION/XML",
        "application/json, application/xml;q=0.5",
        "application/xml , */*",
        "text/html,application/xml",
    ):
        assert regex.fullmatch(listed), listed
    for other in ("*/*", "application/json", "application/xml+foo", "text/xml", ""):
        assert not regex.fullmatch(other), other


@pytest.mark.parametrize("accept", [None, "*/*", "application/*", "text/html, */*"])
def test_an_accept_that_lists_not_the_answers_type_is_not_matched(accept) -> None:
    assert _accept_matcher(accept) is None


def test_a_response_that_varies_on_accept_keeps_its_own_matcher() -> None:
    vary = XML.replace(headers=(*XML.headers, ("Vary", "Accept")))
    assert _accept_matcher("application/xml", vary) == {"equalTo": "application/xml"}


def test_the_stub_of_an_accept_listing_its_type_is_preferred() -> None:
    response = XML

    def mapping(accept: str | None) -> dict:
        headers = (("Accept", accept),) if accept is not None else ()
        built = build(make_exchange(headers=headers, response=response))
        assert built is not None
        return built

    listed, plain = mapping("application/xml"), mapping(None)
    assert listed["priority"] < plain["priority"]
    assert listed["id"] != plain["id"]


ZERO_WEIGHTS = st.sampled_from(["q=0", "Q=0", "q=0.0", "q = 0.000", "q=0.00"])
OTHER_PARAMETERS = st.lists(st.sampled_from(["charset=utf-8", "level=1", "v=2"]), max_size=2)
OTHERS = st.lists(st.sampled_from(["text/html", "application/json", "*/*;q=0.1"]), max_size=2)


@settings(max_examples=200, deadline=None)
@given(ZERO_WEIGHTS, OTHER_PARAMETERS, OTHERS, OTHERS, st.sampled_from([";", " ; "]))
def test_a_type_given_a_zero_weight_is_refused_not_listed(
    weight: str, parameters: list[str], before: list[str], after: list[str], separator: str
) -> None:
    refused = separator.join(["application/xml", *parameters, weight])
    accept = ", ".join([*before, refused, *after])
    # A recording that refused the answer's type (the server ignored it) lists nothing.
    assert _accept_matcher(accept) is None
    matcher = _accept_matcher("application/xml")
    assert matcher is not None
    regex = re.compile(matcher["matches"])
    assert not regex.fullmatch(accept), accept
    # The same list with a weight above zero lists it.
    weighted = ", ".join([*before, refused.replace(weight, "q=0.5"), *after])
    assert regex.fullmatch(weighted), weighted
