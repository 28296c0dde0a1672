"""JSON documents carried inside something else: a JSON string ("stringified" payloads
of webhooks and queues), a form field or query parameter, a multipart part without a
JSON type, and JSON Lines. A value only its field's name flags (a bare phone number,
a name, a birth date) used to pass: the carrier was read as free text, where no key
names anything.
"""

from __future__ import annotations

import json
from urllib.parse import quote, quote_plus, unquote_plus

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k" * 32)

# (document, the values only its keys flag, the token each becomes)
DOCUMENTS = [
    ({"telefone": "912345678"}, {"912345678": "SANITIZED_PHONE"}),
    ({"cliente": {"nome": "João Pereira", "celular": 11912345678}},
     {"João Pereira": "SANITIZED_NAME", "11912345678": "SANITIZED_PHONE"}),
    ({"dataNascimento": "1985-03-14", "id": 7}, {"1985-03-14": "SANITIZED_DATE"}),
    ([{"nome": "Ana Lima", "cpf": "x"}, {"endereco": {"logradouro": "Rua das Flores"}}],
     {"Ana Lima": "SANITIZED_NAME", "Rua das Flores": "SANITIZED_ADDRESS"}),
]  # fmt: skip


def _out(body: str, content_type: str, s: object = SANITIZER) -> str:
    out = s.sanitize(request_exchange(body=body, content_type=content_type))  # type: ignore[attr-defined]
    assert not out.request.body_dropped
    return out.request.body.decode()


def _replaced(document: object, tokens: dict[str, str]) -> object:
    text = json.dumps(document, ensure_ascii=False)
    for value, token in tokens.items():
        text = text.replace(f'"{value}"', f'"{token}"').replace(f": {value}", f': "{token}"')
    return json.loads(text)


@pytest.mark.parametrize(("document", "tokens"), DOCUMENTS)
def test_a_json_string_holding_a_document(document: object, tokens: dict[str, str]) -> None:
    body = json.dumps({"event": "created", "payload": json.dumps(document), "n": 1})
    out = json.loads(_out(body, "application/json"))
    assert out["event"] == "created" and out["n"] == 1
    assert json.loads(out["payload"]) == _replaced(document, tokens)


@pytest.mark.parametrize(("document", "tokens"), DOCUMENTS)
def test_a_document_stringified_twice(document: object, tokens: dict[str, str]) -> None:
    body = json.dumps([json.dumps({"data": json.dumps(document)})])
    out = json.loads(_out(body, "application/json"))
    assert json.loads(json.loads(out[0])["data"]) == _replaced(document, tokens)


@pytest.mark.parametrize("encode", [quote, quote_plus])
@pytest.mark.parametrize(("document", "tokens"), DOCUMENTS)
def test_a_form_field_holding_a_document(encode, document: object, tokens: dict[str, str]) -> None:
    body = f"a=1&data={encode(json.dumps(document))}&b=x+y"
    out = _out(body, "application/x-www-form-urlencoded")
    first, data, last = out.split("&")
    assert (first, last) == ("a=1", "b=x+y")
    assert json.loads(unquote_plus(data.removeprefix("data="))) == _replaced(document, tokens)


@pytest.mark.parametrize(("document", "tokens"), DOCUMENTS)
def test_a_query_parameter_holding_a_document(document: object, tokens: dict[str, str]) -> None:
    exchange = request_exchange(query=(("page", "2"), ("q", quote(json.dumps(document)))))
    query = SANITIZER.sanitize(exchange).request.query
    assert query[0] == ("page", "2")
    assert json.loads(unquote_plus(query[1][1])) == _replaced(document, tokens)


@pytest.mark.parametrize(("document", "tokens"), DOCUMENTS)
def test_a_multipart_part_holding_a_document(document: object, tokens: dict[str, str]) -> None:
    part = json.dumps(document)
    body = (
        f'--b\r\nContent-Disposition: form-data; name="meta"\r\n\r\n{part}\r\n'
        '--b\r\nContent-Disposition: form-data; name="x"\r\n\r\nok\r\n--b--\r\n'
    )
    out = _out(body, "multipart/form-data; boundary=b")
    inner = out.split("\r\n\r\n", 1)[1].split("\r\n--b", 1)[0]
    assert json.loads(inner) == _replaced(document, tokens)
    assert out.endswith('name="x"\r\n\r\nok\r\n--b--\r\n')


LINES = st.lists(st.sampled_from(range(len(DOCUMENTS))), min_size=2, max_size=5)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    LINES,
    st.sampled_from(["application/x-ndjson", "application/json", "text/plain"]),
    st.sampled_from(["\n", "\r\n"]),
    st.booleans(),
)
def test_json_lines(picks: list[int], content_type: str, newline: str, final: bool) -> None:
    body = newline.join(json.dumps(DOCUMENTS[i][0]) for i in picks) + (newline if final else "")
    out = _out(body, content_type)
    lines = out.split(newline)
    assert lines[-1] == ("" if final else lines[-1])
    documents = [json.loads(line) for line in lines if line]
    assert documents == [_replaced(*DOCUMENTS[i]) for i in picks]


@pytest.mark.parametrize(("document", "tokens"), DOCUMENTS)
def test_pseudonyms_leave_none_of_the_values(document: object, tokens: dict[str, str]) -> None:
    body = json.dumps({"payload": json.dumps(document)})
    out = _out(body, "application/json", PSEUDONYMS)
    text = json.loads(out)["payload"]
    for value in tokens:
        assert value not in text
        assert json.dumps(value)[1:-1] not in text  # nor escaped ("Jo\\u00e3o")


def test_a_string_that_only_looks_like_a_document_is_free_text() -> None:
    body = json.dumps({"note": "{pedido: 912345678}", "list": "[a, b]", "s": '{"a": 91234567'})
    assert _out(body, "application/json") == body
