"""Twilio's String Identifiers (SIDs) are ids, not secrets: two letters naming the
resource's kind and 32 lowercase hex digits, under ``sid``, ``account_sid``,
``messaging_service_sid`` in its answers and ``AccountSid``, ``MessageSid``, ``CallSid``
in its webhooks. They were replaced as a session's ``sid`` is, while the same SIDs stood
in the URIs beside them, so a mock answered a message whose ``sid`` named no resource of
its ``uri``. Kept only in that exact shape with a prefix Twilio documents; a ``sid`` of
any other shape (Pi-hole's and Synology DSM's login sessions) and a Twilio-shaped value
under a secret's qualified name (``auth_sid``, ``X-FTL-SID``) are still replaced.

Shapes: the Message resource and its status callback, a voice webhook's query, as
Twilio's docs show them; every SID property of Twilio's OpenAPI descriptions
(APIs.guru's directory, ``make tools``)."""

from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import parse_qsl, urlencode

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.run import is_token
from tests.support.openapi_examples import DIRECTORY
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
AC = "AC3f1b2c4d5e6f708192a3b4c5d6e7f809"
SM = "SM1f0e8ae6ade43cb3c0ce4525424e404f"
MG = "MGfedcba9876543210fedcba9876543210"
CA = "CA5e2c9f8a7b6d4e3f2a1b0c9d8e7f6a5b"
TWILIO_SPECS = DIRECTORY / "twilio.com"
_SID_PATTERN = re.compile(r"\^([A-Z]{2})\[0-9a-fA-F\]\{32\}\$")


def _json_response(document: object) -> dict:
    exchange = request_exchange(body=b"", response_body=json.dumps(document))
    return json.loads(SANITIZER.sanitize(exchange).response.body)


def _form(fields: list[tuple[str, str]]) -> dict[str, str]:
    body = urlencode(fields)
    exchange = request_exchange(body=body, content_type="application/x-www-form-urlencoded")
    return dict(parse_qsl(SANITIZER.sanitize(exchange).request.body.decode()))


def _query(fields: list[tuple[str, str]]) -> dict[str, str]:
    return dict(SANITIZER.sanitize(request_exchange(query=tuple(fields))).request.query)


def test_a_message_resource_keeps_its_sids_and_its_uris_name_them() -> None:
    """Twilio's answer to ``POST /2010-04-01/Accounts/{AccountSid}/Messages.json``."""
    uri = f"/2010-04-01/Accounts/{AC}/Messages/{SM}"
    message = {
        "account_sid": AC, "api_version": "2010-04-01",
        "body": "This will be the body of the new message!",
        "date_created": "Thu, 24 Aug 2023 05:01:45 +0000", "direction": "outbound-api",
        "error_code": None, "error_message": None, "from": "+14155552344",
        "messaging_service_sid": MG, "num_media": "0", "num_segments": "1", "price": None,
        "sid": SM, "status": "queued", "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": "+14155552345", "uri": f"{uri}.json",
    }  # fmt: skip
    out = _json_response(message)
    assert (out["account_sid"], out["sid"], out["messaging_service_sid"]) == (AC, SM, MG)
    assert out["uri"] == f"{uri}.json" and out["subresource_uris"] == message["subresource_uris"]
    assert out["from"] == out["to"] == "SANITIZED_PHONE"


def test_a_status_callback_keeps_its_sids() -> None:
    """The form Twilio posts to a message's ``StatusCallback``."""
    fields = [("AccountSid", AC), ("ApiVersion", "2010-04-01"), ("From", "+14155552344"),
              ("MessageSid", SM), ("MessageStatus", "delivered"), ("MessagingServiceSid", MG),
              ("SmsSid", SM), ("SmsStatus", "delivered"), ("To", "+5511987654321")]  # fmt: skip
    out = _form(fields)
    for name in ("AccountSid", "MessageSid", "MessagingServiceSid", "SmsSid"):
        assert out[name] == dict(fields)[name]
    assert out["From"] == out["To"] == "SANITIZED_PHONE"


def test_a_voice_webhooks_query_keeps_its_sids() -> None:
    fields = [("AccountSid", AC), ("CallSid", CA), ("CallStatus", "ringing"),
              ("From", "+5511987654321"), ("To", "+14155552345"), ("Direction", "inbound")]  # fmt: skip
    out = _query(fields)
    assert (out["AccountSid"], out["CallSid"]) == (AC, CA)
    assert out["From"] == "SANITIZED_PHONE"


