"""Moments a mock's answer names, recorded through a real Envoy 1.40 and ``mockado
ext-proc`` and replayed later by a real WireMock 3.13.2.

A ``Set-Cookie`` with ``Expires`` and a ``Retry-After`` date name moments on the upstream's
clock. Replayed after them (a stub lives for days), the cookie is dead on arrival (a
client's jar drops it, and the canary that logged in against the mock is logged out on
its next call), and the client told to wait two minutes retries at once. The upstream
here answers with a ``Date`` two days old, as a recording made two days ago: the mock's
cookie must live as long as the upstream's did (``Expires`` minus ``Date``), a cookie the
upstream cleared must still be cleared, and the wait must be the upstream's.
"""

from __future__ import annotations

import time
from email.utils import formatdate
from http.cookiejar import http2time

import httpx
import pytest

from tests.support.ext_proc_rig import collector_settings, wait_for_stubs
from tests.support.raw_capture import capture_behind_envoy, import_into
from tests.support.raw_upstream import RawAnswer, raw_upstream

pytestmark = pytest.mark.integration

JSON = ("Content-Type", "application/json")
# How long before the replay the upstream answered, and how long its session lasted.
RECORDED_AGO_S = 2 * 86_400
SESSION_S = 3_600
RETRY_S = 120
CLEARED = "Thu, 01 Jan 1970 00:00:00 GMT"


def _http_date(at_s: float) -> str:
    return formatdate(at_s, usegmt=True)


def _answers(answered_s: float) -> dict[str, RawAnswer]:
    date = ("Date", _http_date(answered_s))
    session = f"sid=abc123; Expires={_http_date(answered_s + SESSION_S)}; Path=/; HttpOnly"
    return {
        "/login": RawAnswer(
            200,
            (
                JSON,
                date,
                ("Set-Cookie", session),
                ("Set-Cookie", "theme=dark; Path=/; Max-Age=600"),
            ),
            b'{"user":"ok"}',
        ),
        "/logout": RawAnswer(
            200, (JSON, date, ("Set-Cookie", f"sid=; Expires={CLEARED}; Path=/")), b"{}"
        ),
        "/busy": RawAnswer(
            503,
            (JSON, date, ("Retry-After", _http_date(answered_s + RETRY_S))),
            b'{"error":"busy"}',
        ),
    }


@pytest.fixture(scope="module")
def recorded(redis_server, envoy_factory, ext_proc_factory, wiremock) -> dict[str, httpx.Response]:
    """Each path through Envoy to the upstream -> what the client got; the stubs are then
    in WireMock."""
    collector = collector_settings(redis_server.url)
    answers = _answers(time.time() - RECORDED_AGO_S)
    with raw_upstream(answers) as port:
        ext, envoy = capture_behind_envoy(envoy_factory, ext_proc_factory, collector, port)
        got = {path: httpx.get(f"http://127.0.0.1:{envoy.port}{path}") for path in answers}
        stubs = wait_for_stubs(ext, len(answers), skipped={}, what="the cookie stubs")
    import_into(wiremock, stubs)
    return got


def _cookie_lifetimes(reply: httpx.Response) -> dict[str, float]:
    """Each cookie's lifetime (seconds) as the upstream gave it: Max-Age, else Expires
    minus Date."""
    answered = http2time(reply.headers["date"])
    lifetimes: dict[str, float] = {}
    for line in reply.headers.get_list("set-cookie"):
        name = line.split("=", 1)[0].strip()
        attributes = dict(
            (k.strip().lower(), v.strip())
            for k, _, v in (a.partition("=") for a in line.split(";")[1:])
        )
        if "max-age" in attributes:
            lifetimes[name] = float(attributes["max-age"])
        else:
            lifetimes[name] = http2time(attributes["expires"]) - answered
    return lifetimes


def test_a_recorded_session_cookie_is_alive_when_the_mock_sets_it(recorded, wiremock) -> None:
    """The upstream's session lasted an hour from its answer; the mock's lasts an hour
    from its own, whenever that is."""
    upstream = recorded["/login"]
    assert upstream.status_code == 200
    assert _cookie_lifetimes(upstream) == {"sid": SESSION_S, "theme": 600}
    with httpx.Client(base_url=wiremock.url) as client:
        before_s = time.time()
        served = client.get("/login")
        after_s = time.time()
        assert served.status_code == 200 and served.json() == {"user": "ok"}
        jar = {cookie.name: cookie for cookie in client.cookies.jar}
    assert set(jar) == {"sid", "theme"}, served.headers.get_list("set-cookie")
    for name, lifetime in _cookie_lifetimes(upstream).items():
        expires = jar[name].expires
        assert expires is not None and before_s + lifetime - 1 <= expires <= after_s + lifetime


def test_the_session_cookie_keeps_its_other_attributes(recorded, wiremock) -> None:
    served = httpx.get(f"{wiremock.url}/login")
    session = next(c for c in served.headers.get_list("set-cookie") if c.startswith("sid="))
    attributes = [a.strip().partition("=") for a in session.split(";")[1:]]
    assert {(k, v) for k, _, v in attributes if k != "Expires"} == {
        ("Path", "/"),
        ("HttpOnly", ""),
        ("Max-Age", str(SESSION_S)),
    }


def test_a_cookie_the_upstream_cleared_is_still_cleared(recorded, wiremock) -> None:
    assert recorded["/logout"].status_code == 200
    with httpx.Client(base_url=wiremock.url) as client:
        client.cookies.set("sid", "abc123", domain="127.0.0.1", path="/")
        client.cookies.set("theme", "dark", domain="127.0.0.1", path="/")
        served = client.get("/logout")
        assert served.status_code == 200
        assert {cookie.name for cookie in client.cookies.jar} == {"theme"}


def _wait_s(reply: httpx.Response, now_s: float) -> float:
    """How long a client waits before it retries, as RFC 9110 reads Retry-After: seconds,
    or a date (from the answer's Date when it has one, else from now)."""
    value = reply.headers["retry-after"]
    if value.isdigit():
        return float(value)
    date = reply.headers.get("date")
    return http2time(value) - (http2time(date) if date else now_s)


def test_a_client_told_to_wait_by_the_mock_waits_as_long(recorded, wiremock) -> None:
    upstream = recorded["/busy"]
    assert upstream.status_code == 503 and _wait_s(upstream, time.time()) == RETRY_S
    now_s = time.time()
    served = httpx.get(f"{wiremock.url}/busy")
    assert (served.status_code, served.json()) == (503, {"error": "busy"})
    assert _wait_s(served, now_s) == RETRY_S
