"""Whether a request carried credentials, recorded through a real Envoy 1.40 and ``mockado
ext-proc`` and replayed by a real WireMock 3.13.2.

An upstream answers a request without a token 401. A stub recorded from a call with one
served its 200 to a canary that lost its token: the regression the canary is there to
catch, hidden. Such a stub answers only requests with credentials (any token: they are
sanitized, and a canary has its own); without, a clear miss, or the recorded 401 where
the anonymous call was recorded too. A call recorded without credentials (a public
catalog) still answers everyone.
"""

from __future__ import annotations

import pytest

from tests.support.raw_capture import RawReply, import_into, raw_request
from tests.support.raw_upstream import RawAnswer, record_calls, served_answer

pytestmark = pytest.mark.integration

JSON = ("Content-Type", "application/json")
TOKEN = (("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJwcm9kIn0.c2ln"),)
CANARY_TOKEN = (("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjYW5hcnkifQ.c2ln"),)
ACCOUNT = RawAnswer(200, (JSON,), b'{"account":"a-1","plan":"gold"}')
CATALOG = RawAnswer(200, (JSON,), b'{"items":["caneca","prato"]}')
LOGIN_FIRST = RawAnswer(
    401, (JSON, ("WWW-Authenticate", 'Bearer realm="shop"')), b'{"error":"login first"}'
)
# Two upstreams: what the service answers a call with a token, and one without.
WITH_TOKEN = {"/account": ACCOUNT, "/orders": ACCOUNT, "/catalog": CATALOG}
WITHOUT_TOKEN = {"/orders": LOGIN_FIRST, "/catalog": CATALOG}
# (upstream, path, request headers) as the service's clients sent them.
RECORDED = [
    (WITH_TOKEN, "/account", TOKEN),
    (WITH_TOKEN, "/orders", TOKEN),
    (WITHOUT_TOKEN, "/orders", ()),
    (WITHOUT_TOKEN, "/catalog", ()),
]


@pytest.fixture(scope="module")
def loaded(redis_server, envoy_factory, ext_proc_factory, wiremock) -> None:
    stubs: list[dict] = []
    for upstream in (WITH_TOKEN, WITHOUT_TOKEN):
        calls = [("GET", path, headers, None) for answers, path, headers in RECORDED
                 if answers is upstream]  # fmt: skip
        stubs += record_calls(envoy_factory, ext_proc_factory, redis_server.url, upstream, calls)
    import_into(wiremock, stubs)


def _answer(reply: RawReply) -> RawAnswer | None:
    return served_answer(reply, (ACCOUNT, CATALOG, LOGIN_FIRST))


@pytest.mark.parametrize(
    ("path", "headers", "answer"),
    [
        ("/account", CANARY_TOKEN, ACCOUNT),
        ("/account", (), None),  # the upstream says 401: never the account
        ("/account", (("Cookie", "theme=dark"),), None),
        ("/orders", CANARY_TOKEN, ACCOUNT),
        ("/orders", (), LOGIN_FIRST),
        ("/catalog", (), CATALOG),
        ("/catalog", CANARY_TOKEN, CATALOG),
    ],
)
def test_an_answer_to_credentials_is_never_served_without_them(
    loaded, wiremock, path: str, headers: tuple, answer: RawAnswer | None
) -> None:
    assert _answer(raw_request(wiremock.port, "GET", path, headers=headers)) == answer
