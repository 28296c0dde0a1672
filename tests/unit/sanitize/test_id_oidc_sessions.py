"""OpenID Connect's session id, the ``sid`` claim beside its issuer, is an identifier:
kept byte for byte. Anywhere else a bare ``sid`` is a login session's credential.

OpenID Connect Front-Channel Logout 1.0 (section 3) and Back-Channel Logout 1.0 (section
2.4) define it as a string the OP issues, opaque to the RP; the OP sends it through the
browser in the RP's logout URL, and a back-channel logout is accepted only with the
signed logout token around it. The examples are the specs' own (the front-channel
logout URL, the logout token's claims) and Core's ID token claims with a ``sid``: each
has ``iss`` beside it, in the same JSON object or query string, and that keeps it.

Pi-hole v6 and Synology DSM call their login session ``sid`` too: the answer to a login
holds it (``{"session": {"valid": true, "sid": ...}}``, ``{"data": {"sid": ...}}``) and
every later call sends it back (``?sid=``, a JSON body's ``sid``): replaced, as a
qualified name (``_sid``, ``X-FTL-SID``, ``auth_sid``), a session cookie, a text line's
``sid=`` and the logout token itself (a JWT) are.
"""

from __future__ import annotations

import json
import uuid
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.run import is_token
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
    form = urlencode(pairs)
    assert _request_body(form, "application/x-www-form-urlencoded") == form


@pytest.mark.parametrize("sid", SIDS)
def test_in_text_the_logout_url_s_session_is_replaced(sid: str) -> None:
    # Text is read by the key=value detector, which sees a name and not its siblings:
    # the OP's logout page (its iframes) and a log line name a bare sid, a secret.
    url = f"https://rp.example.org/frontchannel_logout?{urlencode({'iss': ISSUER, 'sid': sid})}"
    for text in (f'<iframe src="{url}"></iframe>', f"logout iss={ISSUER} sid={sid} sub=24828"):
        assert sid not in SANITIZER.sanitize_text(text)


@pytest.mark.parametrize("sid", SIDS)
@pytest.mark.parametrize("claims", [LOGOUT_CLAIMS, ID_TOKEN_CLAIMS], ids=["logout", "id_token"])
def test_claims_that_name_the_session_keep_it(claims: dict, sid: str) -> None:
    body = json.dumps({**claims, "sid": sid})
    nested = json.dumps({"active": True, "claims": {**claims, "sid": sid}})
    for sanitizer_ in (SANITIZER, PSEUDONYMS):
        assert json.loads(_request_body(body, "application/json", sanitizer_))["sid"] == sid
        out = json.loads(_request_body(nested, "application/json", sanitizer_))
        assert out["claims"]["sid"] == sid


@pytest.mark.parametrize("sid", SIDS)
def test_the_issuer_must_be_in_the_session_s_own_object(sid: str) -> None:
    body = json.dumps({"iss": ISSUER, "session": {"sid": sid}})
    assert sid not in _request_body(body, "application/json")
    assert sid not in _query((("iss", ISSUER), ("session[sid]", sid)))[1][1]


def test_a_user_s_rule_for_sid_holds_beside_the_issuer() -> None:
    ruled = sanitizer(sanitize_fields={"sid": "api_key"})
    body = json.dumps({**LOGOUT_CLAIMS, "sid": SPEC_SID})
    assert SPEC_SID not in _request_body(body, "application/json", ruled)
    assert SPEC_SID not in _request_body(
        urlencode({"iss": ISSUER, "sid": SPEC_SID}), "application/x-www-form-urlencoded", ruled
    )


# Pi-hole v6 (docs.pi-hole.net/api/auth): POST /api/auth answers the session, whose sid
# later calls send as ?sid=, in a JSON body, in X-FTL-SID or in a sid cookie.
PIHOLE_SID = "vFA+EP4MQ5JJvJg+3Q2Jnw="
PIHOLE_LOGIN = {
    "session": {
        "valid": True,
        "totp": False,
        "sid": PIHOLE_SID,
        "csrf": "Ux87YTIiMOf/GKCefVIOMw=",
        "validity": 1800,
        "message": "password correct",
    },
    "took": 0.0431,
}
# Synology DSM's SYNO.API.Auth login with format=sid (DSM 6, and DSM 7's fuller answer),
# and PhotoStation's.
SYNOLOGY_LOGINS = (
    {"data": {"sid": "5uBDokPa1jb9F"}, "success": True},
    {
        "data": {
            "account": "admin",
            "device_id": "",
            "ik_message": "",
            "is_portal_port": False,
            "sid": "Hn0Ke3ZeQ1qR2Lp9aTgVYxz4RbcD8sFw6mUvN7jK5oP",
            "synotoken": "--------",
        },
        "success": True,
    },
    {
        "success": True,
        "data": {"sid": "md4ach79mbgrdfa4g17mhgala2", "username": "myuser", "is_admin": True},
    },
)


