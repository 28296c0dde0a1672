"""A record whose ``cpfCnpj`` holds a CPF is a person's in every format a record is
written in, as it is in a JSON body: an XML element (``<cpfCnpj>`` or an attribute), a
form, a query string (the request's own, or a URL's inside text), key lines (YAML,
``key: value`` and ``key=value`` text), a log's logfmt lines and ``name=value`` pairs in
base64. Before, only a JSON body read without the user's field rules did: the CEP beside
the CPF went out in every other format (40 of 40 records) and so did a name Faker's
pt_BR lists do not know (19 of 40). A CNPJ leaves the company's record as it was.

People from Faker's es_ES and it_IT profiles (names the name lists may not know), their
documents, CEPs and phones from pt_BR's; companies from pt_BR's."""

from __future__ import annotations

import base64
import json
import re
import sys
from collections.abc import Callable
from urllib.parse import unquote_plus, urlencode

import pytest
from faker import Faker
from hypothesis import given, settings
from hypothesis import strategies as st

from ext_proc_server.core.exchange import HttpRequest
from ext_proc_server.sanitize.run import is_token
from tests.unit.sanitize.people import leaked
from tests.unit.sanitize.sanitize_helpers import (
    fmt_cnpj,
    fmt_cpf,
    make_cnpj,
    make_cpf,
    request_exchange,
    sanitizer,
)

SANITIZER = sanitizer()
KEYS = ("cpfCnpj", "cpfCnpjCliente", "cpf_cnpj", "CPFCNPJ", "documentoCpfCnpj")
Pairs = list[tuple[str, str]]


def _request(**parts: object) -> HttpRequest:
    return SANITIZER.sanitize(request_exchange(**parts)).request  # type: ignore[arg-type]


def _json(pairs: Pairs) -> str:
    return _request(body=json.dumps({"dados": dict(pairs)}, ensure_ascii=False)).body.decode()


def _xml(pairs: Pairs) -> str:
    body = "<cadastro>" + "".join(f"<{k}>{v}</{k}>" for k, v in pairs) + "</cadastro>"
    return _request(
        body=f'<?xml version="1.0"?>{body}', content_type="application/xml"
    ).body.decode()


def _xml_attributes(pairs: Pairs) -> str:
    attributes = " ".join(f'{k}="{v}"' for k, v in pairs)
    return _request(
        body=f"<lista><cadastro {attributes}/></lista>", content_type="text/xml"
    ).body.decode()


def _form(pairs: Pairs) -> str:
    body = urlencode(pairs)
    out = _request(body=body, content_type="application/x-www-form-urlencoded").body.decode()
    return unquote_plus(out)


def _query(pairs: Pairs) -> str:
    request = _request(path="/v1/cadastros", query=tuple(pairs))
    return "&".join(f"{k}={unquote_plus(v)}" for k, v in request.query)


def _url_in_text(pairs: Pairs) -> str:
    body = json.dumps({"next": f"https://app.example.com.br/cadastro?{urlencode(pairs)}"})
    return unquote_plus(_request(body=body).body.decode())


def _colon_lines(pairs: Pairs) -> str:
    body = "".join(f"{k}: {v}\n" for k, v in pairs)
    return _request(body=body, content_type="text/plain").body.decode()


def _equals_lines(pairs: Pairs) -> str:
    body = "".join(f"{k}={v}\n" for k, v in pairs)
    return _request(body=body, content_type="text/plain").body.decode()


def _log_lines(pairs: Pairs) -> str:
    """logfmt, as Go's slog writes it: a quoted value when it holds a space."""
    fields = " ".join(f'{k}="{v}"' if " " in v else f"{k}={v}" for k, v in pairs)
    body = f"ts=2026-12-07T10:00:00Z level=info msg=cadastro {fields}\nts=2026-12-07T10:00:01Z level=info msg=ok\n"
    return _request(body=body, content_type="text/plain").body.decode()


def _yaml(pairs: Pairs) -> str:
    body = "cadastro:\n" + "".join(f'  {k}: "{v}"\n' for k, v in pairs)
    return _request(body=body, content_type="application/yaml").body.decode()


def _base64_pairs(pairs: Pairs) -> str:
    context = base64.b64encode("&".join(f"{k}={v}" for k, v in pairs).encode()).decode()
    request = _request(headers=(("x-user-context", context),))
    return base64.b64decode(dict(request.headers)["x-user-context"]).decode()


FORMATS: dict[str, Callable[[Pairs], str]] = {
    "json": _json,
    "xml": _xml,
    "xml_attributes": _xml_attributes,
    "form": _form,
    "query": _query,
    "url_in_text": _url_in_text,
    "colon_lines": _colon_lines,
    "equals_lines": _equals_lines,
    "log_lines": _log_lines,
    "yaml": _yaml,
    "base64_pairs": _base64_pairs,
}


