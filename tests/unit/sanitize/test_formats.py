"""Structure: JSON, form, multipart, XML, path, query, headers, authority; fail closed."""

from __future__ import annotations

import dataclasses
import gzip
import json

import pytest

from ext_proc_server.core.errors import ConfigError
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.core.metrics import COLLECTOR_BODIES_DROPPED, COLLECTOR_SANITIZATION
from ext_proc_server.sanitize import json_body
from tests.unit.sanitize.sanitize_helpers import (
    fmt_cpf,
    make_card,
    make_cpf,
    make_jwt,
    request_exchange,
    sanitizer,
)

CPF = make_cpf("529982247")
CARD = make_card("4532", 16)


def _sanitize(**kwargs):
    return sanitizer().sanitize(request_exchange(**kwargs))


# -- JSON ---------------------------------------------------------------------------


def test_json_edits_only_sensitive_spans_and_keeps_bytes() -> None:
    body = '{ "id" :12345678901234567890123,"price":1299.90,\n  "email":"ana@x.com.br", "n": 1e5 }'
    out = _sanitize(body=body).request.body.decode()
    assert out == body.replace("ana@x.com.br", "SANITIZED_EMAIL")


def test_json_sensitive_number_becomes_quoted_token() -> None:
    out = _sanitize(body=json.dumps({"cpf": int(CPF), "card": int(CARD)})).request.body
    assert json.loads(out) == {"cpf": "SANITIZED_DOCUMENT", "card": "SANITIZED_CARD"}


def test_json_secret_names_arrays_and_pointers() -> None:
    body = json.dumps(
        {"a/b": {"password": "x1"}, "tokens": ["t1", "t2"], "token_type": "Bearer", "ok": True}
    )
    exchange = _sanitize(body=body)
    assert json.loads(exchange.request.body) == {
        "a/b": {"password": "SANITIZED_PASSWORD"},
        "tokens": ["SANITIZED_HEADER", "SANITIZED_HEADER"],
        "token_type": "Bearer",
        "ok": True,
    }
    assert {
        "request.body.json:/a~1b/password",
        "request.body.json:/tokens/0",
        "request.body.json:/tokens/1",
    } <= exchange.redactions
    assert exchange.sanitized


def test_json_escapes_are_decoded_before_matching() -> None:
    body = '{"c": "ana\\u0040x.com", "u": "https:\\/\\/u:pw1@h.io", "p": "joao%40x.com"}'
    out = json.loads(_sanitize(body=body).request.body)
    assert out["c"] == "SANITIZED_EMAIL"
    assert "pw1" not in out["u"]
    assert "joao" not in out["p"]


def test_json_key_holding_an_email_is_scrubbed() -> None:
    out = _sanitize(body='{"ana@x.com": 3}').request.body
    assert json.loads(out) == {"SANITIZED_EMAIL": 3}


def test_json_graphql_query_and_variables() -> None:
    body = json.dumps(
        {"query": 'mutation { login(password: "gq-1") }', "variables": {"password": "v-2"}}
    )
    out = _sanitize(body=body).request.body.decode()
    assert "gq-1" not in out and "v-2" not in out
    json.loads(out)


def test_invalid_json_falls_back_to_text_with_every_detector() -> None:
    exchange = _sanitize(
        body='{"email": "ana@x.com", "password": "p1"', content_type="application/json"
    )
    out = exchange.request.body.decode()
    assert "ana@x.com" not in out and "p1" not in out
    assert "request.body" in exchange.redactions


def test_truncated_body_drops_the_unfinished_last_value() -> None:
    exchange = request_exchange(body='{"a": "x", "card": "4532 7777 77')
    exchange = exchange.replace(request=dataclasses.replace(exchange.request, body_truncated=True))
    out = sanitizer().sanitize(exchange).request.body.decode()
    assert out == '{"a": "x", "card": "'


# -- form, multipart, XML -------------------------------------------------------------


def test_form_fields_by_name_and_encoded_values() -> None:
    card = "+".join(CARD[i : i + 4] for i in range(0, 16, 4))
    body = f"user=ana%2Bnews%40x.com&password=p%40ss+w&grant_type=password&page=2&c={card}"
    exchange = _sanitize(body=body, content_type="application/x-www-form-urlencoded")
    out = exchange.request.body.decode()
    assert out.split("&")[2:4] == ["grant_type=password", "page=2"]
    assert "ana" not in out and "p%40ss" not in out and CARD[4:8] not in out
    assert {
        "request.body.form.user",
        "request.body.form.password",
        "request.body.form.c",
    } <= exchange.redactions


