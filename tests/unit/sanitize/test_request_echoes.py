"""A name the request does not mark but the rest of the exchange does: the answer's
``"name": "…"`` under a person's key, or the request's own body, read after its query.
The request's query (``?q=Zuleica Brandemburgo``), prose, form values, multipart
fields and path slugs (``/clientes/zuleica-brandemburgo``) went out; they are read
again once the whole exchange is, and the stub still matches its request."""

from __future__ import annotations

import base64
import json
from urllib.parse import unquote_plus

from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from tests.unit.sanitize.sanitize_helpers import sanitizer

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-request-echoes")
# A name in neither name list: only its field says it is one.
NAME = "Zuleica Brandemburgo"


def _exchange(
    *,
    query: tuple[tuple[str, str], ...] = (),
    body: str = "",
    content_type: str = "application/json",
    answer: object = None,
) -> Exchange:
    return Exchange(
        id="t",
        request=HttpRequest(
            method="POST",
            path="/api/clientes/busca",
            query=query,
            authority="api.example.com",
            headers=(("content-type", content_type),),
            body=body.encode(),
        ),
        response=HttpResponse(
            status=200,
            headers=(("content-type", "application/json"),),
            body=json.dumps(answer).encode() if answer is not None else b"",
        ),
    )


def test_a_name_the_answer_reveals_in_the_query_and_prose() -> None:
    exchange = _exchange(
        query=(("q", NAME), ("page", "1")),
        body=f"Cadastro de {NAME} conferido; {NAME.split()[0]} ligou ontem.",
        content_type="text/plain",
        answer={"customer": {"name": NAME, "id": 7}},
    )
    out = SANITIZER.sanitize(exchange)
    assert out.request.query == (("q", "SANITIZED_NAME"), ("page", "1"))
    assert out.request.body.decode() == "Cadastro de SANITIZED_NAME conferido; Zuleica ligou ontem."
    assert json.loads(out.response.body) == {"customer": {"name": "SANITIZED_NAME", "id": 7}}
    # The stub matches any value where the request was edited, and only there.
    assert {"request.query.q", "request.body"} <= out.redactions
    assert not any(place.startswith("request.query.page") for place in out.redactions)


def test_a_json_requests_free_text_field() -> None:
    exchange = _exchange(
        body=json.dumps({"nota": f"ligar para {NAME} amanhã", "prioridade": 2}),
        answer={"data": {"owner": {"full_name": NAME}}},
    )
    out = SANITIZER.sanitize(exchange)
    assert json.loads(out.request.body) == {
        "nota": "ligar para SANITIZED_NAME amanhã",
        "prioridade": 2,
    }
    assert "request.body.json:/nota" in out.redactions


def test_a_name_of_the_requests_body_in_its_query() -> None:
    """The query is read before the body that names the person."""
    exchange = _exchange(
        query=(("busca", NAME),),
        body=json.dumps({"cliente": {"nome": NAME, "cidade": "Pelotas"}}),
        answer={"ok": True},
    )
    out = SANITIZER.sanitize(exchange)
    assert out.request.query == (("busca", "SANITIZED_NAME"),)


def test_one_pseudonym_everywhere() -> None:
    exchange = _exchange(
        query=(("q", NAME),),
        body=json.dumps({"nota": f"cadastro de {NAME}"}),
        answer={"customer": {"name": NAME}},
    )
    out = PSEUDONYMS.sanitize(exchange)
    fake = json.loads(out.response.body)["customer"]["name"]
    assert fake != NAME and out.request.query == (("q", fake),)
    assert json.loads(out.request.body) == {"nota": f"cadastro de {fake}"}


def test_nothing_else_changes() -> None:
    """No name replaced, or one word of a name: the request stays as it came."""
    for answer in ({"product": {"name": NAME}}, {"customer": {"first_name": "Zuleica"}}):
        exchange = _exchange(
            query=(("q", NAME),),
            body=f"cadastro de {NAME}",
            content_type="text/plain",
            answer=answer,
        )
        out = SANITIZER.sanitize(exchange)
        assert out.request == exchange.request, answer


def _answered(
    *,
    path: str = "/api/clientes/busca",
    headers: tuple[tuple[str, str], ...] = (),
    body: bytes = b"",
) -> Exchange:
    """A request of the given parts, answered with the customer NAME."""
    return Exchange(
        id="t",
        request=HttpRequest(
            method="POST", path=path, authority="api.example.com", headers=headers, body=body
        ),
        response=_exchange(answer={"customer": {"name": NAME, "id": 7}}).response,
    )


FORM = (("content-type", "application/x-www-form-urlencoded"),)


def test_a_form_value() -> None:
    for raw, expected in [
        (b"busca=Zuleica+Brandemburgo&page=1", b"busca=SANITIZED_NAME&page=1"),
        (b"busca=zuleica%20brandemburgo", b"busca=SANITIZED_NAME"),
        (b"nota=ligar+para+Zuleica+Brandemburgo", b"nota=ligar+para+SANITIZED_NAME"),
    ]:
        out = SANITIZER.sanitize(_answered(headers=FORM, body=raw))
        assert out.request.body == expected, raw
        assert {"request.body.form.busca", "request.body.form.nota"} & out.redactions
        assert not any(place.startswith("request.body.form.page") for place in out.redactions)


