"""OpenID Connect's session id, the ``sid`` claim, is an identifier: kept byte for byte.

OpenID Connect Front-Channel Logout 1.0 (section 3) and Back-Channel Logout 1.0 (section
2.4) define it as a string the OP issues, opaque to the RP; the OP sends it through the
browser in the RP's logout URL, and a back-channel logout is accepted only with the
signed logout token around it. The examples are the specs' own (the front-channel
logout URL, the logout token's claims) and Core's ID token claims with a ``sid``. A
qualified name (``_sid``, ``X-FTL-SID``, ``auth_sid``), a session cookie and the logout
token itself (a JWT) are still replaced.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from tests.unit.sanitize.sanitize_helpers import b64url, request_exchange, sanitizer

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-oidc-sessions")
ISSUER = "https://server.example.com"
# Front-Channel Logout 1.0, section 3.1; Back-Channel Logout 1.0, section 2.4.
SPEC_SID = "08a5019c-17e1-4977-8f42-65a12843ea02"
LOGOUT_CLAIMS = {
    "iss": ISSUER,
    "sub": "248289761001",
    "aud": "s6BhdRkqt3",
    "iat": 1471566154,
    "jti": "bWJq",
    "sid": SPEC_SID,
    "events": {"http://schemas.openid.net/event/backchannel-logout": {}},
}
# Core 1.0's ID token example (section 2), with the session it was issued in.
ID_TOKEN_CLAIMS = {
    "iss": ISSUER,
    "sub": "24400320",
    "aud": "s6BhdRkqt3",
    "nonce": "n-0S6_WzA2Mj",
    "exp": 1311281970,
    "iat": 1311280970,
    "auth_time": 1311280969,
    "acr": "urn:mace:incommon:iap:silver",
    "sid": SPEC_SID,
}
# How OPs write it: a UUID (the specs, Keycloak, Entra ID), a random base64url string
# (Auth0, Okta), a hash of the OP's session (Spring Authorization Server).
SIDS = (
    SPEC_SID,
    "jBxv8tqm_uMs0dX7OxtjYDv4M-R3i9QG",
    "102e8a2FHtmS9aRmt6J7kM4R",
    "a3f7Y8c1uH2ZmQeN0rTqWkX6vBs9LdJpGf4hCiE5oUg",
    str(uuid.UUID(int=0x0869_4605_9570_4000_8000_1123_4567_8901)),
)
SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _request_body(body: str, content_type: str, sanitizer_=SANITIZER) -> str:
    out = sanitizer_.sanitize(request_exchange(body=body, content_type=content_type))
    return out.request.body.decode()


def _query(pairs: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
    exchange = request_exchange(path="/frontchannel_logout", query=pairs)
    return SANITIZER.sanitize(exchange).request.query


@pytest.mark.parametrize("sid", SIDS)
def test_the_front_channel_logout_url_keeps_its_session(sid: str) -> None:
    pairs = (("iss", ISSUER), ("sid", sid))
    assert _query(pairs) == pairs
    url = f"https://rp.example.org/frontchannel_logout?{urlencode(pairs)}"
    page = f'<iframe src="{url}"></iframe>'
    assert SANITIZER.sanitize_text(page) == page


@pytest.mark.parametrize("sid", SIDS)
@pytest.mark.parametrize("claims", [LOGOUT_CLAIMS, ID_TOKEN_CLAIMS], ids=["logout", "id_token"])
def test_claims_that_name_the_session_keep_it(claims: dict, sid: str) -> None:
    body = json.dumps({**claims, "sid": sid})
    for sanitizer_ in (SANITIZER, PSEUDONYMS):
        assert json.loads(_request_body(body, "application/json", sanitizer_))["sid"] == sid
    line = f"logout iss={ISSUER} sid={sid} sub=248289761001"
    assert SANITIZER.sanitize_text(line) == line


def test_the_logout_token_itself_is_still_replaced() -> None:
    token = f"{b64url({'alg': 'RS256', 'kid': '1'})}.{b64url(LOGOUT_CLAIMS)}.c2lnbmF0dXJl"
    out = _request_body(urlencode({"logout_token": token}), "application/x-www-form-urlencoded")
    assert token not in out and SPEC_SID not in out


@pytest.mark.parametrize("name", ["_sid", "auth_sid", "session_id", "sessionId", "x_sid"])
def test_a_qualified_session_name_is_still_a_secret(name: str) -> None:
    for sid in SIDS:
        out = json.loads(_request_body(json.dumps({name: sid}), "application/json"))
        assert out[name] != sid
        assert _query(((name, sid),))[0][1] != sid


def test_session_headers_and_cookies_are_still_replaced() -> None:
    exchange = request_exchange(
        headers=(("x-ftl-sid", SPEC_SID), ("cookie", f"sid={SPEC_SID}; connect.sid=s%3Aab.cd"))
    )
    headers = dict(SANITIZER.sanitize(exchange).request.headers)
    assert SPEC_SID not in headers["x-ftl-sid"]
    assert SPEC_SID not in headers["cookie"] and "s%3Aab.cd" not in headers["cookie"]


# The syntax of an OAuth 2.0 client identifier (RFC 6749 appendix A.1: printable ASCII),
# as OPs issue it: no spaces, no quotes.
opaque_ids = st.text(
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"),
    min_size=8,
    max_size=64,
)


@SETTINGS
@given(sid=opaque_ids)
def test_property_any_session_id_is_kept_beside_its_issuer(sid: str) -> None:
    # A value that is personal data alone (a CPF's digits) is still read by its shape.
    assume(SANITIZER.sanitize_text(sid) == sid)
    pairs = (("iss", ISSUER), ("sid", sid))
    assert _query(pairs) == pairs
    body = json.dumps({**LOGOUT_CLAIMS, "sid": sid})
    assert json.loads(_request_body(body, "application/json"))["sid"] == sid


@SETTINGS
@given(sid=opaque_ids)
def test_property_the_same_value_under_a_session_secret_s_name_is_replaced(sid: str) -> None:
    out = json.loads(_request_body(json.dumps({"session_id": sid}), "application/json"))
    assert out["session_id"] != sid
