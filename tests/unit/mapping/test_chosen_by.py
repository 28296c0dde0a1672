"""Request headers that choose an answer whatever its Vary says: Authorization (present),
Prefer, the operation, account and version headers (as sent)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.exchange import HttpResponse
from ext_proc_server.mapping.priority import stub_priority
from tests.unit.mapping.mapping_helpers import JSON, build, make_exchange

TOKEN = ("Authorization", "Bearer SANITIZED_JWT")
REDACTED = frozenset({"request.header.authorization"})
OTHER_HEADERS = st.lists(
    st.sampled_from(
        [("Accept", "application/json"), ("Cookie", "sid=SANITIZED_COOKIE"), ("X-Api-Key", "k")]
    ),
    unique=True,
)


@settings(max_examples=100, deadline=None)
@given(OTHER_HEADERS, st.sampled_from(["Authorization", "authorization", "AUTHORIZATION"]))
def test_a_credentialed_request_is_matched_with_credentials_of_any_value(
    others: list[tuple[str, str]], name: str
) -> None:
    headers = (*others, (name, "Bearer SANITIZED_JWT"))
    mapping = build(make_exchange(headers=headers, redactions=REDACTED))
    assert mapping is not None
    # An Accept listing the answer's type is matched too (mapping.accepts).
    assert mapping["request"]["headers"]["authorization"] == {"matches": ".*"}
    anonymous = build(make_exchange(headers=tuple(others)))
    assert anonymous is not None
    assert "authorization" not in anonymous["request"].get("headers", {})
    # Its own stub is preferred to the anonymous one, which also matches it.
    assert mapping["priority"] < anonymous["priority"]
    assert mapping["id"] != anonymous["id"]


def test_a_response_chosen_by_the_credentials_keeps_its_own_matcher() -> None:
    vary = HttpResponse(status=200, headers=(*JSON, ("Vary", "Authorization")), body=b"{}")
    mapping = build(make_exchange(headers=(TOKEN,), response=vary))
    assert mapping is not None
    assert mapping["request"]["headers"] == {"authorization": {"equalTo": TOKEN[1]}}
    refused = HttpResponse(status=401, headers=JSON, body=b'{"error":"login"}')
    mapping = build(make_exchange(response=refused))
    assert mapping is not None
    assert mapping["request"]["headers"]["authorization"] == {"absent": True}


def test_the_credentials_sort_among_the_varied_headers() -> None:
    vary = HttpResponse(status=200, headers=(*JSON, ("Vary", "Accept, X-Tenant")), body=b"{}")
    headers = (("Accept", "application/json"), TOKEN, ("X-Tenant", "t1"))
    mapping = build(make_exchange(headers=headers, response=vary, redactions=REDACTED))
    assert mapping is not None
    assert list(mapping["request"]["headers"]) == ["accept", "authorization", "x-tenant"]
    assert mapping["priority"] == stub_priority(2 + 2 + 1 + 2)  # path, accept, token, tenant


PREFERENCES = st.lists(
    st.sampled_from(["return=representation", "return=minimal", "count=exact", "tx=rollback"]),
    min_size=1,
    max_size=3,
)


@settings(max_examples=100, deadline=None)
@given(PREFERENCES, st.sampled_from(["Prefer", "prefer"]), st.booleans())
def test_a_request_that_states_preferences_is_matched_with_them(
    preferences: list[str], name: str, token: bool
) -> None:
    headers = tuple((name, value) for value in preferences) + ((TOKEN,) if token else ())
    mapping = build(make_exchange(headers=headers, redactions=REDACTED if token else frozenset()))
    assert mapping is not None
    matchers = mapping["request"]["headers"]
    if len(preferences) == 1:
        assert matchers["prefer"] == {"equalTo": preferences[0]}
    else:
        assert matchers["prefer"] == {"hasExactly": [{"equalTo": v} for v in preferences]}
    assert list(matchers) == (["authorization", "prefer"] if token else ["prefer"])
    without = build(make_exchange(headers=(TOKEN,) if token else (), redactions=REDACTED))
    assert without is not None
    assert "prefer" not in without["request"].get("headers", {})
    assert mapping["id"] != without["id"] and mapping["priority"] < without["priority"]


def test_a_response_that_varies_on_prefer_keeps_its_matcher() -> None:
    vary = HttpResponse(status=200, headers=(*JSON, ("Vary", "Prefer")), body=b"{}")
    mapping = build(make_exchange(response=vary))
    assert mapping is not None
    assert mapping["request"]["headers"] == {"prefer": {"absent": True}}


OPERATIONS = st.sampled_from(
    [
        ("X-Amz-Target", "DynamoDB_20120810.DescribeTable"),
        ("x-amz-target", "secretsmanager.GetSecretValue"),
        ("SOAPAction", '"http://tempuri.org/GetOrder"'),
        ("X-HTTP-Method-Override", "DELETE"),
        ("X-HTTP-Method", "MERGE"),
        ("X-Method-Override", "PATCH"),
        ("Stripe-Account", "acct_1OaA8uLkdIwHu7ix"),
        ("Stripe-Version", "2024-06-20"),
        ("X-GitHub-Api-Version", "2022-11-28"),
        ("x-ms-version", "2021-08-06"),
        ("Notion-Version", "2022-06-28"),
        ("x-amz-copy-source", "orders/notes/b%20c.txt"),
        ("X-Amz-Copy-Source-Range", "bytes=0-5242879"),
    ]
)


@settings(max_examples=100, deadline=None)
@given(OPERATIONS, OPERATIONS, OTHER_HEADERS)
def test_each_operation_account_or_version_named_in_a_header_is_its_own_stub(
    operation: tuple[str, str], other: tuple[str, str], others: list[tuple[str, str]]
) -> None:
    body = b'{"TableName":"orders"}'
    mapping = build(make_exchange(method="POST", headers=(*others, *JSON, operation), body=body))
    assert mapping is not None
    name = operation[0].lower()
    assert mapping["request"]["headers"][name] == {"equalTo": operation[1]}
    plain = build(make_exchange(method="POST", headers=(*others, *JSON), body=body))
    assert plain is not None
    assert name not in plain["request"].get("headers", {})
    assert mapping["id"] != plain["id"] and mapping["priority"] < plain["priority"]
    another = build(make_exchange(method="POST", headers=(*others, *JSON, other), body=body))
    assert another is not None
    assert (another["id"] == mapping["id"]) == (
        other[0].lower() == name and other[1] == operation[1]
    )


def test_an_s3_copy_is_chosen_by_its_source() -> None:
    """CopyObject is a PUT of the destination without a body: the source alone tells two
    copies apart, and the answer gives the source's ETag."""
    copies = [
        build(make_exchange(method="PUT", path="/bucket/copies/latest.txt",
                            headers=(("x-amz-copy-source", source),)))
        for source in ("bucket/notes/a.txt", "bucket/notes/b%20c.txt")
    ]  # fmt: skip
    assert copies[0] is not None and copies[1] is not None
    assert copies[0]["id"] != copies[1]["id"]
    assert copies[1]["request"]["headers"]["x-amz-copy-source"] == {
        "equalTo": "bucket/notes/b%20c.txt"
    }
