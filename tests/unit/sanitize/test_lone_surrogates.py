"""Half a UTF-16 pair ("lone surrogate") in a body, escaped as JSON ("\\ud83d"), as an
XML/HTML character reference ("&#xD800;") or as percent-encoded bytes that are not
UTF-8 ("%ED%A0%80"): a value next to it is replaced and every other byte, the escape
included, stays as it came. Sanitized text its charset cannot write is a counted drop
with its own reason, never a traceback in the logs.
"""

from __future__ import annotations

import json
import logging

import pytest
from prometheus_client import REGISTRY

from tests.unit.sanitize.sanitize_helpers import fmt_cpf, make_cpf, request_exchange, sanitizer

SANITIZER = sanitizer()
PSEUDONYMS = sanitizer(sanitize_mode="pseudonyms", pseudonym_key="k" * 32)
EMAIL = "joao.silva@exemplo.com.br"
PHONE = "(11) 91234-5678"
CPF = fmt_cpf(make_cpf("529982247"))


def _body(body: str | bytes, content_type: str, s: object = SANITIZER) -> tuple[bytes, str]:
    out = s.sanitize(request_exchange(body=body, content_type=content_type)).request  # type: ignore[attr-defined]
    return out.body, out.body_drop_reason


# (body, content type, the planted value, its token): the body must come out with
# only the planted value replaced.
EDITED = [
    ('{"telefone": "' + PHONE + '\\ud83d"}', "application/json", PHONE, "SANITIZED_PHONE"),
    ('{"msg": "ligue \\ud83d ' + PHONE + '"}', "application/json", PHONE, "SANITIZED_PHONE"),
    ('{"msg": "a\\udc00 ' + EMAIL + '"}', "application/json", EMAIL, "SANITIZED_EMAIL"),
    ('{"' + EMAIL + '\\ud800": 1}', "application/json", EMAIL, "SANITIZED_EMAIL"),
    ('[{"nome": "x", "obs": "\\udbff' + CPF + '"}]', "application/json", CPF, "SANITIZED_DOCUMENT"),
    ('{"a": "\\ud800joao%40x.com"}', "application/json", "joao%40x.com", "SANITIZED_EMAIL"),
    ("<a>\\ud800joao%40x.com</a>", "text/plain", "joao%40x.com", "SANITIZED_EMAIL"),
    ("<a>joao&#64;x.com&#xD800;</a>", "application/xml", "joao&#64;x.com", "SANITIZED_EMAIL"),
    ("<a>joao&#64;x.com&#55296;</a>", "application/xml", "joao&#64;x.com", "SANITIZED_EMAIL"),
    ("<a>joao&#64;x.com&#xdfff;</a>", "text/html", "joao&#64;x.com", "SANITIZED_EMAIL"),
    ('{"a": "joao&#64;x.com&#xD800;"}', "application/json", "joao&#64;x.com", "SANITIZED_EMAIL"),
    ("oi joao%40x.com%ED%A0%80 fim", "text/plain", "joao%40x.com", "SANITIZED_EMAIL"),
    ("email=joao%40x.com%ED%A0%80&x=1", "application/x-www-form-urlencoded", "joao%40x.com",
     "SANITIZED_EMAIL"),
    ("q=Jos%E9%20joao%40x.com", "application/x-www-form-urlencoded", "joao%40x.com",
     "SANITIZED_EMAIL"),
]  # fmt: skip


@pytest.mark.parametrize(("body", "content_type", "planted", "token"), EDITED)
def test_a_value_next_to_half_a_pair_is_replaced_and_the_rest_kept(
    body: str, content_type: str, planted: str, token: str
) -> None:
    out, reason = _body(body, content_type)
    assert reason == ""
    assert out == body.replace(planted, token).encode()


@pytest.mark.parametrize(("body", "content_type", "planted", "token"), EDITED)
def test_pseudonyms_keep_the_escapes_too(
    body: str, content_type: str, planted: str, token: str
) -> None:
    out, reason = _body(body, content_type, PSEUDONYMS)
    assert reason == ""
    prefix, _, suffix = body.partition(planted)
    text = out.decode()
    assert text.startswith(prefix) and text.endswith(suffix)
    assert planted not in text


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        ('{"msg": "a\\ud83d b", "n": [1, "\\udfff"]}', "application/json"),
        ('{"nome": "Produto \\ud83d", "telefone": "N/A\\ud800"}', "application/json"),
        ("<a b='&#xD800;'>&#55296;x</a>", "application/xml"),
        ("a=%ED%A0%80&b=%F0%9F", "application/x-www-form-urlencoded"),
    ],
)
def test_half_a_pair_with_nothing_to_replace_is_kept_byte_for_byte(
    body: str, content_type: str
) -> None:
    assert _body(body, content_type) == (body.encode(), "")


def test_json_output_is_json_with_the_same_lone_surrogate() -> None:
    # An edited JSON string is written anew: its escapes in json's own spelling.
    body = json.dumps({"obs": "\ud83d " + EMAIL, "telefone": PHONE + "\udc00"})
    body = body.replace("\\udc00", "\\uDC00")
    out, reason = _body(body, "application/json")
    assert reason == ""
    assert json.loads(out) == {"obs": "\ud83d SANITIZED_EMAIL", "telefone": "SANITIZED_PHONE\udc00"}


def _dropped(reason: str) -> float:
    value = REGISTRY.get_sample_value("collector_bodies_dropped_total", {"reason": reason})
    return value or 0.0


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        # A reference decoded to find the e-mail: the character it names is not in
        # the body's one-byte charset, so the edited word cannot be written back.
        ("<a>joao&#64;x.com&#x1F600;</a>", "text/xml; charset=iso-8859-2"),
        ('{"a": "joao&#64;x.com&#8364;"}', "application/json; charset=iso-8859-5"),
        ("oi joao&#64;x.com&#x0100;", "text/plain; charset=windows-1252"),
    ],
)
def test_text_its_charset_cannot_write_is_a_counted_drop(
    body: str, content_type: str, caplog: pytest.LogCaptureFixture
) -> None:
    before = (_dropped("unsanitizable"), _dropped("sanitize_error"))
    with caplog.at_level(logging.DEBUG, logger="ext_proc_server"):
        out, reason = _body(body.encode("latin-1"), content_type)
    assert (out, reason) == (b"", "charset_unencodable")
    assert (_dropped("unsanitizable"), _dropped("sanitize_error")) == (before[0] + 1, before[1])
    assert caplog.records, "the drop is logged"
    for record in caplog.records:
        assert record.exc_info is None
        assert "joao" not in record.getMessage() and "x.com" not in record.getMessage()
