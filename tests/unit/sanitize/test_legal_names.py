"""A sole trader's legal name (an MEI's or an EI's ``razaoSocial``): Brazil registers
it as the holder's civil name, often followed by their CPF ("Marcelo Rossi
12345678909"). It went out unless the same name stood under ``nome`` too.

People from Faker's pt_BR, es_ES and it_IT profiles, their CPFs from pt_BR's; decoys:
Faker's pt_BR companies, firms named after their owners ("João Pereira Ltda.",
"Padaria João Pereira"), a name beside a CPF whose check digits fail."""

from __future__ import annotations

import json
import re

import pytest
from faker import Faker

from tests.unit.sanitize.people import leaked, seeded_faker
from tests.unit.sanitize.sanitize_helpers import request_exchange, sanitizer

SANITIZER = sanitizer()


def _record_out(record: dict[str, str], holder: str = "fornecedor") -> dict[str, str]:
    body = json.dumps({holder: record}, ensure_ascii=False)
    out = SANITIZER.sanitize(request_exchange(body=body)).request.body
    return json.loads(out)[holder]


def _people(locale: str, seed: int, count: int) -> list[tuple[str, str]]:
    """(a civil name, a CPF as Faker pt_BR writes it)."""
    fake, br = Faker(locale), Faker("pt_BR")
    fake.seed_instance(seed)
    br.seed_instance(seed + 100)
    return [(f"{fake.first_name()} {fake.last_name()}", br.cpf()) for _ in range(count)]


@pytest.mark.parametrize("locale", ["pt_BR", "es_ES", "it_IT"])
@pytest.mark.parametrize("written", ["digits", "formatted", "dash"])
def test_an_meis_legal_name_with_its_cpf_never_goes_out(locale: str, written: str) -> None:
    leaks = []
    for name, cpf in _people(locale, 41, 60):
        digits = re.sub(r"\D", "", cpf)
        legal = {"digits": f"{name} {digits}", "formatted": f"{name} {cpf}",
                 "dash": f"{name} - {digits}"}[written]  # fmt: skip
        record = {"razaoSocial": legal, "cnpj": seeded_faker(41).cnpj()}
        leaks += leaked(json.dumps(_record_out(record), ensure_ascii=False), [name])
    assert leaks == []


def test_an_meis_legal_name_alone_goes_without_its_nome() -> None:
    """The person's name alone, with a known first name and surnames (pt_BR's)."""
    br = Faker("pt_BR")
    br.seed_instance(43)
    leaks = []
    for _ in range(100):
        name = f"{br.first_name()} {br.last_name()} {br.last_name()}"
        record = {"cnpj": br.cnpj(), "razaoSocial": name, "cep": br.postcode()}
        leaks += leaked(json.dumps(_record_out(record, "empresa"), ensure_ascii=False), [name])
    assert leaks == []


def test_companies_and_firms_named_after_people_keep_their_legal_names() -> None:
    br = Faker("pt_BR")
    br.seed_instance(47)
    names = [br.company() for _ in range(200)]
    for _ in range(100):
        person = f"{br.first_name()} {br.last_name()}"
        names += [f"{person} {br.company_suffix()}", f"Padaria {person}",
                  f"{br.last_name()} {br.last_name()}", f"Hotel {person}"]  # fmt: skip
    changed = []
    for name in names:
        out = _record_out({"cnpj": br.cnpj(), "razaoSocial": name}, "empresa")
        if out["razaoSocial"] != name:
            changed.append(name)
    assert changed == []


def test_a_name_beside_digits_that_are_no_cpf_stays() -> None:
    """Eleven digits whose check digits fail are a code, not a CPF ("Studio Luz
    12345678900"): the legal name is read as words alone."""
    br = Faker("pt_BR")
    br.seed_instance(53)
    kept = []
    for _ in range(60):
        cpf = re.sub(r"\D", "", br.cpf())
        wrong = cpf[:9] + str((int(cpf[9]) + 1) % 10) + cpf[10]
        name = f"Studio {br.color_name()} {wrong}"
        out = _record_out({"cnpj": br.cnpj(), "razaoSocial": name}, "empresa")
        kept.append(out["razaoSocial"].startswith(name.rsplit(" ", 1)[0]))
    assert all(kept)
