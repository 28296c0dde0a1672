"""A value replaced inside the base64 a body carries is marked at its field, so the
request keeps a matcher (any value there, the rest as it came)."""

from __future__ import annotations

import base64
import json

from ext_proc_server.sanitize.changed_places import changed_places
from tests.unit.sanitize.sanitize_helpers import make_cpf, request_exchange, sanitizer


def _b64(document: dict) -> str:
    return base64.b64encode(json.dumps(document).encode()).decode()


def test_json_strings_that_changed_are_named_by_their_pointer() -> None:
    before = json.dumps({"message": {"data": "old", "id": "7"}, "list": ["a", "b/c"]})
    after = json.dumps({"message": {"data": "new", "id": "7"}, "list": ["a", "x"]})
    places = changed_places(before, after, content_type="application/json", where="request.body")
    assert places == {"request.body.json:/message/data", "request.body.json:/list/1"}


def test_form_fields_that_changed_are_named_by_their_decoded_name() -> None:
    before, after = "evento=pedido&dados%5Bx%5D=old", "evento=pedido&dados%5Bx%5D=new"
    places = changed_places(
        before, after, content_type="application/x-www-form-urlencoded", where="request.body"
    )
    assert places == {"request.body.form.dados[x]"}


def test_a_changed_shape_or_a_body_of_text_is_the_whole_body() -> None:
    where = "response.body"
    assert changed_places('{"a": "1"}', '{"b": "1"}', content_type="", where=where) == {where}
    assert changed_places("line one", "line two", content_type="text/plain", where=where) == {where}
    assert changed_places("{not json", "{not json!", content_type="", where=where) == {where}
    assert changed_places('{"a": "1"}', '{"a": "1"}', content_type="", where=where) == set()


def test_a_pubsub_push_keeps_its_fields_and_marks_only_the_data() -> None:
    cpf = make_cpf("529982247")
    push = {"message": {"data": _b64({"cpf": cpf, "pedido": 1}), "messageId": "20704"}}
    exchange = sanitizer().sanitize(request_exchange(body=json.dumps(push)))
    fresh = json.loads(exchange.request.body)
    assert cpf not in base64.b64decode(fresh["message"]["data"]).decode()
    assert fresh["message"]["messageId"] == "20704"
    assert "request.body.json:/message/data" in exchange.redactions
    assert "request.body" not in exchange.redactions