def test_a_log_lines_sids_stay_and_its_token_goes() -> None:
    line = (
        f"twilio callback AccountSid={AC} CallSid={CA} auth_token=9f86d081884c7d659a2feaa0c55ad015"
    )
    out = SANITIZER.sanitize_text(line)
    assert AC in out and CA in out and "9f86d081884c7d659a2feaa0c55ad015" not in out


def _spec_sid_properties() -> list[tuple[str, str]]:
    """(property name, prefix) of every SID property Twilio's descriptions give a
    pattern to (``"pattern": "^AC[0-9a-fA-F]{32}$"``), each once."""
    found: set[tuple[str, str]] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            for name, schema in (node.get("properties") or {}).items():
                if not isinstance(schema, dict):  # a member named "properties"
                    continue
                match = _SID_PATTERN.fullmatch(str(schema.get("pattern", "")))
                if match and name.lower().endswith("sid"):
                    found.add((name, match.group(1)))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in sorted(TWILIO_SPECS.glob("twilio_*.json")):
        walk(json.loads(path.read_text("utf-8")))
    return sorted(found)


def test_every_sid_twilios_descriptions_name_is_kept() -> None:
    properties = _spec_sid_properties()
    assert len(properties) > 200
    changed = []
    for i in range(0, len(properties), 40):  # one resource of many SIDs per answer
        resource = {
            name: prefix + hashlib.md5(name.encode()).hexdigest()
            for name, prefix in properties[i : i + 40]
        }
        out = _json_response(resource)
        changed += [name for name in resource if out[name] != resource[name]]
    assert changed == []


PI_HOLE_LOGIN = {"session": {"valid": True, "totp": False, "sid": "vFA+EP4MQ5JJvJg+3Q2Jnw=",
                             "csrf": "Ux87YTIiMOf/GKCefVIOMw=", "validity": 300}, "took": 0.0003}  # fmt: skip
SYNOLOGY_LOGIN = {"data": {"did": "WkRpRjM3Ml8zNzE3MjcxNTY4", "sid": "m3rXU0Rn9xTzQ-QpdLmDdHJjX1Y"},
                  "success": True}  # fmt: skip


def test_a_login_sessions_sid_is_still_replaced() -> None:
    assert _json_response(PI_HOLE_LOGIN)["session"]["sid"] == "SANITIZED_HEADER"
    assert _json_response(SYNOLOGY_LOGIN)["data"]["sid"] == "SANITIZED_HEADER"
    assert _query([("sid", "vFA+EP4MQ5JJvJg+3Q2Jnw=")])["sid"] == "SANITIZED_HEADER"


@pytest.mark.parametrize(
    "name", ["auth_sid", "secret_sid", "otp_sid", "sid_token", "X-FTL-SID", "sidPassword"]
)
def test_a_twilio_shaped_value_under_a_secrets_name_is_replaced(name: str) -> None:
    assert _json_response({name: AC})[name] != AC
    assert _form([(name, AC)])[name] != AC


def _mutations(sid: str) -> list[str]:
    """Values one step from a SID's shape: hex in capitals, a digit short or over, a
    prefix Twilio does not use, a character that is no hex digit, padding."""
    return [sid[:2] + sid[2:].upper(), sid[:-1], sid + "0", "ZZ" + sid[2:], "ac" + sid[2:],
            sid[:20] + "g" + sid[21:], f" {sid}", sid.replace(sid[2], "-", 1)]  # fmt: skip


@settings(max_examples=150, deadline=None)
@given(
    prefix=st.sampled_from(["AC", "SM", "MM", "MG", "PN", "CA", "RE", "SK", "IS", "WS"]),
    digits=st.text("0123456789abcdef", min_size=32, max_size=32).filter(
        lambda d: any(c in "abcdef" for c in d)
    ),
    name=st.sampled_from(["sid", "account_sid", "AccountSid", "MessageSid", "parent_call_sid"]),
)
def test_exactly_a_twilio_sid_is_kept(prefix: str, digits: str, name: str) -> None:
    sid = prefix + digits
    assert _json_response({name: sid})[name] == sid
    assert _form([(name, sid), ("Body", "ok")])[name] == sid
    for value in _mutations(sid):
        if is_token(value):
            continue
        assert _json_response({name: value})[name] != value, value
        assert _query([(name, value)])[name] != value, value
