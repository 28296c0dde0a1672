"""The account and the API version a call names in a header, recorded through a real
Envoy 1.40 and ``mockado ext-proc`` and replayed by a real WireMock 3.13.2.

A Stripe Connect platform reads each connected account's balance with the same
``GET /v1/balance``, naming the account in ``Stripe-Account``; Stripe names it in no
``Vary``. Both accounts' balances had one stub, and the one recorded last answered both:
one merchant's money shown to another. ``Stripe-Version`` (and GitHub's, Azure Storage's,
Notion's version headers) likewise chooses the shape of the answer.
"""

from __future__ import annotations

import pytest

from tests.support.raw_capture import import_into, raw_request
from tests.support.raw_upstream import RawAnswer, record_calls, served_answer

pytestmark = pytest.mark.integration

KEY = ("Authorization", "Bearer sk_test_4eC39HqLyjWDarjtT1zdp7dc")
VERSION = ("Stripe-Version", "2024-06-20")


def _balance(cents: int) -> RawAnswer:
    body = f'{{"object":"balance","available":[{{"amount":{cents},"currency":"usd"}}]}}'
    return RawAnswer(200, (("Content-Type", "application/json"),), body.encode())


ACCOUNT_A = (KEY, VERSION, ("Stripe-Account", "acct_1OaA8uLkdIwHu7ix"))
ACCOUNT_B = (KEY, VERSION, ("Stripe-Account", "acct_1NzQ2cGRb8pYpEn4"))
OLDER = (KEY, ("Stripe-Version", "2020-08-27"), ("Stripe-Account", "acct_1OaA8uLkdIwHu7ix"))
BALANCE_A, BALANCE_B = _balance(120000), _balance(850)
# One upstream per account: each answers the path one way.
RECORDINGS = ((ACCOUNT_A, BALANCE_A), (ACCOUNT_B, BALANCE_B))


@pytest.fixture(scope="module")
def loaded(redis_server, envoy_factory, ext_proc_factory, wiremock) -> None:
    stubs: list[dict] = []
    for headers, answer in RECORDINGS:
        call = ("GET", "/v1/balance", headers, None)
        stubs += record_calls(envoy_factory, ext_proc_factory, redis_server.url,
                              {"/v1/balance": answer}, [call])  # fmt: skip
    import_into(wiremock, stubs)


@pytest.mark.parametrize(
    ("headers", "answer"),
    [
        (ACCOUNT_A, BALANCE_A),
        (ACCOUNT_B, BALANCE_B),
        ((KEY, VERSION, ("Stripe-Account", "acct_1PcC9vMleJxIv8jy")), None),
        ((KEY, VERSION), None),
        (OLDER, None),
    ],
    ids=["account-a", "account-b", "another-account", "the-platform", "another-version"],
)
def test_each_account_gets_its_own_answer(loaded, wiremock, headers, answer) -> None:
    reply = raw_request(wiremock.port, "GET", "/v1/balance", headers=headers)
    assert served_answer(reply, (BALANCE_A, BALANCE_B)) == answer
