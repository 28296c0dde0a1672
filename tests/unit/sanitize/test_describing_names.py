"""A field named for a secret's duration holds a number of seconds, not the secret: IAM's
``MaxSessionDuration`` replaced by a token made boto3 fail to read a CreateRole answer
(``int("SANITIZED_HEADER")``)."""

from __future__ import annotations

from ext_proc_server.sanitize.secret_keys import classify_key
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

CREATE_ROLE = (
    "<CreateRoleResponse><CreateRoleResult><Role><RoleName>runner</RoleName>"
    "<MaxSessionDuration>3600</MaxSessionDuration></Role></CreateRoleResult>"
    "</CreateRoleResponse>"
)


def test_a_duration_describes_a_secret() -> None:
    for name in ("MaxSessionDuration", "session_duration", "tokenDuration"):
        assert classify_key(name) is None, name
    assert classify_key("SessionToken") == "api_key"


def test_an_iam_role_keeps_its_session_duration() -> None:
    exchange = request_exchange(content_type="text/xml", response_body=CREATE_ROLE)
    served = sanitizer().sanitize(exchange).response
    assert served is not None
    assert b"<MaxSessionDuration>3600</MaxSessionDuration>" in served.body
