"""A record whose ``cpfCnpj`` holds a CPF is a person's in every format a record is
written in, as it is in a JSON body: an XML element (``<cpfCnpj>`` or an attribute), a
form, a query string (the request's own, or a URL's inside text), key lines (YAML,
``key: value`` and ``key=value`` text), a log's logfmt lines and ``name=value`` pairs in
base64. Before, only a JSON body read without the user's field rules did: the CEP beside
the CPF went out in every other format (40 of 40 records) and so did a name Faker's
pt_BR lists do not know (19 of 40). A CNPJ leaves the company's record as it was.
Since, also a CSV's or TSV's row, a multipart form's parts, a script's object literal and
keys quoted in text (a JSON object in a log line or an error message, a Python dict's
repr, a PHP array as var_export writes it): before, 690 of the 2,000 values planted
beside a CPF in those ten formats went out.

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
from tests.unit.sanitize.people import foreign_fakers, leaked
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


def sanitized_request(**parts: object) -> HttpRequest:
    return SANITIZER.sanitize(request_exchange(**parts)).request  # type: ignore[arg-type]


def _json(pairs: Pairs) -> str:
    return sanitized_request(
        body=json.dumps({"dados": dict(pairs)}, ensure_ascii=False)
    ).body.decode()


def _xml(pairs: Pairs) -> str:
    body = "<cadastro>" + "".join(f"<{k}>{v}</{k}>" for k, v in pairs) + "</cadastro>"
    return sanitized_request(
        body=f'<?xml version="1.0"?>{body}', content_type="application/xml"
    ).body.decode()


def _xml_attributes(pairs: Pairs) -> str:
    attributes = " ".join(f'{k}="{v}"' for k, v in pairs)
    return sanitized_request(
        body=f"<lista><cadastro {attributes}/></lista>", content_type="text/xml"
    ).body.decode()


def _form(pairs: Pairs) -> str:
    body = urlencode(pairs)
    out = sanitized_request(
        body=body, content_type="application/x-www-form-urlencoded"
    ).body.decode()
    return unquote_plus(out)


def _query(pairs: Pairs) -> str:
    request = sanitized_request(path="/v1/cadastros", query=tuple(pairs))
    return "&".join(f"{k}={unquote_plus(v)}" for k, v in request.query)


def _url_in_text(pairs: Pairs) -> str:
    body = json.dumps({"next": f"https://app.example.com.br/cadastro?{urlencode(pairs)}"})
    return unquote_plus(sanitized_request(body=body).body.decode())


def _colon_lines(pairs: Pairs) -> str:
    body = "".join(f"{k}: {v}\n" for k, v in pairs)
    return sanitized_request(body=body, content_type="text/plain").body.decode()


def _equals_lines(pairs: Pairs) -> str:
    body = "".join(f"{k}={v}\n" for k, v in pairs)
    return sanitized_request(body=body, content_type="text/plain").body.decode()


def _log_lines(pairs: Pairs) -> str:
    """logfmt, as Go's slog writes it: a quoted value when it holds a space."""
    fields = " ".join(f'{k}="{v}"' if " " in v else f"{k}={v}" for k, v in pairs)
    body = f"ts=2026-12-07T10:00:00Z level=info msg=cadastro {fields}\nts=2026-12-07T10:00:01Z level=info msg=ok\n"
    return sanitized_request(body=body, content_type="text/plain").body.decode()


def _yaml(pairs: Pairs) -> str:
    body = "cadastro:\n" + "".join(f'  {k}: "{v}"\n' for k, v in pairs)
    return sanitized_request(body=body, content_type="application/yaml").body.decode()


def _base64_pairs(pairs: Pairs) -> str:
    context = base64.b64encode("&".join(f"{k}={v}" for k, v in pairs).encode()).decode()
    request = sanitized_request(headers=(("x-user-context", context),))
    return base64.b64decode(dict(request.headers)["x-user-context"]).decode()


def _cell(value: str, delimiter: str) -> str:
    if delimiter in value or '"' in value:
        return '"' + value.replace('"', '""') + '"'
    return value


