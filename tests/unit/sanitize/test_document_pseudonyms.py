"""In pseudonyms mode a CPF's pseudonym is a valid CPF and a CNPJ's a valid CNPJ wherever
they stand, so a mock consumer's validator accepts them: under a document's name too
(``rg``, ``cnh``, ``passaporte``, NF-e's ``nDoc``), whose class named the replacement.
Before, such a field's CPF or CNPJ got new digits in its layout with check digits
that failed (99 of 100), and a pseudonym other than the one the same value got in text
or under ``cpf``. A phone's or an account's field holding one punctuated as a CPF or
a CNPJ (``993.030.872-59``) is read so too; bare digits there stay a phone's or an
account's (eleven digits are as likely a mobile number)."""

from __future__ import annotations

import json
import re
from urllib.parse import unquote_plus, urlencode

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ext_proc_server.sanitize.validators import cnpj_valid, cpf_valid
from tests.unit.sanitize.sanitize_helpers import (
    fmt_cnpj,
    fmt_cpf,
    make_cnpj,
    make_cpf,
    request_exchange,
    sanitizer,
)

KEY = "k-document-pseudonyms"
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key=KEY)
REPLICA = sanitizer(sanitize_mode="pseudonyms", pseudonym_key=KEY)
SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
DOCUMENT_NAMES = ("rg", "cnh", "passaporte", "nDoc", "identidade")
FORMATS = ("json", "xml", "form", "query")
_ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

cpfs = (
    st.text("0123456789", min_size=9, max_size=9)
    .filter(lambda base: len(set(base)) > 1)
    .map(make_cpf)
    .flatmap(lambda c: st.sampled_from([c, fmt_cpf(c)]))
)
cnpjs = (
    st.one_of(
        st.text("0123456789", min_size=12, max_size=12), st.text(_ALNUM, min_size=12, max_size=12)
    )
    .filter(lambda base: len(set(base)) > 1)
    .map(make_cnpj)
    .flatmap(lambda c: st.sampled_from([c, fmt_cnpj(c)]))
)


def _compact(value: str) -> str:
    return re.sub(r"[./-]", "", value).upper()


def _layout(value: str) -> str:
    return "".join("L" if c.isalpha() else "9" if c.isdigit() else c for c in value)


def _field(sanitize, fmt: str, key: str, value: str) -> str:
    """The value of ``key`` in a person's record written in ``fmt``, sanitized."""
    pairs = [("nome", "Maria Souza"), (key, value)]
    if fmt == "json":
        body = json.dumps({"cliente": dict(pairs)})
        return json.loads(sanitize.sanitize(request_exchange(body=body)).request.body)["cliente"][
            key
        ]
    if fmt == "xml":
        body = "<cliente>" + "".join(f"<{k}>{v}</{k}>" for k, v in pairs) + "</cliente>"
        out = sanitize.sanitize(request_exchange(body=body, content_type="application/xml"))
        return re.search(rf"<{key}>(.*?)</{key}>", out.request.body.decode()).group(1)
    if fmt == "form":
        body = urlencode([(f"cliente[{k}]", v) for k, v in pairs])
        out = sanitize.sanitize(
            request_exchange(body=body, content_type="application/x-www-form-urlencoded")
        )
        fields = dict(f.split("=", 1) for f in unquote_plus(out.request.body.decode()).split("&"))
        return fields[f"cliente[{key}]"]
    request = sanitize.sanitize(request_exchange(query=tuple(pairs))).request
    return unquote_plus(dict(request.query)[key])


def _in_text(value: str) -> str:
    body = json.dumps({"obs": f"documento {value} conferido"})
    out = json.loads(PSEUDONYMS.sanitize(request_exchange(body=body)).request.body)["obs"]
    return out.removeprefix("documento ").removesuffix(" conferido")


# A document and the check its pseudonym must pass.
documents = st.one_of(cpfs.map(lambda v: (v, cpf_valid)), cnpjs.map(lambda v: (v, cnpj_valid)))


@SETTINGS
@given(document=documents, key=st.sampled_from(DOCUMENT_NAMES), fmt=st.sampled_from(FORMATS))
def test_a_cpf_or_cnpj_under_a_documents_name_gets_a_valid_one(
    document: tuple[str, object], key: str, fmt: str
) -> None:
    value, valid = document
    fresh = _field(PSEUDONYMS, fmt, key, value)
    assert fresh != value and _layout(fresh) == _layout(value)
    assert valid(_compact(fresh))
    # One value, one pseudonym: as in text, and on every replica with the same key.
    assert fresh == _in_text(value) == _field(REPLICA, fmt, key, value)


@SETTINGS
@given(cpf=cpfs, cnpj=cnpjs, fmt=st.sampled_from(FORMATS))
def test_a_punctuated_cpf_or_cnpj_under_a_phones_name_gets_a_valid_one(
    cpf: str, cnpj: str, fmt: str
) -> None:
    for value, valid in (
        (fmt_cpf(_compact(cpf)), cpf_valid),
        (fmt_cnpj(_compact(cnpj)), cnpj_valid),
    ):
        fresh = _field(PSEUDONYMS, fmt, "telefone", value)
        assert fresh != value and _layout(fresh) == _layout(value)
        assert valid(_compact(fresh))


def test_a_mobile_number_whose_digits_pass_a_cpfs_check_stays_a_phone() -> None:
    """Eleven bare digits under ``telefone`` are a mobile number (area code, then 9):
    its pseudonym keeps both, as any phone's does, even when a CPF's check holds."""
    for mobile in (make_cpf(f"119{i:06d}") for i in range(123456, 999999, 87654)):
        for fmt in FORMATS:
            fresh = _field(PSEUDONYMS, fmt, "telefone", mobile)
            assert fresh != mobile and fresh[:3] == "119" and len(fresh) == 11
