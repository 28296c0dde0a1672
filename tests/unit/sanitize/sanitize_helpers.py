"""Valid test values built from their check-digit rules (never real people)."""

from __future__ import annotations

import base64
import json

from stdnum.br import cnpj as stdnum_cnpj

from ext_proc_server.core.config import CollectorConfig
from ext_proc_server.core.exchange import Exchange, HttpRequest, HttpResponse
from ext_proc_server.sanitize import Sanitizer
from ext_proc_server.sanitize.pseudonym import cpf_check_digits
from ext_proc_server.sanitize.validators import luhn_check_digit


def b64url(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def make_jwt(sub: str = "user-1", alg: str = "HS256") -> str:
    return f"{b64url({'alg': alg, 'typ': 'JWT'})}.{b64url({'sub': sub})}.c2lnbmF0dXJlLWJ5dGVz"


def make_card(prefix: str, length: int) -> str:
    body = (prefix + "3" * length)[: length - 1]
    return body + luhn_check_digit(body)


def make_cpf(base9: str) -> str:
    return base9 + cpf_check_digits(base9)


def make_cnpj(base12: str) -> str:
    return base12 + stdnum_cnpj.calc_check_digits(base12)


def fmt_cpf(cpf: str) -> str:
    return f"{cpf[:3]}.{cpf[3:6]}.{cpf[6:9]}-{cpf[9:]}"


def fmt_cnpj(cnpj: str) -> str:
    return f"{cnpj[:2]}.{cnpj[2:5]}.{cnpj[5:8]}/{cnpj[8:12]}-{cnpj[12:]}"


def sanitizer(**config: object) -> Sanitizer:
    return Sanitizer(CollectorConfig(**config))


def request_exchange(
    *,
    body: str | bytes = b"",
    content_type: str = "application/json",
    headers: tuple[tuple[str, str], ...] = (),
    path: str = "/",
    query: tuple[tuple[str, str], ...] = (),
    authority: str = "api.example.com",
    response_body: str | bytes = b"",
) -> Exchange:
    raw = body.encode() if isinstance(body, str) else body
    response_raw = response_body.encode() if isinstance(response_body, str) else response_body
    return Exchange(
        id="t",
        request=HttpRequest(
            method="POST",
            path=path,
            query=query,
            authority=authority,
            headers=(("content-type", content_type), *headers),
            body=raw,
        ),
        response=HttpResponse(
            status=200, headers=(("content-type", content_type),), body=response_raw
        ),
    )


def sanitized_note(sanitizer: Sanitizer, text: str, key: str = "observacao") -> str:
    """``text`` as the sanitizer leaves it in a JSON body's free-text field."""
    exchange = request_exchange(body=json.dumps({key: text}, ensure_ascii=False))
    return json.loads(sanitizer.sanitize(exchange).request.body)[key]


def sanitized_json(sanitizer: Sanitizer, body: object) -> object:
    """``body`` sent as a JSON request, as the sanitizer leaves it (parsed again)."""
    exchange = request_exchange(body=json.dumps(body, ensure_ascii=False))
    return json.loads(sanitizer.sanitize(exchange).request.body)


def sanitized_plain_text(sanitizer: Sanitizer, text: str) -> str:
    """``text`` as the sanitizer leaves it in a ``text/plain`` request body."""
    exchange = request_exchange(body=text, content_type="text/plain; charset=utf-8")
    return sanitizer.sanitize(exchange).request.body.decode()


def sanitized_path(sanitizer: Sanitizer, path: str) -> str:
    """A request path as the sanitizer leaves it."""
    exchange = Exchange(id="t", request=HttpRequest(method="GET", path=path))
    return sanitizer.sanitize(exchange).request.path
