"""Request headers that name the operation, recorded through a real Envoy 1.40 and
``mockado ext-proc`` and replayed by a real WireMock 3.13.2.

An AWS JSON API (DynamoDB, Secrets Manager, KMS, SSM...) takes every call as ``POST /``
and names the operation in ``X-Amz-Target``: ``DescribeTable`` and ``DeleteTable`` send
the same body, ``{"TableName": "orders"}``. A client behind a proxy that lets only GET and
POST through sends ``POST`` with ``X-HTTP-Method-Override`` (Google APIs, Express's
``method-override``, OData's ``X-HTTP-Method``). Laravel answers an invalid form with a
redirect, and the same form sent by a script (``X-Requested-With``) with the errors as
JSON. None is named in ``Vary``: each pair
had one stub, and the one recorded last answered both (a table being deleted for a
client that asked whether it exists, a 204 for one that read the order).
"""

from __future__ import annotations

import pytest

from tests.support.raw_capture import import_into, raw_request
from tests.support.raw_upstream import RawAnswer, record_calls, served_answer

pytestmark = pytest.mark.integration

AMZ_JSON = ("Content-Type", "application/x-amz-json-1.0")
SIGNED = ("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/dynamodb")
TABLE = b'{"TableName":"orders"}'
DESCRIBED = RawAnswer(
    200,
    (("Content-Type", "application/x-amz-json-1.0"),),
    b'{"Table":{"TableName":"orders","TableStatus":"ACTIVE","ItemCount":3}}',
)
DELETING = RawAnswer(
    200,
    (("Content-Type", "application/x-amz-json-1.0"),),
    b'{"TableDescription":{"TableName":"orders","TableStatus":"DELETING"}}',
)
FORM = ("Content-Type", "application/x-www-form-urlencoded")
SIGN_UP = b"email=&password="
# Laravel's answer to an invalid form: a redirect back for a browser, the errors for a script.
BACK = RawAnswer(302, (("Location", "/register"),))
INVALID = RawAnswer(
    422,
    (("Content-Type", "application/json"),),
    b'{"message":"The email field is required.","errors":{"email":["required"]}}',
)
XHR = ("X-Requested-With", "XMLHttpRequest")
ORDER = RawAnswer(200, (("Content-Type", "application/json"),), b'{"id":7,"status":"paid"}')
DELETED = RawAnswer(204, ())


def _target(operation: str) -> tuple[tuple[str, str], ...]:
    return (AMZ_JSON, SIGNED, ("X-Amz-Target", f"DynamoDB_20120810.{operation}"))


def _override(method: str) -> tuple[tuple[str, str], ...]:
    return (("X-HTTP-Method-Override", method),)


# Per API: the path, the body, and each operation's headers with its upstream's answer
# (one upstream per operation: each answers its path one way).
APIS = {
    "aws": ("/", TABLE, ((_target("DescribeTable"), DESCRIBED), (_target("DeleteTable"), DELETING))),
    "override": ("/orders/7", None, ((_override("GET"), ORDER), (_override("DELETE"), DELETED))),
    "xhr": ("/register", SIGN_UP, (((FORM,), BACK), ((FORM, XHR), INVALID))),
}  # fmt: skip


@pytest.fixture(scope="module")
def loaded(redis_server, envoy_factory, ext_proc_factory, wiremock) -> None:
    stubs: list[dict] = []
    for path, body, operations in APIS.values():
        for headers, answer in operations:
            call = ("POST", path, headers, body)
            stubs += record_calls(envoy_factory, ext_proc_factory, redis_server.url,
                                  {path: answer}, [call])  # fmt: skip
    import_into(wiremock, stubs)


CASES = [
    ("aws", _target("DescribeTable"), DESCRIBED),
    ("aws", _target("DeleteTable"), DELETING),
    ("aws", _target("UpdateTable"), None),
    ("aws", (AMZ_JSON, SIGNED), None),
    ("override", _override("GET"), ORDER),
    ("override", _override("DELETE"), DELETED),
    ("override", (), None),
    ("xhr", (FORM,), BACK),
    ("xhr", (FORM, XHR), INVALID),
]


@pytest.mark.parametrize(
    ("api", "headers", "answer"),
    CASES,
    ids=[
        *("describe", "delete", "other-target", "no-target"),
        *("get", "del", "plain-post", "form", "xhr"),
    ],
)
def test_each_operation_gets_its_own_answer(loaded, wiremock, api, headers, answer) -> None:
    path, body, operations = APIS[api]
    reply = raw_request(wiremock.port, "POST", path, headers=headers, body=body)
    assert served_answer(reply, [recorded for _, recorded in operations]) == answer
