"""A response that echoes the request's name in prose: RFC 9457 Problem Details, ASP.NET
validation errors, a Spring message. The CPF beside it was replaced and the name went
out (no cue a text detector trusts). A name the exchange replaced under a person's key
is replaced wherever a body repeats it."""

from __future__ import annotations

import json

from tests.unit.sanitize.sanitize_helpers import fmt_cpf, make_cpf, request_exchange, sanitizer

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-echoed-names")
CPF = fmt_cpf(make_cpf("529982247"))
NAME = "Maria Aparecida Souza"


def _exchange(request: dict, response: dict, sanitize=SANITIZER, ascii_json=False):
    exchange = request_exchange(
        body=json.dumps(request, ensure_ascii=ascii_json),
        response_body=json.dumps(response, ensure_ascii=ascii_json),
    )
    out = sanitize.sanitize(exchange)
    return json.loads(out.request.body), json.loads(out.response.body), out.redactions


def test_validation_errors_lose_the_echoed_name() -> None:
    request = {"cpf": CPF, "nome": NAME, "produto": "Plano Família"}
    response = {
        "type": "https://api.exemplo.com.br/erros/cpf",
        "detail": f"O CPF {CPF} de {NAME} não confere",
        "errors": {"Name": [f"'{NAME}' is too long"]},
        "message": f"Cliente {NAME.upper()} não encontrado; plano Família mantido",
    }
    _, body, redactions = _exchange(request, response)
    assert body == {
        "type": "https://api.exemplo.com.br/erros/cpf",
        "detail": "O CPF SANITIZED_DOCUMENT de SANITIZED_NAME não confere",
        "errors": {"Name": ["'SANITIZED_NAME' is too long"]},
        "message": "Cliente SANITIZED_NAME não encontrado; plano Família mantido",
    }
    assert "response.body.json:/errors/Name/0" in redactions


def test_a_pseudonym_is_the_one_the_field_got_and_escapes_are_read() -> None:
    request = {"cliente": {"nome": "João Conceição"}}
    response = {"detail": "Cadastro de João Conceição recusado", "titular": "Joãozinho"}
    for ascii_json in (False, True):
        sent, body, _ = _exchange(request, response, PSEUDONYMS, ascii_json)
        fake = sent["cliente"]["nome"]
        assert fake != "João Conceição"
        assert body == {"detail": f"Cadastro de {fake} recusado", "titular": "Joãozinho"}


def test_only_the_whole_name_is_replaced() -> None:
    request = {"nome": "Ana Souza"}
    response = {"msg": "Ana Souza: Ana e Souza; Ana Souzana; BANANA SOUZA", "cidade": "Souza"}
    assert _exchange(request, response)[1] == {
        **response,
        "msg": "SANITIZED_NAME: Ana e Souza; Ana Souzana; BANANA SOUZA",
    }