def test_multipart_parts_by_name_and_type() -> None:
    body = (
        '--B\r\nContent-Disposition: form-data; name="senha"\r\n\r\nmp-1\r\n'
        '--B\r\nContent-Disposition: form-data; name="p"\r\nContent-Type: application/json\r\n\r\n'
        '{"email": "rui@z.com", "age": 31}\r\n--B--\r\n'
    )
    out = _sanitize(body=body, content_type="multipart/form-data; boundary=B").request.body.decode()
    assert "mp-1" not in out and "rui@z.com" not in out
    assert '"age": 31' in out and out.endswith("--B--\r\n")


def test_xml_entities_and_elements() -> None:
    body = f"<a><Email>lu&#64;x.com</Email><CPF>{fmt_cpf(CPF)}</CPF><Data>2024-01-15</Data></a>"
    out = _sanitize(body=body, content_type="application/xml").request.body.decode()
    expected = "<Email>SANITIZED_EMAIL</Email><CPF>SANITIZED_DOCUMENT</CPF><Data>2024-01-15</Data>"
    assert out == f"<a>{expected}</a>"


# -- request line and headers ----------------------------------------------------------


def test_path_query_authority_headers() -> None:
    exchange = _sanitize(
        path=f"/users/joao@x.com.br/docs/{CPF}/orders;jsessionid=ABC123",
        query=(("access_token", "zz9"), ("q", "ana%40x.com"), ("page", "2")),
        authority="bob:s3cret@api.example.com",
        headers=(
            ("authorization", f"Bearer {make_jwt()}"),
            ("proxy-authorization", "Digest username=x, response=abc"),
            ("x-api-key", "k-1"),
            ("cookie", "sid=s1; theme=dark"),
            ("x-forwarded-user", "bob@example.org"),
            ("accept", "application/json"),
            ("x-bin", "caf\udce9"),
        ),
        response_body="",
    )
    request = exchange.request
    assert (
        request.path
        == "/users/SANITIZED_EMAIL/docs/SANITIZED_DOCUMENT/orders;jsessionid=SANITIZED_HEADER"
    )
    assert dict(request.query) == {
        "access_token": "SANITIZED_HEADER",
        "q": "SANITIZED_EMAIL",
        "page": "2",
    }
    assert request.authority == "bob:SANITIZED_PASSWORD@api.example.com"
    headers = dict(request.headers)
    assert headers["authorization"] == "Bearer SANITIZED_JWT"
    assert headers["proxy-authorization"] == "Digest SANITIZED_HEADER"
    assert headers["x-api-key"] == "SANITIZED_HEADER"
    assert headers["cookie"] == "sid=SANITIZED_HEADER; theme=SANITIZED_HEADER"
    assert headers["x-forwarded-user"] == "SANITIZED_EMAIL"
    assert headers["accept"] == "application/json"
    assert headers["x-bin"] == "SANITIZED_HEADER"
    assert {
        "request.path.1",
        "request.path.3",
        "request.path.4",
        "request.query.q",
        "request.header.cookie",
        "request.header.authorization",
    } <= exchange.redactions


def test_set_cookie_keeps_name_and_attributes() -> None:
    exchange = request_exchange()
    response = exchange.response.__class__(
        status=200, headers=(("Set-Cookie", "sid=abc; Path=/; HttpOnly"),)
    )
    out = sanitizer().sanitize(exchange.replace(response=response)).response
    assert out.headers == (("Set-Cookie", "sid=SANITIZED_HEADER; Path=/; HttpOnly"),)


def test_a_nameless_cookie_value_is_replaced() -> None:
    exchange = request_exchange()
    request = dataclasses.replace(
        exchange.request, headers=(("cookie", "theme=dark; s3ss10nV4lue"),)
    )
    response = exchange.response.__class__(
        status=200, headers=(("set-cookie", "s3ss10nV4lue; Path=/; Secure; HttpOnly"),)
    )
    out = sanitizer().sanitize(exchange.replace(request=request, response=response))
    assert out.request.headers == (("cookie", "theme=SANITIZED_HEADER; SANITIZED_HEADER"),)
    assert out.response.headers == (("set-cookie", "SANITIZED_HEADER; Path=/; Secure; HttpOnly"),)


