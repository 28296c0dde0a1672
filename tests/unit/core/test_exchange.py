from __future__ import annotations

import pytest

from ext_proc_server.core.errors import CaptureError
from ext_proc_server.core.exchange import (
    BODY_DROP_REASONS,
    Exchange,
    HttpRequest,
    HttpResponse,
    get_header,
)


def test_record_round_trip_keeps_order_case_and_unknown_keys():
    record = {
        "id": "abc",
        "trace": {"kept": True},
        "request": {
            "method": "post",
            "path": "/v1/users",
            "query": {"page": ["1"], "tag": ["a", "b"]},
            "headers": {"Content-Type": ["application/json"]},
            "body": '{"a": 1}',
        },
        "response": {"status": 201, "headers": {"set-cookie": ["sid=abc"]}, "body": "ok"},
    }
    exchange = Exchange.from_record(record)
    assert exchange.request.method == "POST"
    assert exchange.request.query == (("page", "1"), ("tag", "a"), ("tag", "b"))
    assert exchange.request.header("content-type") == "application/json"
    out = exchange.to_record()
    assert out["id"] == "abc"
    assert out["trace"] == {"kept": True}
    assert out["request"]["headers"] == {"Content-Type": ["application/json"]}
    assert out["request"]["query"] == {"page": ["1"], "tag": ["a", "b"]}
    assert out["response"]["status"] == 201
    assert Exchange.from_record(out) == exchange


def test_binary_body_round_trips_as_base64():
    exchange = Exchange(id="b", request=HttpRequest(method="PUT", path="/x", body=b"\xff\x00\xfe"))
    record = exchange.to_record()
    assert "body_b64" in record["request"]
    assert Exchange.from_record(record).request.body == b"\xff\x00\xfe"


@pytest.mark.parametrize(
    ("record", "message"),
    [
        ({"id": "x"}, "request: missing"),
        ({"request": "nope"}, "request: expected an object"),
        ({"request": {"body_b64": "!!"}}, "request.body_b64: invalid base64"),
        ({"request": {"body": 5}}, "request.body: expected a string"),
        ([], "record: expected a JSON object"),
    ],
)
def test_malformed_records_name_the_problem(record, message):
    with pytest.raises(CaptureError, match=message):
        Exchange.from_record(record)


def test_exchange_is_frozen_and_replace_derives():
    exchange = Exchange(id="1", request=HttpRequest(method="GET", path="/"))
    with pytest.raises(AttributeError):
        exchange.id = "2"  # type: ignore[misc]
    derived = exchange.replace(sanitized=True)
    assert derived.sanitized and not exchange.sanitized


def test_get_header_is_case_insensitive():
    assert get_header((("X-A", "1"), ("x-a", "2")), "x-A") == "1"
    assert get_header((), "x") is None


def test_a_dropped_body_keeps_its_reason_through_the_record():
    exchange = Exchange(
        id="d",
        request=HttpRequest(method="GET", path="/"),
        response=HttpResponse(status=200, body_dropped=True, body_drop_reason="charset_undeclared"),
    )
    record = exchange.to_record()
    assert record["response"]["body_dropped"] is True
    assert record["response"]["body_drop_reason"] == "charset_undeclared"
    assert "body_drop_reason" not in record["request"]
    back = Exchange.from_record(record)
    assert back == exchange
    assert back.response.body_drop_reason == "charset_undeclared"


@pytest.mark.parametrize(
    ("part", "dropped", "reason"),
    [
        ({"status": 200, "body": ""}, False, ""),  # kept
        ({"status": 200, "body": "", "body_dropped": True}, True, "unknown"),  # older record
        ({"status": 200, "body_dropped": True, "body_drop_reason": "new_kind"}, True, "unknown"),
        ({"status": 200, "body_dropped": True, "body_drop_reason": ["x"]}, True, "unknown"),
        ({"status": 200, "body_dropped": False, "body_drop_reason": "binary_skipped"}, False, ""),
    ],
)
def test_drop_reasons_read_from_records_stay_in_the_vocabulary(part, dropped, reason):
    exchange = Exchange.from_record({"request": {"path": "/"}, "response": part})
    assert exchange.response.body_dropped is dropped
    assert exchange.response.body_drop_reason == reason
    assert reason == "" or reason in BODY_DROP_REASONS


def test_the_drop_reasons_are_a_small_fixed_vocabulary():
    assert len(set(BODY_DROP_REASONS)) == len(BODY_DROP_REASONS) <= 12
    assert all(reason.replace("_", "").isalpha() for reason in BODY_DROP_REASONS)