def _response_body(body: str) -> str:
    exchange = request_exchange(path="/api/auth", response_body=body)
    return SANITIZER.sanitize(exchange).response.body.decode()


def test_pihole_s_login_session_is_replaced() -> None:
    out = json.loads(_response_body(json.dumps(PIHOLE_LOGIN)))
    assert out["session"]["sid"] != PIHOLE_SID
    assert {k: v for k, v in out["session"].items() if k != "sid"} == {
        k: v for k, v in PIHOLE_LOGIN["session"].items() if k != "sid"
    }
    query = SANITIZER.sanitize(
        request_exchange(path="/api/stats/summary", query=(("sid", PIHOLE_SID),))
    ).request.query
    assert PIHOLE_SID not in query[0][1]
    body = json.dumps({"sid": PIHOLE_SID, "enabled": True})
    assert PIHOLE_SID not in _request_body(body, "application/json")


@pytest.mark.parametrize("answer", SYNOLOGY_LOGINS, ids=["dsm6", "dsm7", "photostation"])
def test_synology_s_login_session_is_replaced(answer: dict) -> None:
    sid = answer["data"]["sid"]
    out = json.loads(_response_body(json.dumps(answer)))
    assert out["data"]["sid"] != sid
    assert out["success"] is True


@pytest.mark.parametrize("sid", SIDS)
def test_a_bare_sid_is_a_secret(sid: str) -> None:
    assert sid not in _query((("sid", sid),))[0][1]
    assert sid not in _request_body(json.dumps({"sid": sid}), "application/json")
    assert sid not in _request_body(urlencode({"sid": sid}), "application/x-www-form-urlencoded")
    assert sid not in _query((("sub", "248289761001"), ("sid", sid)))[1][1]


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
# Not one of the sanitizer's own placeholders ("SANITIZED_..."): those are left as they are,
# so sanitizing twice changes nothing.
opaque_ids = st.text(
    st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~"),
    min_size=8,
    max_size=64,
).filter(lambda value: not is_token(value))


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


# Siblings a sid is found with: OpenID Connect's claims, Pi-hole's and Synology's members,
# and any other name.
_NAMED_SIBLINGS = [
    "sub",
    "aud",
    "iat",
    "exp",
    "jti",
    "nonce",
    "events",
    "valid",
    "totp",
    "csrf",
    "validity",
    "message",
    "success",
    "account",
    "synotoken",
    "ISS",
    "issuer",
    "_iss",
]
sibling_names = st.one_of(
    st.sampled_from(_NAMED_SIBLINGS), st.from_regex(r"[a-z][a-z_]{1,11}", fullmatch=True)
)


@SETTINGS
@given(
    sid=opaque_ids,
    siblings=st.lists(sibling_names, max_size=6, unique=True),
    with_issuer=st.booleans(),
    at=st.integers(min_value=0, max_value=7),
)
def test_property_a_sid_is_kept_exactly_when_its_issuer_is_beside_it(
    sid: str, siblings: list[str], with_issuer: bool, at: int
) -> None:
    assume(SANITIZER.sanitize_text(sid) == sid)
    names = [n for n in siblings if n not in ("sid", "iss")] + (["iss"] if with_issuer else [])
    names.insert(at % (len(names) + 1), "sid")
    values = {name: (sid if name == "sid" else ISSUER if name == "iss" else "1") for name in names}
    body = json.loads(_request_body(json.dumps(values), "application/json"))
    query = dict(_query(tuple(values.items())))
    if with_issuer:
        assert body["sid"] == sid and query["sid"] == sid
    else:
        assert body["sid"] != sid and query["sid"] != sid
