from __future__ import annotations

import pytest

from ext_proc_server.core.errors import CaptureError
from ext_proc_server.core.exchange import Exchange, HttpRequest, get_header


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