def _people(count: int, seed: int) -> list[Pairs]:
    br = Faker("pt_BR")
    br.seed_instance(seed)
    foreign = [Faker("es_ES"), Faker("it_IT")]
    for i, fake in enumerate(foreign):
        fake.seed_instance(seed + i + 1)
    records = []
    for i in range(count):
        fake = foreign[i % 2]
        cpf = br.cpf()
        records.append(
            [
                (KEYS[i % len(KEYS)], cpf if i % 3 else re.sub(r"\D", "", cpf)),
                ("nome", f"{fake.first_name()} {fake.last_name()}"),
                ("cep", br.postcode()),
                ("email", fake.free_email()),
                ("telefone", br.cellphone_number()),
                ("endereco", br.street_address()),
            ]
        )
    return records


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_cpf_under_a_cpf_or_cnpj_name_makes_the_record_a_persons(fmt: str) -> None:
    leaks = []
    for pairs in _people(40, seed=71):
        planted = [value for _, value in pairs[1:]]
        leaks += leaked(FORMATS[fmt](pairs), planted)
    assert leaks == []


@pytest.mark.parametrize("fmt", sorted(FORMATS))
def test_a_cnpj_under_a_cpf_or_cnpj_name_keeps_the_companys_record(fmt: str) -> None:
    br = Faker("pt_BR")
    br.seed_instance(72)
    changed = []
    for i in range(40):
        company, cep = f"{br.last_name()} {br.company_suffix()}", br.postcode()
        pairs = [(KEYS[i % len(KEYS)], br.cnpj()), ("nome", company), ("cep", cep)]
        out = FORMATS[fmt](pairs)
        if company not in out or cep not in out:
            changed.append((pairs, out))
    assert changed == []


# A CEP with or without its hyphen; a name of capitalised words.
_CEPS = st.from_regex(r"\A[0-9]{5}-?[0-9]{3}\Z")
_NAME_WORDS = st.from_regex(r"\A[A-Z][a-z]{3,9}\Z")


@settings(max_examples=120, deadline=None)
@given(
    base=st.text("0123456789", min_size=12, max_size=12).filter(lambda d: len(set(d[:9])) > 1),
    cep=_CEPS,
    words=st.lists(_NAME_WORDS, min_size=2, max_size=3).filter(lambda w: not any(map(is_token, w))),
    key=st.sampled_from(KEYS),
    formatted=st.booleans(),
    fmt=st.sampled_from(sorted(FORMATS)),
)
def test_a_record_is_whose_its_document_says_in_every_format(
    base: str, cep: str, words: list[str], key: str, formatted: bool, fmt: str
) -> None:
    """Whatever the CPF, the CEP beside it is replaced; beside a CNPJ it is kept."""
    cpf, cnpj = make_cpf(base[:9]), make_cnpj(base)
    cpf, cnpj = (fmt_cpf(cpf), fmt_cnpj(cnpj)) if formatted else (cpf, cnpj)
    name = " ".join(words)
    person = FORMATS[fmt]([(key, cpf), ("nome", name), ("cep", cep)])
    assert cep not in person
    company = FORMATS[fmt]([(key, cnpj), ("razaoSocial", f"{name} Ltda"), ("cep", cep)])
    assert cep in company


@pytest.mark.parametrize("fmt", ["json", "form", "query"])
def test_an_openid_session_id_beside_a_cpf_stays(fmt: str) -> None:
    """OpenID Connect's ``sid`` beside its ``iss`` is kept in a person's record too (a
    logout still finds its session); before, a CPF under ``cpfCnpj`` made a JSON
    object's ``sid`` a secret's again."""
    sid = "08a5019c-17e1-4977-8f42-65a12843ea02"
    pairs = [("iss", "https://op.example.com.br"), ("sid", sid), ("cpfCnpj", "529.982.247-25")]
    out = FORMATS[fmt]([*pairs, ("nome", "Rosina Pavanello"), ("cep", "61318-609")])
    assert sid in out
    assert leaked(out, ["529.982.247-25", "Rosina Pavanello", "61318-609"]) == []


RULED = sanitizer(sanitize_fields={"codigoCliente": "rg"})


@pytest.mark.parametrize("fmt", ["json", "xml", "form", "query", "colon_lines"])
def test_with_the_users_field_rules_a_cpf_still_makes_the_record_a_persons(
    fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A walk with the user's rules plans each object itself: a JSON object's CPF
    under ``cpfCnpj`` marked no one there (the CEP and a name went out), while the
    user's own rule still names its field."""
    monkeypatch.setattr(sys.modules[__name__], "SANITIZER", RULED)
    leaks = []
    for pairs in _people(20, seed=73):
        planted = [value for _, value in pairs[1:]]
        leaks += leaked(FORMATS[fmt]([*pairs, ("codigoCliente", "48213")]), [*planted, "48213"])
    assert leaks == []
    company = [("cpfCnpj", "11.222.333/0001-81"), ("nome", "Duarte Ltda."), ("cep", "13186-091")]
    assert "Duarte Ltda." in FORMATS[fmt](company) and "13186-091" in FORMATS[fmt](company)
