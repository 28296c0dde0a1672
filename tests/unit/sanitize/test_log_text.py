"""A log returned as ``text/plain`` (an admin endpoint's tail, a job's output, a
support tool's export): logfmt pairs and JSON lines between plain lines. A name in a
pair (``nome=Maria Souza``, ``user="Maria Souza"``) or under a JSON line's key has no
cue before it, and went out; each is read by its key now, and what names nobody
(``msg``, ``status``, ids, amounts) stays byte for byte."""

from __future__ import annotations

import json

from tests.unit.sanitize.personal_formats import leaked, person, seeded_faker
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k-log-text")


def _sanitized(text: str, sanitizer=SANITIZER) -> str:
    out = sanitizer.sanitize(request_exchange(body=text, content_type="text/plain"))
    return out.request.body.decode()


def _log(p) -> str:
    return (
        f"2026-12-06T05:00:00Z INFO cadastro criado nome={p.name} cpf={p.cpf} "
        f"data_nascimento={p.birth}\n"
        f'2026-12-06T05:00:01Z WARN user="{p.name}" email={p.email} celular="{p.phone}"\n'
        + json.dumps(
            {
                "level": "info",
                "msg": "login",
                "cliente": {"nome": p.name, "endereco": {"logradouro": p.street, "cep": p.cep}},
            },
            ensure_ascii=False,
        )
        + '\nlevel=info msg="pedido criado" pedido_id=4815 total=129.90 status=PAGO\n'
    )


def test_a_log_names_nobody_once_sanitized() -> None:
    fake = seeded_faker(20261208)
    for _ in range(50):
        p = person(fake)
        out = _sanitized(_log(p))
        assert leaked(out, [p.name, p.cpf, p.birth, p.email, p.phone, p.street, p.cep]) == []
        # What names nobody stays as it was.
        assert out.endswith(
            'level=info msg="pedido criado" pedido_id=4815 total=129.90 status=PAGO\n'
        )
        assert "2026-12-06T05:00:01Z WARN user=" in out


def test_pairs_are_replaced_in_place() -> None:
    plain = "Pedido 4815 enviado. Rastreie em https://loja.example/r?c=AB12&x=1 até 10/01.\n"
    text = "time=2026-12-06 nome=Ana Paula Costa cliente.telefone=(11) 91234-5678 cidade=Recife\n"
    assert _sanitized(plain + text) == plain + (
        "time=2026-12-06 nome=SANITIZED_NAME cliente.telefone=SANITIZED_PHONE cidade=Recife\n"
    )


def test_pseudonyms_keep_the_json_line_a_document() -> None:
    p = person(seeded_faker(3))
    out = _sanitized(_log(p), PSEUDONYMS)
    document = json.loads(out.splitlines()[2])
    assert document["msg"] == "login" and document["cliente"]["nome"] != p.name
    assert leaked(out, [p.name, p.cpf, p.email, p.street]) == []
