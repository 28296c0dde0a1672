"""Moments a recorded response names (a cookie's Expires, a Retry-After date) keep their
distance from the answer, not their date, when its stub answers later."""

from __future__ import annotations

import math
from email.utils import formatdate

from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.exchange import HttpResponse
from ext_proc_server.mapping.moments import answered_at_s, retry_delay, with_lifetime
from ext_proc_server.mapping.stubs import response_definition

ANSWERED_S = 1_764_950_400.0  # a whole second, as Date and Expires give them


def http_date(at_s: float) -> str:
    return formatdate(at_s, usegmt=True)


ATTRIBUTES = st.lists(
    st.sampled_from(["Path=/", "HttpOnly", "Secure", "SameSite=Lax", "Domain=shop.example"]),
    unique=True,
)


@settings(max_examples=200, deadline=None)
@given(
    lifetime_s=st.integers(min_value=-400 * 86_400, max_value=400 * 86_400),
    before=ATTRIBUTES,
    after=ATTRIBUTES,
    netscape=st.booleans(),
)
def test_expires_becomes_the_seconds_it_was_from_the_answer(
    lifetime_s: int, before: list[str], after: list[str], netscape: bool
) -> None:
    expires = http_date(ANSWERED_S + lifetime_s)
    if netscape:  # "Wed, 09-Dec-2026 10:00:00 GMT", as many servers write it
        day, month, year = expires.split(" ")[1:4]
        expires = expires.replace(f"{day} {month} {year}", f"{day}-{month}-{year}")
    value = "; ".join(["sid=SANITIZED_COOKIE", *before, f"Expires={expires}", *after])
    assert with_lifetime(value, ANSWERED_S) == f"{value}; Max-Age={max(0, lifetime_s)}"


@settings(max_examples=100, deadline=None)
@given(fraction=st.floats(min_value=0, max_value=0.999), lifetime_s=st.integers(1, 10**6))
def test_a_capture_time_between_seconds_rounds_the_lifetime_down(
    fraction: float, lifetime_s: int
) -> None:
    value = f"sid=x; Expires={http_date(ANSWERED_S + lifetime_s)}"
    answered = ANSWERED_S + fraction
    want = math.floor(ANSWERED_S + lifetime_s - answered)
    assert with_lifetime(value, answered) == f"{value}; Max-Age={want}"


def test_cookies_without_a_moment_to_carry_are_served_as_recorded() -> None:
    expires = f"Expires={http_date(ANSWERED_S + 60)}"
    for value in (
        "sid=x",
        "sid=x; Path=/",
        f"sid=x; Max-Age=30; {expires}",  # its own Max-Age already wins
        f"sid=x; {expires}; max-age=30",
        "sid=x; Expires=soon",  # no client reads it as a date
        "sid=x; Expires=",
        f"sid=x; Path=/{expires}",  # no Expires attribute: part of the path
    ):
        assert with_lifetime(value, ANSWERED_S) == value, value
    assert with_lifetime(f"sid=x; {expires}", None) == f"sid=x; {expires}"


def test_the_answer_is_dated_by_the_upstream_else_by_the_capture() -> None:
    assert answered_at_s(http_date(ANSWERED_S), 5.0) == ANSWERED_S
    assert answered_at_s(" " + http_date(ANSWERED_S) + " ", 5.0) == ANSWERED_S
    assert answered_at_s(None, 5.0) == 5.0
    assert answered_at_s("yesterday", 5.0) == 5.0
    assert answered_at_s(None, 0.0) is None


def test_the_stub_sets_each_cookie_for_the_lifetime_the_upstream_gave() -> None:
    expires = http_date(ANSWERED_S + 3_600)
    response = HttpResponse(
        status=200,
        headers=(
            ("Date", http_date(ANSWERED_S)),
            ("Set-Cookie", f"sid=SANITIZED_COOKIE; Expires={expires}; Path=/;"),
            ("set-cookie", "theme=dark"),
            ("X-Expires", f"Expires={expires}"),
        ),
    )
    # The capture's clock is a day off the upstream's: the upstream's Date counts.
    served = response_definition(response, captured_at_s=ANSWERED_S + 86_400)
    assert served["headers"] == {
        "Set-Cookie": [
            f"sid=SANITIZED_COOKIE; Expires={expires}; Path=/; Max-Age=3600",
            "theme=dark",
        ],
        "X-Expires": f"Expires={expires}",
    }
    undated = response.replace(headers=response.headers[1:])
    served = response_definition(undated, captured_at_s=ANSWERED_S + 600)
    assert served["headers"]["Set-Cookie"][0].endswith("; Path=/; Max-Age=3000")
    assert response_definition(undated)["headers"]["Set-Cookie"][0].endswith("; Path=/;")


@settings(max_examples=200, deadline=None)
@given(lifetime_s=st.integers(min_value=-86_400, max_value=400 * 86_400))
def test_a_retry_date_becomes_the_seconds_it_was_from_the_answer(lifetime_s: int) -> None:
    date = http_date(ANSWERED_S + lifetime_s)
    assert retry_delay(date, ANSWERED_S) == str(max(0, lifetime_s))
    assert retry_delay(f" {date} ", ANSWERED_S) == str(max(0, lifetime_s))


def test_a_retry_in_seconds_or_unread_is_served_as_recorded() -> None:
    for value in ("120", " 0 ", "soon", ""):
        assert retry_delay(value, ANSWERED_S) == value
    date = http_date(ANSWERED_S + 60)
    assert retry_delay(date, None) == date
    response = HttpResponse(
        status=503, headers=(("Date", http_date(ANSWERED_S)), ("Retry-After", date))
    )
    assert response_definition(response)["headers"] == {"Retry-After": "60"}