def _csv_semicolon(pairs: Pairs) -> str:
    """As Excel's "CSV UTF-8" and Brazilian exports write it: a byte order mark, ";"
    and CRLF."""
    header = ";".join(k for k, _ in pairs)
    row = ";".join(_cell(v, ";") for _, v in pairs)
    body = f"\ufeff{header}\r\n{row}\r\n"
    return sanitized_request(body=body, content_type="text/csv; charset=utf-8").body.decode()


def _csv_quoted(pairs: Pairs) -> str:
    """Every cell quoted, "," between them (Python's csv.QUOTE_ALL, Google Sheets)."""
    header = ",".join(f'"{k}"' for k, _ in pairs)
    row = ",".join('"' + v.replace('"', '""') + '"' for _, v in pairs)
    body = f"{header}\n{row}\n"
    return sanitized_request(body=body, content_type="text/csv").body.decode()


def _tsv(pairs: Pairs) -> str:
    body = "\t".join(k for k, _ in pairs) + "\n" + "\t".join(v for _, v in pairs) + "\n"
    return sanitized_request(body=body, content_type="text/tab-separated-values").body.decode()


def _multipart(pairs: Pairs) -> str:
    """As a browser sends a form (RFC 7578): one part a field."""
    parts = "".join(
        f'--XbR9\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n' for k, v in pairs
    )
    return sanitized_request(
        body=f"{parts}--XbR9--\r\n", content_type="multipart/form-data; boundary=XbR9"
    ).body.decode()


def _log_json_fragment(pairs: Pairs) -> str:
    """A JSON object inside a log line (Monolog's LineFormatter writes the context so)."""
    context = json.dumps(dict(pairs), ensure_ascii=False)
    body = f"[2026-12-07T10:00:00+00:00] app.INFO: cadastro recebido {context} []\n"
    return sanitized_request(body=body, content_type="text/plain").body.decode()


def _log_pretty_json(pairs: Pairs) -> str:
    """A JSON object pretty-printed into a log, over several lines."""
    context = json.dumps({"cliente": dict(pairs)}, ensure_ascii=False, indent=2)
    body = f"2026-12-07 10:00:00 INFO payload: {context}\n2026-12-07 10:00:01 INFO ok\n"
    return sanitized_request(body=body, content_type="text/plain").body.decode()


def _python_dict_log(pairs: Pairs) -> str:
    """A dict as Python's logging writes it (its repr: single quotes)."""
    body = f"2026-12-07 10:00:00,123 INFO cadastro: {dict(pairs)!r}\n"
    return sanitized_request(body=body, content_type="text/plain").body.decode()


def _php_export(pairs: Pairs) -> str:
    """A PHP array as var_export writes it into a log, a member a line."""
    lines = "".join(
        "  '{}' => '{}',\n".format(k, v.replace("\\", "\\\\").replace("'", "\\'")) for k, v in pairs
    )
    body = f"[2026-12-07 10:00:00] local.INFO: cadastro array (\n{lines})\n"
    return sanitized_request(body=body, content_type="text/plain").body.decode()


def _js_literal(pairs: Pairs) -> str:
    """A page's script assigning an object literal (Prettier's quotes: single, double
    when the value holds one)."""
    members = ", ".join(f"{k}: {_js_string(v)}" for k, v in pairs)
    body = f"<html><body><script>window.cadastro = {{{members}}};</script></body></html>"
    return sanitized_request(body=body, content_type="text/html").body.decode()


def _js_string(value: str) -> str:
    return json.dumps(value, ensure_ascii=False) if "'" in value else f"'{value}'"


def _json_in_error(pairs: Pairs) -> str:
    """A JSON document quoted in an API's error message."""
    document = json.dumps(dict(pairs), ensure_ascii=False)
    body = json.dumps({"error": f"falha ao gravar {document}"}, ensure_ascii=False)
    return json.loads(sanitized_request(body=body).body.decode())["error"]


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
    "csv_semicolon": _csv_semicolon,
    "csv_quoted": _csv_quoted,
    "tsv": _tsv,
    "multipart": _multipart,
    "log_json_fragment": _log_json_fragment,
    "log_pretty_json": _log_pretty_json,
    "python_dict_log": _python_dict_log,
    "php_export": _php_export,
    "js_literal": _js_literal,
    "json_in_error": _json_in_error,
}