def test_a_pin_field_is_replaced_in_every_format() -> None:
    json_body = b'{"order": 7, "card": {"pin": "4821"}, "shipping": "standard"}'
    form_body = b"order=7&card_pin=4821"
    for body, content_type in ((json_body, "application/json"),
                               (form_body, "application/x-www-form-urlencoded")):  # fmt: skip
        out = sanitizer().sanitize(request_exchange(body=body, content_type=content_type))
        assert b"4821" not in out.request.body, content_type
        assert b"7" in out.request.body
    kept = sanitizer().sanitize(
        request_exchange(body=b'{"pincode": "560001"}', content_type="application/json")
    )
    assert kept.request.body == b'{"pincode": "560001"}'


# -- fail closed --------------------------------------------------------------------------


def test_binary_body_is_kept_by_default_when_nothing_is_found() -> None:
    clean, dirty = b"\xff\xfe\x00plain", b"\xff\xfe ana@x.com"
    octets = "application/octet-stream"
    default = sanitizer().sanitize(request_exchange(body=clean, content_type=octets)).request
    assert default.body == clean and not default.body_dropped
    skip = (
        sanitizer(binary_bodies="skip")
        .sanitize(request_exchange(body=clean, content_type=octets))
        .request
    )
    assert skip.body_dropped and skip.body == b""
    assert skip.body_drop_reason == "binary_skipped"
    keep = (
        sanitizer(binary_bodies="base64")
        .sanitize(request_exchange(body=clean, content_type=octets))
        .request
    )
    assert keep.body == clean and not keep.body_dropped and not keep.body_drop_reason
    drop = (
        sanitizer(binary_bodies="base64")
        .sanitize(request_exchange(body=dirty, content_type=octets))
        .request
    )
    assert drop.body_dropped and drop.body_drop_reason == "binary_unsanitizable"


def test_still_encoded_body_is_dropped() -> None:
    exchange = request_exchange(
        body=gzip.compress(b'{"a": 1}'), headers=(("content-encoding", "gzip"),)
    )
    request = sanitizer().sanitize(exchange).request
    assert request.body_dropped and request.body == b""
    assert request.body_drop_reason == "content_encoding"


def test_sanitizer_error_drops_body_and_counts(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(json_body, "sanitize_json", boom)
    counter = COLLECTOR_BODIES_DROPPED.labels(reason="sanitize_error")
    before = counter._value.get()
    request = sanitizer().sanitize(request_exchange(body='{"a": "ana@x.com"}')).request
    assert request.body_dropped and request.body == b""
    assert request.body_drop_reason == "sanitize_error"
    assert counter._value.get() == before + 1


def test_metrics_count_each_class() -> None:
    counter = COLLECTOR_SANITIZATION.labels(type="email")
    before = counter._value.get()
    _sanitize(body='{"a": "x@y.com", "b": "z@y.com"}')
    assert counter._value.get() == before + 2


def test_disabled_marks_sanitized_without_changes() -> None:
    exchange = request_exchange(body='{"a": "x@y.com"}')
    out = sanitizer(sanitize_enabled=False).sanitize(exchange)
    assert out.sanitized and out.request == exchange.request


# -- pseudonyms ---------------------------------------------------------------------------


def test_pseudonyms_need_a_key() -> None:
    with pytest.raises(ConfigError, match=r"collector\.pseudonym_key"):
        sanitizer(sanitize_mode="pseudonyms")


def test_pseudonyms_are_stable_and_keep_formats() -> None:
    from stdnum.br import cpf as stdnum_cpf

    from ext_proc_server.sanitize.validators import luhn_valid

    s = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k" * 32)
    body = json.dumps({"e": "Ana@X.com", "c": fmt_cpf(CPF), "n": CARD, "p": "(11) 91234-5678"})
    first = json.loads(s.sanitize(request_exchange(body=body)).request.body)
    again = json.loads(
        s.sanitize(request_exchange(body=body.replace("Ana@X.com", "ana@x.com"))).request.body
    )
    assert first == again
    assert first["e"].startswith("u-") and first["e"].endswith("@example.invalid")
    assert stdnum_cpf.is_valid(first["c"]) and first["c"] != fmt_cpf(CPF) and first["c"][3] == "."
    assert luhn_valid(first["n"]) and first["n"] != CARD and len(first["n"]) == 16
    assert first["p"].startswith("(11) 9") and first["p"] != "(11) 91234-5678"
    other = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="j" * 32)
    assert json.loads(other.sanitize(request_exchange(body=body)).request.body)["e"] != first["e"]


