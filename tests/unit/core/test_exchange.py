from __future__ import annotations

import dataclasses

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from ext_proc_server.core.errors import CaptureError
from ext_proc_server.core.exchange import (
    BODY_DROP_REASONS,
    Exchange,
    HttpRequest,
    HttpResponse,
    evolve,
    get_header,
    varied_of,
    varied_request,
)

# Header names, and characters whose lowered copy is ASCII or longer than themselves.
_NAME_PIECES = ("id", "ID", "Id", "key", "\u212aey", "\u0130d", "i\u0307d", "content-type", "x")


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


@given(
    st.lists(st.tuples(st.sampled_from(_NAME_PIECES), st.text(max_size=3)), max_size=6),
    st.sampled_from(_NAME_PIECES),
)
@example([("\u212aey", "kelvin")], "key")  # the Kelvin sign lowers to an ASCII "k"
@example([("\u0130d", "dotted")], "i\u0307d")  # "İ" lowers to two characters
@example([("ID", "upper"), ("id", "lower")], "Id")
def test_get_header_answers_as_each_name_lowered(headers, name):
    """Names of another length than the one asked for are passed without lowering them:
    the same answer as lowering every name, whatever the characters."""
    wanted = name.lower()
    expected = next((value for key, value in headers if key.lower() == wanted), None)
    assert get_header(tuple(headers), name) == expected


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


def _full_exchange() -> Exchange:
    request = HttpRequest(
        method="PUT", path="/u", query=(("q", "1"),), authority="api.x:8443", scheme="https",
        headers=(("a", "1"),), body=b"text", body_truncated=True, trailers=(("t", "0"),),
    )  # fmt: skip
    response = HttpResponse(
        status=201, headers=(("b", "2"),), body=b"", body_dropped=True,
        body_drop_reason="binary_skipped",
    )  # fmt: skip
    return Exchange(
        id="e1", request=request, response=response, namespace="ns", workload="w",
        captured_at_s=12.5, redactions=frozenset({"request.body"}), extra={"k": [1]},
    )  # fmt: skip


@pytest.mark.parametrize("part", ["exchange", "request", "response"])
def test_replace_carries_every_field_it_does_not_change(part: str) -> None:
    # The fast copy sets each field itself: any field (one added later included)
    # must come out as it went in, exactly as dataclasses.replace would give it.
    exchange = _full_exchange()
    value = {"exchange": exchange, "request": exchange.request, "response": exchange.response}[part]
    first = dataclasses.fields(value)[0].name
    changed = value.replace(**{first: getattr(value, first)})
    assert changed == dataclasses.replace(value) and changed is not value
    assert type(changed) is type(value) and hash(changed) == hash(value)
    for field in dataclasses.fields(value):
        assert getattr(changed, field.name) is getattr(value, field.name), field.name
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(changed, first, getattr(value, first))


def test_replace_changes_only_what_it_is_given() -> None:
    exchange = _full_exchange()
    out = exchange.replace(response=None, sanitized=True)
    assert out.response is None and out.sanitized
    assert out.request is exchange.request and out.extra is exchange.extra
    assert exchange.response is not None and not exchange.sanitized
    request = exchange.request.replace(body=b"")
    assert request == dataclasses.replace(exchange.request, body=b"")
    with pytest.raises(TypeError, match="not a field: bogus"):
        exchange.replace(bogus=1)


def test_evolve_falls_back_to_init_when_a_class_checks_itself() -> None:
    @dataclasses.dataclass(frozen=True)
    class Checked:
        value: int
        calls: list[int] = dataclasses.field(default_factory=list)

        def __post_init__(self) -> None:
            self.calls.append(self.value)

    first = Checked(1)
    second = evolve(first, {"value": 2})
    # __post_init__ ran for the copy too, as it would under dataclasses.replace.
    assert second.value == 2 and second.calls is first.calls and first.calls == [1, 2]


def _cors(
    allow_origin: str | None, *, method: str = "GET", headers: tuple[tuple[str, str], ...] = ()
) -> Exchange:
    response_headers = (("access-control-allow-origin", allow_origin),) if allow_origin else ()
    return Exchange(
        id="c",
        request=HttpRequest(method=method, path="/cart", headers=headers),
        response=HttpResponse(status=200, headers=(("content-type", "text/plain"),
                                                   *response_headers)),
    )  # fmt: skip


ORIGIN_A = (("Origin", "https://a.example"),)
PREFLIGHT = (
    *ORIGIN_A,
    ("Access-Control-Request-Method", "POST"),
    ("access-control-request-headers", "content-type,x-cart"),
)


def test_an_answer_naming_an_origin_varies_on_origin_without_a_vary() -> None:
    assert _cors("https://a.example", headers=ORIGIN_A).varied == (
        ("origin", ("https://a.example",)),
    )
    assert _cors("null").varied == (("origin", ()),)  # not sent: matched absent
    # Any origin, or no CORS answer at all: nothing chose it.
    assert _cors("*", headers=ORIGIN_A).varied == ()
    assert _cors(None, headers=ORIGIN_A).varied == ()


def test_a_preflight_answer_varies_on_the_method_and_headers_it_was_asked_for() -> None:
    asked = (
        ("access-control-request-headers", ("content-type,x-cart",)),
        ("access-control-request-method", ("POST",)),
    )
    got = _cors("https://a.example", method="OPTIONS", headers=PREFLIGHT).varied
    assert got == (*asked, ("origin", ("https://a.example",)))
    assert _cors(" * ", method="options", headers=PREFLIGHT).varied == asked
    # Headers not asked for are matched absent.
    no_headers = _cors("*", method="OPTIONS", headers=PREFLIGHT[:2]).varied
    assert no_headers == (("access-control-request-headers", ()), asked[1])
    # An OPTIONS that is no preflight, or a preflight answered without CORS: as before.
    assert _cors("*", method="OPTIONS", headers=ORIGIN_A).varied == ()
    assert _cors(None, method="OPTIONS", headers=PREFLIGHT).varied == ()


def test_the_repeat_path_reads_the_same_names_from_the_first_values() -> None:
    exchange = _cors("https://a.example", method="OPTIONS", headers=PREFLIGHT)
    assert exchange.response is not None
    fields = {"access-control-allow-origin": "https://a.example", "vary": "Accept"}
    with_vary = exchange.replace(
        response=exchange.response.replace(headers=(*exchange.response.headers, ("Vary", "Accept")))
    )
    assert varied_of(fields, lambda: PREFLIGHT, 200, "OPTIONS") == with_vary.varied
    assert varied_of({}, lambda: PREFLIGHT, 200, "OPTIONS") == ()


def test_headers_are_not_read_without_a_name_to_read() -> None:
    def unread() -> tuple[tuple[str, str], ...]:
        raise AssertionError("request headers read")

    assert varied_request(None, unread, status=200, method="OPTIONS") == ()
