"""More shapes a person's data takes, for the format corpus (personal_formats.BUILDERS):
a log tail in ``text/plain`` (logfmt pairs, a JSON line), and identity numbers beyond
the CPF (PIS/PASEP, the SUS card) by field name and after their names in a report.
Numbers are built from their check-digit rules (never real people's)."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.unit.sanitize.people import Person

_PIS_WEIGHTS = (3, 2, 9, 8, 7, 6, 5, 4, 3, 2)


def make_pis(base10: str) -> str:
    rest = 11 - sum(w * int(d) for w, d in zip(_PIS_WEIGHTS, base10, strict=True)) % 11
    return base10 + str(0 if rest >= 10 else rest)


def make_cns(base14: str) -> str:
    """A provisional SUS card number (opening with 7, 8 or 9): its weighted sum (15
    down to 1) a multiple of 11; the 14th digit moves until one last digit fits."""
    digits = [int(d) for d in base14]
    while True:
        last = -sum(w * d for w, d in zip(range(15, 1, -1), digits, strict=True)) % 11
        if last < 10:
            return "".join(map(str, digits)) + str(last)
        digits[13] = (digits[13] + 1) % 10


def _numbers(p: Person) -> tuple[str, str]:
    digits = "".join(c for c in p.cpf + p.phone if c.isdigit())
    return make_pis("1" + digits[1:10]), make_cns("8" + digits[1:14].ljust(13, "7"))


def log_tail(p: Person) -> tuple[str, str, list[str]]:
    body = (
        f"2026-12-06T05:00:00Z INFO cadastro criado nome={p.name} cpf={p.cpf} "
        f"data_nascimento={p.birth}\n"
        f'2026-12-06T05:00:01Z WARN user="{p.name}" email={p.email} celular="{p.phone}"\n'
        + json.dumps(
            {
                "msg": "entrega",
                "cliente": {"nome": p.name, "endereco": {"logradouro": p.street, "cep": p.cep}},
            },
            ensure_ascii=False,
        )
        + '\nlevel=info msg="pedido criado" pedido_id=4815 status=PAGO\n'
    )
    return "text/plain; charset=utf-8", body, [p.name, p.cpf, p.birth, p.email, p.phone,
                                               p.street, p.cep]  # fmt: skip


def identity_numbers(p: Person) -> tuple[str, str, list[str]]:
    pis, cns = _numbers(p)
    written = f"{pis[:3]}.{pis[3:8]}.{pis[8:10]}-{pis[10]}"
    document = {"beneficiario": {"nome": p.name, "pisPasep": written, "cartaoSus": cns},
                "laudo": f"Paciente {p.name}, CNS {cns[:3]} {cns[3:7]} {cns[7:11]} {cns[11:]}, "
                         f"NIS {pis}."}  # fmt: skip
    return "application/json", json.dumps(document, ensure_ascii=False), [p.name, pis, cns]


MORE_BUILDERS: dict[str, Callable[[Person], tuple[str, str, list[str]]]] = {
    "log_tail": log_tail,
    "identity_numbers": identity_numbers,
}