def test_custom_patterns_use_the_user_replacement() -> None:
    s = sanitizer(
        sanitize_patterns=[{"name": "acct", "regex": r"ACCT-\d{6}", "replacement": "ACCT-X"}]
    )
    assert s.sanitize_text("pay ACCT-123456 now") == "pay ACCT-X now"


# -- structure found from the parsed tree (JSON) and batched scans (forms) ------------------


def test_json_numbers_after_closed_containers_and_inherited_arrays() -> None:
    body = '{"a": [{"b": 1}, ' + CPF + '], "password": 12345, "tokens": [1, "t", [2]], "c": 7}'
    exchange = _sanitize(body=body)
    assert json.loads(exchange.request.body) == {
        "a": [{"b": 1}, "SANITIZED_DOCUMENT"],
        "password": "SANITIZED_PASSWORD",
        "tokens": ["SANITIZED_HEADER", "SANITIZED_HEADER", ["SANITIZED_HEADER"]],
        "c": 7,
    }
    assert {
        "request.body.json:/a/1",
        "request.body.json:/password",
        "request.body.json:/tokens/0",
        "request.body.json:/tokens/1",
        "request.body.json:/tokens/2/0",
    } <= exchange.redactions


def test_json_duplicate_keys_are_each_sanitized() -> None:
    out = _sanitize(body='{"password": "a1", "x": 1, "password": "b2"}').request.body.decode()
    assert "a1" not in out and "b2" not in out
    assert out.count("SANITIZED_PASSWORD") == 2


def test_json_infinity_and_nan_keep_the_body() -> None:
    request = _sanitize(body='{"&": Infinity, "e": "ana@x.com", "n": [NaN, -Infinity]}').request
    assert not request.body_dropped
    assert json.loads(request.body)["e"] == "SANITIZED_EMAIL"


def test_form_names_are_read_like_classify_key() -> None:
    body = "p-a-s-s-w-o-r-d=x1&password=y2&note=ok"
    out = _sanitize(body=body, content_type="application/x-www-form-urlencoded").request.body
    assert out.decode() == "p-a-s-s-w-o-r-d=SANITIZED_PASSWORD&password=SANITIZED_PASSWORD&note=ok"


def test_repeated_values_are_sanitized_every_time() -> None:
    s = sanitizer()
    counter = COLLECTOR_SANITIZATION.labels(type="email")
    for _ in range(3):
        before = counter._value.get()
        exchange = request_exchange(
            path="/users/ana@x.com", headers=(("x-user", "ana@x.com"), ("accept", "text/plain"))
        )
        request = s.sanitize(exchange).request
        assert request.path == "/users/SANITIZED_EMAIL"
        assert dict(request.headers)["x-user"] == "SANITIZED_EMAIL"
        assert dict(request.headers)["accept"] == "text/plain"
        assert counter._value.get() == before + 2


def test_every_field_the_sanitizer_does_not_change_is_carried() -> None:
    # The sanitizer copies the exchange and its messages field by field: a field it
    # does not sanitize (any added later included) must come out as it went in.
    request = HttpRequest(
        method="PUT", path="/users/ana@x.com", query=(("q", "1"),), authority="api.x:8443",
        scheme="https", headers=(("x-api-key", "k-123456789"),), body=b"plain text",
        body_truncated=True, trailers=(("grpc-status", "0"),),
    )  # fmt: skip
    response = HttpResponse(
        status=201, headers=(("set-cookie", "s=abc123"),), body=b"ok", body_dropped=False
    )
    exchange = Exchange(
        id="e1", request=request, response=response, namespace="ns", workload="w",
        captured_at_s=12.5, redactions=frozenset({"request.body"}), extra={"k": [1]},
    )  # fmt: skip
    out = sanitizer().sanitize(exchange)
    assert out.request.path != request.path and out.request.headers != request.headers
    assert out.response is not None and out.response.headers != response.headers
    changed = {"request", "response", "sanitized", "redactions"}
    for field in dataclasses.fields(Exchange):
        if field.name not in changed:
            assert getattr(out, field.name) == getattr(exchange, field.name), field.name
    for before, after, touched in (
        (request, out.request, {"path", "headers", "body"}),
        (response, out.response, {"headers"}),
    ):
        assert type(after) is type(before)
        for field in dataclasses.fields(before):
            if field.name not in touched:
                assert getattr(after, field.name) == getattr(before, field.name), field.name
    assert out.sanitized and exchange.redactions < out.redactions
    assert hash(out) == hash(dataclasses.replace(out))
