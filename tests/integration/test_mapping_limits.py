"""What Envoy lets through, WireMock serves: a recording whose request line or headers are
long (a search with a long filter, a big cookie), or whose response headers are (a long
Content-Security-Policy), replays through a real WireMock 3.13.2 started as mockado starts
it. Envoy allows 60 KiB of headers each way by default (``max_request_headers_kb``,
``max_response_headers_kb``); with Jetty's default buffers a request got 414 or 431 from
about 32 KiB, before any stub was looked at, and such a response 500."""

from __future__ import annotations

import pytest

from tests.integration.wiremock_stubs import (
    JSON_CT,
    answered,
    canary_call,
    load_stubs,
    recording,
    reply,
    stubs_of,
)

pytestmark = pytest.mark.integration

# Under Envoy's 60 KiB with the rest of the request's headers.
LONG_BYTES = 50 * 1024


def test_a_request_as_long_as_envoy_allows_is_answered_by_its_stub(wiremock) -> None:
    long_query = (("filter", "a" * LONG_BYTES),)
    long_cookie = (("cookie", "session=" + "b" * LONG_BYTES),)
    recorded = [
        recording(method="GET", path="/search", query=long_query, response_body=reply("query")),
        recording(method="GET", path="/profile", headers=long_cookie, response_body=reply("big")),
        recording(
            method="GET",
            path="/page",
            response_headers=(*JSON_CT, ("content-security-policy", "c" * LONG_BYTES)),
            response_body=reply("page"),
        ),
    ]
    load_stubs(wiremock.url, stubs_of(recorded))
    found = canary_call(wiremock.url, "GET", "/search", params=list(long_query))
    assert (found.status_code, answered(found)) == (200, "query")
    profile = canary_call(wiremock.url, "GET", "/profile", headers=dict(long_cookie))
    assert (profile.status_code, answered(profile)) == (200, "big")
    page = canary_call(wiremock.url, "GET", "/page")
    assert (page.status_code, answered(page)) == (200, "page")
    assert page.headers["content-security-policy"] == "c" * LONG_BYTES