def planted_fields(fake: Faker, br: Faker) -> Pairs:
    """A person's fields planted beside their document: a name ``fake``'s locale holds
    and ``br``'s CEP, e-mail, phone and street."""
    return [
        ("nome", f"{fake.first_name()} {fake.last_name()}"),
        ("cep", br.postcode()),
        ("email", fake.free_email()),
        ("telefone", br.cellphone_number()),
        ("endereco", br.street_address()),
    ]


def _people(count: int, seed: int) -> list[Pairs]:
    br, foreign = foreign_fakers(seed)
    records = []
    for i in range(count):
        fake = foreign[i % 2]
        cpf = br.cpf()
        records.append(
            [
                (KEYS[i % len(KEYS)], cpf if i % 3 else re.sub(r"\D", "", cpf)),
                *planted_fields(fake, br),
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
CEPS = st.from_regex(r"\A[0-9]{5}-?[0-9]{3}\Z")
NAME_WORDS = st.from_regex(r"\A[A-Z][a-z]{3,9}\Z")


@settings(max_examples=120, deadline=None)
@given(
    base=st.text("0123456789", min_size=12, max_size=12).filter(lambda d: len(set(d[:9])) > 1),
    cep=CEPS,
    words=st.lists(NAME_WORDS, min_size=2, max_size=3).filter(lambda w: not any(map(is_token, w))),
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


@pytest.mark.parametrize(
    "fmt",
    ["json", "xml", "form", "query", "colon_lines", "csv_semicolon", "multipart", "js_literal",
     "log_json_fragment", "php_export"],
)  # fmt: skip
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


# Tables as Brazilian systems export them: a payment platform's customers (Asaas: "CPF
# ou CNPJ"), a bank's boleto payers ("CPF/CNPJ do Pagador"), a shop's orders ("CPF /
# CNPJ", "Código postal"), and a developer's own export. Each header names a role.
TABLES = {
    "clientes": (
        ("Nome", "name"), ("CPF ou CNPJ", "doc"), ("Email", "email"), ("Celular", "phone"),
        ("CEP", "cep"), ("Endereço", "street"), ("Número", "number"), ("Bairro", "district"),
        ("Cidade", "city"), ("Estado", "state"),
    ),
    "boletos": (
        ("Nosso Número", "slip"), ("Nome do Pagador", "name"), ("CPF/CNPJ do Pagador", "doc"),
        ("Endereço", "street"), ("Bairro", "district"), ("CEP", "cep"), ("Cidade", "city"),
        ("UF", "state"), ("Valor", "amount"),
    ),
    "pedidos": (
        ("E-mail", "email"), ("Nome do comprador", "name"), ("CPF / CNPJ", "doc"),
        ("Telefone", "phone"), ("Endereço", "street"), ("Número", "number"),
        ("Bairro", "district"), ("Cidade", "city"), ("Código postal", "cep"), ("Estado", "state"),
    ),
    "cadastro": (("nome", "name"), ("cep", "cep"), ("telefone", "phone"), ("cpfCnpj", "doc")),
}  # fmt: skip
# What a person's row must not keep (the document itself, and the rest of the row).
_PERSONS = ("doc", "name", "cep", "phone", "street", "email")


def _row(br: Faker, person: bool, i: int) -> dict[str, str]:
    cpf = br.cpf() if i % 2 else re.sub(r"\D", "", br.cpf())
    return {
        "doc": cpf if person else br.cnpj(),
        "name": br.name() if person else f"{br.last_name()} {br.company_suffix()}",
        "email": br.free_email() if person else br.company_email(),
        "phone": br.cellphone_number() if person else br.phone_number(),
        "cep": br.postcode(),
        "street": br.street_name(),
        "number": br.building_number(),
        "district": br.bairro(),
        "city": br.city(),
        "state": br.estado_sigla(),
        "slip": br.numerify("########"),
        "amount": f"{br.random_int(10, 9999)},{br.random_int(10, 99)}",
    }


def _table(headers: tuple[tuple[str, str], ...], rows: list[dict[str, str]], quoted: bool) -> str:
    def line(cells: list[str]) -> str:
        return ";".join(f'"{c}"' if quoted else _cell(c, ";") for c in cells)

    lines = [line([h for h, _ in headers])]
    lines += [line([row[role] for _, role in headers]) for row in rows]
    body = "\ufeff" + "\r\n".join(lines) + "\r\n"
    return sanitized_request(body=body, content_type="text/csv").body.decode()


@pytest.mark.parametrize("table", sorted(TABLES))
@pytest.mark.parametrize("quoted", [False, True])
def test_each_table_row_is_whose_its_document_says(table: str, quoted: bool) -> None:
    """People's and companies' rows in one export: a person's row loses its CEP, name
    and contacts, whatever its place in the table; a company's row reads as it did in a
    table of companies alone."""
    br = Faker("pt_BR")
    br.seed_instance(74)
    headers = TABLES[table]
    rows = [_row(br, person=i % 3 != 1, i=i) for i in range(30)]
    out = _table(headers, rows, quoted).lstrip("\ufeff").split("\r\n")
    companies = [row for i, row in enumerate(rows) if i % 3 == 1]
    alone = _table(headers, companies, quoted).lstrip("\ufeff").split("\r\n")[1:]
    leaks, changed = [], []
    for i, (row, line) in enumerate(zip(rows, out[1:], strict=False)):
        if i % 3 != 1:
            roles = {role for _, role in headers}
            leaks += leaked(line, [row[r] for r in _PERSONS if r in roles])
        elif line != alone[i // 3]:
            changed.append((line, alone[i // 3]))
    assert leaks == []
    assert changed == []


def test_a_cpf_row_marks_no_other_row() -> None:
    """A company's row after a person's keeps its CEP and its name (a row is one
    record, not the table)."""
    body = (
        "nome;cpfCnpj;cep\r\n"
        "Rosina Pavanello;529.982.247-25;61318-609\r\n"
        "Duarte Comércio Ltda.;11.222.333/0001-81;13186-091\r\n"
        '"Pavanello, Rosina";"52998224725";"61318609"\r\n'
    )
    out = sanitized_request(body=body, content_type="text/csv").body.decode()
    assert "Duarte Comércio Ltda.;SANITIZED_DOCUMENT;13186-091" in out
    assert leaked(out, ["Rosina Pavanello", "61318-609", "Pavanello, Rosina", "61318609"]) == []


@pytest.mark.parametrize(
    ("body", "kept"),
    [
        # A person's record, then a company's: each line is read on its own.
        (
            "INFO cadastro: {'cpfCnpj': '529.982.247-25', 'nome': 'Rosina Pavanello', "
            "'cep': '61318-609'}\nINFO cadastro: {'cpfCnpj': '11.222.333/0001-81', "
            "'nome': 'Duarte Ltda.', 'cep': '13186-091'}\n",
            ["Duarte Ltda.", "13186-091"],
        ),
        # var_export over several lines: the company's array after the person's.
        (
            "local.INFO: a array (\n  'cpf_cnpj' => '52998224725',\n  'nome' => 'Rosina "
            "Pavanello',\n  'endereco' =>\n  array (\n    'cep' => '61318-609',\n  ),\n)\n"
            "local.INFO: b array (\n  'cpf_cnpj' => '11222333000181',\n  'nome' => 'Duarte "
            "Ltda.',\n  'cep' => '13186-091',\n)\n",
            ["Duarte Ltda.", "13186-091"],
        ),
    ],
)
def test_a_logs_records_are_read_one_at_a_time(body: str, kept: list[str]) -> None:
    out = sanitized_request(body=body, content_type="text/plain").body.decode()
    assert leaked(out, ["Rosina Pavanello", "61318-609"]) == []
    assert all(value in out for value in kept)


def test_a_document_named_in_prose_marks_no_record() -> None:
    """The field's name quoted in a sentence, with no value of its own, marks no one:
    the company's record quoted after it keeps its CEP and name."""
    body = (
        'WARN o campo "cpfCnpj" aceita 529.982.247-25 ou 11.222.333/0001-81; '
        'loja {"cep": "13186-091", "razaoSocial": "Duarte Ltda."}\n'
    )
    out = sanitized_request(body=body, content_type="text/plain").body.decode()
    assert "13186-091" in out and "Duarte Ltda." in out
    assert "529.982.247-25" not in out