def test_a_form_value_keeps_its_encoding_as_a_pseudonym() -> None:
    out = PSEUDONYMS.sanitize(_answered(headers=FORM, body=b"busca=Zuleica%20Brandemburgo"))
    fake = json.loads(out.response.body)["customer"]["name"]
    assert out.request.body == b"busca=" + fake.replace(" ", "%20").encode()


def test_multipart_fields_and_text_files() -> None:
    body = (
        '--b\r\nContent-Disposition: form-data; name="busca"\r\n\r\nZuleica Brandemburgo\r\n'
        '--b\r\nContent-Disposition: form-data; name="anexo"; filename="nota.txt"\r\n'
        "Content-Type: text/plain\r\n\r\ncadastro de Zuleica Brandemburgo\r\n"
        '--b\r\nContent-Disposition: form-data; name="page"\r\n\r\n1\r\n--b--\r\n'
    )
    headers = (("content-type", "multipart/form-data; boundary=b"),)
    out = SANITIZER.sanitize(_answered(headers=headers, body=body.encode()))
    assert out.request.body.decode() == body.replace(NAME, "SANITIZED_NAME")
    assert "request.body" in out.redactions


def test_a_path_segment_written_as_a_slug() -> None:
    for path, expected in [
        ("/clientes/zuleica-brandemburgo/pedidos", "/clientes/SANITIZED_NAME/pedidos"),
        ("/clientes/Zuleica%20Brandemburgo", "/clientes/SANITIZED_NAME"),
        ("/clientes/ZULEICA_BRANDEMBURGO", "/clientes/SANITIZED_NAME"),
        ("/perfil/zuleica.brandemburgo", "/perfil/SANITIZED_NAME"),
    ]:
        out = SANITIZER.sanitize(_answered(path=path))
        assert out.request.path == expected, path
        assert "request.path.1" in out.redactions and "request.path.0" not in out.redactions


def test_a_slug_keeps_its_writing_as_a_pseudonym() -> None:
    out = PSEUDONYMS.sanitize(_answered(path="/clientes/zuleica-brandemburgo/pedidos"))
    fake = json.loads(out.response.body)["customer"]["name"]
    assert out.request.path == f"/clientes/{fake.lower().replace(' ', '-')}/pedidos"


def test_other_path_segments_and_form_values_stay() -> None:
    path = "/clientes/zuleica/brandemburgo-ltda/zuleica-brandemburgo-2"
    body = b"busca=Zuleica&empresa=Brandemburgo+Ltda"
    out = SANITIZER.sanitize(_answered(path=path, headers=FORM, body=body))
    assert (out.request.path, out.request.body) == (path, body)


# A name the free-text reader finds, written with an accent: percent-encoded in a form.
ACCENTED = "João Pereira"


def test_a_name_found_encoded_in_a_form_note_is_replaced_where_it_is_echoed() -> None:
    """The note's name is replaced in the form where it stands, encoded, and where the
    answer repeats it, decoded: with the same pseudonym."""
    for raw in (
        b"obs=ligar+para+Jo%C3%A3o+Pereira+amanh%C3%A3&page=1",
        b"obs=ligar%20para%20Jo%C3%A3o%20Pereira&page=1",
    ):
        exchange = _exchange(
            body=raw.decode(),
            content_type="application/x-www-form-urlencoded",
            answer={"status": f"recado para {ACCENTED} anotado", "total": 1},
        )
        out = SANITIZER.sanitize(exchange)
        assert json.loads(out.response.body) == {
            "status": "recado para SANITIZED_NAME anotado",
            "total": 1,
        }, raw
        assert b"SANITIZED_NAME" in out.request.body and b"page=1" in out.request.body, raw
        out = PSEUDONYMS.sanitize(exchange)
        fake = json.loads(out.response.body)["status"][len("recado para ") : -len(" anotado")]
        assert fake != ACCENTED and fake in unquote_plus(out.request.body.decode()), raw


def test_a_name_found_encoded_in_a_query_note_is_replaced_in_the_answer() -> None:
    exchange = _exchange(
        query=(("obs", "ligar+para+Jo%C3%A3o+Pereira"), ("page", "1")),
        answer={"status": f"ok {ACCENTED}"},
    )
    out = SANITIZER.sanitize(exchange)
    assert out.request.query == (("obs", "ligar+para+SANITIZED_NAME"), ("page", "1"))
    assert json.loads(out.response.body) == {"status": "ok SANITIZED_NAME"}


def test_a_name_found_encoded_in_base64_pairs_is_replaced_in_the_answer() -> None:
    """A gateway's user context (``nome=Jo%C3%A3o+da+Silva&...`` in base64) under a
    form field read by its name."""
    context = base64.b64encode(b"nome=Jo%C3%A3o+da+Silva&perfil=admin").decode()
    exchange = _exchange(
        body=f"user_context={context}&page=1",
        content_type="application/x-www-form-urlencoded",
        answer={"status": "ok João da Silva"},
    )
    out = SANITIZER.sanitize(exchange)
    assert out.request.body != exchange.request.body
    assert json.loads(out.response.body) == {"status": "ok SANITIZED_NAME"}
